//! `apply`, `runs` and `teardown` through the real binary against the
//! emulator, with scenarios seeded only through AWS APIs, each in fresh
//! accounts. What the executor claims is checked against what the emulator
//! recorded: its restore log (one job per table, start and finish times,
//! the most restores ever in flight per account) and its request log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use aws_sdk_dynamodb::types::Tag;
use serde_json::Value;

use crate::support::aws::Aws;
use crate::support::emulator::Emulator;
use crate::test::{Output, Test};

const EAST: &str = "us-east-1";

/// Restores take `600 s × TIME_SCALE` (1.2 s) and more for larger tables;
/// `apply` scales its waits by the same factor.
pub const TIME_SCALE: &str = "0.002";

/// An emulator whose restores take about a second, shared by the tests of
/// this file that inject no faults (each uses its own accounts).
pub fn fast() -> &'static Emulator {
    static FAST: OnceLock<Emulator> = OnceLock::new();
    FAST.get_or_init(|| Emulator::start(&["--time-scale", TIME_SCALE]))
}

/// Settings-changing operations, as the emulator's request log names them.
const SETTING_OPS: [&str; 4] = [
    "TagResource",
    "UpdateContinuousBackups",
    "UpdateTimeToLive",
    "UpdateTable",
];

/// One fresh account with a vault `dr`, a working directory and SDK clients.
pub struct World {
    pub em: &'static Emulator,
    pub acct: String,
    pub aws: Aws,
    pub dir: tempfile::TempDir,
    time_scale: String,
}

impl World {
    pub async fn new(em: &'static Emulator, time_scale: &str) -> World {
        let acct = em.fresh_account();
        let aws = Aws::new(em, &acct, EAST).await;
        aws.vault("dr").await;
        World {
            em,
            acct,
            aws,
            dir: tempfile::tempdir().expect("a temporary directory"),
            time_scale: time_scale.to_owned(),
        }
    }

    /// Creates table `name` with two items and a modeled size of `gib` GiB,
    /// and backs it up into `dr`; returns the recovery point ARN.
    pub async fn source(&self, name: &str, gib: u64) -> String {
        let arn = self.aws.table(name, None, 2).await;
        if gib > 0 {
            self.aws
                .ddb
                .tag_resource()
                .resource_arn(&arn)
                .tags(
                    Tag::builder()
                        .key("restoreplan-emulator:size-bytes")
                        .value((gib << 30).to_string())
                        .build()
                        .expect("a tag"),
                )
                .send()
                .await
                .expect("TagResource");
        }
        self.aws.backup("dr", &arn).await
    }

    /// The plan's header: source and target are this account, the vault
    /// `dr`, names `{table}-dr`, a `purpose` tag on every table.
    pub fn header(&self, name: &str, concurrency: u32, key: Option<&str>) -> String {
        let acct = &self.acct;
        let keys = key
            .map(|k| format!("keys:\n  dr: {{ arn: \"{k}\" }}\n"))
            .unwrap_or_default();
        format!(
            "version: 1\nname: {name}\nobjectives: {{ rto: 4h }}\n\
             source: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST}, vault: dr, role: \"arn:aws:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
             {keys}defaults:\n  name: \"{{table}}-dr\"\n  after_restore:\n    tags: {{ purpose: rehearsal }}\n\
             execution: {{ concurrency: {concurrency}, on_failure: continue }}\nrestores:\n"
        )
    }

    /// Writes `plan.yaml` (or another name) into the working directory.
    pub fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(file);
        std::fs::write(&path, text).expect("write the plan");
        path
    }

    /// Runs the binary in the working directory against the emulator, with
    /// the test role into this account and the emulator's time scale.
    pub fn run(&self, args: &[&str], status: i32) -> Output {
        self.command(args).status(status).run()
    }

    /// The command [`World::run`] runs, to adjust before running.
    pub fn command(&self, args: &[&str]) -> Test {
        Test::new()
            .args(args.iter().copied())
            .current_dir(self.dir.path())
            .emulator(self.em)
            .roles(&[&self.acct])
            .env("RESTOREPLAN_TIME_SCALE", &self.time_scale)
    }

    /// Runs a command that does not talk to AWS (`runs`) in the working directory.
    pub fn local(&self, args: &[&str], status: i32) -> Output {
        Test::new()
            .args(args.iter().copied())
            .current_dir(self.dir.path())
            .status(status)
            .run()
    }

    /// The emulator's restores in this account, by target table.
    pub fn restores(&self) -> BTreeMap<String, Vec<Value>> {
        let log = self.em.control("/_restoreplan/restores");
        let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for r in log["restores"].as_array().expect("a restore log") {
            if r["account"] == self.acct.as_str() {
                let table = r["target_table"].as_str().unwrap_or("?").to_owned();
                out.entry(table).or_default().push(r.clone());
            }
        }
        out
    }

    /// The most restores ever in flight at once in this account.
    pub fn max_concurrent(&self) -> u64 {
        self.em.control("/_restoreplan/restores")["max_concurrent"][&self.acct]
            .as_u64()
            .unwrap_or(0)
    }

    /// The emulator's request log for this account.
    pub fn requests(&self) -> Vec<Value> {
        let log = self.em.control("/_restoreplan/requests");
        log["requests"]
            .as_array()
            .expect("a request log")
            .iter()
            .filter(|r| r["account"] == self.acct.as_str())
            .cloned()
            .collect()
    }

    /// Every table of this account in the Region.
    pub async fn tables(&self) -> BTreeSet<String> {
        let out = self.aws.ddb.list_tables().send().await.expect("ListTables");
        out.table_names().iter().cloned().collect()
    }

    /// The tags of table `name`.
    pub async fn tags(&self, name: &str) -> BTreeMap<String, String> {
        let arn = format!("arn:aws:dynamodb:{EAST}:{}:table/{name}", self.acct);
        let out = self
            .aws
            .ddb
            .list_tags_of_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("ListTagsOfResource");
        out.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }
}

