//! `simulate --engine step-functions`: the RTO, the state transitions and
//! the cost of the state machine `export step-functions` writes for a plan.
//! Pure; no network.
//!
//! The plan is exported from its offline resolution, exactly as `export`
//! writes it, and the one scheduler ([`crate::schedule::Scheduler`]) is
//! driven by the machine's worker lanes: each lane claims the highest-ranked
//! ready restore (of its own account when lanes are bound to accounts),
//! starts it, polls it with the definition's own `Wait` lengths (taken from
//! `ExpectedCompletionTimeMinutes`), applies its settings and checks, then
//! releases its dependents and claims again; a lane that finds nothing
//! ready waits the definition's idle waits. A lane holds its restore's slot
//! until the restore is done, settings and checks included. Each state a
//! path enters costs [`EngineModel::state_seconds`], and the transitions
//! are counted by walking the definition ([`crate::export::transitions`]).
//! Nothing fails in the model.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::duration::{DurationModel, verify_seconds};
use crate::exec::spec::RestoreSpec;
use crate::export::transitions::{DOLLARS_PER_TRANSITION, Machine, RestorePath};
use crate::export::{self, Options};
use crate::plan::model::{Execution, Plan};
use crate::schedule::{Caps, Scheduler};
use crate::sim::offline::OfflinePlan;
use crate::sim::run::{actual_durations, lower_bound};

/// The engine's own timings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineModel {
    /// Seconds each state entered adds (a transition and, for a task, its
    /// call), besides `Wait` states' own seconds.
    pub state_seconds: f64,
}

impl Default for EngineModel {
    fn default() -> Self {
        Self { state_seconds: 0.1 }
    }
}

/// Where the transitions of a run go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Transitions {
    /// The top-level states (once per run).
    pub run: u64,
    /// Lane starts and ends.
    pub lanes: u64,
    /// Restore paths without their polling loops.
    pub restores: u64,
    /// The polling loops of copy and restore jobs.
    pub polling: u64,
    /// Idle lanes looking for ready work.
    pub idle: u64,
}

impl Transitions {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.run + self.lanes + self.restores + self.polling + self.idle
    }
}

/// The prediction for the exported machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SfnPrediction {
    /// Worker lanes (the Distributed Map's concurrency).
    pub lanes: u32,
    /// Lanes bound to each target account, when lanes are bound to accounts.
    pub lanes_per_account: Vec<(String, u32)>,
    /// The RTO: the run's start to its last restore done, in seconds.
    pub predicted_rto_seconds: f64,
    /// The execution's start to its end (idle lanes end after their wait).
    pub execution_seconds: f64,
    /// The lower bound of any schedule (as `simulate` computes it).
    pub lower_bound_seconds: f64,
    /// State transitions, by where they go.
    pub transitions: Transitions,
    /// Transitions in all.
    pub total_transitions: u64,
    /// Transitions per restore.
    pub transitions_per_restore: f64,
    /// Dollars of state transitions for this run.
    pub dollars: f64,
    /// Dollars per 1,000 restores of this plan.
    pub dollars_per_1000_restores: f64,
    /// Per restore, in plan order.
    pub restores: Vec<SfnRestore>,
    /// The engine's timings.
    pub engine: EngineModel,
}

/// One restore in the prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SfnRestore {
    /// The restore's id.
    pub id: String,
    /// When its lane claimed it, seconds from the start.
    pub start: f64,
    /// When it was done (settings and checks included).
    pub finish: f64,
    /// Its lane.
    pub lane: u32,
    /// Polls of its restore job (`Wait` states entered).
    pub polls: u32,
    /// Transitions of its path, polling included.
    pub transitions: u64,
}

#[derive(Debug, PartialEq)]
struct Event {
    at: f64,
    seq: usize,
    lane: usize,
    done: Option<usize>,
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at).then(other.seq.cmp(&self.seq))
    }
}

