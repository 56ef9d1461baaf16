//! The run journal: an append-only, fsynced JSON-lines file per run under
//! `.restoreplan/runs/RUN/journal.jsonl`.
//!
//! The executor writes the intent before every mutating call and the outcome
//! after it, so replaying the journal ([`RunState::replay`]) tells a resumed
//! run exactly where each restore stands. A torn last line (the process was
//! killed mid-write) is ignored and cut off before appending again.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cloud::{Scope, StartedRestore};
use crate::plan::model::OnFailure;

use super::objects::{ObjectLockStore, ObjectStore, journal_prefix, record_key, record_seq};
use super::spec::RestoreSpec;

/// File name of the journal inside a run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Errors reading or writing a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read or written.
    #[error("failed to access the run journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line in the middle of the journal is not a record.
    #[error("run journal {path} is corrupt at line {line}: {message}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The journal has no `run-started` record.
    #[error("run journal {path} does not start with a run-started record")]
    NoHeader {
        /// The journal file.
        path: PathBuf,
    },
    /// No run with this id exists.
    #[error("no run `{run_id}` under {dir}; `restoreplan runs` lists the runs")]
    UnknownRun {
        /// The run id asked for.
        run_id: String,
        /// The runs directory.
        dir: PathBuf,
    },
    /// The run directory already exists.
    #[error("run `{0}` already exists")]
    Exists(String),
    /// Another process wrote this record of the run first.
    #[error(
        "another process wrote {path} first: the run is being continued elsewhere; this process stops"
    )]
    Conflict {
        /// The record's object.
        path: PathBuf,
    },
}