/// The JSON events of `apply --format json`.
pub fn events(out: &Output) -> Vec<Value> {
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The run id from the `run-started` event.
pub fn run_id(events: &[Value]) -> String {
    events
        .iter()
        .find(|e| e["event"] == "run-started")
        .and_then(|e| e["run_id"].as_str())
        .expect("a run-started event")
        .to_owned()
}

/// Ids of the restores with event `kind`.
pub fn ids_with(events: &[Value], kind: &str) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| e["event"] == kind)
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

/// A restore of the test plans: its id (also its table), what it depends
/// on, its encryption and whether it sets every after-restore setting.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub deps: Vec<String>,
    pub encryption: &'static str,
    pub settings: bool,
}

impl Node {
    pub fn new(id: &str, deps: &[&str]) -> Node {
        Node {
            id: id.to_owned(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
            encryption: "owned",
            settings: false,
        }
    }

    pub fn yaml(&self) -> String {
        let mut s = format!("  - table: {}\n", self.id);
        if !self.deps.is_empty() {
            s.push_str(&format!("    depends_on: [{}]\n", self.deps.join(", ")));
        }
        match self.encryption {
            "cmk" => s.push_str("    encryption: { type: customer-managed, key: dr }\n"),
            "managed" => s.push_str("    encryption: { type: dynamodb-managed }\n"),
            _ => {}
        }
        if self.settings {
            s.push_str(
                "    after_restore:\n      point_in_time_recovery: true\n      deletion_protection: true\n      \
                 ttl: { attribute: expires_at }\n      stream: new-and-old-images\n      tags: { tier: critical }\n",
            );
        }
        s
    }
}

/// Thirty restores: four diamonds (the second after the first, the fourth
/// after the third), a chain of six, a fan-in of three branches and seven
/// independent restores. Customer-managed keys and every after-restore
/// setting on the diamonds' bottoms, the chain's end and the fan-in.
pub fn thirty() -> Vec<Node> {
    let mut nodes = Vec::new();
    for k in 0..4 {
        let top = format!("d{k}-top");
        let after: Vec<String> = match k {
            1 => vec!["d0-bottom".into()],
            3 => vec!["d2-bottom".into()],
            _ => vec![],
        };
        let after: Vec<&str> = after.iter().map(String::as_str).collect();
        nodes.push(Node::new(&top, &after));
        nodes.push(Node::new(&format!("d{k}-left"), &[&top]));
        nodes.push(Node::new(&format!("d{k}-right"), &[&top]));
        let mut bottom = Node::new(
            &format!("d{k}-bottom"),
            &[&format!("d{k}-left"), &format!("d{k}-right")],
        );
        bottom.encryption = "cmk";
        bottom.settings = true;
        nodes.push(bottom);
    }
    for i in 0..6 {
        let prev = format!("ch{}", i.max(1) - 1);
        let deps: Vec<&str> = if i == 0 { vec![] } else { vec![&prev] };
        let mut n = Node::new(&format!("ch{i}"), &deps);
        if i % 2 == 0 {
            n.encryption = "cmk";
        }
        n.settings = i == 5;
        nodes.push(n);
    }
    let mut fan = Node::new("fan-in", &["d1-bottom", "d3-bottom", "ch5"]);
    fan.settings = true;
    fan.encryption = "managed";
    nodes.push(fan);
    for i in 0..7 {
        let mut n = Node::new(&format!("solo{i}"), &[]);
        if i < 3 {
            n.encryption = "managed";
        }
        n.settings = i == 0;
        nodes.push(n);
    }
    nodes
}

/// The tables a node's restore creates.
pub fn target(id: &str) -> String {
    format!("{id}-dr")
}

/// Seeds a source table and its recovery point for every node.
pub async fn seed(w: &World, nodes: &[Node]) {
    for (i, n) in nodes.iter().enumerate() {
        // Sizes of 0 to 30 GiB: restores of 1.2 to 2.4 s.
        w.source(&n.id, (i as u64 % 4) * 10).await;
    }
}

/// Checks a restored table with the SDK: ACTIVE, the run's tags, and, when
/// the plan set them, PITR, deletion protection, TTL, the stream and the key.
pub async fn assert_restored(w: &World, n: &Node, plan: &str, run: &str, key: &str) {
    let name = target(&n.id);
    let t = w
        .aws
        .ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTable {name}: {e:?}"));
    let t = t.table().expect("a table");
    assert_eq!(
        t.table_status().map(|s| s.as_str()),
        Some("ACTIVE"),
        "{name}"
    );
    let tags = w.tags(&name).await;
    assert_eq!(tags.get("restoreplan:plan").map(String::as_str), Some(plan));
    assert_eq!(tags.get("restoreplan:run").map(String::as_str), Some(run));
    assert_eq!(
        tags.get("purpose").map(String::as_str),
        Some("rehearsal"),
        "{name}"
    );
    let sse_key = t.sse_description().and_then(|s| s.kms_master_key_arn());
    match n.encryption {
        "cmk" => assert_eq!(
            sse_key,
            Some(key),
            "{name} is encrypted with the plan's key"
        ),
        "managed" => assert!(
            sse_key.is_some_and(|k| k != key),
            "{name} uses the AWS managed key: {sse_key:?}"
        ),
        _ => assert_eq!(sse_key, None, "{name} uses an AWS owned key"),
    }
    let pitr = w
        .aws
        .ddb
        .describe_continuous_backups()
        .table_name(&name)
        .send()
        .await
        .expect("DescribeContinuousBackups");
    let pitr_on = pitr
        .continuous_backups_description()
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .map(|s| s.as_str())
        == Some("ENABLED");
    let ttl = w
        .aws
        .ddb
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .expect("DescribeTimeToLive");
    let ttl = ttl.time_to_live_description();
    let stream = t
        .stream_specification()
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_owned());
    if n.settings {
        assert!(pitr_on, "{name}: point-in-time recovery");
        assert_eq!(t.deletion_protection_enabled(), Some(true), "{name}");
        assert_eq!(
            ttl.and_then(|t| t.time_to_live_status())
                .map(|s| s.as_str()),
            Some("ENABLED"),
            "{name}: TTL"
        );
        assert_eq!(
            ttl.and_then(|t| t.attribute_name()),
            Some("expires_at"),
            "{name}"
        );
        assert_eq!(stream.as_deref(), Some("NEW_AND_OLD_IMAGES"), "{name}");
        assert_eq!(tags.get("tier").map(String::as_str), Some("critical"));
    } else {
        assert!(!pitr_on, "{name}: the plan did not ask for PITR");
        assert_ne!(t.deletion_protection_enabled(), Some(true), "{name}");
        assert_eq!(stream, None, "{name}");
    }
}

