//! The executor: drives every restore of a run through start, polling,
//! after-restore settings and verification, in the order the
//! [`Scheduler`] picks, journaling intents and outcomes and emitting events.
//!
//! It talks to AWS only through [`CloudWrite`], reads time only from a
//! [`Clock`] and waits only through `tokio::time`, so the same code runs
//! against AWS, the emulator and the virtual-time simulator.

use std::future::Future;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use crate::cloud::{
    CloudError, CloudWrite, ErrorKind, ItemTally, JobStatus, SseRequest, StartedRestore,
    TableChange, TableEncryption, TableFacts,
};
use crate::graph::DependencyGraph;
use crate::plan::model::{Execution, OnFailure};

use super::count;

#[path = "verify.rs"]
pub mod data_checks;
use super::events::{Check, Event, EventSink};
use super::journal::{Journal, JournalError, Phase, Record, RunState};
use super::policy::{Jitter, PollInput, PollPolicy, RateLimiter, RetryPolicy, StopSignal};
use super::spec::{RUN_TAG, RestoreSpec, attempt_token};
use crate::clock::{Clock, seconds_between};
use crate::schedule::{Caps, NodeState, Scheduler};

/// Errors that end a run early.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The journal could not be written: the run cannot stay crash-safe.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The restores do not match the dependency graph.
    #[error("the run has {specs} restores but its dependency graph has {graph}")]
    Mismatch {
        /// Restores given.
        specs: usize,
        /// Graph nodes.
        graph: usize,
    },
}

/// Tunables of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecOptions {
    /// Caps on restores in flight.
    pub caps: Caps,
    /// Failure policy.
    pub on_failure: OnFailure,
    /// Cap on API calls per second across the run (`None`: no cap).
    pub requests_per_second: Option<f64>,
    /// Polling.
    pub poll: PollPolicy,
    /// Retries.
    pub retry: RetryPolicy,
    /// Seed of the retry jitter.
    pub seed: u64,
    /// Use FIFO order among ready restores instead of critical path first
    /// (only for comparisons).
    pub fifo: bool,
}

/// Cap on API calls per second across a run unless the command line says
/// otherwise (`apply --max-requests-per-second`).
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 25.0;

impl ExecOptions {
    /// Options from a plan's `execution` settings, with the retry jitter
    /// seeded by `seed`: the one place that turns `execution` into executor
    /// tunables (`apply` and `simulate` both start here).
    pub fn from_execution(e: &Execution, seed: u64) -> Self {
        Self {
            caps: Caps {
                concurrency: e.concurrency,
                per_account: Execution::PER_ACCOUNT_RESTORE_LIMIT,
            },
            on_failure: e.on_failure,
            requests_per_second: Some(DEFAULT_REQUESTS_PER_SECOND),
            poll: PollPolicy::default(),
            retry: RetryPolicy::default(),
            seed,
            fifo: false,
        }
    }
}

/// What a run is made of.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    /// Run id (idempotency tokens and tags derive from it).
    pub run_id: &'a str,
    /// Plan name (for tags).
    pub plan: &'a str,
    /// Dependency graph; node `i` is `specs[i]`.
    pub graph: &'a DependencyGraph,
    /// The restores.
    pub specs: &'a [RestoreSpec],
    /// The journal's state when resuming a run.
    pub resume: Option<&'a RunState>,
    /// When the run first started (`None`: now).
    pub started_at: Option<DateTime<Utc>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Run id.
    pub run_id: String,
    /// When the run first started.
    pub started_at: DateTime<Utc>,
    /// When this process stopped running it.
    pub finished_at: DateTime<Utc>,
    /// Restores completed.
    pub completed: usize,
    /// Restores failed.
    pub failed: usize,
    /// Restores skipped.
    pub skipped: usize,
    /// Restores neither final nor failed (interrupted run).
    pub pending: usize,
    /// True when stopped by an interrupt before every restore was final.
    pub interrupted: bool,
}

impl RunSummary {
    /// True when every restore completed.
    pub fn succeeded(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && self.pending == 0
    }
}

enum Done {
    Active(usize),
    Completed(usize),
    /// The restore failed; `true` when it may still be running in AWS.
    Failed(usize, bool),
    Interrupted,
}

/// How a [`Executor::call`] ended.
enum Call<T> {
    Ok(T),
    Err(CloudError),
    Interrupted,
}

/// What a step of a restore returns when the run was interrupted while it
/// waited on a call.
trait Interrupted {
    fn interrupted() -> Self;
}

impl Interrupted for Result<Done, ExecError> {
    fn interrupted() -> Self {
        Ok(Done::Interrupted)
    }
}

impl<T> Interrupted for Result<Result<T, Done>, ExecError> {
    fn interrupted() -> Self {
        Ok(Err(Done::Interrupted))
    }
}

/// The value of a [`Call`]; otherwise returns from the enclosing step:
/// `$fail` (with the error bound to `$e`) when the call failed for good, the
/// step's [`Interrupted`] value when the run stopped while it waited.
macro_rules! called {
    ($call:expr, |$e:ident| $fail:expr) => {
        match $call {
            Call::Ok(v) => v,
            Call::Err($e) => return $fail,
            Call::Interrupted => return Interrupted::interrupted(),
        }
    };
}

#[path = "copy.rs"]
mod copy_step;

/// The DAG executor.
pub struct Executor<'a> {
    cloud: &'a dyn CloudWrite,
    clock: &'a dyn Clock,
    events: &'a dyn EventSink,
    journal: &'a Journal,
    stop: StopSignal,
    opts: ExecOptions,
    rate: RateLimiter,
    jitter: Jitter,
}

