//! Renderers of the event stream: the final run report ([`RunReport`], as
//! text or JSON), the Gantt chart ([`gantt`]), live progress bars
//! ([`progress`]), one line per finished restore ([`lines`]), JSON lines for
//! CI ([`jsonl`]) and the set of them a run feeds ([`sinks`]).
//!
//! Everything here consumes [`Event`]s; nothing here talks to a cloud or
//! decides what the engine does.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::Event;
use crate::clock::seconds_between;

pub mod gantt;
pub mod jsonl;
pub mod lines;
pub mod progress;
pub mod sinks;

/// How a restore ended, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Outcome {
    /// Completed with its settings applied and verified.
    Completed,
    /// Failed.
    Failed {
        /// Why.
        cause: String,
    },
    /// Skipped.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not finished (interrupted run).
    Pending,
}

/// One restore in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreTiming {
    /// Index in the plan.
    pub index: usize,
    /// Restore id.
    pub id: String,
    /// When it was sent.
    pub started: Option<DateTime<Utc>>,
    /// When its table became ACTIVE.
    pub active: Option<DateTime<Utc>>,
    /// When it completed, failed or was skipped.
    pub finished: Option<DateTime<Utc>>,
    /// Estimated duration in seconds.
    pub estimated_seconds: Option<f64>,
    /// Retried calls.
    pub retries: u32,
    /// Final state.
    pub outcome: Outcome,
    /// When its verification began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_began: Option<DateTime<Utc>>,
    /// Every check of its verification, with its evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<super::events::Check>,
    /// The result reported to AWS Backup for its restore job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationView>,
}

/// The verification result as reported to AWS Backup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationView {
    /// The restore job.
    pub job_id: String,
    /// `SUCCESSFUL` or `FAILED`.
    pub status: crate::cloud::data::ValidationStatus,
    /// The message sent.
    pub message: String,
    /// Why AWS Backup did not take it, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Names of the checks `after_restore.verify` adds to a table's shape checks.
pub const DATA_CHECKS: &[&str] = &["items", "key", "command", "verify-timeout", "verify"];

/// Checks as text, one per line under `indent` (evidence lines indented
/// further): `✓ name: evidence` or `✗ name: evidence`.
pub fn checks_text(checks: &[super::events::Check], indent: &str) -> String {
    let mut s = String::new();
    for c in checks {
        let mark = if c.passed { "✓" } else { "✗" };
        let mut lines = c.detail.lines();
        let _ = writeln!(
            s,
            "{indent}{mark} {}: {}",
            c.name,
            lines.next().unwrap_or("")
        );
        for l in lines {
            let _ = writeln!(s, "{indent}    {}", l.trim_start());
        }
    }
    s
}

impl RestoreTiming {
    /// Seconds from start to finish.
    pub fn duration(&self) -> Option<f64> {
        Some(seconds_between(self.started?, self.finished?))
    }
}

/// The final report of a run (or a simulated run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Run id.
    pub run_id: String,
    /// Plan name.
    pub plan: String,
    /// When the run first started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The plan's RTO in seconds.
    pub rto_objective_seconds: Option<f64>,
    /// True when interrupted.
    pub interrupted: bool,
    /// `completed` (every restore completed), `failed` (a restore failed or
    /// was skipped) or `incomplete` (interrupted, or not every restore ended).
    pub status: RunStatus,
    /// Seconds from the start of work to the last restore verified, when
    /// every restore completed; otherwise there is no recovery time.
    pub recovery_seconds: Option<f64>,
    /// Whether the RTO objective was met: only when every restore completed
    /// within it; `None` when the plan sets no objective.
    pub objective_met: Option<bool>,
    /// Every restore in plan order.
    pub restores: Vec<RestoreTiming>,
    /// Warnings that change what is restored, accepted with
    /// `apply --accept-warnings` (from the run's journal).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted_warnings: Vec<crate::check::warnings::AcceptedWarning>,
}

/// How a run ended, as its report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Every restore completed.
    Completed,
    /// A restore failed or was skipped.
    Failed,
    /// Interrupted, or a restore did not end.
    Incomplete,
}

