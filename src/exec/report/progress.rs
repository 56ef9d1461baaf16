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
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} restores  {elapsed_precise}  eta {eta}  {msg}",
            )
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
                            "  {spinner} {prefix:<28} {elapsed:>6}  {msg}",
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
        }
    }
}