/// Every restore started after each of its dependencies finished and after
/// the last change to the dependency's settings, by the emulator's clocks.
pub fn assert_dependency_order(w: &World, nodes: &[Node]) {
    let restores = w.restores();
    let requests = w.requests();
    let created = |id: &str| -> f64 {
        let r = &restores[&target(id)];
        assert_eq!(r.len(), 1, "one restore of {id}: {r:#?}");
        r[0]["created"].as_f64().expect("created")
    };
    for n in nodes {
        let start = created(&n.id);
        for d in &n.deps {
            let dep = &restores[&target(d)][0];
            let finished = dep["finished"].as_f64().expect("the dependency finished");
            assert!(
                finished <= start,
                "{} started at {start} before {d} finished at {finished}",
                n.id
            );
            let settings: Vec<f64> = requests
                .iter()
                .filter(|r| r["table"] == target(d).as_str() && r["status"] == 200)
                .filter(|r| SETTING_OPS.iter().any(|op| r["operation"] == *op))
                .filter_map(|r| r["time"].as_f64())
                .collect();
            assert!(
                !settings.is_empty(),
                "{d}'s settings were changed (at least the run tags)"
            );
            let last = settings.iter().copied().fold(f64::MIN, f64::max);
            assert!(
                last < start,
                "{} started at {start} before {d}'s settings were done at {last}",
                n.id
            );
        }
    }
}

#[tokio::test]
async fn a_thirty_restore_plan_runs_in_dependency_order_within_its_caps() {
    let w = World::new(fast(), TIME_SCALE).await;
    let key = w.aws.key(false).await;
    let nodes = thirty();
    assert_eq!(nodes.len(), 30);
    seed(&w, &nodes).await;
    let mut plan = w.header("thirty", 7, Some(&key));
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);

    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let events = events(&out);
    let run = run_id(&events);
    let completed = ids_with(&events, "restore-completed");
    let all: BTreeSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(completed, all, "{}", out.stderr);

    // One restore job per table, every one COMPLETED, in dependency order.
    let restores = w.restores();
    assert_eq!(
        restores.keys().cloned().collect::<BTreeSet<_>>(),
        nodes.iter().map(|n| target(&n.id)).collect::<BTreeSet<_>>()
    );
    for (table, jobs) in &restores {
        assert_eq!(jobs.len(), 1, "{table}: {jobs:#?}");
        assert_eq!(jobs[0]["status"], "COMPLETED", "{table}");
        assert_eq!(jobs[0]["kind"], "backup", "{table}");
    }
    assert_dependency_order(&w, &nodes);

    // The cap held, and was used: more than one restore ran at once.
    let peak = w.max_concurrent();
    println!("most restores in flight at once: {peak} (concurrency 7)");
    assert!(peak <= 7, "{peak} restores in flight at once, cap 7");
    assert!(peak >= 4, "only {peak} restores ran at once");

    for n in &nodes {
        assert_restored(&w, n, "thirty", &run, &key).await;
    }

    // The run is listed as finished with every restore completed.
    let runs = w.local(&["runs", "--json"], 0);
    let runs: Value = serde_json::from_str(&runs.stdout).expect("runs --json");
    let this = &runs["runs"][0];
    assert_eq!(this["run_id"], run.as_str());
    assert_eq!(this["status"], "finished");
    assert_eq!(this["completed"], 30);
}