/// The first record of every journal: what the run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// Run id.
    pub run_id: String,
    /// Plan name.
    pub plan: String,
    /// Path of the plan file, when the run came from one.
    pub plan_path: Option<String>,
    /// SHA-256 of the plan file as it was (older runs compared it on resume).
    pub plan_digest: Option<String>,
    /// What the plan resolved to, so a resume refuses a plan that would do
    /// something else and accepts one that only moved or gained comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<crate::plan::fingerprint::Fingerprint>,
    /// Restores in flight at once.
    pub concurrency: u32,
    /// Failure policy.
    pub on_failure: OnFailure,
    /// Every restore, in plan order, exactly as the run sends it.
    pub restores: Vec<RestoreSpec>,
    /// `depends_on` of each restore as plan indices, so the journal alone
    /// describes the graph.
    pub depends_on: Vec<Vec<usize>>,
    /// When the run started.
    pub at: DateTime<Utc>,
    /// Warnings that change what is restored, accepted with
    /// `apply --accept-warnings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_warnings: Vec<crate::check::warnings::AcceptedWarning>,
    /// The `select:` restores of the plan and the tables each expanded to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selections: Vec<crate::plan::select::GroupView>,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum Record {
    /// The run began.
    RunStarted(RunHeader),
    /// The identity this process acts as in one account (written before its
    /// first call to that account), so teardown can require the same account.
    Identity {
        /// The account.
        account: String,
        /// The caller ARN `GetCallerIdentity` returned.
        arn: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A later process continued the run.
    Resumed {
        /// When.
        at: DateTime<Utc>,
    },
    /// About to send the restore request (intent).
    StartIntent {
        /// Restore index.
        index: usize,
        /// The idempotency token sent.
        token: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// AWS accepted the restore (outcome), or the run adopted what it started.
    Started {
        /// Restore index.
        index: usize,
        /// Job or table.
        handle: StartedRestore,
        /// True when taken over on resume.
        adopted: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// The table is ACTIVE.
    Active {
        /// Restore index.
        index: usize,
        /// DynamoDB's `TableId` of the table, so that teardown can tell
        /// this run's table from one created later under the same name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        table_id: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// About to apply after-restore step `step` (intent).
    ChangeIntent {
        /// Restore index.
        index: usize,
        /// Step number in `RestoreSpec::changes_for_run`.
        step: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// After-restore step `step` applied (outcome).
    ChangeDone {
        /// Restore index.
        index: usize,
        /// Step number.
        step: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// Restore, settings and verification done.
    Completed {
        /// Restore index.
        index: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restore failed.
    Failed {
        /// Restore index.
        index: usize,
        /// Why.
        cause: String,
        /// True when the restore may still be running in AWS (its start's
        /// outcome is unknown, or it could no longer be polled): a resume
        /// polls it again instead of taking the failure as final.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_flight: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// `--retry-failed`/`--retry`: the restore starts over as attempt
    /// `attempt` (new idempotency token), forgetting its failed attempt.
    Retry {
        /// Restore index.
        index: usize,
        /// Attempt number (the first attempt is 0).
        attempt: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// A resumed run takes up again a restore whose last failure left it
    /// possibly running (polled again), or one skipped only because of such
    /// a failure (started afresh).
    Reopened {
        /// Restore index.
        index: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// A retry deleted the table a failed attempt of this run left behind.
    Cleared {
        /// Restore index.
        index: usize,
        /// The deleted table's `TableId`.
        table_id: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A stale lock (its holder killed, or its lease expired) was taken over.
    LockTakenOver {
        /// The lock's key.
        key: String,
        /// Who held it.
        previous: super::lock::Holder,
        /// When.
        at: DateTime<Utc>,
    },
    /// The restore was skipped.
    Skipped {
        /// Restore index.
        index: usize,
        /// Why.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The process stopped on an interrupt; the run can be resumed.
    Interrupted {
        /// When.
        at: DateTime<Utc>,
    },
    /// Every restore reached a final state.
    Finished {
        /// When.
        at: DateTime<Utc>,
    },
    /// About to delete a table this run created (teardown intent).
    DeleteIntent {
        /// Restore index.
        index: usize,
        /// Where.
        scope: Scope,
        /// Table name.
        table: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The table was deleted (or was already gone).
    Deleted {
        /// Restore index.
        index: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// About to send `StartCopyJob` for a restore's copy step (intent).
    CopyIntent {
        /// Restore index.
        index: usize,
        /// The idempotency token sent.
        token: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// AWS Backup accepted the copy job (outcome).
    CopyStarted {
        /// Restore index.
        index: usize,
        /// Copy job id.
        job_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The copy job completed: the copy's recovery point, which the restore
    /// then restores (and teardown deletes).
    CopyCompleted {
        /// Restore index.
        index: usize,
        /// Copy job id.
        job_id: String,
        /// The copy's recovery point ARN, in the target vault.
        recovery_point_arn: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Teardown deleted a recovery point this run copied (or it was gone).
    CopyDeleted {
        /// Restore index.
        index: usize,
        /// The deleted recovery point.
        recovery_point_arn: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The run is an AWS Step Functions execution: where it lives. Written
    /// once the execution started; the follower journals what the
    /// execution did as the records of the restores.
    Engine {
        /// The state machine and execution.
        #[serde(flatten)]
        run: EngineRun,
        /// When.
        at: DateTime<Utc>,
    },
    /// `RedriveExecution`: a failed or aborted execution of the run goes on
    /// from where it stopped.
    Redriven {
        /// When.
        at: DateTime<Utc>,
    },
    /// Teardown removed what the run created for a deleted table that
    /// outlives it (scalable targets with their policies, alarms).
    SettingsRemoved {
        /// Restore index.
        index: usize,
        /// When.
        at: DateTime<Utc>,
    },
    /// `restoreplan promote`: the restored table became production; it is
    /// tagged `restoreplan:promoted`, its deletion protection is on, and
    /// teardown refuses it from now on.
    Promoted {
        /// Restore index.
        index: usize,
        /// When.
        at: DateTime<Utc>,
    },
}

/// Where a restore stands according to the journal.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    /// Nothing sent yet.
    #[default]
    NotStarted,
    /// The request may or may not have reached AWS.
    Intent,
    /// AWS accepted it; poll this handle.
    Started(StartedRestore),
    /// The table is ACTIVE; settings may be pending.
    Active(StartedRestore),
    /// Done.
    Completed,
    /// Failed, with the cause.
    Failed(String),
    /// Skipped, with the reason.
    Skipped(String),
}

impl Phase {
    /// True for completed, failed and skipped.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed(_) | Self::Skipped(_))
    }

    /// Short lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::Intent => "starting",
            Self::Started(_) => "restoring",
            Self::Active(_) => "settings",
            Self::Completed => "completed",
            Self::Failed(_) => "failed",
            Self::Skipped(_) => "skipped",
        }
    }
}

/// What the journal says about one restore.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RestoreState {
    /// Current phase.
    pub phase: Phase,
    /// After-restore steps done.
    pub changes_done: BTreeSet<usize>,
    /// Start intents written (one per process that tried to start it).
    pub start_intents: u32,
    /// When the first start intent was written.
    pub started_at: Option<DateTime<Utc>>,
    /// When the table became ACTIVE.
    pub active_at: Option<DateTime<Utc>>,
    /// When it completed, failed or was skipped.
    pub finished_at: Option<DateTime<Utc>>,
    /// The job or table AWS returned.
    pub handle: Option<StartedRestore>,
    /// DynamoDB's `TableId` of the table when it was first seen ACTIVE.
    pub table_id: Option<String>,
    /// Teardown deleted the table.
    pub deleted: bool,
    /// `promote` marked the table as production: teardown refuses it.
    pub promoted: bool,
    /// The last failure left the restore possibly running in AWS.
    pub in_flight: bool,
    /// Attempt number (raised by each retry; the first attempt is 0).
    pub attempt: u32,
    /// A table an earlier, failed attempt of this restore was seen ACTIVE
    /// with (its `TableId`), so a retry can tell it is the run's own.
    pub earlier_table_id: Option<String>,
    /// A copy intent was written for this attempt.
    pub copy_intent: bool,
    /// The copy job of this attempt, once AWS accepted it.
    pub copy_job: Option<String>,
    /// The recovery point this attempt's copy made, once completed.
    pub copy_point: Option<String>,
    /// Every copy this restore made in the run (all attempts): `(job id,
    /// recovery point ARN)`, for teardown.
    pub copies: Vec<(String, String)>,
    /// Copies teardown deleted, by recovery point ARN.
    pub copies_deleted: BTreeSet<String>,

    /// Teardown wrote its intent to delete the table (it may have stopped
    /// before or after the deletion).
    pub delete_intent: bool,
    /// Teardown removed what the run created for the deleted table.
    pub settings_removed: bool,
}

/// A run as replayed from its journal.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// The header.
    pub header: RunHeader,
    /// One state per restore, in plan order.
    pub restores: Vec<RestoreState>,
    /// True when the last process stopped on an interrupt.
    pub interrupted: bool,
    /// True when every restore reached a final state.
    pub finished: bool,
    /// When the last record was written.
    pub last_at: DateTime<Utc>,
    /// Number of resumes.
    pub resumes: u32,
    /// True when a teardown started.
    pub torn_down: bool,
    /// The caller ARN last recorded per account.
    pub identities: std::collections::BTreeMap<String, String>,
    /// The state machine and execution that run the plan, when an AWS
    /// Step Functions execution runs it (`engine: step-functions`).
    pub engine: Option<EngineRun>,
}

/// Where an AWS Step Functions run lives (`Record::Engine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineRun {
    /// The engine: `step-functions`.
    pub engine: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The execution's ARN (its name is the run id).
    pub execution_arn: String,
    /// The coordination table (in the state machine's account and Region).
    pub table: String,
    /// The state machine's account.
    pub account: String,
    /// The state machine's Region.
    pub region: String,
}

impl RunState {
    /// Replays records (the first must be `run-started`).
    pub fn replay(records: &[Record]) -> Option<Self> {
        let Some(Record::RunStarted(header)) = records.first() else {
            return None;
        };
        let mut st = Self {
            restores: vec![RestoreState::default(); header.restores.len()],
            last_at: header.at,
            header: header.clone(),
            interrupted: false,
            finished: false,
            resumes: 0,
            torn_down: false,
            identities: Default::default(),
            engine: None,
        };
        for rec in &records[1..] {
            st.apply(rec);
        }
        Some(st)
    }

    /// Applies one more record (as appended to the journal).
    pub fn apply(&mut self, rec: &Record) {
        let n = self.restores.len();
        let slot = |i: usize| (i < n).then_some(i);
        match rec {
            Record::RunStarted(_) => {}
            Record::Identity { account, arn, at } => {
                self.identities.insert(account.clone(), arn.clone());
                self.last_at = *at;
            }
            Record::Resumed { at } => {
                self.resumes += 1;
                self.interrupted = false;
                self.last_at = *at;
            }
            Record::StartIntent { index, at, .. } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.start_intents += 1;
                    r.started_at.get_or_insert(*at);
                    if r.phase == Phase::NotStarted {
                        r.phase = Phase::Intent;
                    }
                }
                self.last_at = *at;
            }
            Record::Started {
                index, handle, at, ..
            } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.handle = Some(handle.clone());
                    if matches!(r.phase, Phase::NotStarted | Phase::Intent) {
                        r.phase = Phase::Started(handle.clone());
                    }
                }
                self.last_at = *at;
            }
            Record::Active {
                index,
                table_id,
                at,
            } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.active_at = Some(*at);
                    if table_id.is_some() {
                        r.table_id = table_id.clone();
                    }
                    if let Phase::Started(h) = &r.phase {
                        r.phase = Phase::Active(h.clone());
                    }
                }
                self.last_at = *at;
            }
            Record::ChangeIntent { at, .. } => self.last_at = *at,
            Record::ChangeDone { index, step, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].changes_done.insert(*step);
                }
                self.last_at = *at;
            }
            Record::Completed { index, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].phase = Phase::Completed;
                    self.restores[i].finished_at = Some(*at);
                }
                self.last_at = *at;
            }
            Record::Failed {
                index,
                cause,
                in_flight,
                at,
            } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].phase = Phase::Failed(cause.clone());
                    self.restores[i].finished_at = Some(*at);
                    self.restores[i].in_flight = *in_flight;
                }
                self.last_at = *at;
            }
            Record::Retry { index, attempt, at } => {
                if let Some(i) = slot(*index) {
                    let old = std::mem::take(&mut self.restores[i]);
                    let r = &mut self.restores[i];
                    r.attempt = *attempt;
                    r.earlier_table_id = old.table_id.or(old.earlier_table_id);
                    r.copies = old.copies;
                    r.copies_deleted = old.copies_deleted;
                }
                self.finished = false;
                self.last_at = *at;
            }
            Record::Reopened { index, at } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.phase = match (&r.handle, r.active_at) {
                        (Some(h), Some(_)) => Phase::Active(h.clone()),
                        (Some(h), None) => Phase::Started(h.clone()),
                        (None, _) if r.start_intents > 0 => Phase::Intent,
                        (None, _) => Phase::NotStarted,
                    };
                    r.in_flight = false;
                    r.finished_at = None;
                }
                self.finished = false;
                self.last_at = *at;
            }
            Record::Cleared { index, at, .. } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].earlier_table_id = None;
                }
                self.last_at = *at;
            }
            Record::LockTakenOver { at, .. } => self.last_at = *at,
            Record::Skipped { index, reason, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].phase = Phase::Skipped(reason.clone());
                    self.restores[i].finished_at = Some(*at);
                }
                self.last_at = *at;
            }
            Record::Interrupted { at } => {
                self.interrupted = true;
                self.last_at = *at;
            }
            Record::Finished { at } => {
                self.finished = true;
                self.last_at = *at;
            }
            Record::DeleteIntent { index, at, .. } => {
                self.torn_down = true;
                if let Some(i) = slot(*index) {
                    self.restores[i].delete_intent = true;
                }
                self.last_at = *at;
            }
            Record::SettingsRemoved { index, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].settings_removed = true;
                }
                self.last_at = *at;
            }
            Record::Deleted { index, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].deleted = true;
                }
                self.last_at = *at;
            }
            Record::CopyIntent { index, at, .. } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.copy_intent = true;
                    r.started_at.get_or_insert(*at);
                }
                self.last_at = *at;
            }
            Record::CopyStarted { index, job_id, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].copy_job = Some(job_id.clone());
                }
                self.last_at = *at;
            }
            Record::CopyCompleted {
                index,
                job_id,
                recovery_point_arn,
                at,
            } => {
                if let Some(i) = slot(*index) {
                    let r = &mut self.restores[i];
                    r.copy_job = Some(job_id.clone());
                    r.copy_point = Some(recovery_point_arn.clone());
                    let entry = (job_id.clone(), recovery_point_arn.clone());
                    if !r.copies.contains(&entry) {
                        r.copies.push(entry);
                    }
                }
                self.last_at = *at;
            }
            Record::CopyDeleted {
                index,
                recovery_point_arn,
                at,
            } => {
                if let Some(i) = slot(*index) {
                    self.restores[i]
                        .copies_deleted
                        .insert(recovery_point_arn.clone());
                }
                self.last_at = *at;
            }
            Record::Engine { run, at } => {
                self.engine = Some(run.clone());
                self.last_at = *at;
            }
            Record::Redriven { at } => {
                self.resumes += 1;
                self.finished = false;
                self.interrupted = false;
                self.last_at = *at;
            }
            Record::Promoted { index, at } => {
                if let Some(i) = slot(*index) {
                    self.restores[i].promoted = true;
                }
                self.last_at = *at;
            }
        }
    }

    /// A one-word state for listings: `finished`, `failed`, `interrupted`,
    /// `incomplete` (killed or still running) or `torn-down`.
    pub fn status(&self) -> &'static str {
        if self.torn_down {
            "torn-down"
        } else if self.finished {
            if self
                .restores
                .iter()
                .all(|r| matches!(r.phase, Phase::Completed))
            {
                "finished"
            } else {
                "failed"
            }
        } else if self.interrupted {
            "interrupted"
        } else {
            "incomplete"
        }
    }

    /// Counts of (completed, failed, skipped, other) restores.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for r in &self.restores {
            match r.phase {
                Phase::Completed => c.0 += 1,
                Phase::Failed(_) => c.1 += 1,
                Phase::Skipped(_) => c.2 += 1,
                _ => c.3 += 1,
            }
        }
        c
    }
}

