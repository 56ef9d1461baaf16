//! `export step-functions`: the definitions of the example plans and of a
//! generated 2,000-restore plan pass the `asl-validator` npm package and
//! are accepted by `CreateStateMachine` in the emulator; the real binary
//! exports a seeded plan resolved against the live account.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::Value;

use restoreplan::duration::DurationModel;
use restoreplan::exec::spec::RestoreSpec;
use restoreplan::export::{self, Options};
use restoreplan::plan::model::{Plan, StreamSetting, TtlSetting};
use restoreplan::plan::verify::{ItemBounds, Verify};
use restoreplan::plan::{CompileOptions, SourceFile, compile};

use crate::apply::{World, fast};
use crate::support::aws::base_credentials;
use crate::support::emulator::{Emulator, shared};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/asl/node_modules/.bin/asl-validator`, installed from the
/// committed lock file on first use. Without node and npm the test fails:
/// nothing is skipped.
fn validator() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = root().join("tests/asl");
        let bin = dir.join("node_modules/asl-validator/dist/bin/asl-validator.js");
        if !bin.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .status()
                .expect(
                    "npm (Node.js) is needed to validate state machines: install nodejs and npm",
                );
            assert!(status.success(), "npm ci --prefix tests/asl failed");
        }
        bin
    })
}

/// Runs asl-validator on `definition`; panics with its report when it
/// finds anything.
fn assert_valid_asl(name: &str, definition: &Value) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(format!("{name}.asl.json"));
    std::fs::write(&path, definition.to_string()).expect("write the definition");
    let out = Command::new("node")
        .arg(validator())
        .arg("--json-path")
        .arg(&path)
        .output()
        .expect("node is needed to validate state machines");
    assert!(
        out.status.success(),
        "asl-validator refused {name}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Step Functions client acting in the emulator's default account.
async fn sfn(em: &Emulator) -> aws_sdk_sfn::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&em.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(base_credentials())
        .http_client(restoreplan::aws::http_client())
        .load()
        .await;
    aws_sdk_sfn::Client::new(&conf)
}

async fn create_state_machine(em: &Emulator, name: &str, definition: &Value) {
    let client = sfn(em).await;
    let out = client
        .create_state_machine()
        .name(name)
        .role_arn("arn:aws:iam::123456789012:role/restoreplan-state-machine")
        .definition(definition.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine refused {name}: {e:?}"));
    let described = client
        .describe_state_machine()
        .state_machine_arn(out.state_machine_arn())
        .send()
        .await
        .expect("DescribeStateMachine");
    let stored: Value = serde_json::from_str(described.definition()).expect("JSON definition");
    assert_eq!(
        &stored, definition,
        "the emulator stores the definition as sent"
    );
}

fn specs_of(plan: &Plan, sizes: impl Fn(&str) -> u64) -> Vec<RestoreSpec> {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let model = DurationModel::default();
    plan.restores()
        .iter()
        .map(|r| {
            let mut s = RestoreSpec::offline(plan.name(), r, sizes(&r.table), &model, now);
            s.expect.data = r.after_restore.verify.clone();
            s
        })
        .collect()
}

fn example(file: &str) -> Plan {
    let path = root().join("plans/examples").join(file);
    let text = std::fs::read_to_string(&path).expect("read the example");
    let opts = CompileOptions::new(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    compile(SourceFile::new(file, text), &opts)
        .unwrap_or_else(|_| panic!("{file} compiles"))
        .plan
}

/// A generated plan of `n` restores, every tenth checking its item count
/// and every seventh a key, every fifth copied first from the source
/// account's vault (in the target Region), with every kind of
/// after-restore setting.
fn generated(n: usize) -> Plan {
    let shape = restoreplan::sim::generate::Shape::realistic(n);
    let (mut restores, _) = restoreplan::sim::generate::random_plan(shape, 7);
    for (i, r) in restores.iter_mut().enumerate() {
        let a = &mut r.after_restore;
        a.point_in_time_recovery = Some(restoreplan::plan::model::Copyable::Set(true));
        a.deletion_protection = Some(restoreplan::plan::model::Copyable::Set(i % 2 == 0));
        a.stream = Some(StreamSetting::NewAndOldImages);
        a.ttl = Some(TtlSetting::Attribute {
            attribute: "expires".into(),
        });
        if i % 5 == 0 {
            r.source.region = r.target.location.region.clone();
            r.copy = Some(restoreplan::plan::model::CopyStep {
                vault: "prod".into(),
                role: format!("arn:aws:iam::{}:role/copier", r.source.account),
            });
        }
        let a = &mut r.after_restore;
        if i % 10 == 0 || i % 7 == 0 {
            a.verify = Some(Verify {
                items: (i % 10 == 0).then_some(ItemBounds {
                    min: Some(1),
                    max: None,
                }),
                keys: if i % 7 == 0 {
                    vec![[("pk".to_owned(), format!("k-{i}"))].into()]
                } else {
                    Vec::new()
                },
                ..Verify::default()
            });
        }
    }
    crate::support::plans::plan(restores, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_pass_asl_validator_and_create_state_machine() {
    let em = shared();
    let mut plans: Vec<(String, Plan)> = [
        "dr-cross-account-cross-region.yaml",
        "ecommerce-environment.yaml",
        "rehearsal-same-account.yaml",
    ]
    .iter()
    .map(|f| (f.trim_end_matches(".yaml").to_owned(), example(f)))
    .collect();
    plans.push(("generated-2000".into(), generated(2000)));
    // The DR copy example within one Region: each point copied from the
    // production account's vault into the DR account's, then restored.
    let copied = example("dr-copy-from-production-vault.yaml");
    assert!(
        export::step_functions(
            &copied,
            &specs_of(&copied, |_| 4 << 30),
            &Options::new(copied.name(), "r")
        )
        .unwrap_err()
        .contains("StartCopyJob"),
        "a copy from another Region is refused"
    );
    let text =
        std::fs::read_to_string(root().join("plans/examples/dr-copy-from-production-vault.yaml"))
            .expect("read the example")
            .replace("region: us-east-1", "region: us-west-2");
    let opts = CompileOptions::new(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    let copied = compile(SourceFile::new("copied.yaml", text), &opts)
        .unwrap_or_else(|_| panic!("the copy example within one Region compiles"))
        .plan;
    plans.push(("dr-copy-one-region".into(), copied));
    for (name, plan) in &plans {
        let specs = specs_of(plan, |_| 4 << 30);
        let opts = Options::new(plan.name(), &format!("{}-run", plan.name()));
        let e = export::step_functions(plan, &specs, &opts).expect("exported");
        let size = e.definition.to_string().len();
        assert!(
            size < 1 << 20,
            "{name}: the definition is {size} bytes, over 1 MiB"
        );
        assert_valid_asl(name, &e.definition);
        create_state_machine(em, &format!("restoreplan-{name}"), &e.definition).await;
        // A lane's state holds one restore's entry, its wait tables and the
        // last response: far below 256 KiB.
        let tables =
            e.definition["States"]["Lanes"]["ItemProcessor"]["States"]["Start lane"]["Parameters"]
                .to_string()
                .len();
        let copies = plan.restores().iter().filter(|r| r.copy.is_some()).count();
        // Every restore has its coordination item, within DynamoDB's item
        // size; the run's item comes last.
        let items: Vec<&Value> = e
            .seed
            .iter()
            .flat_map(|f| f[&opts.table].as_array().unwrap())
            .collect();
        assert_eq!(items.len(), plan.restores().len() + 1, "{name}");
        let mut copy_entries = 0;
        for i in &items {
            let bytes = i.to_string().len();
            assert!(bytes < 400 * 1024, "{name}: an item of {bytes} bytes");
            if let Some(spec) = i["PutRequest"]["Item"]["spec"]["S"].as_str() {
                let state = spec.len() + tables + 16 * 1024;
                assert!(state < 64 * 1024, "{name}: a lane's state of {state} bytes");
                copy_entries += usize::from(spec.contains("\"copy\":"));
            }
        }
        assert_eq!(copy_entries, copies, "{name}: every copy step in its entry");
        if copies > 0 {
            let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
            assert!(lane.get("Start copy").is_some(), "{name}");
        }
        assert!(
            e.seed
                .iter()
                .all(|f| f[&opts.table].as_array().unwrap().len() <= 25)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exports_a_live_plan() {
    let w = World::new(fast(), "0.002").await;
    w.source("orders", 0).await;
    w.source("customers", 0).await;
    let acct = w.acct.clone();
    let text = format!(
        "{}  - table: customers\n  - table: orders\n    depends_on: [customers]\n",
        w.header("shop", 4, None)
    );
    w.write("plan.yaml", &text);
    let out = w.run(
        &[
            "export",
            "step-functions",
            "plan.yaml",
            "--out",
            "sfn",
            "--run",
            "shop-20261124T083000Z-0001",
        ],
        0,
    );
    assert!(
        out.stdout.contains("state-machine.asl.json"),
        "{}",
        out.stdout
    );
    let dir = w.dir.path().join("sfn");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).expect(f)).expect(f)
    };
    let definition = read("state-machine.asl.json");
    assert_valid_asl("shop", &definition);
    let policy = read("iam-policy.json").to_string();
    assert!(policy.contains(&format!(
        "arn:aws:dynamodb:us-east-1:{acct}:table/orders-dr"
    )));
    assert!(policy.contains(&format!("arn:aws:backup:us-east-1:{acct}:recovery-point:")));
    let template = read("template.json");
    assert_eq!(
        template["Resources"]["StateMachine"]["Properties"]["StateMachineName"],
        "restoreplan-shop"
    );
    assert_eq!(read("input.json")["table"], "restoreplan-shop-runs");
    let seed = read("seed/0001.json");
    let items = seed["restoreplan-shop-runs"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let orders = items
        .iter()
        .map(|i| &i["PutRequest"]["Item"])
        .find(|i| i["id"]["S"] == "orders")
        .unwrap();
    let spec: Value = serde_json::from_str(orders["spec"]["S"].as_str().unwrap()).unwrap();
    assert_eq!(
        spec["params"]["IdempotencyToken"],
        restoreplan::exec::spec::idempotency_token("shop-20261124T083000Z-0001", "orders")
    );
    assert!(
        spec["params"]["RecoveryPointArn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:backup:us-east-1:{acct}:recovery-point:")),
        "the recovery point `latest` resolved to: {spec}"
    );
    // With the engine keys, the export takes the plan's machine name and
    // role.
    let keyed = text.replace(
        "on_failure: continue }",
        &format!(
            "on_failure: continue, engine: step-functions, step_functions: {{ role: \"arn:aws:iam::{acct}:role/ops/restoreplan-sm\", name: shop-dr }} }}"
        ),
    );
    assert_ne!(keyed, text);
    w.write("keyed.yaml", &keyed);
    w.run(
        &["export", "step-functions", "keyed.yaml", "--out", "keyed"],
        0,
    );
    let t: Value = serde_json::from_str(
        &std::fs::read_to_string(w.dir.path().join("keyed/template.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        t["Resources"]["StateMachine"]["Properties"]["StateMachineName"],
        "shop-dr"
    );
    let role = &t["Resources"]["StateMachineRole"]["Properties"];
    assert_eq!(
        (role["RoleName"].as_str(), role["Path"].as_str()),
        (Some("restoreplan-sm"), Some("/ops/"))
    );
    // `apply` of the keyed plan deploys the same machine and starts its
    // execution (this emulator does not run executions, so nothing is
    // restored); `--detach` returns once it started.
    let started = w.run(&["apply", "keyed.yaml", "--yes", "--detach"], 0);
    assert!(
        started.stdout.contains(":execution:shop-dr:"),
        "{}",
        started.stdout
    );
    assert!(w.restores().is_empty(), "the emulator ran nothing");
    // A plan whose checks fail exports nothing.
    w.write(
        "broken.yaml",
        &format!("{}  - table: missing\n", w.header("broken", 4, None)),
    );
    w.run(
        &["export", "step-functions", "broken.yaml", "--out", "broken"],
        1,
    );
    assert!(!w.dir.path().join("broken").exists());
}

/// An emulator whose restores take about a second and which runs Step
/// Functions executions.
fn executing() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", "0.002", "--execute-state-machines"]))
}

/// A Step Functions client acting in `account` (through AssumeRole).
async fn sfn_in(em: &Emulator, account: &str) -> aws_sdk_sfn::Client {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&em.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(base_credentials())
        .http_client(restoreplan::aws::http_client())
        .load()
        .await;
    let out = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(Emulator::role(account))
        .role_session_name("sfn")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    let conf = base
        .into_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build();
    aws_sdk_sfn::Client::new(&conf)
}

/// Deploys an export by hand in the world's account, as docs/step-functions.md
/// describes it: the coordination table, its items, the state machine; then
/// starts the execution named after the run and waits for its end.
async fn run_exported(w: &World, dir: &Path, run: &str) -> aws_sdk_sfn::types::ExecutionStatus {
    run_exported_execution(w, dir, run).await.0
}

/// [`run_exported`], with the execution's ARN.
async fn run_exported_execution(
    w: &World,
    dir: &Path,
    run: &str,
) -> (aws_sdk_sfn::types::ExecutionStatus, String) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).expect(f)).expect(f)
    };
    let template = read("template.json");
    let table = template["Resources"]["CoordinationTable"]["Properties"]["TableName"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    w.aws
        .ddb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("run"))
        .attribute_definitions(attr("id"))
        .attribute_definitions(attr("rk"))
        .key_schema(key("run", KeyType::Hash))
        .key_schema(key("id", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("ready")
                .key_schema(key("run", KeyType::Hash))
                .key_schema(key("rk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable (coordination)");
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(dir.join("seed"))
        .expect("seed files")
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    for f in seeds {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for put in doc[&table].as_array().unwrap() {
            let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
                put["PutRequest"]["Item"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), attribute(v)))
                    .collect();
            w.aws
                .ddb
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await
                .expect("PutItem (seed)");
        }
    }
    let name = template["Resources"]["StateMachine"]["Properties"]["StateMachineName"]
        .as_str()
        .unwrap();
    let client = sfn_in(w.em, &w.acct).await;
    let machine = client
        .create_state_machine()
        .name(name)
        .role_arn(format!(
            "arn:aws:iam::{}:role/restoreplan-state-machine",
            w.acct
        ))
        .definition(read("state-machine.asl.json").to_string())
        .send()
        .await
        .expect("CreateStateMachine");
    let execution = client
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .name(run)
        .input(read("input.json").to_string())
        .send()
        .await
        .expect("StartExecution");
    for _ in 0..600 {
        let d = client
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .expect("DescribeExecution");
        if *d.status() != aws_sdk_sfn::types::ExecutionStatus::Running {
            eprintln!(
                "execution ended: {:?} {:?} {:?}",
                d.status(),
                d.error(),
                d.cause()
            );
            return (d.status().clone(), execution.execution_arn().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("the execution did not end in 150 s");
}

/// DynamoDB JSON (`{"S": "x"}`) as an SDK attribute value.
fn attribute(v: &Value) -> aws_sdk_dynamodb::types::AttributeValue {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let (k, inner) = v.as_object().unwrap().iter().next().unwrap();
    match k.as_str() {
        "S" => A::S(inner.as_str().unwrap().to_owned()),
        "N" => A::N(inner.as_str().unwrap().to_owned()),
        "BOOL" => A::Bool(inner.as_bool().unwrap()),
        other => panic!("no seed attribute of type {other}"),
    }
}

/// Seeds the diamond's five empty tables (base → left, right → top, and
/// `alone`) and writes `plan.yaml` for them as plan `name`, cap 2, with PITR,
/// a stream and an exact item count checked after each restore.
async fn write_diamond(w: &World, name: &str) {
    for t in ["base", "left", "right", "top", "alone"] {
        w.source(t, 0).await;
    }
    let text = format!(
        "{}  - table: base\n  - table: left\n    depends_on: [base]\n  - table: right\n    depends_on: [base]\n  \
         - table: top\n    depends_on: [left, right]\n  - table: alone\n",
        w.header(name, 2, None)
    )
    .replace(
        "    tags: { purpose: rehearsal }\n",
        "    tags: { purpose: rehearsal }\n    point_in_time_recovery: true\n    stream: new-image\n    \
         verify: { items: { min: 2, max: 2 } }\n",
    );
    w.write("plan.yaml", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_machine_restores_a_diamond_in_order() {
    let w = World::new(executing(), "0.002").await;
    write_diamond(&w, "diamond").await;
    let run = "diamond-20261124T083000Z-00aa";
    w.run(
        &[
            "export",
            "step-functions",
            "plan.yaml",
            "--out",
            "sfn",
            "--run",
            run,
        ],
        0,
    );
    let status = run_exported(&w, &w.dir.path().join("sfn"), run).await;
    assert_eq!(status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let restores = w.restores();
    for t in ["base", "left", "right", "top", "alone"] {
        let jobs = restores.get(&format!("{t}-dr")).map_or(0, Vec::len);
        assert_eq!(jobs, 1, "one restore job for {t}: {restores:?}");
        let tags = w.tags(&format!("{t}-dr")).await;
        assert_eq!(tags.get("restoreplan:run").map(String::as_str), Some(run));
        assert_eq!(tags.get("purpose").map(String::as_str), Some("rehearsal"));
    }
    assert!(w.max_concurrent() <= 2, "the cap of 2 held");
    // Each table was counted (two items each) after its settings, and the
    // result reported to AWS Backup.
    let requests = w.requests();
    let reports = requests
        .iter()
        .filter(|r| {
            r["operation"] == "PutRestoreValidationResult"
                && r["status"].as_u64().is_some_and(|s| s < 300)
        })
        .count();
    let seen: Vec<String> = requests
        .iter()
        .filter(|r| {
            r["operation"]
                .as_str()
                .is_some_and(|o| o.contains("Validation") || o == "Scan")
        })
        .map(|r| format!("{} {} {}", r["operation"], r["status"], r["table"]))
        .collect();
    assert_eq!(
        reports, 5,
        "one validation result per restore job: {seen:?}"
    );
    for t in ["base", "left", "right", "top", "alone"] {
        let ops: Vec<&str> = requests
            .iter()
            .filter(|r| r["table"] == format!("{t}-dr").as_str() && r["status"] == 200)
            .filter_map(|r| r["operation"].as_str())
            .collect();
        let at = |op: &str| ops.iter().position(|o| *o == op);
        assert!(at("UpdateContinuousBackups").is_some(), "{t}: {ops:?}");
        assert!(at("UpdateTable").is_some(), "{t}: the stream: {ops:?}");
        assert!(
            at("Scan") > at("UpdateTable"),
            "{t}: counted after the settings: {ops:?}"
        );
    }
    let time = |t: &str, field: &str| {
        restores[&format!("{t}-dr")][0][field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} of {t}: {:?}", restores[&format!("{t}-dr")]))
    };
    for (before, after) in [
        ("base", "left"),
        ("base", "right"),
        ("left", "top"),
        ("right", "top"),
    ] {
        assert!(
            time(before, "finished") <= time(after, "created"),
            "{after} started before {before} finished"
        );
    }
}

/// Each restore's state in the coordination table of run `run`.
async fn coordination_states(w: &World, table: &str, run: &str) -> BTreeMap<String, String> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let out = w
        .aws
        .ddb
        .query()
        .table_name(table)
        .key_condition_expression("#r = :r")
        .expression_attribute_names("#r", "run")
        .expression_attribute_values(":r", A::S(run.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("Query (coordination)");
    out.items()
        .iter()
        .filter_map(|i| {
            let id = i.get("id")?.as_s().ok()?.clone();
            let st = i.get("st")?.as_s().ok()?.clone();
            Some((id, st))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_machine_runs_thirty_restores_in_order_within_the_cap() {
    use crate::apply::{assert_dependency_order, assert_restored, seed, target, thirty};
    // Its own emulator: its interpreter runs seven lanes at once, and on an
    // emulator the other export tests share, a loaded machine slows the
    // lanes' claims until restores hardly overlap.
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        "0.002",
        "--execute-state-machines",
    ])));
    let w = World::new(em, "0.002").await;
    let key = w.aws.key(false).await;
    let nodes = thirty();
    seed(&w, &nodes).await;
    let mut plan = w.header("thirty", 7, Some(&key));
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);
    let run = "thirty-20261124T083000Z-0030";
    w.run(
        &[
            "export",
            "step-functions",
            "plan.yaml",
            "--out",
            "sfn",
            "--run",
            run,
        ],
        0,
    );
    let status = run_exported(&w, &w.dir.path().join("sfn"), run).await;
    assert_eq!(status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let restores = w.restores();
    assert_eq!(
        restores.keys().cloned().collect::<BTreeSet<_>>(),
        nodes.iter().map(|n| target(&n.id)).collect::<BTreeSet<_>>()
    );
    for (table, jobs) in &restores {
        assert_eq!(jobs.len(), 1, "{table}: {jobs:#?}");
        assert_eq!(jobs[0]["status"], "COMPLETED", "{table}");
    }
    assert_dependency_order(&w, &nodes);
    let peak = w.max_concurrent();
    println!("most restores in flight at once: {peak} (concurrency 7)");
    assert!(peak <= 7, "{peak} restores in flight at once, cap 7");
    assert!(peak >= 3, "only {peak} restores ran at once");
    for n in &nodes {
        assert_restored(&w, n, "thirty", run, &key).await;
    }
    let states = coordination_states(&w, "restoreplan-thirty-runs", run).await;
    assert!(nodes.iter().all(|n| states[&n.id] == "DONE"), "{states:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_throttling_a_failed_restore_skips_only_its_dependents() {
    use crate::apply::{seed, target, with_a_failing_hub};
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        "0.002",
        "--execute-state-machines",
        "--fail-table",
        "hub-dr",
    ])));
    let w = World::new(em, "0.002").await;
    let nodes = with_a_failing_hub();
    seed(&w, &nodes).await;
    let mut plan = w.header("faults", 6, None);
    for n in &nodes {
        plan.push_str(&n.yaml());
    }
    w.write("plan.yaml", &plan);
    let run = "faults-20261124T083000Z-00ff";
    w.run(
        &[
            "export",
            "step-functions",
            "plan.yaml",
            "--out",
            "sfn",
            "--run",
            run,
        ],
        0,
    );
    // Faults once the export is written: every call of the state machine
    // (restores, settings, its own coordination table) may be throttled.
    em.post(
        "/_restoreplan/config",
        &serde_json::json!({"throttle_rate": 0.2, "fault_seed": 20261124}),
    );
    let dir = w.dir.path().join("sfn");
    // The deployment's own calls retry too (the SDK's standard retries).
    let status = run_exported(&w, &dir, run).await;
    em.post(
        "/_restoreplan/config",
        &serde_json::json!({"throttle_rate": 0.0}),
    );
    assert_eq!(
        status,
        aws_sdk_sfn::types::ExecutionStatus::Failed,
        "a failed restore fails the execution"
    );
    let states = coordination_states(&w, "restoreplan-faults-runs", run).await;
    assert_eq!(states["hub"], "FAILED", "{states:?}");
    for id in ["hub-a", "hub-b", "hub-c"] {
        assert_eq!(states[id], "SKIPPED", "{id}: {states:?}");
    }
    for n in nodes.iter().filter(|n| !n.id.starts_with("hub")) {
        assert_eq!(states[&n.id], "DONE", "{}: {states:?}", n.id);
    }
    let restores = w.restores();
    for n in &nodes {
        let jobs = restores.get(&target(&n.id)).map_or(0, Vec::len);
        let expected = usize::from(!["hub-a", "hub-b", "hub-c"].contains(&n.id.as_str()));
        assert_eq!(jobs, expected, "{}: {jobs} restore jobs", n.id);
    }
    let throttled = w.requests().iter().filter(|r| r["fault"] == true).count();
    println!("throttled calls: {throttled}");
    assert!(throttled > 0, "the run was throttled");
}

/// The names of the states execution `arn` entered, in order, from its
/// history (every `…StateEntered` event).
async fn entered_states(w: &World, arn: &str) -> Vec<String> {
    let client = sfn_in(w.em, &w.acct).await;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_execution_history()
            .execution_arn(arn)
            .max_results(1000)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetExecutionHistory");
        for e in page.events() {
            if e.r#type().as_str().ends_with("StateEntered") {
                let name = e
                    .state_entered_event_details()
                    .map(|d| d.name().to_owned())
                    .unwrap_or_default();
                names.push(name);
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return names;
        }
    }
}

/// `simulate --engine step-functions` predicts the state transitions of
/// the exported machine: the prediction, made offline from the plan with
/// the emulator's duration model, is compared with the execution. moto
/// keeps the history of the parent execution only (its Distributed Map
/// children's events are dropped), so the parent's `StateEntered` events
/// are compared exactly, and the lanes' paths through the calls they make:
/// one `StartRestoreJob` and one `PutRestoreValidationResult` per restore,
/// and the polling loops' `DescribeRestoreJob` calls within two per restore
/// of the prediction (the emulator's own latency per state, milliseconds of
/// wall time, is seconds on its scaled clock, so its lanes look less often
/// than the model's 0.1 s per state predicts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_predicted_transitions_match_the_execution_history() {
    // A slower clock than the other tests', so the emulator's own latency
    // per state (milliseconds of wall time) is small beside its waits.
    let em: &'static Emulator = Box::leak(Box::new(Emulator::start(&[
        "--time-scale",
        "0.02",
        "--execute-state-machines",
    ])));
    let w = World::new(em, "0.02").await;
    write_diamond(&w, "predicted").await;
    // The emulator's duration model: 600 s per restore plus 50 MiB/s, no
    // jitter; the seeded tables are empty.
    w.write(
        "emulator.model.yaml",
        "backup_overhead_seconds: 600\nnative_overhead_seconds: 600\nbytes_per_second: 52428800\njitter: 0\ndefault_table_bytes: 0\n",
    );
    let predicted = w.run(
        &[
            "simulate",
            "plan.yaml",
            "--engine",
            "step-functions",
            "--model",
            "emulator.model.yaml",
            "--format",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&predicted.stdout).expect("simulate's JSON");
    let sfn = &doc["step_functions"];
    let total = sfn["total_transitions"].as_u64().expect("a total");
    let exact = sfn["transitions"]["restores"]
        .as_u64()
        .expect("restore paths")
        + sfn["transitions"]["run"]
            .as_u64()
            .expect("the run's states");
    let run = "predicted-20261124T083000Z-0077";
    w.run(
        &[
            "export",
            "step-functions",
            "plan.yaml",
            "--out",
            "sfn",
            "--run",
            run,
        ],
        0,
    );
    let (status, arn) = run_exported_execution(&w, &w.dir.path().join("sfn"), run).await;
    assert_eq!(status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let entered = entered_states(&w, &arn).await;
    println!("predicted {total} transitions: {sfn:#}\nthe parent entered {entered:?}");
    assert_eq!(
        entered.len() as u64,
        sfn["transitions"]["run"]
            .as_u64()
            .expect("the run's states"),
        "the parent execution's states: {entered:?}"
    );
    let calls = |op: &str| {
        w.requests()
            .iter()
            .filter(|r| r["operation"] == op && r["status"].as_u64().is_some_and(|s| s < 300))
            .count() as u64
    };
    let restores = sfn["restores"].as_array().expect("restores");
    assert_eq!(calls("StartRestoreJob"), 5);
    assert_eq!(calls("PutRestoreValidationResult"), 5);
    // One look right after the start, then one per poll.
    let polls: u64 = restores
        .iter()
        .map(|r| 1 + r["polls"].as_u64().expect("polls"))
        .sum();
    let described = calls("DescribeRestoreJob");
    println!("DescribeRestoreJob: predicted {polls}, sent {described}");
    assert!(
        described.abs_diff(polls) <= 2 * restores.len() as u64,
        "predicted {polls} looks at restore jobs, the lanes made {described}"
    );
    assert!(total > 0 && exact > 0);
}