#[tokio::test]
async fn apply_refuses_a_saved_plan_once_latest_moves_and_runs_an_unchanged_one() {
    let w = World::new(fast(), TIME_SCALE).await;
    let key = w.aws.key(false).await;
    w.source("orders", 0).await;
    let first_items = w.source("items", 0).await;
    let mut plan = w.header("reviewed", 4, Some(&key));
    let mut items = Node::new("items", &["orders"]);
    items.encryption = "cmk";
    plan.push_str(&Node::new("orders", &[]).yaml());
    plan.push_str(&items.yaml());
    w.write("plan.yaml", &plan);
    w.run(&["plan", "plan.yaml", "--out", "reviewed.json"], 0);

    // A newer backup of `items` reaches the vault: `latest` moves on.
    // (Recovery points are ordered by creation time, to the second.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let table = format!("arn:aws:dynamodb:{EAST}:{}:table/items", w.acct);
    let newer = w.aws.backup("dr", &table).await;
    let refused = w.run(
        &[
            "apply",
            "plan.yaml",
            "--plan-file",
            "reviewed.json",
            "--yes",
        ],
        1,
    );
    let e = &refused.stderr;
    assert!(e.contains("no longer matches what AWS resolves now"), "{e}");
    assert!(e.contains("~ items: recovery point"), "{e}");
    assert!(e.contains(&format!("- {first_items}")), "{e}");
    assert!(e.contains(&format!("+ {newer}")), "{e}");
    assert!(!e.contains("~ orders"), "orders did not change: {e}");
    assert!(e.contains("nothing was started"), "{e}");
    assert!(w.restores().is_empty(), "nothing was restored");
    // (The run lock's directory may exist; no run has a journal.)
    assert!(
        std::fs::read_dir(w.dir.path().join(".restoreplan/runs"))
            .map(|d| d
                .flatten()
                .all(|e| !e.path().join("journal.jsonl").exists()))
            .unwrap_or(true),
        "no run was recorded"
    );

    // Not a saved plan at all: a usage error, before any AWS call.
    w.write("notes.json", r#"{"notes": []}"#);
    let bad = w.run(
        &["apply", "plan.yaml", "--plan-file", "notes.json", "--yes"],
        2,
    );
    assert!(bad.stderr.contains("no `schema_version`"), "{}", bad.stderr);

    // Reviewed again, the same plan applies, from the newer recovery point.
    w.run(&["plan", "plan.yaml", "--out", "reviewed.json"], 0);
    let out = w.run(
        &[
            "apply",
            "plan.yaml",
            "--plan-file",
            "reviewed.json",
            "--yes",
            "--format",
            "json",
        ],
        0,
    );
    let done = ids_with(&events(&out), "restore-completed");
    assert_eq!(done, BTreeSet::from(["orders".into(), "items".into()]));
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(w.dir.path().join("reviewed.json")).expect("saved plan"),
    )
    .expect("JSON");
    assert_eq!(
        saved["restores"][1]["recovery_point"]["arn"],
        newer.as_str(),
        "the reviewed plan names the newer recovery point"
    );
    assert_eq!(w.restores().len(), 2);
}

/// Restores of the fault-injection run: `hub` fails in AWS; `hub-a` and
/// `hub-c` depend on it, `hub-b` on `hub-a`; `side` feeds `hub-c` too.
pub fn with_a_failing_hub() -> Vec<Node> {
    let mut nodes = vec![
        Node::new("hub", &[]),
        Node::new("side", &[]),
        Node::new("hub-a", &["hub"]),
        Node::new("hub-b", &["hub-a"]),
        Node::new("hub-c", &["hub", "side"]),
    ];
    for i in 0..4 {
        let prev = format!("link{}", i.max(1) - 1);
        let deps: Vec<&str> = if i == 0 { vec![] } else { vec![&prev] };
        nodes.push(Node::new(&format!("link{i}"), &deps));
    }
    for i in 0..15 {
        nodes.push(Node::new(&format!("free{i}"), &[]));
    }
    for n in nodes.iter_mut().step_by(4) {
        n.settings = true;
    }
    nodes
}

