//! Ownership, outages and retries through the real binary against the
//! emulator: concurrent `apply` processes of one plan (one proceeds, the
//! others are refused by the run lock, nothing is adopted), a network path
//! to the emulator cut for 60 s in the middle of runs (every restore
//! completes, one job each), and a failed run carried on with
//! `apply --resume RUN --retry-failed` once the cause is fixed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::apply::{World, events, run_id};
use crate::support::emulator::Emulator;
use crate::support::proxy::Proxy;

const EAST: &str = "us-east-1";

/// Restores of 1.2 s.
const FAST: &str = "0.002";

fn fast() -> &'static Emulator {
    static FAST_EM: OnceLock<Emulator> = OnceLock::new();
    FAST_EM.get_or_init(|| Emulator::start(&["--time-scale", FAST]))
}

/// Runs a command to its end whatever its status; returns the status and
/// its combined output.
fn run_any(w: &World, args: &[&str], log: &str) -> (i32, String) {
    let path = w.dir.path().join(log);
    let mut child = w.command(args).spawn(&path);
    let status = child.wait().expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(&path).unwrap_or_default(),
    )
}

/// Journal records of a run.
fn journal(w: &World, run: &str) -> Vec<Value> {
    let path = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(run)
        .join("journal.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Run directories under the working directory.
pub(crate) fn runs(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join(".restoreplan/runs"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("journal.jsonl").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A plan of two point-in-time restores and one from AWS Backup.
async fn pitr_world(em: &'static Emulator, scale: &str) -> (World, Vec<String>) {
    let w = World::new(em, scale).await;
    for t in ["orders", "ledger"] {
        w.aws.table(t, None, 2).await;
        w.aws.enable_pitr(t).await;
    }
    w.source("users", 0).await;
    let mut plan = w.header("shared", 3, None);
    for t in ["orders", "ledger"] {
        plan.push_str(&format!(
            "  - table: {t}\n    recovery_point: {{ point_in_time: latest }}\n"
        ));
    }
    plan.push_str("  - table: users\n");
    w.write("plan.yaml", &plan);
    (
        w,
        ["orders-dr", "ledger-dr", "users-dr"]
            .map(str::to_owned)
            .to_vec(),
    )
}

/// Starts `n` applies of the plan at once; returns (status, output) each.
fn together(w: &World, n: usize) -> Vec<(i32, String)> {
    let children: Vec<_> = (0..n)
        .map(|k| {
            let log = w.dir.path().join(format!("apply-{k}.log"));
            (
                w.command(&["apply", "plan.yaml", "--yes", "--no-progress"])
                    .spawn(&log),
                log,
            )
        })
        .collect();
    children
        .into_iter()
        .map(|(mut c, log)| {
            let s = c.wait().expect("apply runs");
            (
                s.code().unwrap_or(-1),
                std::fs::read_to_string(log).unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_of_one_plan_started_together_one_proceeds_the_others_are_refused() {
    let em = fast();
    for n in [2, 3] {
        let (w, tables) = pitr_world(em, FAST).await;
        let outcomes = together(&w, n);
        let winners: Vec<_> = outcomes.iter().filter(|(s, _)| *s == 0).collect();
        assert_eq!(winners.len(), 1, "{n} processes: {outcomes:#?}");
        for (status, out) in outcomes.iter().filter(|(s, _)| *s != 0) {
            assert_eq!(*status, 2, "{out}");
            assert!(out.contains("is locked by run"), "{out}");
            assert!(out.contains("pid ") && out.contains("on host"), "{out}");
            assert!(out.contains("nothing was started"), "{out}");
        }
        // Only the winner has a run; it adopted nothing and restored every
        // table once.
        let all = runs(w.dir.path());
        assert_eq!(all.len(), 1, "{all:?}");
        let winner = all.iter().next().cloned().unwrap_or_default();
        assert!(
            journal(&w, &winner)
                .iter()
                .all(|r| r["adopted"] != Value::Bool(true)),
            "the winner adopted a table"
        );
        let restores = w.restores();
        for t in &tables {
            assert_eq!(restores.get(t).map(Vec::len), Some(1), "{t}: {restores:#?}");
            assert_eq!(w.tags(t).await.get("restoreplan:run"), Some(&winner));
        }

        if n == 3 {
            // A later apply of the same plan finds the tables taken and
            // starts nothing; the tables stay the winner's.
            let (status, out) = run_any(&w, &["apply", "plan.yaml", "--yes"], "later.log");
            assert_eq!(status, 1, "{out}");
            assert!(out.contains("nothing was started"), "{out}");
            assert_eq!(runs(w.dir.path()).len(), 1);
            for t in &tables {
                assert_eq!(w.tags(t).await.get("restoreplan:run"), Some(&winner));
            }
            // Another plan's run in the same account, with its own tables.
            let other = std::fs::read_to_string(w.dir.path().join("plan.yaml"))
                .expect("the plan")
                .replace("name: shared", "name: other")
                .replace("{table}-dr", "{table}-copy");
            w.write("other.yaml", &other);
            let (status, out) = run_any(&w, &["apply", "other.yaml", "--yes"], "other.log");
            assert_eq!(status, 0, "{out}");
            let later = runs(w.dir.path())
                .into_iter()
                .find(|r| *r != winner)
                .expect("the other run");
            let copies: Vec<String> = tables.iter().map(|t| t.replace("-dr", "-copy")).collect();
            // Teardown of each run deletes only its own tables.
            let (status, out) = run_any(&w, &["teardown", &later, "--yes"], "teardown-later.log");
            assert_eq!(status, 0, "{out}");
            let left = w.tables().await;
            for t in &tables {
                assert!(left.contains(t), "teardown of {later} deleted {t}: {out}");
            }
            for t in &copies {
                assert!(!left.contains(t), "{t} is still there: {out}");
            }
            let (status, out) = run_any(&w, &["teardown", &winner, "--yes"], "teardown.log");
            assert_eq!(status, 0, "{out}");
            let left = w.tables().await;
            for t in &tables {
                assert!(!left.contains(t), "{t} is still there: {out}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_while_the_run_is_applied_is_refused_and_a_killed_runs_lock_is_taken_over() {
    let em = fast();
    let w = World::new(em, FAST).await;
    for t in ["big-a", "big-b"] {
        // 200 GiB: restores of about 9 s at this time scale.
        w.source(t, 200).await;
    }
    let mut plan = w.header("locked", 2, None);
    plan.push_str("  - table: big-a\n  - table: big-b\n");
    w.write("plan.yaml", &plan);
    let mut child = w
        .command(&["apply", "plan.yaml", "--yes", "--no-progress"])
        .spawn(&w.dir.path().join("first.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        if let Some(r) = runs(w.dir.path()).into_iter().next() {
            break r;
        }
        assert!(
            Instant::now() < deadline && child.try_wait().ok().flatten().is_none(),
            "the run never started: {}",
            std::fs::read_to_string(w.dir.path().join("first.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let (status, out) = run_any(&w, &["apply", "--resume", &run, "--yes"], "second.log");
    assert_eq!(status, 2, "{out}");
    assert!(
        out.contains(&format!("is locked by run {run} (pid {}", child.id())),
        "{out}"
    );
    // kill -9: the lock stays behind, its holder gone.
    let _ = child.kill();
    let _ = child.wait();
    let (status, out) = run_any(&w, &["apply", "--resume", &run, "--yes"], "resume.log");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("took over the lock"), "{out}");
    let records = journal(&w, &run);
    assert!(
        records
            .iter()
            .any(|r| r["record"] == "lock-taken-over" && r["previous"]["run_id"] == run.as_str()),
        "the takeover is not journaled"
    );
    for (t, jobs) in w.restores() {
        assert_eq!(jobs.len(), 1, "{t}: {jobs:#?}");
    }
}

/// Starts `apply` of a plan of two restores of about 9 s each in `w`;
/// returns the process and its run id once the run's journal exists.
fn start_slow_apply(w: &World, log: &str) -> (std::process::Child, String) {
    let mut child = w
        .command(&["apply", "plan.yaml", "--yes", "--no-progress"])
        .spawn(&w.dir.path().join(log));
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        if let Some(r) = runs(w.dir.path()).into_iter().next() {
            break r;
        }
        assert!(
            Instant::now() < deadline && child.try_wait().ok().flatten().is_none(),
            "the run never started: {}",
            std::fs::read_to_string(w.dir.path().join(log)).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    (child, run)
}

async fn slow_world(name: &str) -> World {
    let w = World::new(fast(), FAST).await;
    for t in ["big-a", "big-b"] {
        // 200 GiB: restores of about 9 s at this time scale.
        w.source(t, 200).await;
    }
    let mut plan = w.header(name, 2, None);
    plan.push_str("  - table: big-a\n  - table: big-b\n");
    w.write("plan.yaml", &plan);
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teardown_while_the_run_is_applied_is_refused_and_a_killed_runs_lock_is_taken_over() {
    let w = slow_world("torn").await;
    let (mut child, run) = start_slow_apply(&w, "apply.log");
    let journal_path = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(&run)
        .join("journal.jsonl");
    let (status, out) = run_any(&w, &["teardown", &run, "--yes"], "teardown-live.log");
    assert_eq!(status, 2, "{out}");
    assert!(
        out.contains(&format!("is locked by run {run} (pid {}", child.id())),
        "{out}"
    );
    assert!(out.contains("on host ") && out.contains(", user "), "{out}");
    assert!(out.contains(" since "), "{out}");
    assert!(out.contains("nothing was deleted"), "{out}");
    assert!(!out.contains("deleted "), "{out}");
    // The apply carries on undisturbed and finishes with every table.
    let status = child.wait().expect("apply runs");
    let applied = std::fs::read_to_string(w.dir.path().join("apply.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{applied}");
    let tables = w.tables().await;
    assert!(
        tables.contains("big-a-dr") && tables.contains("big-b-dr"),
        "{tables:?}"
    );
    for (t, jobs) in w.restores() {
        assert_eq!(jobs.len(), 1, "{t}: {jobs:#?}");
    }
    let records = journal(&w, &run);
    assert!(
        !records
            .iter()
            .any(|r| r["record"] == "delete-intent" || r["record"] == "deleted"),
        "the refused teardown journaled a deletion"
    );
    assert!(journal_path.is_file());
    // Once the apply is over, teardown works.
    let (status, out) = run_any(&w, &["teardown", &run, "--yes"], "teardown.log");
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("deleted big-a-dr") && out.contains("deleted big-b-dr"),
        "{out}"
    );
    let left = w.tables().await;
    assert!(
        !left.contains("big-a-dr") && !left.contains("big-b-dr"),
        "{left:?}"
    );

    // kill -9 of an apply leaves its lock behind; teardown takes it over.
    let w = slow_world("torn-killed").await;
    let (mut child, run) = start_slow_apply(&w, "apply.log");
    let _ = child.kill();
    let _ = child.wait();
    let (status, out) = run_any(&w, &["teardown", &run, "--yes"], "teardown-killed.log");
    assert_ne!(status, 2, "{out}");
    assert!(!out.contains("is locked by"), "{out}");
    assert!(
        out.contains("took over the lock") && out.contains(&format!("from run {run} (pid")),
        "{out}"
    );
    assert!(
        journal(&w, &run)
            .iter()
            .any(|r| r["record"] == "lock-taken-over" && r["previous"]["run_id"] == run.as_str()),
        "the takeover is not journaled"
    );
}

/// The outage test's emulator: restores of 600 s × 0.08 = 48 s, long
/// enough for a 60 s outage to straddle them.
const OUTAGE_SCALE: &str = "0.08";
const OUTAGE_TRIALS: u64 = 10;
const OUTAGE: Duration = Duration::from_secs(60);

fn outage_emulator() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", OUTAGE_SCALE]))
}

/// One trial: a plan of three restores through its own proxy, the proxy
/// down for 60 s starting `delay` after the run's journal appears.
fn outage_trial(n: u64, delay: Duration) -> String {
    let em = outage_emulator();
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let w = rt.block_on(World::new(em, OUTAGE_SCALE));
    let names = ["alpha", "beta", "gamma"];
    for t in names {
        rt.block_on(w.source(t, 0));
    }
    let mut plan = w.header("outage", 3, None);
    for t in names {
        plan.push_str(&format!("  - table: {t}\n"));
    }
    w.write("plan.yaml", &plan);
    let proxy = Proxy::start(&em.endpoint);
    let log = w.dir.path().join("apply.log");
    let mut child = w
        .command(&["apply", "plan.yaml", "--yes", "--format", "json"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .spawn(&log);
    let deadline = Instant::now() + Duration::from_secs(120);
    while runs(w.dir.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "trial {n}: the run never started"
        );
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "trial {n}: apply ended before its run started: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(delay);
    let journal_at_cut = {
        let run = runs(w.dir.path()).into_iter().next().unwrap_or_default();
        journal(&w, &run)
    };
    proxy.set_down(true);
    std::thread::sleep(OUTAGE);
    proxy.set_down(false);
    let status = child.wait().expect("apply runs");
    let out = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "trial {n}: {out}");
    let stdout: String = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .collect::<Vec<_>>()
        .join("\n");
    let evs = events(&crate::test::Output {
        stdout,
        stderr: String::new(),
        status: 0,
    });
    let run = run_id(&evs);
    let retried = evs.iter().filter(|e| e["event"] == "retrying").count();
    assert!(retried > 0, "trial {n}: the outage hit no call: {out}");
    let restores = w.restores();
    for t in names {
        let table = format!("{t}-dr");
        let jobs = &restores[&table];
        assert_eq!(jobs.len(), 1, "trial {n}: {table}: {jobs:#?}");
        assert_eq!(jobs[0]["status"], "COMPLETED", "trial {n}: {table}");
        assert_eq!(
            rt.block_on(w.tags(&table)).get("restoreplan:run"),
            Some(&run),
            "trial {n}: {table}"
        );
    }
    let in_flight = journal_at_cut
        .iter()
        .filter(|r| r["record"] == "started")
        .count()
        - journal_at_cut
            .iter()
            .filter(|r| r["record"] == "active")
            .count();
    format!(
        "trial {n:2}: cut {:4.1} s after the journal appeared, {in_flight} restores in flight, {retried} retries",
        delay.as_secs_f64()
    )
}

#[test]
fn a_sixty_second_outage_at_seeded_moments_fails_no_restore() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("RESTOREPLAN_OUTAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261201);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // Cuts spread over the first 40 s of the runs: before, during and at
    // the end of the 48 s restores.
    let slice = 40_000 / OUTAGE_TRIALS;
    let delays: Vec<Duration> = (0..OUTAGE_TRIALS)
        .map(|n| Duration::from_millis(n * slice + rng.random_range(0..slice)))
        .collect();
    println!("outage test: seed {seed} (RESTOREPLAN_OUTAGE_SEED), cuts at {delays:?}");
    outage_emulator();
    let started = Instant::now();
    let lines: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = delays
            .iter()
            .enumerate()
            .map(|(n, d)| s.spawn(move || outage_trial(n as u64, *d)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("a trial panicked"))
            .collect()
    });
    for l in &lines {
        println!("{l}");
    }
    println!(
        "{} trials at once in {:.1} s",
        lines.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lines.len() as u64, OUTAGE_TRIALS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_is_carried_on_with_retry_failed_once_the_cause_is_fixed() {
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        FAST,
        "--fail-table",
        "hub-dr",
    ])));
    let w = World::new(em, FAST).await;
    for t in ["hub", "spoke", "other"] {
        w.source(t, 0).await;
    }
    let plan = w
        .header("retry", 1, None)
        .replace("on_failure: continue", "on_failure: stop")
        + "  - table: hub\n  - table: spoke\n    depends_on: [hub]\n  - table: other\n";
    w.write("plan.yaml", &plan);
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let evs = events(&out);
    let run = run_id(&evs);
    let failed: BTreeSet<String> = evs
        .iter()
        .filter(|e| e["event"] == "restore-failed")
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(failed, BTreeSet::from(["hub".to_owned()]), "{}", out.stderr);
    // A plain resume says what to do.
    let again = w.run(&["apply", "--resume", &run, "--yes"], 2);
    assert!(again.stderr.contains("--retry-failed"), "{}", again.stderr);

    // Fix the cause, then carry on.
    let config = em.post(
        "/_restoreplan/config",
        &serde_json::json!({"fail_tables": []}),
    );
    assert_eq!(config["fail_tables"], serde_json::json!([]));
    let out = w.run(
        &[
            "apply",
            "--resume",
            &run,
            "--retry-failed",
            "--yes",
            "--format",
            "json",
        ],
        0,
    );
    let evs = events(&out);
    let completed: BTreeSet<String> = evs
        .iter()
        .filter(|e| e["event"] == "restore-completed")
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        completed,
        ["hub", "spoke", "other"]
            .map(str::to_owned)
            .into_iter()
            .collect()
    );

    // One successful job per table; the failed one's retry used a new token.
    let restores = w.restores();
    let mut by_table: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (t, jobs) in &restores {
        let ok = jobs.iter().filter(|j| j["status"] == "COMPLETED").count();
        let failed = jobs.iter().filter(|j| j["status"] == "FAILED").count();
        by_table.insert(t.as_str(), (ok, failed));
    }
    assert_eq!(
        by_table,
        BTreeMap::from([
            ("hub-dr", (1, 1)),
            ("other-dr", (1, 0)),
            ("spoke-dr", (1, 0))
        ])
    );
    let hub = &restores["hub-dr"];
    assert_ne!(hub[0]["idempotency_token"], hub[1]["idempotency_token"]);
    let records = journal(&w, &run);
    let retries: Vec<&Value> = records.iter().filter(|r| r["record"] == "retry").collect();
    assert_eq!(
        retries.len(),
        3,
        "hub, and the two it stopped: {retries:#?}"
    );
    let intents: Vec<&str> = records
        .iter()
        .filter(|r| r["record"] == "start-intent" && r["index"] == 0)
        .filter_map(|r| r["token"].as_str())
        .collect();
    assert_eq!(intents.len(), 2);
    assert_ne!(intents[0], intents[1]);
    assert!(
        hub.iter()
            .any(|j| j["status"] == "COMPLETED" && j["idempotency_token"] == intents[1]),
        "{hub:#?}"
    );
    let listed = w.local(&["runs", "--json"], 0);
    let v: Value = serde_json::from_str(&listed.stdout).expect("runs --json");
    assert_eq!(v["runs"][0]["status"], "finished", "{}", listed.stdout);
    // Nothing is left to retry.
    let none = w.run(&["apply", "--resume", &run, "--retry-failed", "--yes"], 2);
    assert!(
        none.stderr.contains("no failed or skipped restore"),
        "{}",
        none.stderr
    );
    let _ = EAST;
}
