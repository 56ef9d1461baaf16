//! Following a Step Functions execution of a run: the execution's status
//! (`DescribeExecution`), each restore's item in the coordination table
//! (state, claim and end times, restore job, failure) and the restore jobs
//! themselves (`DescribeRestoreJob`: progress, when the table was ready)
//! become the local engine's events and journal records, so progress,
//! JSON events, the final report, `runs`, `--resume` and `teardown` work
//! as for a local run.
//!
//! The follower only observes: it never sends anything that changes the
//! run. Stopping it (Ctrl-C, a killed process) leaves the execution
//! running; a later follower starts from the journal and records only
//! what it had not seen.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::retried;
use crate::aws::{AwsCloud, sdk_error};
use crate::cloud::{CloudError, CloudRead, JobStatus, StartedRestore};
use crate::exec::events::{Check, Event, EventSink};
use crate::exec::journal::{EngineRun, Journal, Phase, Record, RunState};
use crate::exec::spec::{RestoreSpec, attempt_token};

/// The status of an execution the run journaled but that does not exist
/// (the process stopped between journaling it and starting it).
pub const NOT_STARTED: &str = "NOT_STARTED";

/// An execution as `DescribeExecution` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, `PENDING_REDRIVE`.
    pub status: String,
    /// When it started.
    pub started: Option<DateTime<Utc>>,
    /// When it stopped.
    pub stopped: Option<DateTime<Utc>>,
    /// Its error and cause, when it failed.
    pub error: Option<String>,
}

impl Execution {
    /// True while the execution still works (or is about to, redriven).
    pub fn running(&self) -> bool {
        matches!(self.status.as_str(), "RUNNING" | "PENDING_REDRIVE")
    }

    /// True when `RedriveExecution` can take it up again.
    pub fn redrivable(&self) -> bool {
        matches!(self.status.as_str(), "FAILED" | "ABORTED" | "TIMED_OUT")
    }
}

fn time_of(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// `DescribeExecution` of `arn`.
pub async fn describe(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    ts: f64,
) -> Result<Execution, CloudError> {
    retried(ts, || async {
        let d = match sfn.describe_execution().execution_arn(arn).send().await {
            Ok(d) => d,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                return Ok(Execution {
                    status: NOT_STARTED.to_owned(),
                    started: None,
                    stopped: None,
                    error: None,
                });
            }
            Err(e) => return Err(sdk_error("DescribeExecution", e)),
        };
        Ok(Execution {
            status: d.status().as_str().to_owned(),
            started: time_of(d.start_date()),
            stopped: d.stop_date().and_then(time_of),
            error: d.error().map(|e| match d.cause() {
                Some(c) if !c.is_empty() => format!("{e}: {c}"),
                _ => e.to_owned(),
            }),
        })
    })
    .await
}

/// One restore's item in the coordination table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    /// Restore id.
    pub id: String,
    /// `WAITING`, `READY`, `RUNNING`, `DONE`, `FAILED`, `SKIPPED`.
    pub st: String,
    /// When a lane claimed it.
    pub t0: Option<DateTime<Utc>>,
    /// When it ended.
    pub t1: Option<DateTime<Utc>>,
    /// Its AWS Backup restore job.
    pub job: Option<String>,
    /// Why it failed (the state's error, as JSON).
    pub failure: Option<String>,
    /// The attempt it runs as (raised when a redrive puts it back after a failure).
    pub attempt: u32,

    /// Its copy step's AWS Backup copy job (`copy:`).
    pub copy_job: Option<String>,
    /// The copy's recovery point, once the copy completed.
    pub copy_point: Option<String>,
    /// When the state machine saw the copy completed.
    pub copied_at: Option<DateTime<Utc>>,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Item {
    fn from(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        Some(Self {
            id: s("id")?,
            st: s("st").unwrap_or_default(),
            t0: s("t0").as_deref().and_then(parse_time),
            t1: s("t1").as_deref().and_then(parse_time),
            job: s("job"),
            failure: s("failure"),
            attempt: item
                .get("attempt")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            copy_job: s("cjob"),
            copy_point: s("cpoint"),
            copied_at: s("ct").as_deref().and_then(parse_time),
        })
    }
}

