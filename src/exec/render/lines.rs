//! One line per finished restore, for human output without a terminal
//! (a log file, CI): `completed ID`, `FAILED ID: cause`, `skipped ID: reason`,
//! `stopping: reason`.

use std::io::Write;
use std::sync::Mutex;

use crate::exec::events::{Event, EventSink};

/// The line an event prints, if it prints one.
pub fn line(event: &Event) -> Option<String> {
    match event {
        Event::RestoreCompleted { id, .. } => Some(format!("completed {id}")),
        Event::RestoreFailed { id, cause, .. } => Some(format!("FAILED {id}: {cause}")),
        Event::RestoreSkipped { id, reason, .. } => Some(format!("skipped {id}: {reason}")),
        Event::Stopping { reason, .. } => Some(format!("stopping: {reason}")),
        _ => None,
    }
}

/// Writes the [`line`] of each event that has one.
pub struct Lines<W: Write + Send>(Mutex<W>);

impl<W: Write + Send> Lines<W> {
    /// Writes to `w`.
    pub fn new(w: W) -> Self {
        Self(Mutex::new(w))
    }
}

impl<W: Write + Send> EventSink for Lines<W> {
    fn emit(&self, event: Event) {
        if let Some(text) = line(&event)
            && let Ok(mut w) = self.0.lock()
        {
            // A closed pipe must not stop the run; the journal is the record.
            let _ = w.write_all(format!("{text}\n").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_end_of_a_restore_and_a_stop_print_a_line() {
        let sink = Lines::new(Vec::new());
        sink.emit(Event::Stopping {
            reason: "on_failure is stop".into(),
            at: chrono::DateTime::UNIX_EPOCH,
        });
        let text = String::from_utf8(sink.0.into_inner().unwrap()).unwrap();
        assert_eq!(text, "stopping: on_failure is stop\n");
    }
}
