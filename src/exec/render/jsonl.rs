//! JSON lines: one event per line with a `schema_version`, for CI.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use crate::exec::events::{EVENT_SCHEMA_VERSION, Event, EventSink};

#[derive(Serialize)]
struct Line<'a> {
    schema_version: u32,
    #[serde(flatten)]
    event: &'a Event,
}

/// The JSON line of an event.
pub fn line(event: &Event) -> String {
    serde_json::to_string(&Line {
        schema_version: EVENT_SCHEMA_VERSION,
        event,
    })
    .unwrap_or_default()
}

/// Writes each event as one JSON line.
pub struct JsonLines<W: Write + Send>(Mutex<W>);

impl<W: Write + Send> JsonLines<W> {
    /// Writes to `w`.
    pub fn new(w: W) -> Self {
        Self(Mutex::new(w))
    }
}

impl<W: Write + Send> EventSink for JsonLines<W> {
    fn emit(&self, event: Event) {
        if let Ok(mut w) = self.0.lock() {
            // A closed pipe must not stop the run; the journal is the record.
            let _ = writeln!(w, "{}", line(&event));
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_one_tagged_line() {
        let e = Event::Stopping {
            reason: "x".into(),
            at: chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap_or_default(),
        };
        let l = line(&e);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap_or_default();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["event"], "stopping");
        assert!(!l.contains('\n'));
    }
}