enum Backend {
    Memory(Vec<Record>),
    File {
        file: File,
        path: PathBuf,
    },
    Objects {
        objects: Arc<dyn ObjectStore>,
        run_id: String,
        next: u64,
    },
}

/// An open journal the executor appends to.
pub struct Journal {
    backend: Mutex<Backend>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Journal")
    }
}

impl Journal {
    /// A journal kept in memory (simulation, tests).
    pub fn memory() -> Self {
        Self {
            backend: Mutex::new(Backend::Memory(Vec::new())),
        }
    }

    /// Creates `dir/RUN/journal.jsonl` for a new run and writes its header.
    pub fn create(runs_dir: &Path, header: RunHeader) -> Result<Self, JournalError> {
        let dir = runs_dir.join(&header.run_id);
        let io = |source| JournalError::Io {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(runs_dir).map_err(io)?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(JournalError::Exists(header.run_id.clone()));
            }
            Err(e) => return Err(io(e)),
        }
        // The header is written to a temporary file and renamed into place,
        // so a journal file always starts with its run-started record: a
        // process killed while creating a run leaves no journal, never an
        // empty one.
        let path = dir.join(JOURNAL_FILE);
        let staging = dir.join(format!("{JOURNAL_FILE}.new"));
        let at = |p: &Path| {
            let p = p.to_owned();
            move |source| JournalError::Io { path: p, source }
        };
        {
            let mut line =
                serde_json::to_vec(&Record::RunStarted(header)).map_err(|e| JournalError::Io {
                    path: staging.clone(),
                    source: std::io::Error::other(e),
                })?;
            line.push(b'\n');
            let mut f = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&staging)
                .map_err(at(&staging))?;
            f.write_all(&line).map_err(at(&staging))?;
            f.sync_all().map_err(at(&staging))?;
        }
        std::fs::rename(&staging, &path).map_err(at(&path))?;
        // Make the directory entries themselves durable.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(at(&path))?;
        Ok(Self {
            backend: Mutex::new(Backend::File { file, path }),
        })
    }

    /// Opens an existing run for appending (resume, teardown) and returns
    /// its replayed state. A torn last line is cut off first.
    pub fn open(runs_dir: &Path, run_id: &str) -> Result<(Self, RunState), JournalError> {
        let path = journal_path(runs_dir, run_id)?;
        let (records, good_len) = read_records(&path)?;
        let state =
            RunState::replay(&records).ok_or(JournalError::NoHeader { path: path.clone() })?;
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.set_len(good_len).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((
            Self {
                backend: Mutex::new(Backend::File {
                    file,
                    path: path.clone(),
                }),
            },
            state,
        ))
    }

    /// Appends one record and applies it to `state`.
    pub fn append_to(&self, state: &mut RunState, record: &Record) -> Result<(), JournalError> {
        self.append(record)?;
        state.apply(record);
        Ok(())
    }

    /// Appends one record and makes it durable before returning.
    pub fn append(&self, record: &Record) -> Result<(), JournalError> {
        let mut guard = match self.backend.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match &mut *guard {
            Backend::Memory(v) => {
                v.push(record.clone());
                Ok(())
            }
            Backend::File { file, path } => {
                let mut line = serde_json::to_vec(record).map_err(|e| JournalError::Io {
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })?;
                line.push(b'\n');
                let io = |source| JournalError::Io {
                    path: path.clone(),
                    source,
                };
                file.write_all(&line).map_err(io)?;
                file.sync_data().map_err(io)
            }
            Backend::Objects {
                objects,
                run_id,
                next,
            } => {
                let key = record_key(run_id, *next);
                let mut line = serde_json::to_vec(record).map_err(|e| JournalError::Io {
                    path: objects.url(&key).into(),
                    source: std::io::Error::other(e),
                })?;
                line.push(b'\n');
                let io = |m: String| JournalError::Io {
                    path: objects.url(&key).into(),
                    source: std::io::Error::other(m),
                };
                if !objects.put_new(&key, &line).map_err(io)? {
                    return Err(JournalError::Conflict {
                        path: objects.url(&key).into(),
                    });
                }
                *next += 1;
                Ok(())
            }
        }
    }

    /// The records of an in-memory journal (empty for a file journal).
    pub fn memory_records(&self) -> Vec<Record> {
        match self.backend.lock() {
            Ok(g) => match &*g {
                Backend::Memory(v) => v.clone(),
                Backend::File { .. } | Backend::Objects { .. } => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }
}

/// The journal file of a run, checking that the run exists.
pub fn journal_path(runs_dir: &Path, run_id: &str) -> Result<PathBuf, JournalError> {
    let path = runs_dir.join(run_id).join(JOURNAL_FILE);
    if !super::spec::is_valid_run_id(run_id) || !path.is_file() {
        return Err(JournalError::UnknownRun {
            run_id: run_id.to_owned(),
            dir: runs_dir.to_owned(),
        });
    }
    Ok(path)
}

/// Reads every complete record; returns them and the byte length of the
/// well-formed prefix (a torn last line is excluded).
pub fn read_records(path: &Path) -> Result<(Vec<Record>, u64), JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut good_len = 0u64;
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(io)?;
        if read == 0 {
            break;
        }
        n += 1;
        // Only the last line may lack its newline: the process died mid-write.
        if line.last() != Some(&b'\n') {
            break;
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(r) => {
                records.push(r);
                good_len += read as u64;
            }
            Err(e) => {
                // A complete but unreadable line is torn only if nothing follows.
                let mut rest = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut rest).map_err(io)?;
                if rest.iter().all(u8::is_ascii_whitespace) {
                    break;
                }
                return Err(JournalError::Corrupt {
                    path: path.to_owned(),
                    line: n,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok((records, good_len))
}

/// Lists the runs under `runs_dir` with their replayed state, newest first.
pub fn list_runs(runs_dir: &Path) -> Result<Vec<RunState>, JournalError> {
    list_runs_and_unreadable(runs_dir).map(|(runs, _)| runs)
}

/// A folder under the runs directory that is not a readable run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The folder.
    pub path: std::path::PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// The runs under `runs_dir`, newest first, and the folders there that
/// could not be read as runs (no journal, an unreadable or empty one).
pub fn list_runs_and_unreadable(
    runs_dir: &Path,
) -> Result<(Vec<RunState>, Vec<Unreadable>), JournalError> {
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(source) => {
            return Err(JournalError::Io {
                path: runs_dir.to_owned(),
                source,
            });
        }
    };
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        let path = dir.join(JOURNAL_FILE);
        let problem = |reason: String| Unreadable {
            path: dir.clone(),
            reason,
        };
        if !path.is_file() {
            unreadable.push(problem(format!("no {JOURNAL_FILE}")));
            continue;
        }
        match read_records(&path) {
            Err(e) => unreadable.push(problem(e.to_string())),
            Ok((records, _)) => match RunState::replay(&records) {
                Some(st) => runs.push(st),
                None => unreadable.push(problem(format!(
                    "{JOURNAL_FILE} does not start with a run header"
                ))),
            },
        }
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.header.at));
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((runs, unreadable))
}