struct Ctx<'a> {
    input: RunInput<'a>,
    started: Vec<Option<DateTime<Utc>>>,
    changes_done: Vec<std::collections::BTreeSet<usize>>,
    intents: Vec<bool>,
    /// Attempt of each restore (raised by `--retry-failed`).
    attempts: Vec<u32>,
    /// `TableId` a failed earlier attempt's table was seen with.
    earlier_tables: Vec<Option<String>>,
    /// The copy job of each restore's copy step, from the journal on resume.
    copy_jobs: Vec<Option<String>>,
    /// The recovery point each restore's copy made, from the journal on resume.
    copy_points: Vec<Option<String>>,
    /// The AWS Backup restore job of each restore, once known.
    jobs: std::sync::Mutex<Vec<Option<String>>>,
}

impl Ctx<'_> {
    /// Records restore `i`'s AWS Backup restore job.
    fn set_job(&self, i: usize, id: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = jobs.get_mut(i) {
            *slot = Some(id.to_owned());
        }
    }
}

impl<'a> Executor<'a> {
    /// An executor over a cloud, a clock, an event sink and a journal.
    pub fn new(
        cloud: &'a dyn CloudWrite,
        clock: &'a dyn Clock,
        events: &'a dyn EventSink,
        journal: &'a Journal,
        stop: StopSignal,
        opts: ExecOptions,
    ) -> Self {
        Self {
            cloud,
            clock,
            events,
            journal,
            stop,
            rate: RateLimiter::new(opts.requests_per_second),
            jitter: Jitter::seeded(opts.seed),
            opts,
        }
    }

    /// Runs (or resumes) every restore; returns when all are final or the
    /// stop signal fired and every task wound down.
    pub async fn run(&self, input: RunInput<'_>) -> Result<RunSummary, ExecError> {
        let n = input.specs.len();
        if n != input.graph.len() {
            return Err(ExecError::Mismatch {
                specs: n,
                graph: input.graph.len(),
            });
        }
        let now = self.clock.now();
        let started_at = input.started_at.unwrap_or(now);
        let mut sched = Scheduler::new(
            input.graph,
            |i| input.specs[i].estimated_total_seconds(),
            |i| input.specs[i].target.account.clone(),
            self.opts.caps,
            self.opts.on_failure,
        );
        if self.opts.fifo {
            sched.use_fifo_order();
        }
        let mut ctx = Ctx {
            input,
            started: vec![None; n],
            changes_done: vec![Default::default(); n],
            intents: vec![false; n],
            attempts: vec![0; n],
            earlier_tables: vec![None; n],
            copy_jobs: vec![None; n],
            copy_points: vec![None; n],
            jobs: std::sync::Mutex::new(vec![None; n]),
        };
        self.events.emit(Event::RunStarted {
            run_id: input.run_id.to_owned(),
            plan: input.plan.to_owned(),
            total: n,
            ids: input.specs.iter().map(|s| s.id.clone()).collect(),
            concurrency: self.opts.caps.concurrency,
            started_at,
            resumed: input.resume.is_some(),
            at: now,
        });
        let mut tasks: FuturesUnordered<BoxFuture<'_, Result<Done, ExecError>>> =
            FuturesUnordered::new();
        let reopened;
        if let Some(state) = input.resume {
            self.journal.append(&Record::Resumed { at: now })?;
            reopened = self.reopen(input, state.clone(), now)?;
            let state = &reopened;
            let mut resumed = Vec::new();
            for &i in input.graph.topological_order() {
                let Some(r) = state.restores.get(i) else {
                    continue;
                };
                ctx.started[i] = r.started_at;
                ctx.changes_done[i] = r.changes_done.clone();
                ctx.intents[i] = r.start_intents > 0;
                ctx.attempts[i] = r.attempt;
                ctx.earlier_tables[i] = r.earlier_table_id.clone();
                ctx.copy_jobs[i] = r.copy_job.clone();
                ctx.copy_points[i] = r.copy_point.clone();
                if let Some(StartedRestore::Job { id }) = &r.handle {
                    ctx.set_job(i, id);
                }
                let cause = match &r.phase {
                    Phase::Failed(c) | Phase::Skipped(c) => Some(c.clone()),
                    _ => None,
                };
                if r.phase != Phase::NotStarted {
                    self.events.emit(Event::RestoreRecorded {
                        index: i,
                        id: input.specs[i].id.clone(),
                        phase: r.phase.name().to_owned(),
                        started_at: r.started_at,
                        active_at: r.active_at,
                        finished_at: r.finished_at,
                        cause,
                        at: now,
                    });
                }
                match &r.phase {
                    Phase::NotStarted => {}
                    Phase::Completed => sched.complete(i),
                    Phase::Skipped(_) => sched.mark_skipped(i),
                    Phase::Failed(_) => {
                        let skipped = sched.fail(i, |k| input.specs[k].id.clone());
                        for (k, reason) in skipped {
                            if !state.restores[k].phase.is_final() {
                                self.skip(&ctx, k, reason)?;
                            }
                        }
                    }
                    Phase::Intent | Phase::Started(_) => {
                        sched.mark_running(i, true);
                        resumed.push((i, r.phase.clone()));
                    }
                    Phase::Active(_) => {
                        sched.mark_running(i, false);
                        resumed.push((i, r.phase.clone()));
                    }
                }
            }
            for (i, phase) in resumed {
                if matches!(phase, Phase::Active(_)) {
                    tasks.push(Box::pin(self.settle(&ctx, i)));
                } else {
                    tasks.push(Box::pin(self.restore(&ctx, i, phase)));
                }
            }
        }
        let mut stop_reported = false;
        let mut policy_stop_reported = false;
        loop {
            if self.stop.is_stopped() {
                if !stop_reported {
                    stop_reported = true;
                    self.events.emit(Event::Stopping {
                        reason: "interrupted: finishing calls in flight, starting nothing new"
                            .to_owned(),
                        at: self.clock.now(),
                    });
                }
            } else {
                while let Some(i) = sched.next_ready() {
                    tasks.push(Box::pin(self.restore(&ctx, i, Phase::NotStarted)));
                }
            }
            if tasks.is_empty() {
                break;
            }
            let done = tokio::select! {
                d = tasks.next() => d,
                () = self.stop.stopped(), if !stop_reported => continue,
            };
            let Some(done) = done else { break };
            match done? {
                Done::Active(i) => {
                    sched.release_slot(i);
                    tasks.push(Box::pin(self.settle(&ctx, i)));
                }
                Done::Completed(i) => sched.complete(i),
                Done::Failed(i, may_run) => {
                    let name = |k: usize| ctx.input.specs[k].id.clone();
                    let skipped = if may_run {
                        sched.fail_keeping_slot(i, name)
                    } else {
                        sched.fail(i, name)
                    };
                    if sched.is_stopped() && !policy_stop_reported {
                        policy_stop_reported = true;
                        self.events.emit(Event::Stopping {
                            reason: format!(
                                "`{}` failed and on_failure is stop: starting nothing new",
                                ctx.input.specs[i].id
                            ),
                            at: self.clock.now(),
                        });
                    }
                    for (k, reason) in skipped {
                        self.skip(&ctx, k, reason)?;
                    }
                }
                Done::Interrupted => {}
            }
        }
        drop(tasks);
        let finished_at = self.clock.now();
        let interrupted = !sched.is_finished();
        if interrupted {
            self.journal
                .append(&Record::Interrupted { at: finished_at })?;
        } else {
            self.journal.append(&Record::Finished { at: finished_at })?;
        }
        let mut summary = RunSummary {
            run_id: input.run_id.to_owned(),
            started_at,
            finished_at,
            completed: 0,
            failed: 0,
            skipped: 0,
            pending: 0,
            interrupted,
        };
        for i in 0..n {
            match sched.state(i) {
                NodeState::Done => summary.completed += 1,
                NodeState::Failed => summary.failed += 1,
                NodeState::Skipped => summary.skipped += 1,
                _ => summary.pending += 1,
            }
        }
        self.events.emit(Event::RunFinished {
            completed: summary.completed,
            failed: summary.failed,
            skipped: summary.skipped,
            pending: summary.pending,
            interrupted,
            at: finished_at,
        });
        Ok(summary)
    }