/// The failure of an item in words: the state's `Error: Cause`.
fn failure_words(raw: Option<&str>) -> String {
    let Some(raw) = raw else {
        return "the state machine recorded no cause".to_owned();
    };
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v) => {
            let error = v["Error"].as_str().unwrap_or("error");
            match v["Cause"].as_str() {
                Some(c) if !c.is_empty() => format!("{error}: {c}"),
                _ => error.to_owned(),
            }
        }
        Err(_) => raw.to_owned(),
    }
}

/// Every restore item of run `run` (consistent reads).
pub async fn items(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    run: &str,
    ts: f64,
) -> Result<Vec<Item>, CloudError> {
    let mut out = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = retried(ts, || async {
            ddb.query()
                .table_name(table)
                .key_condition_expression("#r = :r")
                .expression_attribute_names("#r", "run")
                .expression_attribute_values(":r", AttributeValue::S(run.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.clone())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))
        })
        .await?;
        out.extend(
            page.items()
                .iter()
                .filter_map(Item::from)
                .filter(|i| i.id != crate::export::RUN_ITEM),
        );
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}

/// What the follower has recorded of one restore.
#[derive(Debug, Clone, Default)]
struct Seen {
    started: bool,
    accepted: bool,
    active: bool,
    done: bool,
    percent: Option<f64>,
    copy_started: bool,
    copied: bool,
}

/// How a follow ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// The execution ended; every restore the follower saw is recorded.
    Finished {
        /// The execution at its end.
        execution: Execution,
        /// Restores that did not reach a final state (an execution that
        /// failed or was aborted before them): a redrive takes them up.
        pending: usize,
    },
    /// The follower stopped (Ctrl-C); the execution goes on.
    Detached,
}

/// Follows one run's execution.
pub struct Follower<'a> {
    /// The adapter (target-account credentials, checked).
    pub cloud: &'a AwsCloud,
    /// Where the run lives.
    pub run: &'a EngineRun,
    /// The run's journal (this process holds its lock).
    pub journal: &'a Journal,
    /// The run's events.
    pub sink: &'a dyn EventSink,
    /// The run's restores, in plan order.
    pub specs: &'a [RestoreSpec],
    /// `depends_on` of each restore, as plan indices.
    pub depends_on: &'a [Vec<usize>],
    /// Plan name and run id.
    pub plan: &'a str,
    /// Run id.
    pub run_id: &'a str,
    /// Restores in flight at once (the state machine's lanes).
    pub lanes: u32,
    /// Seconds between looks at the run (times the time scale).
    pub poll_seconds: f64,
    /// The emulator's time scale (1 against AWS).
    pub time_scale: f64,
}

