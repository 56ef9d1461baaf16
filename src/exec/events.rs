//! The one event stream of a run. The engine emits [`Event`]s into an
//! [`EventSink`]; renderers (progress bars, JSON lines, the final report)
//! consume them. The engine itself never prints.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cloud::{StartedRestore, TableChange};

/// Version of the JSON shape of [`Event`], written with every JSON line.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// One verification check of a restored table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked, e.g. `status`, `encryption`, `indexes`, `item-count`.
    pub name: String,
    /// True when it held.
    pub passed: bool,
    /// What was expected and what was found.
    pub detail: String,
}

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The run began (or resumed).
    RunStarted {
        /// Run id.
        run_id: String,
        /// Plan name.
        plan: String,
        /// Number of restores in the plan.
        total: usize,
        /// Restore ids in plan order, so every report names every restore,
        /// also those an interrupted run never reached.
        #[serde(default)]
        ids: Vec<String>,
        /// Restores in flight at once.
        concurrency: u32,
        /// When the run first started (earlier than `at` for a resumed run).
        started_at: DateTime<Utc>,
        /// True when continuing a run from its journal.
        resumed: bool,
        /// When this event happened.
        at: DateTime<Utc>,
    },
    /// A restore is about to be sent.
    RestoreStarting {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// AWS operation.
        operation: String,
        /// Estimated duration in seconds.
        estimated_seconds: f64,
        /// When.
        at: DateTime<Utc>,
    },
    /// AWS accepted the restore (or the run adopted the one it had started).
    RestoreAccepted {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// The job or table to poll.
        handle: StartedRestore,
        /// True when an existing job or table of this run was taken over on resume.
        adopted: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// Progress reported by AWS while polling.
    RestoreProgress {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// Percent done, when AWS reports it.
        percent: Option<f64>,
        /// Expected finish, when AWS reports an estimate.
        expected_finish: Option<DateTime<Utc>>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A call failed in a way that is retried.
    Retrying {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// The failed operation.
        operation: String,
        /// Attempt number that failed (1-based).
        attempt: u32,
        /// Wait before the next attempt, in seconds.
        delay_seconds: f64,
        /// The error.
        error: String,
        /// True when the cause is a quota (waiting for a restore slot).
        waiting_for_slot: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// The table is ACTIVE.
    RestoreActive {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// An after-restore setting was applied.
    SettingApplied {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// The change.
        change: TableChange,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restored table was checked.
    Verified {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// Every check, passed or not.
        checks: Vec<Check>,
        /// When the verification began (the Gantt chart's verification bar).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        began: Option<DateTime<Utc>>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The verification's result was reported to AWS Backup for the
    /// restore job (`PutRestoreValidationResult`), or the report failed.
    ValidationReported {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// The AWS Backup restore job.
        job_id: String,
        /// `SUCCESSFUL` or `FAILED`.
        status: crate::cloud::data::ValidationStatus,
        /// The message sent.
        message: String,
        /// Why AWS Backup did not take it, when it did not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restore and its after-restore steps are done; dependents may start.
    RestoreCompleted {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restore failed.
    RestoreFailed {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// Why.
        cause: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restore will not run because of another restore's failure.
    RestoreSkipped {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// Why.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A resumed run found this restore already under way or finished in the
    /// journal (so reports of a resumed run cover the whole run).
    RestoreRecorded {
        /// Index in the plan.
        index: usize,
        /// Restore id.
        id: String,
        /// Phase in the journal: `starting`, `restoring`, `settings`,
        /// `completed`, `failed` or `skipped`.
        phase: String,
        /// When it was first started.
        started_at: Option<DateTime<Utc>>,
        /// When its table became ACTIVE.
        active_at: Option<DateTime<Utc>>,
        /// When it reached its final phase.
        finished_at: Option<DateTime<Utc>>,
        /// Failure cause or skip reason.
        cause: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Nothing new will start (failure policy `stop`, or an interrupt).
    Stopping {
        /// Why.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The run ended (finished or interrupted).
    RunFinished {
        /// Restores completed (in this and earlier attempts).
        completed: usize,
        /// Restores failed.
        failed: usize,
        /// Restores skipped.
        skipped: usize,
        /// Restores not started or not finished (interrupted or stopped).
        pending: usize,
        /// True when the run was interrupted and can be resumed.
        interrupted: bool,
        /// When.
        at: DateTime<Utc>,
    },
}

impl Event {
    /// When the event happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::RunStarted { at, .. }
            | Self::RestoreStarting { at, .. }
            | Self::RestoreAccepted { at, .. }
            | Self::RestoreProgress { at, .. }
            | Self::Retrying { at, .. }
            | Self::RestoreActive { at, .. }
            | Self::SettingApplied { at, .. }
            | Self::Verified { at, .. }
            | Self::ValidationReported { at, .. }
            | Self::RestoreCompleted { at, .. }
            | Self::RestoreFailed { at, .. }
            | Self::RestoreSkipped { at, .. }
            | Self::RestoreRecorded { at, .. }
            | Self::Stopping { at, .. }
            | Self::RunFinished { at, .. } => *at,
        }
    }
}

/// Where the engine sends its events.
pub trait EventSink: Send + Sync {
    /// Receives one event; must not block for long.
    fn emit(&self, event: Event);
}

/// Discards every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: Event) {}
}

/// Keeps every event in memory (tests, reports).
#[derive(Debug, Default)]
pub struct CollectingSink {
    events: Mutex<Vec<Event>>,
}

impl CollectingSink {
    /// A new, empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events received so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Takes the events received so far.
    pub fn take(&self) -> Vec<Event> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

impl EventSink for CollectingSink {
    fn emit(&self, event: Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event);
        }
    }
}

/// Sends every event to several sinks.
pub struct Tee<'a>(pub Vec<&'a dyn EventSink>);

impl EventSink for Tee<'_> {
    fn emit(&self, event: Event) {
        if let Some((last, rest)) = self.0.split_last() {
            for s in rest {
                s.emit(event.clone());
            }
            last.emit(event);
        }
    }
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}