/// Where runs live: the local runs directory or a shared object store.
#[derive(Clone)]
pub enum RunStore {
    /// `.restoreplan/runs/` (or another directory) on this machine.
    Local(PathBuf),
    /// A shared store with conditional writes (S3).
    Objects(Arc<dyn ObjectStore>),
}

impl std::fmt::Debug for RunStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl RunStore {
    /// The state of a run as its journal shows it, read only (a torn last
    /// record, which may be a live holder's record being written, is left
    /// out and left alone): what a command reads before it holds the lock.
    pub fn peek(&self, run_id: &str) -> Result<RunState, JournalError> {
        let records = self.read(run_id)?;
        RunState::replay(&records).ok_or_else(|| JournalError::NoHeader {
            path: match self {
                Self::Local(d) => d.join(run_id),
                Self::Objects(o) => o.url(&record_key(run_id, 0)).into(),
            },
        })
    }

    /// Where the files kept with run `run_id` (report, Gantt chart) live.
    pub fn run_location(&self, run_id: &str) -> String {
        match self {
            Self::Local(d) => d.join(run_id).display().to_string(),
            Self::Objects(o) => o.url(&format!("runs/{run_id}/")),
        }
    }

    /// Keeps file `name` (e.g. `report.txt`) with run `run_id`, replacing
    /// an earlier one.
    pub fn put_file(&self, run_id: &str, name: &str, body: &[u8]) -> Result<(), String> {
        match self {
            Self::Local(d) => {
                let path = d.join(run_id).join(name);
                std::fs::write(&path, body).map_err(|e| format!("{}: {e}", path.display()))
            }
            Self::Objects(o) => o.put(&format!("runs/{run_id}/{name}"), body),
        }
    }

