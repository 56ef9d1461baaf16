//! Live progress on a terminal (indicatif): an overall bar with an ETA and
//! one line per restore in flight.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::events::{Event, EventSink};

/// Renders events as progress bars on stderr.
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    lines: Mutex<HashMap<usize, ProgressBar>>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    /// Progress bars drawn on stderr.
    pub fn new() -> Self {
        Self::with_target(ProgressDrawTarget::stderr())
    }

    /// Progress bars drawn on `target`. Every line fits the terminal's
    /// width: the message part is cut to what is left.
    pub fn with_target(target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:20.cyan/blue}] {pos}/{len}  {elapsed_precise}  {eta_text}  {wide_msg}",
            )
            .map(|s| {
                s.with_key(
                    "eta_text",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&eta_text(state.pos(), state.eta()));
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.set_prefix("restoring");
        overall.enable_steady_tick(Duration::from_millis(250));
        Self {
            multi,
            overall,
            lines: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, index: usize, id: &str) -> Option<ProgressBar> {
        let mut lines = self.lines.lock().ok()?;
        Some(
            lines
                .entry(index)
                .or_insert_with(|| {
                    let pb = self.multi.add(ProgressBar::new_spinner());
                    pb.set_style(
                        ProgressStyle::with_template(
                            "  {spinner} {prefix:<24!} {elapsed:>6}  {wide_msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    pb.set_prefix(id.to_owned());
                    pb.enable_steady_tick(Duration::from_millis(250));
                    pb
                })
                .clone(),
        )
    }

    fn finish_line(&self, index: usize, message: String) {
        let pb = self.lines.lock().ok().and_then(|mut l| l.remove(&index));
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        let _ = self.multi.println(message);
        self.overall.inc(1);
    }
}

/// The ETA once there is something to estimate from: nothing has finished
/// at 0/N, so no time is claimed.
pub fn eta_text(finished: u64, eta: Duration) -> String {
    if finished == 0 {
        "eta –".to_owned()
    } else {
        format!("eta {}", indicatif::HumanDuration(eta))
    }
}

impl EventSink for Progress {
    fn emit(&self, event: Event) {
        match event {
            Event::RunStarted { total, run_id, .. } => {
                self.overall.set_length(total as u64);
                self.overall.set_message(run_id);
            }
            Event::RestoreRecorded { phase, .. } => {
                if matches!(phase.as_str(), "completed" | "failed" | "skipped") {
                    self.overall.inc(1);
                }
            }
            Event::RestoreStarting {
                index,
                id,
                operation,
                ..
            } => {
                if let Some(pb) = self.line(index, &id) {
                    pb.set_message(operation);
                }
            }
            Event::RestoreAccepted { index, id, .. } => {
                if let Some(pb) = self.line(index, &id) {
                    pb.set_message("restoring");
                }
            }
            Event::RestoreProgress {
                index, id, percent, ..
            } => {
                if let Some(pb) = self.line(index, &id) {
                    match percent {
                        Some(p) => pb.set_message(format!("restoring {p:.0}%")),
                        None => pb.set_message("restoring"),
                    }
                }
            }
            Event::Retrying {
                index,
                id,
                operation,
                delay_seconds,
                waiting_for_slot,
                ..
            } => {
                if let Some(pb) = self.line(index, &id) {
                    let why = if waiting_for_slot {
                        "waiting for a restore slot"
                    } else {
                        "retrying"
                    };
                    pb.set_message(format!("{why}: {operation} in {delay_seconds:.0}s"));
                }
            }
            Event::RestoreActive { index, id, .. } => {
                if let Some(pb) = self.line(index, &id) {
                    pb.set_message("applying settings");
                }
            }
            Event::Verified { index, id, .. } => {
                if let Some(pb) = self.line(index, &id) {
                    pb.set_message("verified");
                }
            }
            Event::RestoreCompleted { index, id, .. } => {
                self.finish_line(index, format!("  ✓ {id}"));
            }
            Event::RestoreFailed {
                index, id, cause, ..
            } => {
                self.finish_line(index, format!("  ✗ {id}: {cause}"));
            }
            Event::RestoreSkipped {
                index, id, reason, ..
            } => {
                self.finish_line(index, format!("  - {id} skipped: {reason}"));
            }
            Event::Stopping { reason, .. } => {
                let _ = self.multi.println(format!("stopping: {reason}"));
            }
            Event::RunFinished { .. } => {
                if let Ok(mut lines) = self.lines.lock() {
                    for (_, pb) in lines.drain() {
                        pb.finish_and_clear();
                    }
                }
                self.overall.finish_and_clear();
            }
            Event::SettingApplied { .. } => {}
            Event::ValidationReported {
                id,
                job_id,
                error: Some(e),
                ..
            } => {
                let _ = self.multi.println(format!(
                    "  ! {id}: the verification result was not reported to AWS Backup (restore job {job_id}): {e}"
                ));
            }
            Event::ValidationReported { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A 70-column terminal that keeps what was drawn.
    #[derive(Debug, Clone, Default)]
    struct Narrow(Arc<Mutex<Vec<String>>>);

    impl indicatif::TermLike for Narrow {
        fn width(&self) -> u16 {
            70
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            if let Ok(mut l) = self.0.lock() {
                l.push(s.to_owned());
            }
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.write_line(s)
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_eta_before_anything_finished() {
        assert_eq!(eta_text(0, Duration::ZERO), "eta –");
        assert_eq!(eta_text(3, Duration::from_secs(90)), "eta 2 minutes");
    }

    #[test]
    fn every_line_fits_a_70_column_terminal() {
        let term = Narrow::default();
        let p = Progress::with_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        let at = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap_or_default();
        p.emit(Event::RunStarted {
            run_id: "shop-staging-gameday-20261120T093000Z-9f3a".into(),
            plan: "shop-staging-gameday".into(),
            total: 7,
            ids: Vec::new(),
            concurrency: 4,
            started_at: at,
            resumed: false,
            at,
        });
        p.overall.tick();
        if let Some(pb) = p.line(0, "a-rather-long-restore-identifier-for-orders") {
            pb.set_message("retrying: StartRestoreJob in 30s (waiting for a restore slot)");
            pb.tick();
        }
        let drawn = term.0.lock().map(|l| l.clone()).unwrap_or_default();
        assert!(!drawn.is_empty());
        for line in drawn.iter().flat_map(|l| l.lines()) {
            let plain: String = strip_ansi(line);
            assert!(
                plain.chars().count() <= 70,
                "{} columns: {plain}",
                plain.chars().count()
            );
        }
        assert!(
            drawn
                .iter()
                .any(|l| l.contains("0/7") && l.contains("eta –")),
            "{drawn:?}"
        );
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