#[tokio::test]
async fn under_throttling_and_errors_only_the_failed_restores_dependents_are_skipped() {
    // The failing table is set from the start; the fault rates only once
    // the scenario is seeded (the seeding helpers do not retry).
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        TIME_SCALE,
        "--fail-table",
        "hub-dr",
    ])));
    let w = World::new(em, TIME_SCALE).await;
    let nodes = with_a_failing_hub();
    assert_eq!(nodes.len(), 24);
    seed(&w, &nodes).await;
    let mut plan = w.header("faults", 6, None);
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);
    let config = em.post(
        "/_restoreplan/config",
        &serde_json::json!({"throttle_rate": 0.2, "error_rate": 0.05, "fault_seed": 20261124}),
    );
    assert_eq!(config["throttle_rate"], 0.2);
    assert_eq!(config["fail_tables"], serde_json::json!(["hub-dr"]));

    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let events = events(&out);
    assert!(!events.is_empty(), "the run did not start: {}", out.stderr);
    let run = run_id(&events);

    let failed = ids_with(&events, "restore-failed");
    assert_eq!(failed, BTreeSet::from(["hub".to_owned()]), "{}", out.stderr);
    let skipped: BTreeMap<String, String> = events
        .iter()
        .filter(|e| e["event"] == "restore-skipped")
        .map(|e| {
            (
                e["id"].as_str().unwrap_or("?").to_owned(),
                e["reason"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        BTreeMap::from([
            ("hub-a".into(), "depends on `hub`, which failed".into()),
            (
                "hub-b".into(),
                "depends on `hub-a`, which was skipped because `hub` failed".into()
            ),
            ("hub-c".into(), "depends on `hub`, which failed".into()),
        ])
    );
    let completed = ids_with(&events, "restore-completed");
    let others: BTreeSet<String> = nodes
        .iter()
        .map(|n| n.id.clone())
        .filter(|id| !id.starts_with("hub"))
        .collect();
    assert_eq!(completed, others);

    // The final report says the same, with the causes.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(
            w.dir
                .path()
                .join(".restoreplan/runs")
                .join(&run)
                .join("report.json"),
        )
        .expect("report.json"),
    )
    .expect("JSON");
    let outcome = |id: &str| {
        report["restores"]
            .as_array()
            .expect("restores")
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["outcome"].clone())
            .unwrap_or_default()
    };
    assert_eq!(outcome("hub")["state"], "failed");
    assert!(
        outcome("hub")["cause"]
            .as_str()
            .is_some_and(|c| c.contains("--fail-table")),
        "{}",
        outcome("hub")
    );
    assert_eq!(outcome("hub-b")["state"], "skipped");
    assert_eq!(outcome("free3")["state"], "completed");

    // Faults were injected and retried...
    let requests = w.requests();
    let faults = requests.iter().filter(|r| r["fault"] == true).count();
    let retries = events.iter().filter(|e| e["event"] == "retrying").count();
    println!(
        "{} requests, {faults} faulted, {retries} retried by the executor",
        requests.len()
    );
    assert!(
        faults > 10,
        "only {faults} faults in {} requests",
        requests.len()
    );

    // ...yet exactly one restore job per table was started, none for the
    // skipped ones.
    let restores = w.restores();
    let started: BTreeSet<String> = restores.keys().cloned().collect();
    let expected: BTreeSet<String> = others
        .iter()
        .chain(std::iter::once(&"hub".to_owned()))
        .map(|id| target(id))
        .collect();
    assert_eq!(started, expected);
    for (table, jobs) in &restores {
        assert_eq!(jobs.len(), 1, "{table}: {jobs:#?}");
    }
    assert_eq!(restores["hub-dr"][0]["status"], "FAILED");

    // Every StartRestoreJob of a table, retried or not, sent the same
    // token, the one its job was started with; every faulted one was sent
    // again until it got through.
    let mut starts: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in requests
        .iter()
        .filter(|r| r["operation"] == "StartRestoreJob")
    {
        starts
            .entry(r["target_table"].as_str().unwrap_or("?").to_owned())
            .or_default()
            .push(r);
    }
    assert_eq!(starts.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let mut resent = 0;
    for (table, calls) in &starts {
        let job_token = &restores[table][0]["idempotency_token"];
        assert!(
            job_token.as_str().is_some_and(|t| t.len() == 64),
            "{job_token}"
        );
        for c in calls {
            assert_eq!(&c["idempotency_token"], job_token, "{table}");
        }
        if calls.iter().any(|c| c["fault"] == true) {
            assert!(
                calls.last().is_some_and(|c| c["fault"] != true),
                "{table}: a faulted StartRestoreJob was never sent again: {calls:#?}"
            );
        }
        if calls.len() > 1 {
            resent += 1;
        }
    }
    // Which requests draw a fault depends on arrival order, so how many
    // starts were resent varies from run to run; the rule above holds always.
    println!(
        "{resent} of {} StartRestoreJob calls were sent more than once",
        starts.len()
    );
}

/// Creates `name` through the SDK with `tags` (a table of someone else's).
async fn foreign_table(w: &World, name: &str, tags: &[(&str, &str)]) {
    let arn = w.aws.table(name, None, 0).await;
    for (k, v) in tags {
        w.aws
            .ddb
            .tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key(*k).value(*v).build().expect("a tag"))
            .send()
            .await
            .expect("TagResource");
    }
}

async fn delete(w: &World, name: &str) {
    w.aws
        .ddb
        .delete_table()
        .table_name(name)
        .send()
        .await
        .expect("DeleteTable");
}

