//! Data checks of a restored table (`after_restore.verify`): the item count
//! from a parallel `Scan` with `Select=COUNT` paced to a share of the
//! table's read capacity, and `GetItem` of each key the plan names. Each
//! check's detail is its evidence (count, pages, segments, consumed
//! capacity; the key and whether it was found).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

// Virtual time in simulations, the system's otherwise.
use tokio::time::Instant;

use crate::cloud::data::{self, CommandAccess, DataFacts, ValidationStatus};
use crate::plan::verify::Verify;

use super::{Call, Ctx, Executor, RunInput, count};
use crate::cloud::StartedRestore;
use crate::exec::events::{Check, Event};
use crate::exec::journal::RunState;

pub use crate::duration::ON_DEMAND_READ_UNITS;

/// Bytes of table per `Scan` segment.
pub const BYTES_PER_SEGMENT: u64 = 256 << 20;

pub use crate::duration::MAX_PAGE_UNITS;

/// Most `Scan` segments.
pub const MAX_SEGMENTS: u32 = 16;

/// Read units per second the checks may consume on `facts`' table.
pub fn read_rate(facts: &DataFacts, fraction: f64) -> f64 {
    let units = match facts.read_capacity {
        Some(rcu) => rcu as f64,
        None => facts
            .max_read_units
            .map_or(ON_DEMAND_READ_UNITS, |m| m as f64),
    };
    (units * fraction).max(0.5)
}

/// Segments of the parallel `Scan`: one per [`BYTES_PER_SEGMENT`], at most
/// [`MAX_SEGMENTS`], and no more than the read rate can keep busy with
/// pages of at least one unit each.
pub fn segments(size_bytes: u64, rate: f64) -> u32 {
    let by_size = size_bytes.div_ceil(BYTES_PER_SEGMENT).max(1);
    let by_rate = rate.floor().max(1.0) as u64;
    by_size.min(by_rate).min(u64::from(MAX_SEGMENTS)) as u32
}

pub use crate::duration::scan_seconds;

/// Pages booked in a [`Budget`]: id to (answered at, units).
type Pages = BTreeMap<u64, (Option<Instant>, f64)>;

/// A read budget shared by the segments: in any one-second window, the
/// pages answered in it and those still in flight consume at most `rate`
/// units. Counting a page from when it was sent until one second after its
/// answer keeps any two pages DynamoDB may meter in the same second within
/// the budget, wherever its second boundaries fall.
struct Budget {
    rate: f64,
    /// Page id to (answered at, units); `None` while in flight.
    pages: Mutex<(u64, Pages)>,
}

impl Budget {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            pages: Mutex::new((0, BTreeMap::new())),
        }
    }

    /// Books `units` for a page about to be sent, or says how long to wait.
    fn try_book(&self, units: f64) -> Result<u64, Duration> {
        let window = Duration::from_secs_f64(crate::duration::PACING_WINDOW_SECONDS);
        let now = Instant::now();
        let mut g = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        g.1.retain(|_, (at, _)| at.is_none_or(|t| now.duration_since(t) < window));
        let used: f64 = g.1.values().map(|(_, u)| u).sum();
        if g.1.is_empty() || used + units <= self.rate {
            g.0 += 1;
            let id = g.0;
            g.1.insert(id, (None, units));
            return Ok(id);
        }
        let wait =
            g.1.values()
                .filter_map(|(at, _)| at.map(|t| window.saturating_sub(now.duration_since(t))))
                .min()
                .unwrap_or(Duration::from_millis(50));
        Err(wait.max(Duration::from_millis(10)))
    }

    /// Records what page `id` consumed, as of its answer.
    fn settle(&self, id: u64, actual: f64) {
        let mut g = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        g.1.insert(id, (Some(Instant::now()), actual));
    }
}

/// What one segment read.
#[derive(Default)]
struct Tally {
    count: u64,
    consumed: f64,
    pages: u32,
}

enum Outcome {
    Ok(Vec<Check>),
    Interrupted,
}