/// Waits a polling loop makes before a job of `duration` seconds (from
/// its start) is seen finished: the first look `look` seconds after the
/// start, then `first` seconds, then `wait` seconds between looks, `lap`
/// seconds per lap besides the wait; at least `min`. With the seconds
/// waited.
fn waits(duration: f64, look: f64, first: f64, wait: f64, lap: f64, min: u32) -> (u32, f64) {
    let mut seen = look;
    let (mut n, mut waited) = (0u32, 0.0);
    while seen < duration || n < min {
        let w = if n == 0 { first } else { wait };
        seen += w.max(1e-3) + lap;
        waited += w;
        n += 1;
    }
    (n, waited)
}

/// The `ExpectedCompletionTimeMinutes` a job of `seconds` reports.
fn expected_minutes(seconds: f64) -> u64 {
    ((seconds / 60.0).round() as u64).max(1)
}

/// The offline specs as the export takes them: the plan's checks,
/// `verify.command` left out (it is refused under this engine).
fn specs_for_export(plan: &Plan, offline: &OfflinePlan) -> Vec<RestoreSpec> {
    offline
        .specs
        .iter()
        .zip(plan.restores())
        .map(|(s, r)| {
            let mut s = s.clone();
            s.expect.data = r.after_restore.verify.clone().map(|mut v| {
                v.command = None;
                v
            });
            s
        })
        .collect()
}