impl Follower<'_> {
    fn append(&self, record: &Record) -> Result<(), String> {
        self.journal.append(record).map_err(|e| e.to_string())
    }

    /// Follows until the execution ends or `detach` resolves. `state` is
    /// the journal as it stands (a resumed run): what it recorded is
    /// reported as recorded, not again.
    pub async fn follow(
        &self,
        state: Option<&RunState>,
        resumed: bool,
        detach: impl std::future::Future<Output = ()>,
    ) -> Result<Ended, String> {
        let scope = super::run_scope(self.run)?;
        let ddb = self
            .cloud
            .dynamodb_client(&scope)
            .await
            .map_err(|e| e.to_string())?;
        let sfn = self
            .cloud
            .sfn_client(&scope)
            .await
            .map_err(|e| e.to_string())?;
        let ts = self.time_scale;
        let first = describe(&sfn, &self.run.execution_arn, ts)
            .await
            .map_err(|e| e.to_string())?;
        let now = crate::clock::now();
        self.sink.emit(Event::RunStarted {
            run_id: self.run_id.to_owned(),
            plan: self.plan.to_owned(),
            total: self.specs.len(),
            ids: self.specs.iter().map(|s| s.id.clone()).collect(),
            concurrency: self.lanes,
            started_at: first.started.or(state.map(|s| s.header.at)).unwrap_or(now),
            resumed,
            at: now,
        });
        let mut seen = vec![Seen::default(); self.specs.len()];
        if let Some(st) = state {
            for (i, r) in st.restores.iter().enumerate().take(seen.len()) {
                let s = &mut seen[i];
                s.started = r.start_intents > 0 || r.handle.is_some();
                s.accepted = r.handle.is_some();
                s.active = r.active_at.is_some();
                s.done = r.phase.is_final();
                s.copy_started = r.copy_job.is_some() || !r.copies.is_empty();
                s.copied = r.copy_point.is_some() || !r.copies.is_empty();
                if s.started || s.done {
                    let (phase, cause) = match &r.phase {
                        Phase::Failed(c) => ("failed", Some(c.clone())),
                        Phase::Skipped(c) => ("skipped", Some(c.clone())),
                        Phase::Completed => ("completed", None),
                        _ if s.active => ("settings", None),
                        _ => ("restoring", None),
                    };
                    self.sink.emit(Event::RestoreRecorded {
                        index: i,
                        id: self.specs[i].id.clone(),
                        phase: phase.to_owned(),
                        started_at: r.started_at,
                        active_at: r.active_at,
                        finished_at: r.finished_at,
                        cause,
                        at: now,
                    });
                }
            }
        }
        let index: HashMap<&str, usize> = self
            .specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        tokio::pin!(detach);
        let pause = Duration::from_secs_f64((self.poll_seconds * ts).max(0.1));
        loop {
            // The execution first, then the items: items read after the
            // execution ended are its final word.
            let execution = describe(&sfn, &self.run.execution_arn, ts)
                .await
                .map_err(|e| e.to_string())?;
            let items = items(&ddb, &self.run.table, self.run_id, ts)
                .await
                .map_err(|e| e.to_string())?;
            let mut states: Vec<Option<&Item>> = vec![None; self.specs.len()];
            for it in &items {
                if let Some(&i) = index.get(it.id.as_str()) {
                    states[i] = Some(it);
                }
            }
            for i in 0..self.specs.len() {
                if let Some(it) = states[i] {
                    self.observe(i, it, &states, &mut seen[i]).await?;
                }
            }
            if !execution.running() {
                let pending = seen.iter().filter(|s| !s.done).count();
                let at = execution.stopped.unwrap_or_else(crate::clock::now);
                if pending == 0 {
                    self.append(&Record::Finished { at })?;
                } else {
                    self.append(&Record::Interrupted { at })?;
                }
                let count = |st: &str| {
                    seen.iter()
                        .zip(&states)
                        .filter(|(s, it)| s.done && it.is_some_and(|it| it.st == st))
                        .count()
                };
                self.sink.emit(Event::RunFinished {
                    completed: count("DONE"),
                    failed: count("FAILED"),
                    skipped: count("SKIPPED"),
                    pending,
                    interrupted: pending > 0,
                    at,
                });
                return Ok(Ended::Finished { execution, pending });
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = &mut detach => return Ok(Ended::Detached),
            }
        }
    }

    /// Records what changed of restore `i` since the last look.
    async fn observe(
        &self,
        i: usize,
        it: &Item,
        all: &[Option<&Item>],
        seen: &mut Seen,
    ) -> Result<(), String> {
        if seen.done {
            return Ok(());
        }
        let spec = &self.specs[i];
        let id = spec.id.clone();
        let now = crate::clock::now();
        let claimed = matches!(it.st.as_str(), "RUNNING" | "DONE" | "FAILED");
        // The copy step comes first: the restore starts once it completed.
        let mut restore_from = it.t0;
        if let Some(copy) = &spec.copy {
            if let Some(job) = it.copy_job.as_ref().filter(|_| claimed) {
                if !seen.copy_started {
                    let at = it.t0.unwrap_or(now);
                    self.append(&Record::CopyIntent {
                        index: i,
                        token: crate::exec::spec::copy_token(self.run_id, &id, it.attempt),
                        at,
                    })?;
                    self.append(&Record::CopyStarted {
                        index: i,
                        job_id: job.clone(),
                        at,
                    })?;
                    self.sink.emit(Event::CopyStarted {
                        index: i,
                        id: id.clone(),
                        job_id: job.clone(),
                        source_recovery_point_arn: copy.request.recovery_point_arn.clone(),
                        estimated_seconds: copy.estimated_seconds,
                        at,
                    });
                    seen.copy_started = true;
                }
                if let Some(point) = &it.copy_point
                    && !seen.copied
                {
                    let at = it.copied_at.unwrap_or(now);
                    self.append(&Record::CopyCompleted {
                        index: i,
                        job_id: job.clone(),
                        recovery_point_arn: point.clone(),
                        at,
                    })?;
                    self.sink.emit(Event::CopyCompleted {
                        index: i,
                        id: id.clone(),
                        job_id: job.clone(),
                        recovery_point_arn: point.clone(),
                        at,
                    });
                    seen.copied = true;
                }
            }
            restore_from = it.copied_at;
        }
        let restore_begun = spec.copy.is_none() || seen.copied;
        if claimed && restore_begun && !seen.started {
            let at = restore_from.unwrap_or(now);
            self.append(&Record::StartIntent {
                index: i,
                token: attempt_token(self.run_id, &id, it.attempt),
                at,
            })?;
            self.sink.emit(Event::RestoreStarting {
                index: i,
                id: id.clone(),
                operation: spec.request.operation().to_owned(),
                estimated_seconds: spec.estimated_seconds,
                at,
            });
            seen.started = true;
        }
        let native = !matches!(
            spec.request,
            crate::cloud::RestoreRequest::StartRestoreJob { .. }
        );
        let handle = if native {
            claimed.then(|| StartedRestore::Table {
                arn: format!(
                    "arn:aws:dynamodb:{}:{}:table/{}",
                    spec.target.region, spec.target.account, spec.target_name
                ),
            })
        } else {
            it.job.clone().map(|id| StartedRestore::Job { id })
        };
        if let Some(h) = &handle
            && seen.started
            && !seen.accepted
        {
            let at = restore_from.unwrap_or(now);
            self.append(&Record::Started {
                index: i,
                handle: h.clone(),
                adopted: false,
                at,
            })?;
            self.sink.emit(Event::RestoreAccepted {
                index: i,
                id: id.clone(),
                handle: h.clone(),
                adopted: false,
                at,
            });
            seen.accepted = true;
        }
        // The table: ready when the job completed (or, for DynamoDB's own
        // restores, when the state machine went past its wait).
        if seen.accepted && !seen.active {
            let mut ready = None;
            match &handle {
                Some(StartedRestore::Job { id: job }) => {
                    if let Ok(j) = self.cloud.describe_restore_job(&spec.target, job).await {
                        if j.percent_done.is_some() && j.percent_done != seen.percent {
                            seen.percent = j.percent_done;
                            self.sink.emit(Event::RestoreProgress {
                                index: i,
                                id: id.clone(),
                                percent: j.percent_done,
                                expected_finish: j.expected_completion_minutes.and_then(|m| {
                                    j.created.map(|c| c + chrono::Duration::minutes(m.max(0)))
                                }),
                                at: now,
                            });
                        }
                        if j.status == JobStatus::Completed {
                            ready = Some(j.completed.or(it.t1).unwrap_or(now));
                        }
                    }
                }
                Some(StartedRestore::Table { .. }) if it.st == "DONE" => {
                    ready = Some(it.t1.unwrap_or(now));
                }
                _ => {}
            }
            if let Some(at) = ready {
                let table_id = self
                    .cloud
                    .describe_table(&spec.target, &spec.target_name)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|t| t.table_id);
                self.append(&Record::Active {
                    index: i,
                    table_id,
                    at,
                })?;
                self.sink.emit(Event::RestoreActive {
                    index: i,
                    id: id.clone(),
                    at,
                });
                seen.active = true;
            }
        }
        let at = it.t1.unwrap_or(now);
        match it.st.as_str() {
            "DONE" => {
                for (step, change) in spec
                    .changes_for_run(self.plan, self.run_id)
                    .into_iter()
                    .enumerate()
                {
                    self.append(&Record::ChangeDone { index: i, step, at })?;
                    self.sink.emit(Event::SettingApplied {
                        index: i,
                        id: id.clone(),
                        change,
                        at,
                    });
                }
                if let Some(v) = &spec.expect.data {
                    let mut checks = Vec::new();
                    if let Some(b) = &v.items {
                        checks.push(Check {
                            name: "item-count".into(),
                            passed: true,
                            detail: format!(
                                "between {} and {} (counted by the state machine)",
                                b.min.unwrap_or(0),
                                b.max.map_or("any".to_owned(), |m| m.to_string())
                            ),
                        });
                    }
                    if !v.keys.is_empty() {
                        checks.push(Check {
                            name: "keys".into(),
                            passed: true,
                            detail: format!(
                                "{} key(s) found (read by the state machine)",
                                v.keys.len()
                            ),
                        });
                    }
                    if !checks.is_empty() {
                        self.sink.emit(Event::Verified {
                            index: i,
                            id: id.clone(),
                            checks,
                            began: None,
                            at,
                        });
                    }
                }
                self.append(&Record::Completed { index: i, at })?;
                self.sink.emit(Event::RestoreCompleted { index: i, id, at });
                seen.done = true;
            }
            "FAILED" => {
                let cause = failure_words(it.failure.as_deref());
                self.append(&Record::Failed {
                    index: i,
                    cause: cause.clone(),
                    in_flight: false,
                    at,
                })?;
                self.sink.emit(Event::RestoreFailed {
                    index: i,
                    id,
                    cause,
                    at,
                });
                seen.done = true;
            }
            "SKIPPED" => {
                let culprits: Vec<String> = self
                    .depends_on
                    .get(i)
                    .into_iter()
                    .flatten()
                    .filter(|&&d| {
                        all.get(d)
                            .copied()
                            .flatten()
                            .is_some_and(|x| matches!(x.st.as_str(), "FAILED" | "SKIPPED"))
                    })
                    .filter_map(|&d| self.specs.get(d).map(|s| format!("`{}`", s.id)))
                    .collect();
                let reason = if culprits.is_empty() {
                    "a dependency failed or was skipped".to_owned()
                } else {
                    format!("{} did not complete", culprits.join(", "))
                };
                self.append(&Record::Skipped {
                    index: i,
                    reason: reason.clone(),
                    at,
                })?;
                self.sink.emit(Event::RestoreSkipped {
                    index: i,
                    id,
                    reason,
                    at,
                });
                seen.done = true;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_read_their_times_job_and_failure() {
        let item: HashMap<String, AttributeValue> = [
            ("id", "orders"),
            ("st", "FAILED"),
            ("t0", "2026-11-24T08:30:01.250Z"),
            ("t1", "2026-11-24T08:31:00Z"),
            ("job", "job-1"),
            (
                "failure",
                r#"{"Error":"RestoreJobFAILED","Cause":"the key is disabled"}"#,
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
        .collect();
        let it = Item::from(&item).unwrap();
        assert_eq!(it.st, "FAILED");
        assert_eq!(
            it.t0,
            Some("2026-11-24T08:30:01.250Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(it.job.as_deref(), Some("job-1"));
        assert_eq!(
            failure_words(it.failure.as_deref()),
            "RestoreJobFAILED: the key is disabled"
        );
        assert_eq!(failure_words(None), "the state machine recorded no cause");
    }

    #[test]
    fn running_and_redrivable_executions() {
        let e = |s: &str| Execution {
            status: s.into(),
            started: None,
            stopped: None,
            error: None,
        };
        assert!(e("RUNNING").running());
        assert!(!e("SUCCEEDED").running());
        assert!(e("ABORTED").redrivable());
        assert!(e("FAILED").redrivable());
        assert!(!e("SUCCEEDED").redrivable());
    }
}