/// How the verification of a restore ended.
pub enum Verification {
    /// Every check ran (passed or not).
    Checks(Vec<Check>),
    /// The table could not be read: the restore fails with `cause`.
    Failed {
        /// Why.
        cause: String,
        /// True when trying again may succeed.
        transient: bool,
    },
    /// The run stopped meanwhile.
    Interrupted,
}

/// Characters of the message sent to AWS Backup with a validation result.
pub const VALIDATION_MESSAGE_CHARS: usize = 1000;

/// The validation result of `checks` for AWS Backup: `SUCCESSFUL` when all
/// passed, else `FAILED` with the failed checks named (bounded).
pub fn validation_result(checks: &[Check]) -> (ValidationStatus, String) {
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
    if failed.is_empty() {
        let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
        return (
            ValidationStatus::Successful,
            bounded(format!(
                "restoreplan: {} checks passed ({})",
                checks.len(),
                dedup(&names).join(", ")
            )),
        );
    }
    let names: Vec<&str> = failed.iter().map(|c| c.name.as_str()).collect();
    let mut message = format!(
        "restoreplan: {} of {} checks failed ({})",
        failed.len(),
        checks.len(),
        dedup(&names).join(", ")
    );
    for c in &failed {
        let detail: Vec<&str> = c.detail.lines().map(str::trim).collect();
        message.push_str(&format!("; {}: {}", c.name, detail.join(" | ")));
    }
    (ValidationStatus::Failed, bounded(message))
}

fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n);
        }
    }
    out
}

fn bounded(mut s: String) -> String {
    if s.chars().count() > VALIDATION_MESSAGE_CHARS {
        s = s.chars().take(VALIDATION_MESSAGE_CHARS - 1).collect();
        s.push('…');
    }
    s
}