#[tokio::test]
async fn teardown_deletes_exactly_the_runs_tables_and_refuses_others_loudly() {
    let w = World::new(fast(), TIME_SCALE).await;
    let mut nodes: Vec<Node> = ["alpha", "bravo", "charlie", "delta"]
        .iter()
        .map(|id| Node::new(id, &[]))
        .collect();
    // Deletion protection on: teardown turns it off first.
    nodes[0].settings = true;
    seed(&w, &nodes).await;
    let mut plan = w.header("teardown", 4, None);
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);
    let run = run_id(&events(
        &w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0),
    ));
    let forged = [
        ("restoreplan:plan", "teardown"),
        ("restoreplan:run", run.as_str()),
    ];
    // Someone replaces `bravo-dr` with a table of their own, untagged...
    delete(&w, "bravo-dr").await;
    foreign_table(&w, "bravo-dr", &[]).await;
    // ...and `charlie-dr` with one that carries this run's tags, forged.
    delete(&w, "charlie-dr").await;
    foreign_table(&w, "charlie-dr", &forged).await;
    // A table named like the run's, with forged tags, that no restore made.
    foreign_table(&w, "echo-dr", &forged).await;
    let start = w.requests().len();

    // Without --yes and without a terminal: refusals shown, nothing deleted.
    let asked = w.run(&["teardown", &run], 2);
    assert!(asked.stderr.contains("pass --yes"), "{}", asked.stderr);
    assert!(asked.stderr.contains("REFUSED"), "{}", asked.stderr);

    let out = w.run(&["teardown", &run, "--yes"], 1);
    let e = &out.stderr;
    assert!(
        e.contains("REFUSED: will not delete table `bravo-dr`"),
        "{e}"
    );
    assert!(
        e.contains("REFUSED: will not delete table `charlie-dr`"),
        "{e}"
    );
    // DynamoDB's TableId tells both from the tables the run created, forged
    // tags or not.
    assert_eq!(
        e.matches("was replaced after this run created it").count(),
        2,
        "{e}"
    );
    assert!(!e.contains("echo-dr") && !out.stdout.contains("echo-dr"));
    assert!(out.stdout.contains("deleted alpha-dr"), "{}", out.stdout);
    assert!(out.stdout.contains("deleted delta-dr"), "{}", out.stdout);

    let left = w.tables().await;
    let expected: BTreeSet<String> = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "bravo-dr",
        "charlie-dr",
        "echo-dr",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(left, expected);
    // The only deletions teardown sent: the run's two tables.
    let deletes: Vec<String> = w.requests()[start..]
        .iter()
        .filter(|r| r["operation"] == "DeleteTable" && r["status"] == 200)
        .filter_map(|r| r["table"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    // Deletion protection, set by the plan on `alpha-dr`, went off first.
    let requests = w.requests();
    let alpha: Vec<&str> = requests[start..]
        .iter()
        .filter(|r| r["table"] == "alpha-dr" && r["status"] == 200)
        .filter_map(|r| r["operation"].as_str())
        .filter(|op| matches!(*op, "UpdateTable" | "DeleteTable"))
        .collect();
    assert_eq!(alpha, ["UpdateTable", "DeleteTable"]);
    assert_eq!(
        deletes.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from(["alpha-dr".to_owned(), "delta-dr".to_owned()])
    );

    // Run again: nothing left to delete, the refusals still loud.
    let again = w.run(&["teardown", &run, "--yes"], 1);
    assert!(
        again.stdout.contains("no table to delete"),
        "{}",
        again.stdout
    );
    assert!(again.stderr.contains("`charlie-dr`"), "{}", again.stderr);
    let runs: Value =
        serde_json::from_str(&w.local(&["runs", "--json"], 0).stdout).expect("runs --json");
    assert_eq!(runs["runs"][0]["status"], "torn-down");
}

/// The crash tests' emulators (restores of 0.6 to 1.2 s), trial `n` on the
/// `n`-th of them: one emulator is one Python process, so the trials at once
/// (twelve, with both crash tests running) would otherwise queue on one core
/// for every journal write and poll.
fn crash_emulator(n: u64) -> &'static Emulator {
    static CRASH: OnceLock<Vec<Emulator>> = OnceLock::new();
    let pool = CRASH.get_or_init(|| {
        std::thread::scope(|s| {
            let starting: Vec<_> = (0..CRASH_EMULATORS)
                .map(|_| s.spawn(|| Emulator::start(&["--time-scale", CRASH_SCALE])))
                .collect();
            starting
                .into_iter()
                .map(|t| t.join().expect("an emulator started"))
                .collect()
        })
    });
    &pool[(n % CRASH_EMULATORS) as usize]
}

/// How many emulators the crash tests share.
const CRASH_EMULATORS: u64 = 4;

const CRASH_SCALE: &str = "0.001";

/// Trials of the crash test, and how many run at once (each in its own
/// account; the restoreplan processes mostly wait on the emulator).
const CRASH_TRIALS: u64 = 12;
const CRASH_PARALLEL: u64 = 4;

/// Kill moments fall in `0..CRASH_WINDOW_MS`, which covers the whole of an
/// uninterrupted run of the plan below (2 to 3 s after its journal appears,
/// with four trials at once on two cores): trial `n` of `N` is killed at a
/// random moment of the `n`-th `N`th of the window, so the kills span the
/// live checks, restores in flight, settings and the end of the run. The
/// first `CRASH_EARLY` trials count from the start of the process (a kill in
/// the live checks, before the journal exists); the others count from the
/// moment the run's journal appears, so a slow start on a loaded machine
/// does not push every kill before the run.
const CRASH_WINDOW_MS: u64 = 3500;
const CRASH_EARLY: u64 = 2;