    /// File `name` kept with run `run_id`, if there is one.
    pub fn get_file(&self, run_id: &str, name: &str) -> Result<Option<Vec<u8>>, String> {
        if !super::spec::is_valid_run_id(run_id) {
            return Ok(None);
        }
        match self {
            Self::Local(d) => match std::fs::read(d.join(run_id).join(name)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", d.join(run_id).join(name).display())),
            },
            Self::Objects(o) => Ok(o.get(&format!("runs/{run_id}/{name}"))?.map(|(b, _)| b)),
        }
    }

    /// Where, for messages: a directory or `s3://bucket/prefix/`.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(d) => d.display().to_string(),
            Self::Objects(o) => o.url(""),
        }
    }

    /// The store of the run locks.
    pub fn lock_store(&self) -> Box<dyn super::lock::LockStore> {
        match self {
            Self::Local(d) => Box::new(super::lock::LocalFileStore::for_runs_dir(d)),
            Self::Objects(o) => Box::new(ObjectLockStore::new(o.clone())),
        }
    }

    /// Creates the journal of a new run and writes its header.
    pub fn create(&self, header: RunHeader) -> Result<Journal, JournalError> {
        match self {
            Self::Local(d) => Journal::create(d, header),
            Self::Objects(o) => {
                let j = Journal {
                    backend: Mutex::new(Backend::Objects {
                        objects: o.clone(),
                        run_id: header.run_id.clone(),
                        next: 0,
                    }),
                };
                let run_id = header.run_id.clone();
                match j.append(&Record::RunStarted(header)) {
                    Err(JournalError::Conflict { .. }) => Err(JournalError::Exists(run_id)),
                    Err(e) => Err(e),
                    Ok(()) => Ok(j),
                }
            }
        }
    }

    /// The records of a run, read-only (a torn last record left out).
    pub fn read(&self, run_id: &str) -> Result<Vec<Record>, JournalError> {
        match self {
            Self::Local(d) => Ok(read_records(&journal_path(d, run_id)?)?.0),
            Self::Objects(o) => Ok(read_objects(o.as_ref(), run_id)?.records),
        }
    }

    /// Opens an existing run for appending; a torn last record is removed.
    pub fn open(&self, run_id: &str) -> Result<(Journal, RunState), JournalError> {
        match self {
            Self::Local(d) => Journal::open(d, run_id),
            Self::Objects(o) => {
                let read = read_objects(o.as_ref(), run_id)?;
                let header_key = record_key(run_id, 0);
                let state = RunState::replay(&read.records).ok_or(JournalError::NoHeader {
                    path: o.url(&header_key).into(),
                })?;
                if let Some((key, etag)) = &read.torn {
                    let gone = o.delete_if_match(key, etag).map_err(|m| JournalError::Io {
                        path: o.url(key).into(),
                        source: std::io::Error::other(m),
                    })?;
                    if !gone {
                        return Err(JournalError::Conflict {
                            path: o.url(key).into(),
                        });
                    }
                }
                Ok((
                    Journal {
                        backend: Mutex::new(Backend::Objects {
                            objects: o.clone(),
                            run_id: run_id.to_owned(),
                            next: read.records.len() as u64,
                        }),
                    },
                    state,
                ))
            }
        }
    }

    /// Every run with its replayed state, newest first.
    pub fn list(&self) -> Result<Vec<RunState>, JournalError> {
        match self {
            Self::Local(d) => list_runs(d),
            Self::Objects(o) => {
                let io = |m: String| JournalError::Io {
                    path: o.url("runs/").into(),
                    source: std::io::Error::other(m),
                };
                let mut runs = Vec::new();
                for key in o.list("runs/").map_err(io)? {
                    if let Some((run, 0)) = record_seq(&key)
                        && super::spec::is_valid_run_id(run)
                        && let Some(st) = RunState::replay(&read_objects(o.as_ref(), run)?.records)
                    {
                        runs.push(st);
                    }
                }
                runs.sort_by_key(|r| std::cmp::Reverse(r.header.at));
                Ok(runs)
            }
        }
    }
}