impl RunReport {
    /// Builds the report from a run's events.
    pub fn from_events(events: &[Event], rto_objective: Option<Duration>) -> Self {
        let mut r = Self {
            run_id: String::new(),
            plan: String::new(),
            started_at: None,
            finished_at: None,
            rto_objective_seconds: rto_objective.map(|d| d.as_secs_f64()),
            interrupted: false,
            status: RunStatus::Incomplete,
            recovery_seconds: None,
            objective_met: None,
            restores: Vec::new(),
            accepted_warnings: Vec::new(),
        };
        let slot = |restores: &mut Vec<RestoreTiming>, index: usize, id: &str| -> usize {
            if restores.len() <= index {
                let start = restores.len();
                restores.extend((start..=index).map(|k| RestoreTiming {
                    index: k,
                    id: String::new(),
                    started: None,
                    active: None,
                    finished: None,
                    estimated_seconds: None,
                    retries: 0,
                    outcome: Outcome::Pending,
                    verify_began: None,
                    checks: Vec::new(),
                    validation: None,
                }));
            }
            if restores[index].id.is_empty() {
                restores[index].id = id.to_owned();
            }
            index
        };
        for e in events {
            match e {
                Event::RunStarted {
                    run_id,
                    plan,
                    total,
                    ids,
                    started_at,
                    ..
                } => {
                    r.run_id = run_id.clone();
                    r.plan = plan.clone();
                    r.started_at = Some(*started_at);
                    if *total > 0 {
                        slot(&mut r.restores, total - 1, "");
                    }
                    for (index, id) in ids.iter().enumerate() {
                        slot(&mut r.restores, index, id);
                    }
                }
                Event::RestoreStarting {
                    index,
                    id,
                    estimated_seconds,
                    at,
                    ..
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].started.get_or_insert(*at);
                    r.restores[k].estimated_seconds = Some(*estimated_seconds);
                }
                Event::RestoreRecorded {
                    index,
                    id,
                    phase,
                    started_at,
                    active_at,
                    finished_at,
                    cause,
                    ..
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    let t = &mut r.restores[k];
                    t.started = *started_at;
                    t.active = *active_at;
                    t.finished = *finished_at;
                    let cause = cause.clone().unwrap_or_default();
                    t.outcome = match phase.as_str() {
                        "completed" => Outcome::Completed,
                        "failed" => Outcome::Failed { cause },
                        "skipped" => Outcome::Skipped { reason: cause },
                        _ => Outcome::Pending,
                    };
                }
                Event::Retrying { index, id, .. } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].retries += 1;
                }
                Event::RestoreActive { index, id, at } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].active = Some(*at);
                }
                Event::RestoreCompleted { index, id, at } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].finished = Some(*at);
                    r.restores[k].outcome = Outcome::Completed;
                }
                Event::RestoreFailed {
                    index,
                    id,
                    cause,
                    at,
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].finished = Some(*at);
                    r.restores[k].outcome = Outcome::Failed {
                        cause: cause.clone(),
                    };
                }
                Event::RestoreSkipped {
                    index,
                    id,
                    reason,
                    at,
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].finished = Some(*at);
                    r.restores[k].outcome = Outcome::Skipped {
                        reason: reason.clone(),
                    };
                }
                Event::RunFinished {
                    interrupted, at, ..
                } => {
                    r.finished_at = Some(*at);
                    r.interrupted = *interrupted;
                }
                Event::Verified {
                    index,
                    id,
                    checks,
                    began,
                    ..
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].checks = checks.clone();
                    r.restores[k].verify_began = *began;
                }
                Event::ValidationReported {
                    index,
                    id,
                    job_id,
                    status,
                    message,
                    error,
                    ..
                } => {
                    let k = slot(&mut r.restores, *index, id);
                    r.restores[k].validation = Some(ValidationView {
                        job_id: job_id.clone(),
                        status: *status,
                        message: message.clone(),
                        error: error.clone(),
                    });
                }
                Event::RestoreAccepted { .. }
                | Event::RestoreProgress { .. }
                | Event::SettingApplied { .. }
                | Event::Stopping { .. } => {}
            }
        }
        let (_, failed, skipped, pending) = r.counts();
        r.status = if r.interrupted || pending > 0 || r.finished_at.is_none() {
            RunStatus::Incomplete
        } else if failed + skipped > 0 {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        };
        if r.status == RunStatus::Completed {
            let last = r.restores.iter().filter_map(|t| t.finished).max();
            r.recovery_seconds = match (r.started_at, last.or(r.finished_at)) {
                (Some(a), Some(b)) => Some(seconds_between(a, b)),
                _ => None,
            };
        }
        r.objective_met = r.rto_objective_seconds.map(|obj| {
            r.status == RunStatus::Completed && r.recovery_seconds.is_some_and(|s| s <= obj)
        });
        r
    }

    /// Seconds from the first start to the end of the run (elapsed, whatever
    /// the outcome; [`RunReport::recovery_seconds`] is the recovery time).
    pub fn measured_rto_seconds(&self) -> Option<f64> {
        Some(seconds_between(self.started_at?, self.finished_at?))
    }

    /// True when every restore completed.
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self
                .restores
                .iter()
                .all(|r| r.outcome == Outcome::Completed)
    }

    /// Counts of (completed, failed, skipped, pending).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for r in &self.restores {
            match r.outcome {
                Outcome::Completed => c.0 += 1,
                Outcome::Failed { .. } => c.1 += 1,
                Outcome::Skipped { .. } => c.2 += 1,
                Outcome::Pending => c.3 += 1,
            }
        }
        c
    }

    /// The Gantt bars of the run.
    pub fn bars(&self) -> Vec<gantt::Bar> {
        let Some(origin) = self.started_at else {
            return Vec::new();
        };
        self.restores
            .iter()
            .filter_map(|t| {
                let end = t.finished.or(self.finished_at)?;
                // A skipped restore never started: a mark where it was given up.
                let start = match (t.started, &t.outcome) {
                    (Some(s), _) => s,
                    (None, Outcome::Skipped { .. }) => end,
                    (None, _) => return None,
                };
                Some(gantt::Bar {
                    label: t.id.clone(),
                    start: seconds_between(origin, start),
                    active: t.active.map(|a| seconds_between(origin, a)),
                    verify: t.verify_began.map(|v| seconds_between(origin, v)),
                    end: seconds_between(origin, end),
                    kind: match t.outcome {
                        Outcome::Completed => gantt::BarKind::Completed,
                        Outcome::Failed { .. } => gantt::BarKind::Failed,
                        Outcome::Skipped { .. } => gantt::BarKind::Skipped,
                        Outcome::Pending => gantt::BarKind::Pending,
                    },
                })
            })
            .collect()
    }

    /// The report as text: RTO against the objective, per-restore timings,
    /// failures with their causes.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let (ok, failed, skipped, pending) = self.counts();
        let _ = writeln!(
            s,
            "run {} of plan `{}`: {ok} completed, {failed} failed, {skipped} skipped{}",
            self.run_id,
            self.plan,
            if pending > 0 {
                format!(", {pending} not finished")
            } else {
                String::new()
            }
        );
        let objective = self.rto_objective_seconds;
        let elapsed = self.measured_rto_seconds();
        match (self.status, self.recovery_seconds) {
            (RunStatus::Completed, Some(rto)) => {
                let verdict = match objective {
                    Some(obj) if rto <= obj => format!(
                        " — objective met: within {} ({} to spare)",
                        hms(obj),
                        hms(obj - rto)
                    ),
                    Some(obj) => format!(
                        " — objective NOT met: exceeds {} by {}",
                        hms(obj),
                        hms(rto - obj)
                    ),
                    None => " (the plan sets no RTO objective)".to_owned(),
                };
                let _ = writeln!(s, "recovery time: {}{verdict}", hms(rto));
            }
            (RunStatus::Failed, _) => {
                let _ = writeln!(
                    s,
                    "recovery time: none — {failed} failed, {skipped} skipped, so the environment was not recovered{}{}",
                    elapsed
                        .map(|e| format!(" (ran {})", hms(e)))
                        .unwrap_or_default(),
                    objective
                        .map(|o| format!("; objective of {} NOT met", hms(o)))
                        .unwrap_or_default()
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "incomplete: {}{} — no recovery time yet{}",
                    if self.interrupted {
                        "interrupted"
                    } else {
                        "not every restore ended"
                    },
                    elapsed
                        .map(|e| format!(" after {}", hms(e)))
                        .unwrap_or_default(),
                    objective
                        .map(|o| format!("; objective of {} not met", hms(o)))
                        .unwrap_or_default()
                );
            }
        }
        let width = self
            .restores
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(2)
            .max(7);
        let _ = writeln!(
            s,
            "\n  {:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  state",
            "restore", "start", "active", "finish", "duration"
        );
        let origin = self.started_at;
        let off = |t: Option<DateTime<Utc>>| match (origin, t) {
            (Some(o), Some(t)) => format!("+{}", hms(seconds_between(o, t))),
            _ => "-".to_owned(),
        };
        for r in &self.restores {
            let state = match &r.outcome {
                Outcome::Completed => "completed",
                Outcome::Failed { .. } => "FAILED",
                Outcome::Skipped { .. } => "skipped",
                Outcome::Pending => "not finished",
            };
            let _ = writeln!(
                s,
                "  {:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {state}",
                r.id,
                off(r.started),
                off(r.active),
                off(r.finished),
                r.duration().map(hms).unwrap_or_else(|| "-".to_owned()),
            );
        }
        let problems: Vec<&RestoreTiming> = self
            .restores
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }))
            .collect();
        if !problems.is_empty() {
            let _ = writeln!(s, "\nfailures:");
            for r in problems {
                match &r.outcome {
                    Outcome::Failed { cause } => {
                        let _ = writeln!(s, "  {}: failed: {cause}", r.id);
                    }
                    Outcome::Skipped { reason } => {
                        let _ = writeln!(s, "  {}: skipped: {reason}", r.id);
                    }
                    _ => {}
                }
            }
        }
        let verified: Vec<&RestoreTiming> = self
            .restores
            .iter()
            .filter(|r| {
                r.checks
                    .iter()
                    .any(|c| DATA_CHECKS.contains(&c.name.as_str()))
            })
            .collect();
        if !verified.is_empty() {
            let _ = writeln!(s, "\nverification:");
            for r in verified {
                let failed = r.checks.iter().filter(|c| !c.passed).count();
                let _ = writeln!(
                    s,
                    "  {}: {}",
                    r.id,
                    if failed == 0 {
                        format!("{} checks passed", r.checks.len())
                    } else {
                        format!("{failed} of {} checks FAILED", r.checks.len())
                    }
                );
                s.push_str(&checks_text(&r.checks, "    "));
                if let Some(v) = &r.validation {
                    let _ = writeln!(
                        s,
                        "    AWS Backup restore job {}: {}{}",
                        v.job_id,
                        v.status.as_str(),
                        v.error
                            .as_ref()
                            .map(|e| format!(" NOT reported: {e}"))
                            .unwrap_or_else(|| " reported".to_owned())
                    );
                }
            }
        }
        if !self.accepted_warnings.is_empty() {
            let _ = writeln!(
                s,
                "\naccepted warnings (--accept-warnings): the restored tables differ from the plan here:"
            );
            for w in &self.accepted_warnings {
                let _ = writeln!(s, "  {}: {}", w.code, w.message);
            }
        }
        s
    }
}