    /// On resume, takes up again every restore whose failure left it
    /// possibly running in AWS (a transient error outlasted the polling
    /// budget, a start's outcome is unknown): nothing transient is final.
    /// Restores skipped only because of such failures are reopened too.
    fn reopen(
        &self,
        input: RunInput<'_>,
        mut state: RunState,
        now: DateTime<Utc>,
    ) -> Result<RunState, ExecError> {
        let mut any = false;
        for i in 0..state.restores.len() {
            if matches!(state.restores[i].phase, Phase::Failed(_)) && state.restores[i].in_flight {
                self.journal
                    .append_to(&mut state, &Record::Reopened { index: i, at: now })?;
                any = true;
            }
        }
        if !any {
            return Ok(state);
        }
        let stop_policy = self.opts.on_failure == OnFailure::Stop;
        let failed_left = state
            .restores
            .iter()
            .any(|r| matches!(r.phase, Phase::Failed(_)));
        for &i in input.graph.topological_order() {
            if !matches!(state.restores[i].phase, Phase::Skipped(_)) {
                continue;
            }
            let deps_open = input.graph.dependencies(i).all(|d| {
                !matches!(
                    state.restores[d].phase,
                    Phase::Failed(_) | Phase::Skipped(_)
                )
            });
            if deps_open && !(stop_policy && failed_left) {
                self.journal
                    .append_to(&mut state, &Record::Reopened { index: i, at: now })?;
            }
        }
        Ok(state)
    }

    fn skip(&self, ctx: &Ctx<'_>, i: usize, reason: String) -> Result<(), ExecError> {
        let at = self.clock.now();
        self.journal.append(&Record::Skipped {
            index: i,
            reason: reason.clone(),
            at,
        })?;
        self.events.emit(Event::RestoreSkipped {
            index: i,
            id: ctx.input.specs[i].id.clone(),
            reason,
            at,
        });
        Ok(())
    }

    fn fail(&self, ctx: &Ctx<'_>, i: usize, cause: String) -> Result<Done, ExecError> {
        self.fail_as(ctx, i, cause, false)
    }

    /// Fails a restore that may still be running in AWS (a start whose
    /// outcome is unknown, or one that could no longer be polled).
    fn fail_running(&self, ctx: &Ctx<'_>, i: usize, cause: String) -> Result<Done, ExecError> {
        self.fail_as(ctx, i, cause, true)
    }

    fn fail_as(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        cause: String,
        may_run: bool,
    ) -> Result<Done, ExecError> {
        let at = self.clock.now();
        self.journal.append(&Record::Failed {
            index: i,
            cause: cause.clone(),
            in_flight: may_run,
            at,
        })?;
        self.events.emit(Event::RestoreFailed {
            index: i,
            id: ctx.input.specs[i].id.clone(),
            cause: cause.clone(),
            at,
        });
        Ok(Done::Failed(i, may_run))
    }