/// What a run's records in an object store hold.
struct ObjectRecords {
    records: Vec<Record>,
    /// A torn last record: its key and ETag.
    torn: Option<(String, String)>,
}

fn read_objects(o: &dyn ObjectStore, run_id: &str) -> Result<ObjectRecords, JournalError> {
    let prefix = journal_prefix(run_id);
    let unknown = || JournalError::UnknownRun {
        run_id: run_id.to_owned(),
        dir: o.url("runs/").into(),
    };
    if !super::spec::is_valid_run_id(run_id) {
        return Err(unknown());
    }
    let io = |key: &str, m: String| JournalError::Io {
        path: o.url(key).into(),
        source: std::io::Error::other(m),
    };
    let keys = o.list(&prefix).map_err(|m| io(&prefix, m))?;
    if keys.is_empty() {
        return Err(unknown());
    }
    let mut records = Vec::new();
    let mut torn = None;
    let n = keys.len();
    for (i, key) in keys.iter().enumerate() {
        let corrupt = |message: String| JournalError::Corrupt {
            path: o.url(key).into(),
            line: i + 1,
            message,
        };
        match record_seq(key) {
            Some((_, seq)) if seq == i as u64 => {}
            _ => return Err(corrupt(format!("expected record {i} here"))),
        }
        // Listed but gone: only a torn record is ever removed, and only last.
        let Some((body, etag)) = o.get(key).map_err(|m| io(key, m))? else {
            if i + 1 == n {
                break;
            }
            return Err(corrupt("the record disappeared".to_owned()));
        };
        let parsed = if body.last() == Some(&b'\n') {
            serde_json::from_slice::<Record>(&body).map_err(|e| e.to_string())
        } else {
            Err("the record is incomplete".to_owned())
        };
        match parsed {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == n => torn = Some((key.clone(), etag)),
            Err(m) => return Err(corrupt(m)),
        }
    }
    Ok(ObjectRecords { records, torn })
}