/// Predicts the exported machine of `plan` (resolved offline) with the
/// durations of `model` and `seed`, at `concurrency` (the plan's when
/// `None`).
pub fn predict(
    plan: &Plan,
    offline: &OfflinePlan,
    model: &DurationModel,
    seed: u64,
    concurrency: Option<u32>,
    engine: EngineModel,
) -> Result<SfnPrediction, String> {
    let resealed;
    let plan = match concurrency {
        Some(c) if c != plan.header().execution.concurrency => {
            let mut header = plan.header().clone();
            header.execution.concurrency = c;
            resealed = Plan::seal(header, plan.restores().to_vec())
                .map_err(|_| "the plan's graph does not seal".to_owned())?;
            &resealed
        }
        _ => plan,
    };
    let specs = specs_for_export(plan, offline);
    let run_id = format!("{}-simulated", plan.name());
    let exported = export::step_functions(plan, &specs, &Options::of_plan(plan, &run_id))?;
    let machine = Machine::of(&exported.definition)?;
    let entries: Vec<Value> = exported
        .seed
        .iter()
        .flat_map(|f| f.as_object().into_iter().flat_map(|o| o.values()))
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .map(|put| put["PutRequest"]["Item"].clone())
        .collect();
    let by_id: HashMap<&str, Value> = entries
        .iter()
        .filter_map(|item| {
            let id = item.pointer("/id/S")?.as_str()?;
            let spec = serde_json::from_str(item.pointer("/spec/S")?.as_str()?).ok()?;
            Some((id, spec))
        })
        .collect();
    let graph = plan.graph();
    let n = specs.len();
    let l = engine.state_seconds.max(0.0);
    let poll_waits = machine.poll_waits();
    let first_waits = machine.first_waits();
    let idle_waits = machine.idle_waits();
    let wait_at = |table: &[u64], i: usize| -> f64 {
        table
            .get(i.min(table.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    // Each restore's path, timed from its claim.
    let durations = actual_durations(offline, model, seed);
    let mut paths = Vec::with_capacity(n);
    let mut busy = Vec::with_capacity(n);
    let mut polling_transitions = Vec::with_capacity(n);
    for (i, s) in specs.iter().enumerate() {
        let bytes = offline
            .sizes
            .get(&s.target_name)
            .copied()
            .unwrap_or(model.default_table_bytes);
        let copy = if s.copy.is_some() {
            model.sample_copy(bytes, seed, &s.target_name)
        } else {
            0.0
        };
        let restore = (durations[i] - copy).max(0.0);
        let spec = by_id
            .get(s.id.as_str())
            .cloned()
            .ok_or_else(|| format!("restore `{}` has no coordination entry", s.id))?;
        let pages = s
            .expect
            .data
            .as_ref()
            .filter(|v| v.items.is_some())
            .map_or(1, |_| bytes.div_ceil(1 << 20).max(1));
        let minutes = expected_minutes(restore);
        // The machine waits on a copy by its estimate (the entry's
        // expected minutes), not by anything AWS reports.
        let copy_minutes = spec
            .pointer("/copy/minutes")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| expected_minutes(copy));
        let (polls, polled) = if s.is_native() {
            let p = spec.get("poll").and_then(Value::as_u64).unwrap_or(10) as f64;
            let f = spec.get("first_poll").and_then(Value::as_u64).unwrap_or(10) as f64;
            waits(restore, 0.0, f, p, 3.0 * l, 1)
        } else {
            let f = wait_at(&first_waits, minutes as usize);
            let w = wait_at(&poll_waits, minutes as usize);
            waits(restore, l, f, w, 4.0 * l, 0)
        };
        let (copy_polls, copy_polled) = if s.copy.is_some() {
            let f = wait_at(&first_waits, copy_minutes as usize);
            let w = wait_at(&poll_waits, copy_minutes as usize);
            waits(copy, l, f, w, 4.0 * l, 0)
        } else {
            (0, 0.0)
        };
        let path = RestorePath {
            spec,
            polls,
            expected_minutes: minutes,
            copy_polls,
            copy_expected_minutes: copy_minutes,
            pages,
            releases: Vec::new(),
        };
        let without_polls = machine.restore(&RestorePath {
            polls: 0,
            copy_polls: 0,
            ..path.clone()
        })?;
        let with_polls = machine.restore(&path)?;
        polling_transitions.push(with_polls - without_polls);
        let settle = crate::diff::predict::AFTER_RESTORE_STEP_SECONDS * s.changes.len() as f64
            + s.expect
                .data
                .as_ref()
                .map_or(0.0, |v| verify_seconds(v, bytes));
        let polled = polled + copy_polled;
        // The job's own time counts where the loop did not already wait it out.
        let jobs = (copy + restore).max(polled);
        busy.push(with_polls as f64 * l + jobs + settle);
        paths.push(path);
    }
    // Lanes, bound to accounts or not.
    let execution = &plan.header().execution;
    let caps = Caps {
        concurrency: exported.lanes,
        per_account: Execution::PER_ACCOUNT_RESTORE_LIMIT,
    };
    // Each lane's account (by a restore of it) and its number there.
    let bound: Vec<(Option<usize>, usize)> = if exported.lanes_per_account.is_empty() {
        (0..exported.lanes as usize).map(|k| (None, k)).collect()
    } else {
        exported
            .lanes_per_account
            .iter()
            .flat_map(|(account, k)| {
                let rep = specs
                    .iter()
                    .position(|s| s.target.account.as_str() == account);
                (0..*k as usize).map(move |slot| (rep, slot))
            })
            .collect()
    };
    let restores = plan.restores();
    let mut sched = Scheduler::new(
        graph,
        |i| specs.get(i).map_or(0.0, |s| s.estimated_seconds),
        |i| restores[i].target.location.account.as_str(),
        caps,
        execution.on_failure,
    );
    let mut t = Transitions {
        run: machine.top()?,
        ..Transitions::default()
    };
    let lane_start = machine.lane_start()?;
    let lane_end = machine.idle(true, 0)?;
    let last_idle = idle_waits.len().saturating_sub(1);
    let idle_cost: Vec<u64> = (0..=last_idle)
        .map(|k| machine.idle(false, k))
        .collect::<Result<_, _>>()?;
    // Prepare and the Map state before the lanes start.
    let begin = 2.0 * l + lane_start as f64 * l;
    let mut events = BinaryHeap::new();
    let mut seq = 0usize;
    for lane in 0..bound.len() {
        t.lanes += lane_start + lane_end;
        seq += 1;
        events.push(Event {
            at: begin,
            seq,
            lane,
            done: None,
        });
    }
    let mut idle_n = vec![0usize; bound.len()];
    let mut start = vec![0.0; n];
    let mut finish = vec![0.0; n];
    let mut lane_of = vec![0u32; n];
    let mut end = begin;
    while let Some(e) = events.pop() {
        let now = e.at;
        if let Some(i) = e.done {
            finish[i] = now;
            sched.release_slot(i);
            sched.complete(i);
            idle_n[e.lane] = 0;
        }
        let claimed = match bound[e.lane].0 {
            Some(rep) => sched.next_ready_in_account_of(rep),
            None => sched.next_ready(),
        };
        seq += 1;
        match claimed {
            Some(i) => {
                start[i] = now;
                lane_of[i] = e.lane as u32;
                events.push(Event {
                    at: now + busy[i],
                    seq,
                    lane: e.lane,
                    done: Some(i),
                });
            }
            // Lanes numbered at or above the restores not yet done end.
            None if bound[e.lane].1 >= sched.open() => end = end.max(now + lane_end as f64 * l),
            None => {
                let k = idle_n[e.lane].min(last_idle);
                t.idle += idle_cost[k];
                events.push(Event {
                    at: now + idle_cost[k] as f64 * l + wait_at(&idle_waits, k),
                    seq,
                    lane: e.lane,
                    done: None,
                });
                idle_n[e.lane] = (k + 1).min(last_idle);
            }
        }
    }
    // Which dependency releases each dependent: the last to finish.
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut path = paths[i].clone();
        path.releases = graph
            .dependents(i)
            .map(|d| {
                graph
                    .dependencies(d)
                    .max_by(|a, b| finish[*a].total_cmp(&finish[*b]).then(a.cmp(b)))
                    == Some(i)
            })
            .collect();
        let all = machine.restore(&path)?;
        t.polling += polling_transitions[i];
        t.restores += all - polling_transitions[i];
        out.push(SfnRestore {
            id: specs[i].id.clone(),
            start: start[i],
            finish: finish[i],
            lane: lane_of[i],
            polls: path.polls,
            transitions: all,
        });
    }
    let rto = finish.iter().copied().fold(0.0, f64::max);
    let plan_caps = Caps {
        concurrency: execution.concurrency,
        per_account: Execution::PER_ACCOUNT_RESTORE_LIMIT,
    };
    let (lb, _) = lower_bound(graph, offline, &durations, plan_caps);
    let total = t.total();
    let dollars = total as f64 * DOLLARS_PER_TRANSITION;
    Ok(SfnPrediction {
        lanes: exported.lanes,
        lanes_per_account: exported.lanes_per_account.clone(),
        predicted_rto_seconds: rto,
        execution_seconds: end.max(rto) + 3.0 * l,
        lower_bound_seconds: lb,
        transitions: t,
        total_transitions: total,
        transitions_per_restore: if n == 0 { 0.0 } else { total as f64 / n as f64 },
        dollars,
        dollars_per_1000_restores: if n == 0 {
            0.0
        } else {
            dollars * 1000.0 / n as f64
        },
        restores: out,
        engine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CompileOptions, SourceFile, compile};
    use crate::sim::offline::{Sizes, resolve_offline};

    fn plan_of(text: &str) -> Plan {
        let opts =
            CompileOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default());
        compile(SourceFile::new("plan.yaml", text), &opts)
            .unwrap_or_else(|e| panic!("a valid plan: {e:?}"))
            .plan
    }

    fn header(concurrency: u32) -> String {
        format!(
            "version: 1\nname: shop\nsource: {{ account: \"111122223333\", region: us-east-1 }}\n\
             target: {{ account: \"111122223333\", region: us-east-1, vault: dr, role: arn:aws:iam::111122223333:role/backup }}\n\
             defaults:\n  name: \"{{table}}-dr\"\n  after_restore:\n    point_in_time_recovery: true\n    deletion_protection: true\n\
             execution: {{ concurrency: {concurrency}, on_failure: continue }}\nrestores:\n"
        )
    }

    fn model() -> DurationModel {
        DurationModel {
            backup_overhead_seconds: 600.0,
            jitter: 0.0,
            default_table_bytes: 0,
            ..DurationModel::default()
        }
    }

    fn run(plan: &Plan) -> SfnPrediction {
        let now = crate::clock::parse("2026-11-24T08:30:00Z").unwrap_or_default();
        let offline = resolve_offline(
            plan.name(),
            plan.restores(),
            &Sizes::default(),
            &model(),
            now,
        );
        predict(plan, &offline, &model(), 1, None, EngineModel::default())
            .unwrap_or_else(|e| panic!("predicted: {e}"))
    }

    #[test]
    fn a_restore_path_enters_the_states_of_the_definition() {
        // a -> {b, c}: a's path, hand-counted from the definition: Find
        // ready, Any ready?, Claim, Load, Doomed?, Restore kind, Start,
        // Record job, the first Describe and its Choice (10); Settings and two states per
        // setting (three: the run tags, PITR, deletion protection: 7);
        // Verify? (1); Done, Count down (2); Release dependents and three
        // states per dependent (7); Next restore (1).
        let text = format!(
            "{}  - table: aaa\n  - table: bbb\n    depends_on: [aaa]\n  - table: ccc\n    depends_on: [aaa]\n",
            header(2)
        );
        let p = run(&plan_of(&text));
        let a = &p.restores[0];
        // Four polls of four states: the long first wait (550 s of the
        // 10 expected minutes), then three of 20 s.
        assert_eq!(a.polls, 4, "{p:#?}");
        assert_eq!(a.transitions, 10 + 7 + 1 + 2 + 7 + 1 + 4 * 4, "{p:#?}");
        // b and c have no dependents: the release map enters only itself.
        assert_eq!(p.restores[1].transitions, 10 + 7 + 1 + 2 + 1 + 1 + 4 * 4);
        assert_eq!(
            p.total_transitions,
            p.transitions.run
                + p.transitions.lanes
                + p.transitions.restores
                + p.transitions.polling
                + p.transitions.idle
        );
        assert!((p.dollars - p.total_transitions as f64 * 0.025 / 1000.0).abs() < 1e-12);
        // Dependencies first, within two lanes; the first wait is 11/12 of
        // the 10 expected minutes, the next 20 s later.
        assert!(p.restores[1].start >= a.finish && p.restores[2].start >= a.finish);
        // Two restores of 600 s in a row, each with three settings (30 s
        // each), seen done within a poll of their end.
        assert!(p.predicted_rto_seconds >= 1380.0, "{p:#?}");
        assert!(p.restores[1].finish - p.restores[1].start < 600.0 + 90.0 + 30.0);
    }

    #[test]
    fn a_copy_step_adds_its_states_and_its_time() {
        let plain = format!("{}  - table: aaa\n", header(1));
        let copied = plain
            .replace(
                "source: { account: \"111122223333\"",
                "source: { account: \"999988887777\"",
            )
            .replace(
                "defaults:\n",
                "defaults:\n  copy: { vault: prod, role: arn:aws:iam::999988887777:role/copier }\n",
            );
        let (p, c) = (run(&plan_of(&plain)), run(&plan_of(&copied)));
        let (a, b) = (&p.restores[0], &c.restores[0]);
        // Copy?, Start copy, Record copy job, Describe copy job, Copy job
        // done?, Copied, Record copy (7), and four states per look at the
        // copy job (its wait's Pass, the Wait, Describe, Choice).
        let extra = b.transitions - a.transitions;
        assert!(extra > 7 && (extra - 7) % 4 == 0, "{extra}: {c:#?}");
        let copy = model().copy_estimate(0);
        assert!(
            c.predicted_rto_seconds >= p.predicted_rto_seconds + copy,
            "{} vs {} + {copy}",
            c.predicted_rto_seconds,
            p.predicted_rto_seconds
        );
    }

    #[test]
    fn caps_above_fifty_across_accounts_hold_per_account_and_in_all() {
        // 180 independent restores over three accounts at a cap of 120.
        let mut text = header(120);
        for k in 0..180 {
            let account = ["111122223333", "444455556666", "777788889999"][k % 3];
            text.push_str(&format!(
                "  - table: tbl{k}\n    target: {{ account: \"{account}\", region: us-east-1, vault: dr, role: arn:aws:iam::{account}:role/backup }}\n"
            ));
        }
        let plan = plan_of(&text);
        let p = run(&plan);
        assert_eq!(p.lanes, 120, "{:?}", p.lanes_per_account);
        assert_eq!(p.lanes_per_account.len(), 3);
        assert!(p.lanes_per_account.iter().all(|(_, k)| *k <= 50));
        // At every start, count what runs: per account and in all.
        let account = |i: usize| {
            plan.restores()[i]
                .target
                .location
                .account
                .as_str()
                .to_owned()
        };
        for (i, r) in p.restores.iter().enumerate() {
            let running: Vec<usize> = (0..p.restores.len())
                .filter(|&j| p.restores[j].start <= r.start && r.start < p.restores[j].finish)
                .collect();
            assert!(running.len() <= 120, "{} at once", running.len());
            let same = running
                .iter()
                .filter(|&&j| account(j) == account(i))
                .count();
            assert!(same <= 50, "{same} in {} at once", account(i));
        }
        // More than 50 at once in all: the cap above 50 is used.
        let first_wave = p.restores.iter().filter(|r| r.start < 60.0).count();
        assert_eq!(first_wave, 120);
        // The definition's lanes claim only their own account's restores.
        let offline = resolve_offline(
            plan.name(),
            plan.restores(),
            &Sizes::default(),
            &model(),
            crate::clock::parse("2026-11-24T08:30:00Z").unwrap_or_default(),
        );
        let specs = specs_for_export(&plan, &offline);
        let e = export::step_functions(&plan, &specs, &Options::of_plan(&plan, "run-1"))
            .unwrap_or_else(|e| panic!("{e}"));
        let lanes = e.definition["States"]["Prepare"]["Parameters"]["lanes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(lanes.len(), 120);
        for (account, k) in &e.lanes_per_account {
            let n = lanes
                .iter()
                .filter(|l| l["group"] == format!("{account}#").as_str())
                .count();
            assert_eq!(n as u32, *k);
        }
        let query =
            &e.definition["States"]["Lanes"]["ItemProcessor"]["States"]["Find ready"]["Parameters"];
        assert!(
            query["KeyConditionExpression"]
                .as_str()
                .is_some_and(|k| k.contains("begins_with(rk, :group)"))
        );
        let item = e.seed[0]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| {
                v[0]["PutRequest"]["Item"]["rk"]["S"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        assert!(item.starts_with("111122223333#"), "{item}");
        // At a cap of 50 or less, lanes are not bound.
        assert!(export::lanes_per_account(&specs, 50).is_empty());
        let split = export::lanes_per_account(&specs, 90);
        assert_eq!(split.iter().map(|s| s.1).sum::<u32>(), 90);
    }

    #[test]
    fn idle_lanes_end_when_the_rest_need_no_more_lanes() {
        // A chain of four at a cap of 5: lanes 1..4 find nothing and end as
        // soon as the restores left are no more than their number.
        let text = format!(
            "{}  - table: aaa\n  - table: bbb\n    depends_on: [aaa]\n  - table: ccc\n    depends_on: [bbb]\n  - table: ddd\n    depends_on: [ccc]\n",
            header(5)
        );
        let p = run(&plan_of(&text));
        assert!(p.restores.iter().all(|r| r.lane == 0), "{p:#?}");
        // Without the rule, lanes 1 to 4 would each look for work all run
        // long; lane 4 ends at its first look (4 left) and lanes 1 to 3 as
        // soon as the restores left are no more than their number.
        let waits = crate::export::asl::idle_waits();
        let looks = |until: f64| {
            let (mut t, mut n) = (0.0, 0usize);
            while t < until {
                t += waits[n.min(waits.len() - 1)] as f64;
                n += 1;
            }
            n as u64
        };
        let per_look = 6;
        let without = 4 * looks(p.predicted_rto_seconds) * per_look;
        let with: u64 = (1..=3)
            .map(|k| looks(p.restores[3 - k].finish) + 1)
            .sum::<u64>()
            * per_look;
        assert!(
            p.transitions.idle <= with,
            "{} > {with}",
            p.transitions.idle
        );
        assert!(
            p.transitions.idle < without,
            "{} vs {without}",
            p.transitions.idle
        );
    }
}