    /// Calls `f` until it succeeds, fails for good, or the run stops while
    /// waiting to retry. Throttling and 5xx are retried with jittered
    /// backoff; `LimitExceeded` waits for a slot; `Conflict` is retried when
    /// `retry_conflict` (a table still updating).
    async fn call<T, Fut>(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        operation: &str,
        retry_conflict: bool,
        mut f: impl FnMut() -> Fut,
    ) -> Call<T>
    where
        Fut: Future<Output = Result<T, CloudError>>,
    {
        let mut attempt = 0u32;
        let mut transient_since: Option<tokio::time::Instant> = None;
        loop {
            attempt += 1;
            self.rate.acquire().await;
            let err = match f().await {
                Ok(v) => return Call::Ok(v),
                Err(e) => e,
            };
            let slot = err.kind == ErrorKind::LimitExceeded;
            // Errors that say nothing about the restore (network, 5xx,
            // throttling, expired credentials) are retried for as long as
            // the restore's own expected duration allows, not a fixed
            // number of times.
            let give_up = if slot {
                attempt >= self.opts.retry.slot_max_attempts
            } else if err.is_retryable() {
                let since = *transient_since.get_or_insert_with(tokio::time::Instant::now);
                since.elapsed() >= self.outage_budget(&ctx.input.specs[i])
            } else if retry_conflict && err.kind == ErrorKind::Conflict {
                attempt >= self.opts.retry.max_attempts
            } else {
                true
            };
            if give_up {
                return Call::Err(err);
            }
            let delay = self.jitter.apply(self.opts.retry.ceiling(attempt, slot));
            self.events.emit(Event::Retrying {
                index: i,
                id: ctx.input.specs[i].id.clone(),
                operation: operation.to_owned(),
                attempt,
                delay_seconds: delay.as_secs_f64(),
                error: err.to_string(),
                waiting_for_slot: slot,
                at: self.clock.now(),
            });
            if !self.sleep(delay).await {
                return Call::Interrupted;
            }
        }
    }

    /// How long transient errors are retried for one call of a restore:
    /// the longer of [`RetryPolicy::outage`] and twice the restore's
    /// expected duration, on the run's time scale.
    fn outage_budget(&self, spec: &RestoreSpec) -> std::time::Duration {
        let scale = if self.opts.poll.time_scale.is_finite() && self.opts.poll.time_scale > 0.0 {
            self.opts.poll.time_scale
        } else {
            1.0
        };
        let expected = std::time::Duration::from_secs_f64(
            (2.0 * spec.estimated_seconds.max(0.0) * scale).min(1e9),
        );
        self.opts.retry.outage.max(expected)
    }