impl Executor<'_> {
    /// Verifies restore `i`'s table: its shape (status, encryption,
    /// indexes, count), then the plan's data checks and command.
    pub(super) async fn verification(&self, ctx: &Ctx<'_>, i: usize) -> Verification {
        let spec = &ctx.input.specs[i];
        let (scope, name) = (&spec.target, spec.target_name.as_str());
        let table = match self
            .call(ctx, i, "DescribeTable", false, || {
                self.cloud.describe_table(scope, name)
            })
            .await
        {
            Call::Ok(t) => t,
            Call::Err(e) => {
                return Verification::Failed {
                    transient: e.is_retryable(),
                    cause: format!("verification failed: {e}"),
                };
            }
            Call::Interrupted => return Verification::Interrupted,
        };
        let Some(table) = table else {
            return Verification::Failed {
                cause: format!("table `{name}` disappeared before verification"),
                transient: false,
            };
        };
        let table = match super::key_to_classify(spec, &table) {
            Some(key) => match self
                .call(ctx, i, "DescribeKey", false, || {
                    self.cloud.describe_key(scope, key)
                })
                .await
            {
                Call::Ok(k) => table.with_key_manager(k.manager),
                Call::Err(e) => {
                    return Verification::Failed {
                        cause: format!("verification failed: {e}"),
                        transient: false,
                    };
                }
                Call::Interrupted => return Verification::Interrupted,
            },
            None => table,
        };
        // Count a small table exactly; a count that cannot be had falls
        // back to the table's ItemCount (see `count::check`).
        // A plan that counts with `verify.items` counts paced, below.
        let paced = spec.expect.data.as_ref().is_some_and(|v| v.items.is_some());
        let tally = match spec.expect.item_count {
            Some(_) if !paced && count::should_scan(spec.expect.recovery_point_bytes) => match self
                .call(ctx, i, "Scan", false, || {
                    self.cloud
                        .count_items(scope, name, count::EXACT_COUNT_MAX_PAGES)
                })
                .await
            {
                Call::Ok(t) => Some(t),
                Call::Err(_) => None,
                Call::Interrupted => return Verification::Interrupted,
            },
            _ => None,
        };
        let mut checks = super::verify(spec, &table, tally.as_ref());
        match self.data_checks(ctx, i, &table.arn).await {
            Some(data) => checks.extend(data),
            None => return Verification::Interrupted,
        }
        Verification::Checks(checks)
    }

    /// Reports `checks` to AWS Backup when restore `i` ran as a restore
    /// job (`PutRestoreValidationResult`); a DynamoDB restore has no job,
    /// and nothing is sent. A failed report is an event, never a change of
    /// the verdict. `false` when the run was interrupted meanwhile.
    pub(super) async fn report_validation(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        checks: &[Check],
    ) -> bool {
        let spec = &ctx.input.specs[i];
        let job = ctx
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(i)
            .cloned()
            .flatten();
        let Some(job_id) = job else {
            return true;
        };
        let (status, message) = validation_result(checks);
        let scope = &spec.target;
        let error = match self
            .call(ctx, i, "PutRestoreValidationResult", false, || {
                self.cloud
                    .put_restore_validation(scope, &job_id, status, &message)
            })
            .await
        {
            Call::Ok(()) => None,
            Call::Err(e) => Some(e.to_string()),
            Call::Interrupted => return false,
        };
        self.events.emit(Event::ValidationReported {
            index: i,
            id: spec.id.clone(),
            job_id,
            status,
            message,
            error,
            at: self.clock.now(),
        });
        true
    }

    /// The data checks of restore `i` (empty when the plan has none), then
    /// its command; `None` when the run was interrupted meanwhile.
    /// `table_arn` is the restored table's ARN (the command's environment).
    pub(super) async fn data_checks(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        table_arn: &str,
    ) -> Option<Vec<Check>> {
        let spec = &ctx.input.specs[i];
        let Some(v) = spec.expect.data.as_ref().filter(|v| !v.is_empty()) else {
            return Some(Vec::new());
        };
        let limit = v
            .timeout()
            .map(|t| t.mul_f64(self.opts.poll.time_scale.clamp(1e-6, 1.0)));
        let began = Instant::now();
        let run = self.run_checks(ctx, i, v);
        let timeout_check = || Check {
            name: "verify-timeout".to_owned(),
            passed: false,
            detail: format!(
                "the verification did not finish within its timeout of {}",
                crate::text::secs_text(v.timeout_seconds.unwrap_or(0))
            ),
        };
        let (outcome, timed_out) = match limit {
            Some(t) => match tokio::time::timeout(t, run).await {
                Ok(o) => (o, false),
                Err(_) => (Outcome::Ok(vec![timeout_check()]), true),
            },
            None => (run.await, false),
        };
        let mut checks = match outcome {
            Outcome::Ok(c) => c,
            Outcome::Interrupted => return None,
        };
        if let Some(command) = &v.command {
            let left = limit.map(|l| l.saturating_sub(began.elapsed()));
            if timed_out || left.is_some_and(|l| l.is_zero()) {
                checks.push(Check {
                    name: super::super::command::CHECK_NAME.to_owned(),
                    passed: false,
                    detail: format!(
                        "`{}` was not run: the verification's timeout was reached before it",
                        command.join(" ")
                    ),
                });
            } else {
                checks.push(self.run_command(ctx, i, command, table_arn, left).await?);
            }
        }
        Some(checks)
    }

    /// Verifies again the restores `only` of a run as its journal left
    /// them, emitting `verified` (and `validation-reported`) events; the
    /// journal is not written. `None` for a restore that was interrupted.
    pub async fn verify_again(
        &self,
        input: RunInput<'_>,
        state: &RunState,
        only: &[usize],
    ) -> Vec<(usize, Option<Verification>)> {
        let n = input.specs.len();
        let ctx = Ctx {
            input,
            started: vec![None; n],
            changes_done: vec![Default::default(); n],
            intents: vec![false; n],
            attempts: vec![0; n],
            earlier_tables: vec![None; n],
            jobs: std::sync::Mutex::new(vec![None; n]),
        };
        for (i, r) in state.restores.iter().enumerate() {
            if let Some(StartedRestore::Job { id }) = &r.handle {
                ctx.set_job(i, id);
            }
        }
        let mut out = Vec::new();
        for &i in only {
            if self.stop.is_stopped() {
                out.push((i, None));
                continue;
            }
            let began = self.clock.now();
            let v = self.verification(&ctx, i).await;
            if let Verification::Checks(checks) = &v {
                self.events.emit(Event::Verified {
                    index: i,
                    id: input.specs[i].id.clone(),
                    checks: checks.clone(),
                    began: Some(began),
                    at: self.clock.now(),
                });
                if !self.report_validation(&ctx, i, checks).await {
                    out.push((i, None));
                    continue;
                }
            }
            match v {
                Verification::Interrupted => out.push((i, None)),
                v => out.push((i, Some(v))),
            }
        }
        out
    }

    /// Runs the user command of restore `i` with the run's environment and
    /// the target account's credentials, for at most `limit`; `None` when
    /// the run was interrupted meanwhile (the command's group is killed).
    async fn run_command(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        argv: &[String],
        table_arn: &str,
        limit: Option<Duration>,
    ) -> Option<Check> {
        use super::super::command;
        let spec = &ctx.input.specs[i];
        let scope = &spec.target;
        let shown = argv.join(" ");
        let written = spec
            .expect
            .data
            .as_ref()
            .and_then(|v| v.timeout_seconds)
            .map(crate::text::secs_text);
        let access = match self
            .call(ctx, i, "GetCredentials", false, || {
                self.cloud.command_access(scope)
            })
            .await
        {
            Call::Ok(a) => a,
            Call::Err(e) => {
                // Never run with other credentials than the target account's.
                return Some(Check {
                    name: command::CHECK_NAME.to_owned(),
                    passed: false,
                    detail: format!(
                        "`{shown}` was not run: no credentials for account {}: {e}",
                        scope.account
                    ),
                });
            }
            Call::Interrupted => return None,
        };
        let env = command_env(ctx.input.run_id, spec, table_arn, &access);
        tokio::select! {
            o = command::run(argv, &env, limit) => Some(o.check(&shown, written.as_deref())),
            () = self.stop.stopped() => None,
        }
    }

    async fn run_checks(&self, ctx: &Ctx<'_>, i: usize, v: &Verify) -> Outcome {
        let spec = &ctx.input.specs[i];
        let (scope, name) = (&spec.target, spec.target_name.as_str());
        let mut checks = Vec::new();
        if v.items.is_none() && v.keys.is_empty() {
            return Outcome::Ok(checks);
        }
        let facts = match self
            .call(ctx, i, "DescribeTable", false, || {
                self.cloud.data_facts(scope, name)
            })
            .await
        {
            Call::Ok(f) => f,
            Call::Err(e) => {
                checks.push(Check {
                    name: "verify".to_owned(),
                    passed: false,
                    detail: format!("could not read the table's key schema: {e}"),
                });
                return Outcome::Ok(checks);
            }
            Call::Interrupted => return Outcome::Interrupted,
        };
        let rate = read_rate(&facts, v.max_read_fraction);
        let budget = Budget::new(rate);
        if let Some(bounds) = v.items {
            let segs = segments(facts.size_bytes, rate);
            let per_item = if facts.item_count > 0 && facts.size_bytes > 0 {
                (facts.size_bytes as f64 / facts.item_count as f64).max(1.0)
            } else {
                4096.0
            };
            let runs = (0..segs).map(|s| self.count_segment(ctx, i, s, segs, &budget, per_item));
            let results = futures::future::join_all(runs).await;
            let mut total = Tally::default();
            let mut error = None;
            for r in results {
                match r {
                    Call::Ok(t) => {
                        total.count += t.count;
                        total.consumed += t.consumed;
                        total.pages += t.pages;
                    }
                    Call::Err(e) => error = Some(e),
                    Call::Interrupted => return Outcome::Interrupted,
                }
            }
            let capacity = match facts.read_capacity {
                Some(rcu) => format!("{rcu} RCU provisioned"),
                None => "on-demand".to_owned(),
            };
            let evidence = format!(
                "{} items counted (Scan Select=COUNT, {segs} segments, {} pages, {:.1} read units consumed, at most {rate:.1} units/s: {:.0}% of {capacity})",
                total.count,
                total.pages,
                total.consumed,
                v.max_read_fraction * 100.0
            );
            checks.push(match error {
                Some(e) => Check {
                    name: "items".to_owned(),
                    passed: false,
                    detail: format!("the count failed: {e}"),
                },
                None => {
                    let low = bounds.min.is_some_and(|m| total.count < m);
                    let high = bounds.max.is_some_and(|m| total.count > m);
                    let want = match (bounds.min, bounds.max) {
                        (Some(a), Some(b)) => format!("between {a} and {b}"),
                        (Some(a), None) => format!("at least {a}"),
                        (None, Some(b)) => format!("at most {b}"),
                        (None, None) => "any number".to_owned(),
                    };
                    Check {
                        name: "items".to_owned(),
                        passed: !(low || high),
                        detail: format!("expected {want}; {evidence}"),
                    }
                }
            });
        }
        for written in &v.keys {
            let shown = data::show_key(written);
            let key = match data::typed_key(written, &facts.key_schema) {
                Ok(k) => k,
                Err(why) => {
                    checks.push(Check {
                        name: "key".to_owned(),
                        passed: false,
                        detail: format!("{shown} does not fit the table's key schema: {why}"),
                    });
                    continue;
                }
            };
            self.pace(&budget, 1.0).await;
            match self
                .call(ctx, i, "GetItem", false, || {
                    self.cloud.get_item(scope, name, &key)
                })
                .await
            {
                Call::Ok(found) => checks.push(Check {
                    name: "key".to_owned(),
                    passed: found.found,
                    detail: if found.found {
                        format!("{shown} exists (GetItem, {:.1} read units)", found.consumed)
                    } else {
                        format!("{shown} is not in the table (GetItem found no item)")
                    },
                }),
                Call::Err(e) => checks.push(Check {
                    name: "key".to_owned(),
                    passed: false,
                    detail: format!("{shown}: GetItem failed: {e}"),
                }),
                Call::Interrupted => return Outcome::Interrupted,
            }
        }
        Outcome::Ok(checks)
    }

    /// Waits until `units` fit in the budget and books them as answered now.
    async fn pace(&self, budget: &Budget, units: f64) {
        loop {
            match budget.try_book(units) {
                Ok(id) => return budget.settle(id, units),
                Err(wait) => {
                    if !self.sleep(wait).await {
                        return;
                    }
                }
            }
        }
    }

    async fn count_segment(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
        segment: u32,
        total: u32,
        budget: &Budget,
        bytes_per_item: f64,
    ) -> Call<Tally> {
        let spec = &ctx.input.specs[i];
        let (scope, name) = (&spec.target, spec.target_name.as_str());
        let mut tally = Tally::default();
        let mut start: Option<data::ItemKey> = None;
        // Units a page may consume: what the second allows (DynamoDB bills
        // half a unit per started 4 KB read), and no more than a page of
        // 1 MB (DynamoDB's most) costs, so what is booked is what a page
        // can consume and several pages share a second.
        let page_units = ((budget.rate * 2.0).floor().max(1.0) / 2.0).min(MAX_PAGE_UNITS);
        let mut per_item_units = bytes_per_item / 4096.0 * 0.5;
        loop {
            let limit = ((page_units - 0.5) / per_item_units.max(1e-6))
                .floor()
                .clamp(1.0, 10_000.0) as u32;
            let expected = ((limit as f64 * per_item_units * 2.0).ceil() / 2.0).max(0.5);
            let booked = loop {
                match budget.try_book(expected) {
                    Ok(id) => break id,
                    Err(wait) => {
                        if !self.sleep(wait).await {
                            return Call::Interrupted;
                        }
                    }
                }
            };
            let from = start.clone();
            let page = match self
                .call(ctx, i, "Scan", false, || {
                    self.cloud
                        .count_page(scope, name, segment, total, limit, from.clone())
                })
                .await
            {
                Call::Ok(p) => p,
                Call::Err(e) => return Call::Err(e),
                Call::Interrupted => return Call::Interrupted,
            };
            budget.settle(booked, page.consumed);
            tally.count += page.count;
            tally.consumed += page.consumed;
            tally.pages += 1;
            if page.count > 0 {
                // Learn the item size from what the page cost.
                per_item_units = per_item_units.max(page.consumed / page.count as f64);
            }
            match page.next {
                Some(k) => start = Some(k),
                None => return Call::Ok(tally),
            }
        }
    }
}

