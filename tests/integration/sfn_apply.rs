//! `apply --engine step-functions`: the real binary deploys the plan's
//! state machine into the emulator (which runs it), follows the execution
//! into the local engine's events, journal and report, and `runs`,
//! `apply --resume` and `teardown` work on the run.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::apply::{
    Node, World, assert_dependency_order, assert_restored, events, ids_with, run_id, seed, target,
    thirty,
};
use crate::support::emulator::Emulator;

const SCALE: &str = "0.002";

/// An emulator whose restores take about a second and which runs Step
/// Functions executions.
fn executing() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", SCALE, "--execute-state-machines"]))
}

/// The role the state machine runs as, in the world's account.
fn role(w: &World) -> String {
    format!("arn:aws:iam::{}:role/restoreplan-state-machine", w.acct)
}

/// The plan's header with `engine: step-functions` and the state
/// machine's role in the world's account.
fn header(w: &World, name: &str, concurrency: u32, key: Option<&str>, engine: bool) -> String {
    let h = w.header(name, concurrency, key);
    if !engine {
        return h;
    }
    let keyed = h.replace(
        "on_failure: continue }",
        &format!(
            "on_failure: continue, engine: step-functions, step_functions: {{ role: \"{}\" }} }}",
            role(w)
        ),
    );
    assert_ne!(keyed, h);
    keyed
}

fn plan_of(w: &World, name: &str, concurrency: u32, key: Option<&str>, nodes: &[Node]) -> String {
    let mut plan = header(w, name, concurrency, key, true);
    for n in nodes {
        plan.push_str(&n.yaml());
    }
    plan
}