    /// Sleeps; false when the run was asked to stop meanwhile.
    async fn sleep(&self, d: std::time::Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.stop.stopped() => false,
        }
    }

    /// Start (or adopt) and wait until the table is ACTIVE.
    async fn restore(&self, ctx: &Ctx<'_>, i: usize, from: Phase) -> Result<Done, ExecError> {
        let spec = &ctx.input.specs[i];
        if let Some(reason) = &spec.blocked {
            return self.fail(ctx, i, format!("blocked by live checks: {reason}"));
        }
        // The copy step comes first: the restore restores its recovery point.
        let copied = match (&from, &spec.copy) {
            (Phase::NotStarted | Phase::Intent, Some(_)) => match self.copy(ctx, i).await? {
                Ok(arn) => Some(arn),
                Err(done) => return Ok(done),
            },
            _ => None,
        };
        let (handle, started_at) = match from {
            Phase::Started(h) | Phase::Active(h) => {
                let at = ctx.started[i].unwrap_or_else(|| self.clock.now());
                (h, at)
            }
            _ => match self.start(ctx, i, copied.as_deref()).await? {
                Ok((h, at)) => (h, at),
                Err(done) => return Ok(done),
            },
        };
        if let StartedRestore::Job { id } = &handle {
            ctx.set_job(i, id);
        }
        let table_id = match self.wait_active(ctx, i, &handle, started_at).await? {
            Ok(id) => id,
            Err(done) => return Ok(done),
        };
        let at = self.clock.now();
        self.journal.append(&Record::Active {
            index: i,
            table_id,
            at,
        })?;
        self.events.emit(Event::RestoreActive {
            index: i,
            id: spec.id.clone(),
            at,
        });
        Ok(Done::Active(i))
    }

    /// Sends the restore request (after its journaled intent), or adopts
    /// what an earlier attempt of this run provably started.
    async fn start(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        copied: Option<&str>,
    ) -> Result<Result<(StartedRestore, DateTime<Utc>), Done>, ExecError> {
        let spec = &ctx.input.specs[i];
        let had_intent = ctx.intents[i];
        let token = attempt_token(ctx.input.run_id, &spec.id, ctx.attempts[i]);
        let mut request = spec.request.with_idempotency_token(&token);
        if let Some(arn) = copied {
            request = request.with_recovery_point(arn);
        }
        let scope = &spec.target;
        let name = spec.target_name.as_str();
        self.events.emit(Event::RestoreStarting {
            index: i,
            id: spec.id.clone(),
            operation: request.operation().to_owned(),
            estimated_seconds: spec.estimated_seconds,
            at: self.clock.now(),
        });
        // Never overwrite: a table that exists before this run's first
        // intent belongs to someone else. After an intent whose outcome a
        // killed process never recorded, a native restore's table is
        // adopted only when its own evidence (restore source and time,
        // creation after the intent) says this request made it; an AWS
        // Backup job is re-sent with the same token and AWS returns it.
        if !had_intent || spec.is_native() {
            let existing = called!(
                self.call(ctx, i, "DescribeTable", false, || {
                    self.cloud.describe_table(scope, name)
                })
                .await,
                |e| self.fail(ctx, i, e.to_string()).map(Err)
            );
            if let Some(t) = existing {
                if had_intent {
                    return match evidence_fits(spec, &t, ctx.started[i]) {
                        Ok(()) => self.adopt(ctx, i, t.arn).map(Ok),
                        Err(why) => self
                            .fail(
                                ctx,
                                i,
                                format!(
                                    "target table `{name}` exists in {scope} but this run cannot prove it created it ({why}); restoreplan never adopts or overwrites a table it did not create"
                                ),
                            )
                            .map(Err),
                    };
                }
                if ctx.attempts[i] > 0 && ctx.earlier_tables[i].is_some() {
                    match self.clear_earlier(ctx, i, t).await? {
                        Ok(()) => {}
                        Err(done) => return Ok(Err(done)),
                    }
                } else {
                    return self
                        .fail(
                            ctx,
                            i,
                            format!(
                                "target table `{name}` already exists in {scope} and this run did not create it; restoreplan never overwrites a table"
                            ),
                        )
                        .map(Err);
                }
            }
        }
        if self.stop.is_stopped() {
            return Ok(Err(Done::Interrupted));
        }
        let at = self.clock.now();
        self.journal.append(&Record::StartIntent {
            index: i,
            token: token.clone(),
            at,
        })?;
        let started_at = ctx.started[i].unwrap_or(at);
        // Set when an attempt failed in a way that leaves its outcome
        // unknown (the request may have reached AWS, its answer lost).
        let unknown = std::sync::atomic::AtomicBool::new(false);
        let outcome = self
            .call(ctx, i, request.operation(), false, || {
                let sent = self.cloud.start_restore(scope, &request);
                let unknown = &unknown;
                async move {
                    let r = sent.await;
                    if matches!(&r, Err(e) if e.kind == ErrorKind::Transient) {
                        unknown.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    r
                }
            })
            .await;
        match outcome {
            Call::Ok(handle) => {
                let at = self.clock.now();
                self.journal.append(&Record::Started {
                    index: i,
                    handle: handle.clone(),
                    adopted: false,
                    at,
                })?;
                self.events.emit(Event::RestoreAccepted {
                    index: i,
                    id: spec.id.clone(),
                    handle: handle.clone(),
                    adopted: false,
                    at,
                });
                Ok(Ok((handle, started_at)))
            }
            // A native restore refused because its table exists. The table
            // did not exist before this run's intent; it is this run's only
            // when an earlier attempt of this very call may have reached
            // DynamoDB (its answer lost) and the table's evidence fits.
            // Otherwise someone else created it meanwhile.
            Call::Err(e) if e.kind == ErrorKind::Conflict && spec.is_native() => {
                let lost_answer = unknown.load(std::sync::atomic::Ordering::Relaxed);
                let table = if lost_answer {
                    called!(
                        self.call(ctx, i, "DescribeTable", false, || {
                            self.cloud.describe_table(scope, name)
                        })
                        .await,
                        |e| self.fail_running(ctx, i, e.to_string()).map(Err)
                    )
                } else {
                    None
                };
                let why = match &table {
                    Some(t) => match evidence_fits(spec, t, Some(at)) {
                        Ok(()) => {
                            let arn = t.arn.clone();
                            return self.adopt(ctx, i, arn).map(|(h, _)| Ok((h, started_at)));
                        }
                        Err(why) => why,
                    },
                    None if lost_answer => "it is not there any more".to_owned(),
                    None => "this run's only request was refused, so another process created it"
                        .to_owned(),
                };
                self.fail(
                    ctx,
                    i,
                    format!(
                        "target table `{name}` in {scope} was created by someone else while this run was starting its restore ({}: {why}); nothing of it was adopted",
                        e.code
                    ),
                )
                .map(Err)
            }
            Call::Err(e) => {
                // After retryable errors the request may have reached AWS
                // (a lost answer): the restore may be running.
                let cause = e.to_string();
                if e.is_retryable() || e.kind == ErrorKind::LimitExceeded {
                    self.fail_running(ctx, i, cause).map(Err)
                } else {
                    self.fail(ctx, i, cause).map(Err)
                }
            }
            Call::Interrupted => Ok(Err(Done::Interrupted)),
        }
    }

    /// Deletes the table a failed earlier attempt of this restore left
    /// behind, before a retry, only when this run provably created it: the
    /// journal recorded its `TableId` and the table carries this run's tag.
    async fn clear_earlier(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        table: TableFacts,
    ) -> Result<Result<(), Done>, ExecError> {
        let spec = &ctx.input.specs[i];
        let (scope, name) = (&spec.target, spec.target_name.as_str());
        let refuse = |why: String| {
            format!(
                "target table `{name}` in {scope} is still there from a failed attempt, and {why}; delete it yourself to retry this restore"
            )
        };
        if ctx.earlier_tables[i].is_none() || table.table_id != ctx.earlier_tables[i] {
            return self
                .fail(
                    ctx,
                    i,
                    refuse(format!(
                        "its table id {} is not the one this run recorded ({}), so this run did not create it",
                        table.table_id.as_deref().unwrap_or("?"),
                        ctx.earlier_tables[i].as_deref().unwrap_or("?")
                    )),
                )
                .map(Err);
        }
        let tags = called!(
            self.call(ctx, i, "ListTagsOfResource", false, || {
                self.cloud.table_tags(scope, &table.arn)
            })
            .await,
            |e| self
                .fail(ctx, i, refuse(format!("its tags could not be read: {e}")))
                .map(Err)
        );
        if tags.get(RUN_TAG).map(String::as_str) != Some(ctx.input.run_id) {
            return self
                .fail(
                    ctx,
                    i,
                    refuse(format!("it does not carry {RUN_TAG}={}", ctx.input.run_id)),
                )
                .map(Err);
        }
        if table.deletion_protection {
            let raised = spec
                .changes
                .iter()
                .any(|c| matches!(c, TableChange::DeletionProtection { enabled: true }));
            if !raised {
                return self
                    .fail(
                        ctx,
                        i,
                        refuse("its deletion protection was not turned on by this run".to_owned()),
                    )
                    .map(Err);
            }
            let off = TableChange::DeletionProtection { enabled: false };
            called!(
                self.call(ctx, i, "UpdateTable", true, || {
                    self.cloud.change_table(scope, name, &off)
                })
                .await,
                |e| self.fail(ctx, i, refuse(format!("{e}"))).map(Err)
            );
        }
        match self
            .call(ctx, i, "DeleteTable", true, || {
                self.cloud.delete_table(scope, name)
            })
            .await
        {
            Call::Ok(()) => {}
            Call::Err(e) if e.kind == ErrorKind::NotFound => {}
            Call::Err(e) => return self.fail(ctx, i, refuse(format!("{e}"))).map(Err),
            Call::Interrupted => return Ok(Err(Done::Interrupted)),
        }
        // DynamoDB deletes in the background: wait until the name is free.
        loop {
            match called!(
                self.call(ctx, i, "DescribeTable", false, || {
                    self.cloud.describe_table(scope, name)
                })
                .await,
                |e| self.fail(ctx, i, refuse(format!("{e}"))).map(Err)
            ) {
                None => break,
                Some(_) => {
                    if !self
                        .sleep(
                            self.opts
                                .poll
                                .min
                                .mul_f64(self.opts.poll.time_scale.clamp(1e-6, 1.0)),
                        )
                        .await
                    {
                        return Ok(Err(Done::Interrupted));
                    }
                }
            }
        }
        self.journal.append(&Record::Cleared {
            index: i,
            table_id: table.table_id,
            at: self.clock.now(),
        })?;
        Ok(Ok(()))
    }

    fn adopt(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        arn: String,
    ) -> Result<(StartedRestore, DateTime<Utc>), ExecError> {
        let handle = StartedRestore::Table { arn };
        let at = self.clock.now();
        self.journal.append(&Record::Started {
            index: i,
            handle: handle.clone(),
            adopted: true,
            at,
        })?;
        self.events.emit(Event::RestoreAccepted {
            index: i,
            id: ctx.input.specs[i].id.clone(),
            handle: handle.clone(),
            adopted: true,
            at,
        });
        Ok((handle, ctx.started[i].unwrap_or(at)))
    }

    /// Polls until the table is ACTIVE: `Ok` with its `TableId` (when
    /// DynamoDB reports one), otherwise how the restore ended.
    async fn wait_active(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        handle: &StartedRestore,
        started_at: DateTime<Utc>,
    ) -> Result<Result<Option<String>, Done>, ExecError> {
        let spec = &ctx.input.specs[i];
        let scope = &spec.target;
        let name = spec.target_name.as_str();
        let mut percent = None;
        let mut expected_total = None;
        let mut job_done = matches!(handle, StartedRestore::Table { .. });
        let mut missing = 0u32;
        loop {
            let delay = if job_done && !matches!(handle, StartedRestore::Table { .. }) {
                // The job finished; the table normally is ACTIVE already.
                self.opts.poll.min
            } else {
                self.opts.poll.next_delay(PollInput {
                    elapsed: seconds_between(started_at, self.clock.now()),
                    estimate: spec.estimated_seconds,
                    percent,
                    expected_total,
                })
            };
            if !self.sleep(delay).await {
                return Ok(Err(Done::Interrupted));
            }
            if let (StartedRestore::Job { id }, false) = (handle, job_done) {
                let job = called!(
                    self.call(ctx, i, "DescribeRestoreJob", false, || {
                        self.cloud.describe_restore_job(scope, id)
                    })
                    .await,
                    |e| self.fail_running(ctx, i, e.to_string()).map(Err)
                );
                match job.status {
                    JobStatus::Completed => job_done = true,
                    JobStatus::Failed | JobStatus::Aborted => {
                        let status = if job.status == JobStatus::Failed {
                            "failed"
                        } else {
                            "was aborted"
                        };
                        let msg = job
                            .status_message
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default();
                        return self
                            .fail(ctx, i, format!("restore job {id} {status}{msg}"))
                            .map(Err);
                    }
                    JobStatus::Pending | JobStatus::Running => {
                        let expected = job.expected_completion_minutes.map(|m| m as f64 * 60.0);
                        if job.percent_done != percent || expected != expected_total {
                            percent = job.percent_done;
                            expected_total = expected;
                            let at = self.clock.now();
                            self.events.emit(Event::RestoreProgress {
                                index: i,
                                id: spec.id.clone(),
                                percent,
                                expected_finish: expected_total.and_then(|s| {
                                    chrono::Duration::try_milliseconds((s * 1000.0) as i64)
                                        .and_then(|d| started_at.checked_add_signed(d))
                                }),
                                at,
                            });
                        }
                        continue;
                    }
                }
            }
            let table = called!(
                self.call(ctx, i, "DescribeTable", false, || {
                    self.cloud.describe_table(scope, name)
                })
                .await,
                |e| self.fail_running(ctx, i, e.to_string()).map(Err)
            );
            match table {
                Some(t) if t.status == "ACTIVE" && !t.restore_in_progress => {
                    return Ok(Ok(t.table_id));
                }
                Some(_) => missing = 0,
                None => {
                    missing += 1;
                    if missing >= 5 {
                        return self
                            .fail(
                                ctx,
                                i,
                                format!("table `{name}` did not appear in {scope} after the restore started"),
                            )
                            .map(Err);
                    }
                }
            }
        }
    }

    /// Applies the after-restore settings, verifies the table and completes.
    async fn settle(&self, ctx: &Ctx<'_>, i: usize) -> Result<Done, ExecError> {
        let spec = &ctx.input.specs[i];
        let scope = &spec.target;
        let name = spec.target_name.as_str();
        let changes = spec.changes_for_run(ctx.input.plan, ctx.input.run_id);
        for (step, change) in changes.iter().enumerate() {
            if ctx.changes_done[i].contains(&step) {
                continue;
            }
            self.journal.append(&Record::ChangeIntent {
                index: i,
                step,
                at: self.clock.now(),
            })?;
            let op = change_operation(change);
            // Streams and TTL cannot be switched on twice: DynamoDB refuses
            // the second call. A run killed after sending one and before
            // journaling its outcome must find it done, not fail on it.
            let mut checked_first =
                matches!(change, TableChange::Stream { .. } | TableChange::Ttl { .. })
                    && self.already_in_effect(ctx, i, change).await;
            // An alarm is never overwritten: PutMetricAlarm replaces an
            // alarm of the same name, so one this run did not create stops
            // the restore.
            if let TableChange::Alarm { alarm } = change {
                match self.alarm_owned(ctx, i, alarm).await {
                    Ok(Some(done)) => checked_first = done,
                    Ok(None) => return Ok(Done::Interrupted),
                    Err(why) => {
                        return self.fail(ctx, i, format!("after-restore setting {op}: {why}"));
                    }
                }
            }
            let outcome = if checked_first {
                Call::Ok(())
            } else {
                self.call(ctx, i, op, true, || {
                    self.cloud.change_table(scope, name, change)
                })
                .await
            };
            match outcome {
                Call::Ok(()) => {}
                // Re-applying a setting already in effect is refused (as
                // invalid, or as a conflict); that counts as done.
                Call::Err(e)
                    if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict)
                        && self.already_in_effect(ctx, i, change).await => {}
                // A transient error outlasting the budget is not final: a
                // resume applies the setting again.
                Call::Err(e) => {
                    let transient = e.is_retryable();
                    return self.fail_as(
                        ctx,
                        i,
                        format!("after-restore setting {op} failed: {e}"),
                        transient,
                    );
                }
                Call::Interrupted => return Ok(Done::Interrupted),
            }
            let at = self.clock.now();
            self.journal
                .append(&Record::ChangeDone { index: i, step, at })?;
            self.events.emit(Event::SettingApplied {
                index: i,
                id: spec.id.clone(),
                change: change.clone(),
                at,
            });
        }
        let began = self.clock.now();
        let checks = match self.verification(ctx, i).await {
            data_checks::Verification::Checks(c) => c,
            data_checks::Verification::Failed { cause, transient } => {
                return self.fail_as(ctx, i, cause, transient);
            }
            data_checks::Verification::Interrupted => return Ok(Done::Interrupted),
        };
        let at = self.clock.now();
        self.events.emit(Event::Verified {
            index: i,
            id: spec.id.clone(),
            checks: checks.clone(),
            began: Some(began),
            at,
        });
        if !self.report_validation(ctx, i, &checks).await {
            return Ok(Done::Interrupted);
        }
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        if !failed.is_empty() {
            return self.fail(
                ctx,
                i,
                format!("verification failed: {}", failed.join("; ")),
            );
        }
        self.journal.append(&Record::Completed { index: i, at })?;
        self.events.emit(Event::RestoreCompleted {
            index: i,
            id: spec.id.clone(),
            at,
        });
        Ok(Done::Completed(i))
    }

    /// True when `change` is already in effect on the table (read with retries).
    async fn already_in_effect(&self, ctx: &Ctx<'_>, i: usize, change: &TableChange) -> bool {
        let spec = &ctx.input.specs[i];
        let (scope, name) = (&spec.target, spec.target_name.as_str());
        match change {
            TableChange::Stream { view_type } => matches!(
                self.call(ctx, i, "DescribeTable", false, || self.cloud.describe_table(scope, name)).await,
                Call::Ok(Some(t)) if &t.stream == view_type
            ),
            TableChange::Ttl { attribute, enabled } => {
                match self
                    .call(ctx, i, "DescribeTimeToLive", false, || {
                        self.cloud.describe_ttl(scope, name)
                    })
                    .await
                {
                    Call::Ok(ttl) => {
                        let on = matches!(ttl.status.as_str(), "ENABLED" | "ENABLING");
                        on == *enabled && (!*enabled || ttl.attribute.as_deref() == Some(attribute))
                    }
                    _ => false,
                }
            }
            TableChange::KinesisDestination { stream_arn, .. } => matches!(
                self.call(ctx, i, "DescribeKinesisStreamingDestination", false, || {
                    self.cloud.kinesis_destinations(scope, name)
                })
                .await,
                Call::Ok(d) if d.iter().any(|d| &d.stream_arn == stream_arn && d.is_on())
            ),
            TableChange::Capacity { .. } | TableChange::TableClass { .. } => matches!(
                self.call(ctx, i, "DescribeTable", false, || self.cloud.describe_table(scope, name)).await,
                Call::Ok(Some(t)) if crate::check::capacity::in_effect(change, &t.capacity)
            ),
            _ => false,
        }
    }

    /// For an alarm: `Ok(Some(true))` when this run already created it (a
    /// resumed run finds it done), `Ok(Some(false))` when there is none yet,
    /// `Ok(None)` when the run was interrupted, `Err` when
    /// an alarm of that name exists that this run did not create (it is
    /// never overwritten) or its owner cannot be read.
    async fn alarm_owned(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        alarm: &crate::cloud::settings::Alarm,
    ) -> Result<Option<bool>, String> {
        let scope = &ctx.input.specs[i].target;
        match self
            .call(ctx, i, "DescribeAlarms", false, || {
                self.cloud.alarm_tags(scope, &alarm.name)
            })
            .await
        {
            Call::Ok(None) => Ok(Some(false)),
            Call::Ok(Some(tags)) if tags.get(RUN_TAG) == alarm.tags.get(RUN_TAG) => Ok(Some(true)),
            Call::Ok(Some(tags)) => Err(format!(
                "alarm `{}` already exists in {scope} and was not created by this run ({}); it is left as it is",
                alarm.name,
                match tags.get(RUN_TAG) {
                    Some(run) => format!("{RUN_TAG}={run}"),
                    None => format!("no {RUN_TAG} tag"),
                }
            )),
            Call::Err(e) => Err(format!(
                "the owner of alarm `{}` could not be read: {e}",
                alarm.name
            )),
            Call::Interrupted => Ok(None),
        }
    }
}