/// Eight restores: a chain of four with every after-restore setting (one
/// with a customer-managed key), two more with settings, two without.
fn crash_nodes() -> Vec<Node> {
    let mut nodes = Vec::new();
    for i in 0..4 {
        let prev = format!("key{}", i.max(1) - 1);
        let deps: Vec<&str> = if i == 0 { vec![] } else { vec![&prev] };
        let mut n = Node::new(&format!("key{i}"), &deps);
        n.settings = true;
        if i == 1 {
            n.encryption = "cmk";
        }
        nodes.push(n);
    }
    for i in 0..4 {
        let mut n = Node::new(&format!("sat{i}"), &[]);
        n.settings = i < 2;
        if i == 1 {
            n.encryption = "managed";
        }
        nodes.push(n);
    }
    nodes
}

/// Where each restore stood when the process was killed, from the journal.
fn phases_at_kill(journal: &std::path::Path) -> BTreeMap<String, usize> {
    let Ok(text) = std::fs::read_to_string(journal) else {
        return BTreeMap::from([("no journal yet".to_owned(), 1)]);
    };
    // A line cut short by the kill is not a record.
    let records: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    phases_of(&records)
}

/// Where each restore stood, from journal records.
fn phases_of(records: &[Value]) -> BTreeMap<String, usize> {
    let mut last: BTreeMap<u64, String> = BTreeMap::new();
    for r in records {
        if let (Some(i), Some(kind)) = (r["index"].as_u64(), r["record"].as_str()) {
            last.insert(i, kind.to_owned());
        }
    }
    let mut phases = BTreeMap::new();
    for kind in last.values() {
        let phase = match kind.as_str() {
            "start-intent" => "starting",
            "started" => "restoring",
            "active" | "change-intent" | "change-done" => "in settings",
            "completed" => "completed",
            other => other,
        };
        *phases.entry(phase.to_owned()).or_default() += 1;
    }
    if phases.is_empty() {
        phases.insert("no restore started".to_owned(), 1);
    }
    phases
}

/// The lease of the crash trials with a shared backend: a killed run is
/// resumed once it expired.
const CRASH_LEASE_SECONDS: u64 = 5;