/// Seconds as `H:MM:SS`.
pub fn hms(secs: f64) -> String {
    let t = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn report_measures_rto_and_lists_failures() {
        let events = vec![
            Event::RunStarted {
                run_id: "r".into(),
                plan: "p".into(),
                total: 2,
                ids: vec!["a".into(), "b".into()],
                concurrency: 2,
                started_at: at(0),
                resumed: false,
                at: at(0),
            },
            Event::RestoreStarting {
                index: 0,
                id: "a".into(),
                operation: "StartRestoreJob".into(),
                estimated_seconds: 60.0,
                at: at(0),
            },
            Event::RestoreActive {
                index: 0,
                id: "a".into(),
                at: at(3000),
            },
            Event::RestoreCompleted {
                index: 0,
                id: "a".into(),
                at: at(3010),
            },
            Event::RestoreSkipped {
                index: 1,
                id: "b".into(),
                reason: "depends on `x`, which failed".into(),
                at: at(3010),
            },
            Event::RunFinished {
                completed: 1,
                failed: 0,
                skipped: 1,
                pending: 0,
                interrupted: false,
                at: at(3600),
            },
        ];
        let r = RunReport::from_events(&events, Some(Duration::from_secs(1800)));
        assert_eq!(r.measured_rto_seconds(), Some(3600.0));
        assert_eq!(r.counts(), (1, 0, 1, 0));
        assert_eq!(r.status, RunStatus::Failed);
        assert_eq!(r.recovery_seconds, None);
        assert_eq!(r.objective_met, Some(false));
        let text = r.render_text();
        assert!(
            text.contains("recovery time: none — 0 failed, 1 skipped, so the environment was not recovered (ran 1:00:00); objective of 0:30:00 NOT met"),
            "{text}"
        );
        assert!(
            text.contains("b: skipped: depends on `x`, which failed"),
            "{text}"
        );
        // The skipped restore keeps a row, at the moment it was given up.
        assert_eq!(r.bars().len(), 2);
    }

    fn started(total: usize) -> Event {
        Event::RunStarted {
            run_id: "r".into(),
            plan: "p".into(),
            total,
            ids: (0..total).map(|i| format!("restore-{i}")).collect(),
            concurrency: 2,
            started_at: at(0),
            resumed: false,
            at: at(0),
        }
    }

    fn completed(index: usize, at_s: i64) -> Event {
        Event::RestoreCompleted {
            index,
            id: format!("restore-{index}"),
            at: at(at_s),
        }
    }

    fn finished(interrupted: bool, at_s: i64) -> Event {
        Event::RunFinished {
            completed: 0,
            failed: 0,
            skipped: 0,
            pending: 0,
            interrupted,
            at: at(at_s),
        }
    }

    #[test]
    fn the_recovery_time_ends_with_the_last_restore_verified() {
        let events = vec![
            started(2),
            completed(0, 600),
            completed(1, 900),
            finished(false, 960),
        ];
        let r = RunReport::from_events(&events, Some(Duration::from_secs(1000)));
        assert_eq!(r.status, RunStatus::Completed);
        assert_eq!(r.recovery_seconds, Some(900.0));
        assert_eq!(r.objective_met, Some(true));
        let text = r.render_text();
        assert!(
            text.contains(
                "recovery time: 0:15:00 — objective met: within 0:16:40 (0:01:40 to spare)"
            ),
            "{text}"
        );
        let late = RunReport::from_events(&events, Some(Duration::from_secs(600)));
        assert_eq!(late.objective_met, Some(false));
        assert!(
            late.render_text()
                .contains("objective NOT met: exceeds 0:10:00 by 0:05:00")
        );
    }

    #[test]
    fn an_interrupted_run_is_incomplete_and_names_every_restore() {
        // Ctrl-C after the first of three restores: the others never started.
        let events = vec![started(3), completed(0, 60), finished(true, 61)];
        let r = RunReport::from_events(&events, Some(Duration::from_secs(3600)));
        assert_eq!(r.status, RunStatus::Incomplete);
        assert_eq!(r.recovery_seconds, None);
        assert_eq!(r.objective_met, Some(false));
        let text = r.render_text();
        assert!(
            text.contains("incomplete: interrupted after 0:01:01"),
            "{text}"
        );
        assert!(!text.contains("objective met"), "{text}");
        let ids: Vec<&str> = r.restores.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["restore-0", "restore-1", "restore-2"]);
        for id in ids {
            assert!(text.contains(&format!("  {id} ")), "{text}");
        }
    }
}