/// Whether table `t` is provably the one `spec`'s request created after
/// the intent journaled at `intent_at`: restored from the same backup, or
/// from the same source table at the same time, and created after the
/// intent (allowing a minute of clock skew). `Err` says what does not fit.
pub fn evidence_fits(
    spec: &RestoreSpec,
    t: &TableFacts,
    intent_at: Option<DateTime<Utc>>,
) -> Result<(), String> {
    let o = &t.origin;
    match &spec.request {
        crate::cloud::RestoreRequest::RestoreTableFromBackup { backup_arn, .. } => {
            if o.source_backup.as_deref() != Some(backup_arn.as_str()) {
                return Err(format!(
                    "it was not restored from backup {backup_arn} (DynamoDB reports {})",
                    o.source_backup.as_deref().unwrap_or("no source backup")
                ));
            }
        }
        crate::cloud::RestoreRequest::RestoreTableToPointInTime {
            source_table_arn,
            restore_date_time,
            ..
        } => {
            if o.source_table.as_deref() != Some(source_table_arn.as_str()) {
                return Err(format!(
                    "it was not restored from {source_table_arn} (DynamoDB reports {})",
                    o.source_table.as_deref().unwrap_or("no source table")
                ));
            }
            if let Some(want) = restore_date_time {
                let fits = o
                    .restore_time
                    .is_some_and(|have| (have - *want).num_milliseconds().abs() < 1000);
                if !fits {
                    return Err(format!(
                        "it was restored to {} rather than {want}",
                        o.restore_time
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_else(|| "an unknown time".to_owned())
                    ));
                }
            }
        }
        crate::cloud::RestoreRequest::StartRestoreJob { .. } => {
            return Err("an AWS Backup restore job's table is known only from its job".to_owned());
        }
    }
    match (o.created_at, intent_at) {
        (Some(created), Some(intent)) if created < intent - chrono::Duration::seconds(60) => Err(
            format!("it was created at {created}, before this run's start request at {intent}"),
        ),
        (None, _) => Err("DynamoDB reports no creation time for it".to_owned()),
        _ => Ok(()),
    }
}