/// `runs --json`, the entry of `run`.
fn listed(w: &World, run: &str) -> Value {
    let out = w.local(&["runs", "--json"], 0);
    let v: Value = serde_json::from_str(&out.stdout).expect("runs --json");
    v["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["run_id"] == run)
        .cloned()
        .unwrap_or_else(|| panic!("run {run} not listed: {}", out.stdout))
}

/// The records of the run's journal.
fn journal(w: &World, run: &str) -> Vec<Value> {
    let path = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(run)
        .join("journal.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The one run under the world's runs directory, once it exists.
fn the_run(w: &World) -> Option<String> {
    let dir = w.dir.path().join(".restoreplan/runs");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("journal.jsonl").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_restores_run_on_step_functions_in_order_within_the_cap() {
    let w = World::new(executing(), SCALE).await;
    let key = w.aws.key(false).await;
    let nodes = thirty();
    seed(&w, &nodes).await;
    // The engine and the role from the command line.
    let mut plan = header(&w, "thirty", 7, Some(&key), false);
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);
    // --detach is for the Step Functions engine only, and refused before
    // anything is journaled.
    let refused = w.run(&["apply", "plan.yaml", "--yes", "--detach"], 2);
    assert!(
        refused.stderr.contains("Step Functions"),
        "{}",
        refused.stderr
    );
    assert_eq!(the_run(&w), None);
    let role = role(&w);
    let out = w.run(
        &[
            "apply",
            "plan.yaml",
            "--engine",
            "step-functions",
            "--state-machine-role",
            &role,
            "--yes",
            "--format",
            "json",
        ],
        0,
    );
    let ev = events(&out);
    let run = run_id(&ev);
    let all: BTreeSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids_with(&ev, "restore-completed"), all, "{}", out.stderr);
    assert_eq!(ids_with(&ev, "restore-starting"), all);
    assert_eq!(ids_with(&ev, "restore-active"), all);
    let finished = ev.last().expect("events");
    assert_eq!(finished["event"], "run-finished");
    assert_eq!(finished["completed"], 30);
    assert_eq!(finished["pending"], 0);
    // One restore job per table, each after its dependencies.
    let restores = w.restores();
    assert_eq!(
        restores.keys().cloned().collect::<BTreeSet<_>>(),
        nodes.iter().map(|n| target(&n.id)).collect::<BTreeSet<_>>()
    );
    for (table, jobs) in &restores {
        assert_eq!(jobs.len(), 1, "{table}: {jobs:#?}");
    }
    assert_dependency_order(&w, &nodes);
    let peak = w.max_concurrent();
    println!("most restores in flight at once: {peak} (concurrency 7)");
    assert!(peak <= 7, "{peak} restores in flight at once, cap 7");
    assert!(peak >= 3, "only {peak} restores ran at once");
    for n in &nodes {
        assert_restored(&w, n, "thirty", &run, &key).await;
    }
    // Every setting applied is in the events, as with the local engine.
    let settings = ev
        .iter()
        .filter(|e| e["event"] == "setting-applied")
        .count();
    assert!(settings >= 30, "{settings} settings applied");
    // The journal names the engine; `runs` lists the run as finished;
    // the report is kept with it.
    let records = journal(&w, &run);
    let engine = records
        .iter()
        .find(|r| r["record"] == "engine")
        .expect("an engine record");
    assert_eq!(engine["engine"], "step-functions");
    assert!(
        engine["execution_arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":execution:restoreplan-thirty:{run}")),
        "{engine}"
    );
    let entry = listed(&w, &run);
    assert_eq!(entry["status"], "finished", "{entry}");
    let report = w.local(&["runs", "--report", &run], 0);
    assert!(report.stdout.contains("recovery"), "{}", report.stdout);
    // Teardown removes the run's tables.
    w.run(&["teardown", &run, "--yes"], 0);
    let left = w.tables().await;
    for n in &nodes {
        assert!(!left.contains(&target(&n.id)), "{} left: {left:?}", n.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_throttling_a_failed_table_skips_only_its_dependents() {
    use crate::apply::with_a_failing_hub;
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        SCALE,
        "--execute-state-machines",
        "--fail-table",
        "hub-dr",
    ])));
    let w = World::new(em, SCALE).await;
    let nodes = with_a_failing_hub();
    seed(&w, &nodes).await;
    w.write("plan.yaml", &plan_of(&w, "faults", 6, None, &nodes));
    // Every call from here on may be throttled: the live checks, the
    // deployment, the state machine's own tasks and the follower's looks.
    em.post(
        "/_restoreplan/config",
        &serde_json::json!({"throttle_rate": 0.2, "fault_seed": 20261201}),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    em.post(
        "/_restoreplan/config",
        &serde_json::json!({"throttle_rate": 0.0}),
    );
    let ev = events(&out);
    let ids = |kind: &str| ids_with(&ev, kind);
    assert_eq!(
        ids("restore-failed"),
        BTreeSet::from(["hub".to_owned()]),
        "{}",
        out.stderr
    );
    let dependents: BTreeSet<String> = ["hub-a", "hub-b", "hub-c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ids("restore-skipped"), dependents);
    let others: BTreeSet<String> = nodes
        .iter()
        .map(|n| n.id.clone())
        .filter(|id| id != "hub" && !dependents.contains(id))
        .collect();
    assert_eq!(ids("restore-completed"), others);
    let restores = w.restores();
    for n in &nodes {
        let jobs = restores.get(&target(&n.id)).map_or(0, Vec::len);
        let expected = usize::from(!dependents.contains(&n.id));
        assert_eq!(jobs, expected, "{}: {jobs} restore jobs", n.id);
    }
    assert!(w.max_concurrent() <= 6, "the cap of 6 held");
    let throttled = w.requests().iter().filter(|r| r["fault"] == true).count();
    println!("throttled calls: {throttled}");
    assert!(throttled > 0, "the run was throttled");
    // The skip names its cause, and the journal and `runs` agree.
    let skipped = ev
        .iter()
        .find(|e| e["event"] == "restore-skipped" && e["id"] == "hub-a")
        .unwrap();
    assert!(
        skipped["reason"].as_str().unwrap().contains("`hub`"),
        "{skipped}"
    );
    let run = run_id(&ev);
    let entry = listed(&w, &run);
    assert_eq!(
        (
            entry["status"].as_str(),
            entry["failed"].as_u64(),
            entry["skipped"].as_u64()
        ),
        (Some("failed"), Some(1), Some(3)),
        "{entry}"
    );
}

/// Restores of the kill and detach runs: two chains and a diamond.
fn small() -> Vec<Node> {
    vec![
        Node::new("ash", &[]),
        Node::new("birch", &["ash"]),
        Node::new("cedar", &["birch"]),
        Node::new("dogwood", &["ash"]),
        Node::new("elm", &["birch", "dogwood"]),
        Node::new("fir", &[]),
        Node::new("gum", &["fir"]),
        Node::new("hazel", &["elm", "gum"]),
    ]
}

fn assert_one_job_each_in_order(w: &World, nodes: &[Node]) {
    let restores = w.restores();
    for n in nodes {
        let jobs = restores.get(&target(&n.id)).map_or(0, Vec::len);
        assert_eq!(jobs, 1, "{}: {jobs} restore jobs", n.id);
    }
    assert_dependency_order(w, nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_follower_is_resumed_without_a_second_job() {
    let w = World::new(executing(), SCALE).await;
    let nodes = small();
    seed(&w, &nodes).await;
    w.write("plan.yaml", &plan_of(&w, "killed", 3, None, &nodes));
    let mut child = w
        .command(&["apply", "plan.yaml", "--yes", "--no-progress"])
        .spawn(&w.dir.path().join("killed.log"));
    // Kill it once the execution runs and at least one restore started.
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        if let Some(run) = the_run(&w) {
            let recs = journal(&w, &run);
            if recs.iter().any(|r| r["record"] == "engine")
                && recs.iter().any(|r| r["record"] == "started")
            {
                break run;
            }
        }
        assert!(Instant::now() < deadline, "the run did not start");
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "apply ended before it was killed: {}",
            std::fs::read_to_string(w.dir.path().join("killed.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SIGKILL: no handler runs; the execution goes on in the emulator.
    let _ = child.kill();
    let _ = child.wait();
    let before = journal(&w, &run)
        .iter()
        .filter(|r| r["record"] == "completed")
        .count();
    assert!(before < nodes.len(), "killed before the end");
    assert_eq!(listed(&w, &run)["status"], "incomplete");
    let out = w.run(&["apply", "--resume", &run, "--yes", "--format", "json"], 0);
    let ev = events(&out);
    assert_eq!(ev[0]["event"], "run-started");
    assert_eq!(ev[0]["resumed"], true);
    let finished = ev.last().unwrap();
    assert_eq!(finished["event"], "run-finished");
    assert_eq!(finished["pending"], 0, "{}", out.stderr);
    // Each restore is journaled once: what the killed follower recorded is
    // not recorded again.
    let records = journal(&w, &run);
    for kind in ["started", "completed"] {
        let n = records.iter().filter(|r| r["record"] == kind).count();
        assert_eq!(n, nodes.len(), "{kind} records: {n}");
    }
    assert_one_job_each_in_order(&w, &nodes);
    assert_eq!(listed(&w, &run)["status"], "finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_returns_at_once_and_resume_follows_to_the_end() {
    let w = World::new(executing(), SCALE).await;
    let nodes = small();
    seed(&w, &nodes).await;
    w.write("plan.yaml", &plan_of(&w, "detached", 4, None, &nodes));
    let out = w.run(&["apply", "plan.yaml", "--yes", "--detach"], 0);
    println!(
        "$ restoreplan apply plan.yaml --yes --detach\n{}{}",
        out.stderr, out.stdout
    );
    assert!(
        out.stdout.contains("restoreplan apply --resume"),
        "{}",
        out.stdout
    );
    let run = the_run(&w).expect("the run is journaled");
    assert!(out.stdout.contains(&run), "{}", out.stdout);
    let entry = listed(&w, &run);
    assert_eq!(entry["engine"], "step-functions", "{entry}");
    assert!(
        entry["execution_arn"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!(":{run}"))),
        "{entry}"
    );
    // Ctrl-C detaches a follower; the execution goes on.
    let log = w.dir.path().join("interrupted.log");
    let mut child = w
        .command(&["apply", "--resume", &run, "--yes", "--no-progress"])
        .spawn(&log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal(&w, &run).iter().all(|r| r["record"] != "resumed") {
        assert!(Instant::now() < deadline, "the follower did not start");
        assert!(matches!(child.try_wait(), Ok(None)), "ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("the follower ends");
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("detached"), "{said}");
    assert!(
        !w.requests()
            .iter()
            .any(|r| r["operation"] == "StopExecution"),
        "the execution was not stopped"
    );
    // A later process follows the execution to its end.
    let out = w.run(&["apply", "--resume", &run, "--yes"], 0);
    println!(
        "$ restoreplan apply --resume {run} --yes\n{}{}",
        out.stderr, out.stdout
    );
    assert!(out.stdout.contains("recovery"), "{}", out.stdout);
    assert_one_job_each_in_order(&w, &nodes);
    assert_eq!(listed(&w, &run)["status"], "finished");
    // Nothing left to follow.
    let again = w.run(&["apply", "--resume", &run, "--yes"], 2);
    assert!(
        again.stderr.contains("already finished"),
        "{}",
        again.stderr
    );
    let runs = w.local(&["runs"], 0);
    println!("$ restoreplan runs\n{}", runs.stdout);
    let down = w.run(&["teardown", &run, "--yes"], 0);
    println!(
        "$ restoreplan teardown {run} --yes\n{}{}",
        down.stderr, down.stdout
    );
    let left = w.tables().await;
    assert!(nodes.iter().all(|n| !left.contains(&target(&n.id))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_execution_is_redriven_and_reattempts_only_what_did_not_complete() {
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        SCALE,
        "--execute-state-machines",
        "--fail-table",
        "hub-dr",
    ])));
    let w = World::new(em, SCALE).await;
    let nodes = vec![
        Node::new("hub", &[]),
        Node::new("side", &[]),
        Node::new("hub-a", &["hub"]),
        Node::new("hub-b", &["hub-a"]),
        Node::new("hub-c", &["hub", "side"]),
        Node::new("free0", &[]),
        Node::new("free1", &["side"]),
    ];
    seed(&w, &nodes).await;
    w.write("plan.yaml", &plan_of(&w, "redriven", 3, None, &nodes));
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    let run = run_id(&ev);
    assert_eq!(
        ids_with(&ev, "restore-failed"),
        BTreeSet::from(["hub".to_owned()]),
        "{}",
        out.stderr
    );
    let dependents: BTreeSet<String> = ["hub-a", "hub-b", "hub-c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ids_with(&ev, "restore-skipped"), dependents);
    let first: BTreeSet<String> = ["side", "free0", "free1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ids_with(&ev, "restore-completed"), first);
    assert_eq!(listed(&w, &run)["status"], "failed");

    // The fault is gone; the same execution is redriven.
    em.post(
        "/_restoreplan/config",
        &serde_json::json!({"fail_tables": []}),
    );
    let out = w.run(&["apply", "--resume", &run, "--yes", "--format", "json"], 0);
    println!("$ restoreplan apply --resume {run} --yes\n{}", out.stderr);
    assert!(out.stderr.contains("redriving execution"), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "putting back 1 failed restore(s) (`hub`) as their next attempt and 3 skipped"
        ),
        "{}",
        out.stderr
    );
    let ev = events(&out);
    let all: BTreeSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let again: BTreeSet<String> = all.difference(&first).cloned().collect();
    // The failed restore and its dependents complete now; the restores
    // that completed before are reported as recorded, not started again.
    assert_eq!(ids_with(&ev, "restore-completed"), again, "{}", out.stderr);
    assert_eq!(ids_with(&ev, "restore-starting"), again);
    assert_eq!(ids_with(&ev, "restore-failed"), BTreeSet::new());
    assert_eq!(ids_with(&ev, "restore-skipped"), BTreeSet::new());
    let finished = ev.last().unwrap();
    assert_eq!(finished["event"], "run-finished", "{finished}");
    assert_eq!(
        (
            finished["completed"].as_u64(),
            finished["failed"].as_u64(),
            finished["pending"].as_u64()
        ),
        (Some(7), Some(0), Some(0)),
        "{finished}"
    );
    // Redriven, not started again: one StartExecution, one RedriveExecution.
    let calls = |op: &str| w.requests().iter().filter(|r| r["operation"] == op).count();
    assert_eq!(calls("StartExecution"), 1);
    assert_eq!(calls("RedriveExecution"), 1);
    let records = journal(&w, &run);
    assert_eq!(
        records.iter().filter(|r| r["record"] == "engine").count(),
        1
    );
    assert_eq!(
        records.iter().filter(|r| r["record"] == "redriven").count(),
        1
    );
    // One restore job per table, but for the failed restore's two attempts:
    // no restore that completed got a second job.
    let restores = w.restores();
    for n in &nodes {
        let jobs = restores.get(&target(&n.id)).map_or(0, Vec::len);
        let expected = if n.id == "hub" { 2 } else { 1 };
        assert_eq!(jobs, expected, "{}: {jobs} restore jobs", n.id);
    }
    // Each dependent started after the job of its dependency that completed.
    let time = |id: &str, at: usize, field: &str| {
        restores[&target(id)][at][field]
            .as_f64()
            .unwrap_or_else(|| panic!("{id}: no {field}"))
    };
    for n in &nodes {
        let last = restores[&target(&n.id)].len() - 1;
        for d in &n.deps {
            let dep_last = restores[&target(d)].len() - 1;
            assert!(
                time(d, dep_last, "finished") <= time(&n.id, last, "created"),
                "{} started before {d} was restored",
                n.id
            );
        }
    }
    let entry = listed(&w, &run);
    assert_eq!(
        (
            entry["status"].as_str(),
            entry["failed"].as_u64(),
            entry["skipped"].as_u64()
        ),
        (Some("finished"), Some(0), Some(0)),
        "{entry}"
    );
    // The run's report: every restore completed, none failed or skipped.
    let report = w.local(&["runs", "--report", &run], 0);
    assert!(
        report.stdout.contains("7 completed, 0 failed, 0 skipped"),
        "{}",
        report.stdout
    );
    // Nothing is left to redrive.
    let done = w.run(&["apply", "--resume", &run, "--yes"], 2);
    assert!(done.stderr.contains("already finished"), "{}", done.stderr);
}

/// Percent-encoding of a form value.
fn form(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An IAM Query API call into `account` (the emulator takes the account
/// from moto's account header; it does not check signatures).
fn iam(em: &Emulator, account: &str, params: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let mut body = String::from("Version=2010-05-08");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", form(v)));
    }
    let host = em.endpoint.strip_prefix("http://").expect("http");
    let mut s = std::net::TcpStream::connect(host).expect("connect to the emulator");
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         x-moto-account-id: {account}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read response");
    assert!(out.starts_with("HTTP/1.1 200"), "IAM {params:?}: {out}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_across_two_accounts_restores_each_table_in_its_own_account() {
    let a = World::new(executing(), SCALE).await;
    let b = World::new(executing(), SCALE).await;
    // Sources in the first account; the second account's restores come from
    // copies of their recovery points in its own vault `dr`.
    let here = ["ash", "birch", "fir"];
    let there = ["cedar", "dogwood", "elm"];
    for t in here {
        a.source(t, 0).await;
    }
    for t in there {
        let rp = a.source(t, 0).await;
        a.aws.copy("dr", &rp, &b.aws.vault_arn("dr")).await;
    }
    let in_b = format!(
        "    target: {{ account: \"{acct}\", vault: dr, role: \"arn:aws:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole\" }}\n",
        acct = b.acct
    );
    // Dependencies both ways across the accounts.
    let mut plan = header(&a, "xacct", 3, None, true);
    plan.push_str("  - table: ash\n");
    plan.push_str(&format!("  - table: cedar\n    depends_on: [ash]\n{in_b}"));
    plan.push_str("  - table: birch\n    depends_on: [cedar]\n");
    plan.push_str(&format!("  - table: dogwood\n{in_b}"));
    plan.push_str(&format!(
        "  - table: elm\n    depends_on: [birch, dogwood]\n{in_b}"
    ));
    plan.push_str("  - table: fir\n    depends_on: [dogwood]\n");
    a.write("plan.yaml", &plan);
    let both = |args: &[&str]| {
        crate::test::Test::new()
            .args(args.iter().copied())
            .current_dir(a.dir.path())
            .emulator(a.em)
            .roles(&[&a.acct, &b.acct])
            .env("RESTOREPLAN_TIME_SCALE", SCALE)
    };
    // What the user creates in each target account before `apply`.
    let exported = export_task_policies(&a, &[&a.acct, &b.acct]);
    let create_role = |acct: &str| create_task_role(&a, &exported, acct, "restoreplan-xacct-tasks");
    // First with the role of the first account only: AWS refuses to assume
    // a role that does not exist, so the second account's restores fail,
    // naming the role, and only their dependents are skipped.
    create_role(&a.acct);
    let out = both(&["apply", "plan.yaml", "--yes", "--format", "json"])
        .status(1)
        .run();
    let ev = events(&out);
    let run = run_id(&ev);
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        set(&["ash"]),
        "{}",
        out.stderr
    );
    assert_eq!(ids_with(&ev, "restore-failed"), set(&["cedar", "dogwood"]));
    assert_eq!(
        ids_with(&ev, "restore-skipped"),
        set(&["birch", "elm", "fir"])
    );
    let cause = ev
        .iter()
        .find(|e| e["event"] == "restore-failed" && e["id"] == "cedar")
        .and_then(|e| e["cause"].as_str())
        .unwrap_or_default()
        .to_owned();
    let missing = format!("arn:aws:iam::{}:role/restoreplan-xacct-tasks", b.acct);
    assert!(
        cause.contains("sts:AssumeRole") && cause.contains(&missing),
        "{cause}"
    );
    assert!(
        b.restores().is_empty(),
        "nothing started in the second account"
    );
    // With the role created, the execution is redriven and the rest restored.
    create_role(&b.acct);
    let resumed = both(&["apply", "--resume", &run, "--yes", "--format", "json"])
        .status(0)
        .run();
    let again = events(&resumed);
    let all: BTreeSet<String> = here.iter().chain(&there).map(|s| s.to_string()).collect();
    let mut completed = ids_with(&ev, "restore-completed");
    completed.extend(ids_with(&again, "restore-completed"));
    assert_eq!(completed, all, "{}", resumed.stderr);
    assert!(
        ids_with(&again, "restore-completed").is_disjoint(&set(&["ash"])),
        "ash is not restored twice"
    );
    // The one state machine and its execution live in the first account.
    let engine = journal(&a, &run)
        .into_iter()
        .find(|r| r["record"] == "engine")
        .expect("an engine record");
    assert!(
        engine["execution_arn"]
            .as_str()
            .is_some_and(|e| e.contains(&format!(":{}:execution:", a.acct))),
        "{engine}"
    );
    // Each table in its own account, and only there, one job each.
    let (ra, rb) = (a.restores(), b.restores());
    for (w, other, mine, jobs) in [(&a, &b, &here, &ra), (&b, &a, &there, &rb)] {
        let names: BTreeSet<String> = mine.iter().map(|t| target(t)).collect();
        assert_eq!(
            jobs.keys().cloned().collect::<BTreeSet<_>>(),
            names,
            "restore jobs in {}",
            w.acct
        );
        for t in mine.iter() {
            assert_eq!(jobs[&target(t)].len(), 1, "{t}: {:#?}", jobs[&target(t)]);
            let d = w
                .aws
                .ddb
                .describe_table()
                .table_name(target(t))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{t} in {}: {e:?}", w.acct));
            let table = d.table().expect("a table");
            assert_eq!(table.table_status().map(|s| s.as_str()), Some("ACTIVE"));
            assert!(
                table
                    .table_arn()
                    .is_some_and(|arn| arn.contains(&format!(":{}:table/", w.acct))),
                "{t}: {:?}",
                table.table_arn()
            );
            assert!(
                !other.tables().await.contains(&target(t)),
                "{t} in {}",
                other.acct
            );
        }
    }
    // Dependencies across the accounts held: each restore started after the
    // jobs of its dependencies, in either account, finished.
    let job = |t: &str| {
        ra.get(&target(t))
            .or_else(|| rb.get(&target(t)))
            .map(|j| j[0].clone())
            .unwrap_or_else(|| panic!("no job for {t}"))
    };
    for (t, deps) in [
        ("cedar", vec!["ash"]),
        ("birch", vec!["cedar"]),
        ("elm", vec!["birch", "dogwood"]),
        ("fir", vec!["dogwood"]),
    ] {
        let start = job(t)["created"].as_f64().expect("created");
        for d in deps {
            let end = job(d)["finished"].as_f64().expect("finished");
            assert!(
                end <= start,
                "{t} started at {start} before {d} finished at {end}"
            );
        }
    }
    // The second account's tasks acted as its task role.
    let as_b: Vec<Value> = b
        .requests()
        .into_iter()
        .filter(|r| r["operation"] == "StartRestoreJob")
        .collect();
    assert_eq!(as_b.len(), there.len(), "{as_b:#?}");
}

/// A DR account (the world, which runs the state machine, vault `dr`
/// admitting the production account) and a production account whose vault
/// `prod` holds a recovery point of each node's table; the plan `name`
/// copying each point into `dr` before its restore (cap 2). With the
/// production account's id and client and the original points.
async fn copied_world(
    name: &str,
    nodes: &[Node],
) -> (World, String, crate::support::aws::Aws, Vec<String>, String) {
    use crate::support::aws::Aws;
    let em = executing();
    let w = World::new(em, SCALE).await;
    let prod = em.fresh_account();
    let src = Aws::new(em, &prod, "us-east-1").await;
    src.vault("prod").await;
    w.aws
        .backup
        .put_backup_vault_access_policy()
        .backup_vault_name("dr")
        .policy(crate::copy::admits(&prod))
        .send()
        .await
        .expect("PutBackupVaultAccessPolicy");
    let mut originals = Vec::new();
    for n in nodes {
        let arn = src.table(&n.id, None, 2).await;
        originals.push(src.backup("prod", &arn).await);
    }
    let plan = plan_of(&w, name, 2, None, nodes)
        .replacen(
            &format!("source: {{ account: \"{}\"", w.acct),
            &format!("source: {{ account: \"{prod}\""),
            1,
        )
        .replace(
            "defaults:\n",
            &format!(
                "defaults:\n  copy:\n    vault: prod\n    role: \"arn:aws:iam::{prod}:role/service-role/AWSBackupDefaultServiceRole\"\n"
            ),
        );
    assert!(
        plan.contains(&format!("source: {{ account: \"{prod}\"")),
        "{plan}"
    );
    (w, prod, src, originals, plan)
}

/// The export of `plan.yaml` into `sfn-roles/`, whose
/// `iam-policy-ACCOUNT.json` files [`create_task_role`] reads.
fn export_task_policies(w: &World, roles: &[&str]) -> std::path::PathBuf {
    w.command(&[
        "export",
        "step-functions",
        "plan.yaml",
        "--out",
        "sfn-roles",
    ])
    .roles(roles)
    .status(0)
    .run();
    w.dir.path().join("sfn-roles")
}

/// What the user creates in an account other than the state machine's
/// before `apply` (docs/step-functions.md, "Across accounts"): the task role
/// `role_name`, trusting the state machine's role, with the policy the
/// export in `exported` wrote for that account.
fn create_task_role(w: &World, exported: &std::path::Path, acct: &str, role_name: &str) {
    let policy = std::fs::read_to_string(exported.join(format!("iam-policy-{acct}.json")))
        .unwrap_or_else(|e| panic!("iam-policy-{acct}.json: {e}"));
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": role(w)}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    iam(
        w.em,
        acct,
        &[
            ("Action", "CreateRole"),
            ("RoleName", role_name),
            ("AssumeRolePolicyDocument", &trust),
        ],
    );
    iam(
        w.em,
        acct,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", role_name),
            ("PolicyName", "restoreplan-tasks"),
            ("PolicyDocument", &policy),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_step_copies_once_and_restores_the_copy_on_step_functions() {
    let nodes = [
        Node::new("base", &[]),
        Node::new("left", &["base"]),
        Node::new("right", &["base"]),
        Node::new("top", &["left", "right"]),
    ];
    let (w, prod, src, originals, plan) = copied_world("copied", &nodes).await;
    w.write("plan.yaml", &plan);
    let exported = export_task_policies(&w, &[&w.acct, &prod]);
    create_task_role(&w, &exported, &prod, "restoreplan-copied-tasks");
    let out = w
        .command(&["apply", "plan.yaml", "--yes", "--format", "json"])
        .roles(&[&w.acct, &prod])
        .status(0)
        .run();
    let ev = events(&out);
    let all: BTreeSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids_with(&ev, "copy-started"), all, "{}", out.stderr);
    assert_eq!(ids_with(&ev, "copy-completed"), all);
    assert_eq!(ids_with(&ev, "restore-completed"), all);
    // Each restore's copy came before its restore, in the events too.
    for id in &all {
        let at = |kind: &str| {
            ev.iter()
                .position(|e| e["event"] == kind && e["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{kind} of {id}"))
        };
        assert!(at("copy-completed") < at("restore-starting"), "{id}");
    }
    // One copy job per restore, in the production account, of its original.
    let copies = src
        .backup
        .list_copy_jobs()
        .send()
        .await
        .expect("ListCopyJobs");
    let jobs = copies.copy_jobs();
    assert_eq!(jobs.len(), nodes.len(), "{jobs:#?}");
    let copied: BTreeSet<String> = jobs
        .iter()
        .map(|j| j.source_recovery_point_arn().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(copied, originals.iter().cloned().collect());
    let destinations: BTreeSet<String> = jobs
        .iter()
        .map(|j| {
            assert_eq!(j.state().map(|s| s.as_str()), Some("COMPLETED"), "{j:?}");
            j.destination_recovery_point_arn()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    // One restore job per restore, of its copy in the DR vault.
    let restores = w
        .aws
        .backup
        .list_restore_jobs()
        .send()
        .await
        .expect("ListRestoreJobs");
    let restored: Vec<String> = restores
        .restore_jobs()
        .iter()
        .map(|j| j.recovery_point_arn().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(restored.len(), nodes.len(), "{restored:?}");
    assert_eq!(
        restored.iter().cloned().collect::<BTreeSet<_>>(),
        destinations,
        "every restore restored a copy"
    );
    assert!(
        restored
            .iter()
            .all(|p| p.contains(&format!(":{}:", w.acct)))
    );
    assert_dependency_order(&w, &nodes);
    // The journal holds each copy, for teardown; teardown deletes the
    // tables and the run's copies.
    let run = run_id(&ev);
    let records = journal(&w, &run);
    let completed = records
        .iter()
        .filter(|r| r["record"] == "copy-completed")
        .count();
    assert_eq!(completed, nodes.len(), "{records:#?}");
    w.command(&["teardown", &run, "--yes"])
        .roles(&[&w.acct, &prod])
        .status(0)
        .run();
    assert!(w.tables().await.iter().all(|t| !t.ends_with("-dr")));
    let left = w
        .aws
        .backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("dr")
        .send()
        .await
        .expect("ListRecoveryPointsByBackupVault");
    let left: BTreeSet<String> = left
        .recovery_points()
        .iter()
        .filter_map(|p| p.recovery_point_arn().map(str::to_owned))
        .collect();
    assert!(
        left.is_disjoint(&destinations),
        "the run's copies are deleted: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_step_policys_alarm_names_the_restored_policy_on_step_functions() {
    let w = World::new(executing(), SCALE).await;
    let (x, original) = crate::step_scaling::orders_with_a_step_policy(&w).await;
    let mut plan = header(&w, "steps", 1, None, true);
    plan.push_str("  - table: orders\n    after_restore: { auto_scaling: copy }\n");
    w.write("plan.yaml", &plan);
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        BTreeSet::from(["orders".to_owned()]),
        "{}",
        out.stderr
    );
    let copied = crate::step_scaling::step_policies(&x, "table/orders-dr").await;
    assert_eq!(copied.len(), 1, "{copied:?}");
    let alarm = crate::step_scaling::metric_alarm(&x, "orders-dr-read-high")
        .await
        .expect("the driving alarm, copied by the state machine");
    assert_eq!(alarm.alarm_actions(), [copied[0].policy_arn().to_owned()]);
    assert_ne!(copied[0].policy_arn(), original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_copy_fails_its_restore_and_skips_only_its_dependents_on_step_functions() {
    let nodes = [
        Node::new("base", &[]),
        Node::new("denied", &["base"]),
        Node::new("after", &["denied"]),
        Node::new("other", &["base"]),
    ];
    let (w, prod, src, _, plan) = copied_world("denied", &nodes).await;
    // `denied` copies into its own vault, which admits the production
    // account when the plan is checked and refuses it once the run started.
    w.aws.vault("dr2").await;
    let put = |policy: String| {
        w.aws
            .backup
            .put_backup_vault_access_policy()
            .backup_vault_name("dr2")
            .policy(policy)
            .send()
    };
    put(crate::copy::admits(&prod))
        .await
        .expect("PutBackupVaultAccessPolicy");
    let plan = plan.replace(
        "  - table: denied\n",
        "  - table: denied\n    target: { vault: dr2 }\n",
    );
    w.write("plan.yaml", &plan);
    let roles = [w.acct.as_str(), prod.as_str()];
    let exported = export_task_policies(&w, &roles);
    create_task_role(&w, &exported, &prod, "restoreplan-denied-tasks");
    w.command(&["apply", "plan.yaml", "--yes", "--detach"])
        .roles(&roles)
        .status(0)
        .run();
    let deny = crate::copy::admits(&prod).replace("\"Allow\"", "\"Deny\"");
    put(deny).await.expect("PutBackupVaultAccessPolicy (deny)");
    let run = the_run(&w).expect("the run is journaled");
    let out = w
        .command(&["apply", "--resume", &run, "--yes", "--format", "json"])
        .roles(&roles)
        .status(1)
        .run();
    let ev = events(&out);
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        ids_with(&ev, "restore-failed"),
        set(&["denied"]),
        "{}",
        out.stderr
    );
    assert_eq!(ids_with(&ev, "restore-skipped"), set(&["after"]));
    assert_eq!(ids_with(&ev, "restore-completed"), set(&["base", "other"]));
    let failed = ev
        .iter()
        .find(|e| e["event"] == "restore-failed")
        .expect("restore-failed");
    assert!(
        failed["cause"]
            .as_str()
            .is_some_and(|c| c.contains("CopyJobFAILED")),
        "{failed}"
    );
    // The failed copy started no restore; the skipped restore no copy.
    let restored = w.restores();
    assert!(!restored.contains_key(&target("denied")), "{restored:?}");
    assert!(!restored.contains_key(&target("after")), "{restored:?}");
    assert_eq!(restored[&target("other")].len(), 1);
    let jobs = src
        .backup
        .list_copy_jobs()
        .send()
        .await
        .expect("ListCopyJobs");
    let states: Vec<&str> = jobs
        .copy_jobs()
        .iter()
        .map(|j| j.state().map_or("", |s| s.as_str()))
        .collect();
    assert_eq!(
        states.len(),
        3,
        "no copy for the skipped restore: {states:?}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == "FAILED").count(),
        1,
        "{states:?}"
    );
}