/// The environment of a verification command: the run, the restore, the
/// restored table and the target account's credentials (and endpoint).
pub fn command_env(
    run_id: &str,
    spec: &crate::exec::RestoreSpec,
    table_arn: &str,
    access: &CommandAccess,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("RESTOREPLAN_RUN", run_id.to_owned()),
        ("RESTOREPLAN_RESTORE_ID", spec.id.clone()),
        ("RESTOREPLAN_TABLE_NAME", spec.target_name.clone()),
        ("RESTOREPLAN_TABLE_ARN", table_arn.to_owned()),
        ("RESTOREPLAN_ACCOUNT", spec.target.account.to_string()),
        ("RESTOREPLAN_REGION", spec.target.region.to_string()),
        ("AWS_ACCESS_KEY_ID", access.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", access.secret_access_key.clone()),
        ("AWS_REGION", access.region.clone()),
        ("AWS_DEFAULT_REGION", access.region.clone()),
    ];
    if let Some(t) = &access.session_token {
        env.push(("AWS_SESSION_TOKEN", t.clone()));
    }
    if let Some(url) = &access.endpoint {
        env.push(("AWS_ENDPOINT_URL", url.clone()));
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(rcu: Option<u64>) -> DataFacts {
        DataFacts {
            key_schema: Vec::new(),
            read_capacity: rcu,
            max_read_units: None,
            size_bytes: 0,
            item_count: 0,
        }
    }

    #[test]
    fn the_validation_message_names_the_failed_checks_within_its_bound() {
        let check = |name: &str, passed: bool, detail: &str| Check {
            name: name.to_owned(),
            passed,
            detail: detail.to_owned(),
        };
        let (status, message) = validation_result(&[check("status", true, "ACTIVE")]);
        assert_eq!(status, ValidationStatus::Successful);
        assert_eq!(message, "restoreplan: 1 checks passed (status)");
        let long = "x".repeat(5000);
        let (status, message) = validation_result(&[
            check("status", true, "ACTIVE"),
            check(
                "command",
                false,
                "exited with status 3; output:\n  one\n  two",
            ),
            check("key", false, &long),
        ]);
        assert_eq!(status, ValidationStatus::Failed);
        assert!(message.starts_with(
            "restoreplan: 2 of 3 checks failed (command, key); command: exited with status 3; output: | one | two; key: xxx"
        ));
        assert_eq!(message.chars().count(), VALIDATION_MESSAGE_CHARS);
    }

    #[test]
    fn provisioned_tables_are_read_at_a_share_of_their_capacity() {
        assert_eq!(read_rate(&facts(Some(5)), 0.5), 2.5);
        assert_eq!(read_rate(&facts(None), 0.5), 2000.0);
    }

    #[test]
    fn segments_follow_size_and_rate() {
        assert_eq!(segments(0, 2.5), 1);
        assert_eq!(segments(10 << 30, 2.5), 2);
        assert_eq!(segments(10 << 30, 2000.0), 16);
        assert_eq!(segments(600 << 20, 2000.0), 3);
    }
}