/// The AWS operation behind a table change.
pub fn change_operation(change: &TableChange) -> &'static str {
    change.operation()
}

/// The key to ask KMS about before verifying: DynamoDB reports the AWS
/// managed key by its ARN, exactly like a customer managed key, so a table
/// that should use the AWS managed key and shows a key ARN is only told
/// apart from one encrypted with a customer's key by the key's manager.
pub fn key_to_classify<'t>(spec: &RestoreSpec, table: &'t TableFacts) -> Option<&'t str> {
    match (&spec.expect.sse, &table.encryption) {
        (Some(SseRequest::Managed), TableEncryption::Customer { key_arn }) => Some(key_arn),
        _ => None,
    }
}

fn key_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Checks a restored table against what the plan asked for; `tally` is the
/// table's items counted with `Scan`, when they were.
pub fn verify(spec: &RestoreSpec, table: &TableFacts, tally: Option<&ItemTally>) -> Vec<Check> {
    let mut checks = vec![Check {
        name: "status".to_owned(),
        passed: table.status == "ACTIVE",
        detail: format!("expected ACTIVE, found {}", table.status),
    }];
    if let Some(sse) = &spec.expect.sse {
        let (passed, expected) = match (sse, &table.encryption) {
            (SseRequest::Owned, TableEncryption::Owned) => (true, "an AWS-owned key".to_owned()),
            (SseRequest::Owned, _) => (false, "an AWS-owned key".to_owned()),
            (SseRequest::Managed, TableEncryption::Managed { .. }) => {
                (true, "the AWS-managed key".to_owned())
            }
            (SseRequest::Managed, _) => (false, "the AWS-managed key".to_owned()),
            (SseRequest::Customer { key_arn }, TableEncryption::Customer { key_arn: found }) => {
                (key_id(key_arn) == key_id(found), key_arn.clone())
            }
            (SseRequest::Customer { key_arn }, _) => (false, key_arn.clone()),
        };
        let found = match &table.encryption {
            TableEncryption::Owned => "an AWS-owned key".to_owned(),
            TableEncryption::Managed { .. } => "the AWS-managed key".to_owned(),
            TableEncryption::Customer { key_arn } => key_arn.clone(),
        };
        checks.push(Check {
            name: "encryption".to_owned(),
            passed,
            detail: format!("expected {expected}, found {found}"),
        });
    }
    if let Some(want) = &spec.expect.indexes {
        let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
        let mut have: Vec<&str> = table.indexes.iter().map(|ix| ix.name.as_str()).collect();
        want.sort_unstable();
        have.sort_unstable();
        checks.push(Check {
            name: "indexes".to_owned(),
            passed: want == have,
            detail: format!(
                "expected [{}], found [{}]",
                want.join(", "),
                have.join(", ")
            ),
        });
    }
    if let Some(want) = &spec.expect.capacity {
        let differences = crate::check::capacity::differences(want, &table.capacity);
        checks.push(Check {
            name: "capacity".to_owned(),
            passed: differences.is_empty(),
            detail: if differences.is_empty() {
                "billing mode, capacity and table class as planned".to_owned()
            } else {
                differences.join("; ")
            },
        });
    }
    if let Some(want) = spec.expect.item_count {
        checks.push(count::check(
            want,
            spec.expect.recovery_point_bytes,
            table,
            tally,
        ));
    }
    checks
}