/// One trial: seed fresh accounts, start `apply`, `kill -9` it after
/// `delay_ms`, resume until done, check the emulator's logs and the tables.
/// With `shared`, the run lives in a DynamoDB backend (`state init`, then
/// `RESTOREPLAN_STATE`) and each resume waits for the killed lease.
/// Returns a line describing the kill.
fn crash_trial(n: u64, delay_ms: u64, shared: bool) -> (String, BTreeMap<String, usize>) {
    let trial_started = std::time::Instant::now();
    let em = crash_emulator(n);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let w = rt.block_on(World::new(em, CRASH_SCALE));
    let state = shared.then(|| {
        let url = format!(
            "dynamodb://restoreplan-crash-{0}?region=us-east-1&account={0}",
            w.acct
        );
        w.command(&["state", "init", &url]).run();
        url
    });
    let cmd = |args: &[&str]| match &state {
        Some(url) => w
            .command(args)
            .env("RESTOREPLAN_STATE", url.as_str())
            .env("RESTOREPLAN_LEASE_SECONDS", CRASH_LEASE_SECONDS.to_string()),
        None => w.command(args),
    };
    let key = rt.block_on(w.aws.key(false));
    let nodes = crash_nodes();
    rt.block_on(seed(&w, &nodes));
    let mut plan = w.header("crash", 4, Some(&key));
    for node in &nodes {
        plan.push_str(&node.yaml());
    }
    w.write("plan.yaml", &plan);
    let fast = ["--max-requests-per-second", "200"];

    let mut child = cmd(&["apply", "plan.yaml", "--yes"])
        .args(fast)
        .spawn(&w.dir.path().join("killed.log"));
    if n >= CRASH_EARLY {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let store = state
            .as_ref()
            .map(|url| crate::state_shared::open_store(&w, url));
        let no_run = || match &store {
            Some(s) => s.list().map(|l| l.is_empty()).unwrap_or(true),
            None => crate::apply_safety::runs(w.dir.path()).is_empty(),
        };
        while no_run()
            && matches!(child.try_wait(), Ok(None))
            && std::time::Instant::now() < deadline
        {
            // A shared backend is listed over HTTP: poll it gently, so
            // the polling of eight trials does not slow the emulator down.
            std::thread::sleep(std::time::Duration::from_millis(if store.is_some() {
                100
            } else {
                10
            }));
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let finished_first = matches!(child.try_wait(), Ok(Some(_)));
    // SIGKILL: no handler runs, the journal is left as it is.
    let _ = child.kill();
    let _ = child.wait();
    if state.is_some() {
        // A shared backend trusts only the lease: wait for it.
        std::thread::sleep(std::time::Duration::from_millis(
            CRASH_LEASE_SECONDS * 1000 + 300,
        ));
    }

    let runs_dir = w.dir.path().join(".restoreplan/runs");
    let listed = |w: &World| -> Vec<Value> {
        let out = match &state {
            Some(_) => cmd(&["runs", "--json"]).run(),
            None => w.local(&["runs", "--json"], 0),
        };
        let v: Value = serde_json::from_str(&out.stdout).expect("runs --json");
        v["runs"].as_array().cloned().unwrap_or_default()
    };
    let runs = listed(&w);
    let (run, phases) = match runs.first() {
        // Killed before the journal existed: nothing was started; run again.
        None => {
            cmd(&["apply", "plan.yaml", "--yes"]).args(fast).run();
            let run = listed(&w)[0]["run_id"].as_str().expect("a run").to_owned();
            (run, BTreeMap::from([("no journal yet".to_owned(), 1)]))
        }
        Some(r) => {
            let run = r["run_id"].as_str().expect("a run id").to_owned();
            let phases = match &state {
                Some(url) => phases_of(&crate::state_shared::journal_records(&w, url, &run)),
                None => phases_at_kill(&runs_dir.join(&run).join("journal.jsonl")),
            };
            let mut attempts = 0;
            while listed(&w)[0]["status"] != "finished" {
                attempts += 1;
                assert!(attempts <= 3, "trial {n}: resumed {attempts} times");
                cmd(&["apply", "--resume", &run, "--yes"]).args(fast).run();
            }
            (run, phases)
        }
    };
    let line = format!(
        "trial {n:2} ({:.1} s): killed {delay_ms:4} ms after {}{}; restores then: {}",
        trial_started.elapsed().as_secs_f64(),
        if n < CRASH_EARLY {
            "the start"
        } else {
            "the journal appeared"
        },
        if finished_first {
            " (the run had already finished)"
        } else {
            ""
        },
        phases
            .iter()
            .map(|(p, c)| format!("{c} {p}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Every table restored exactly once, by one job per table.
    let restores = w.restores();
    let expected: BTreeSet<String> = nodes.iter().map(|x| target(&x.id)).collect();
    assert_eq!(
        restores.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{line}"
    );
    for (table, jobs) in &restores {
        assert_eq!(jobs.len(), 1, "{line}: {table} restored twice: {jobs:#?}");
        assert_eq!(jobs[0]["status"], "COMPLETED", "{line}: {table}");
    }
    // Resent starts carried the token of the one job.
    for r in w.requests() {
        if r["operation"] == "StartRestoreJob" {
            let table = r["target_table"].as_str().unwrap_or("?");
            assert_eq!(
                r["idempotency_token"], restores[table][0]["idempotency_token"],
                "{line}: {table}"
            );
        }
    }
    // The dependency order held across the kill, and every setting is in effect.
    assert_dependency_order(&w, &nodes);
    for node in &nodes {
        rt.block_on(assert_restored(&w, node, "crash", &run, &key));
    }
    (line, phases)
}

#[test]
fn killed_at_random_moments_and_resumed_every_table_is_restored_once() {
    crash_trials(false);
}

/// The same trials with the run in a shared DynamoDB backend.
#[test]
fn killed_at_random_moments_with_shared_state_in_dynamodb_and_resumed_every_table_is_restored_once()
{
    crash_trials(true);
}

fn crash_trials(shared: bool) {
    use rand::{Rng, SeedableRng};
    // With a shared backend each trial mostly waits (journal writes over
    // HTTP, the killed lease): twice as many at once.
    let parallel = if shared {
        CRASH_PARALLEL * 2
    } else {
        CRASH_PARALLEL
    };
    let seed: u64 = std::env::var("RESTOREPLAN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261124);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let early = 1500 / CRASH_EARLY;
    // With a shared backend every record is a request over HTTP: the run
    // takes longer, so the kills spread over a window three times as long.
    let window = if shared {
        CRASH_WINDOW_MS * 3
    } else {
        CRASH_WINDOW_MS
    };
    let slice = window / (CRASH_TRIALS - CRASH_EARLY);
    let delays: Vec<u64> = (0..CRASH_TRIALS)
        .map(|n| {
            if n < CRASH_EARLY {
                n * early + rng.random_range(0..early)
            } else {
                (n - CRASH_EARLY) * slice + rng.random_range(0..slice)
            }
        })
        .collect();
    println!("crash test: seed {seed} (RESTOREPLAN_CRASH_SEED), kill moments in ms: {delays:?}");
    crash_emulator(0);
    let started = std::time::Instant::now();
    let results: Vec<(String, BTreeMap<String, usize>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..parallel)
            .map(|k| {
                let delays = &delays;
                s.spawn(move || {
                    (0..CRASH_TRIALS)
                        .filter(|n| n % parallel == k)
                        .map(|n| {
                            let r = crash_trial(n, delays[n as usize], shared);
                            println!("{}", r.0);
                            r
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a trial panicked"))
            .collect()
    });
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, phases) in &results {
        for p in [
            "no journal yet",
            "no restore started",
            "starting",
            "restoring",
            "in settings",
        ] {
            if phases.contains_key(p) {
                *kills.entry(p).or_default() += 1;
            }
        }
    }
    println!(
        "{} trials in {:.1} s; kills with a restore in each state: {kills:?}",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(results.len() as u64, CRASH_TRIALS);
    assert!(
        kills.get("restoring").is_some_and(|&k| k > 0),
        "no kill landed while a restore was running: {kills:?}"
    );
}
