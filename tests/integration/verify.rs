//! `after_restore.verify` through the real binary against the emulator:
//! `items` and `keys` fail exactly the restores whose data does not hold,
//! with their evidence, dependents follow `on_failure`, and a provisioned
//! table is counted within half of its read capacity per second.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ProvisionedThroughput, ScalarAttributeType,
};
use serde_json::Value;

use crate::apply::{World, events, fast, ids_with};

const EAST: &str = "us-east-1";
const TIME_SCALE: &str = "0.002";

/// The checks of the `verified` event of restore `id`.
fn checks(ev: &[Value], id: &str) -> Vec<Value> {
    ev.iter()
        .find(|e| e["event"] == "verified" && e["id"] == id)
        .and_then(|e| e["checks"].as_array().cloned())
        .unwrap_or_else(|| panic!("a verified event for {id}"))
}

fn check<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("a `{name}` check in {all:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_data_checks_fail_exactly_their_restores_with_evidence() {
    let w = World::new(fast(), TIME_SCALE).await;
    for t in ["good", "nokey", "few", "after-nokey", "after-few"] {
        w.aws.table(t, None, 3).await;
        w.aws.on_demand_backup(t).await;
    }
    let acct = &w.acct;
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: checks\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             defaults:\n  name: \"{{table}}-copy\"\n  after_restore:\n    verify:\n      items: {{ min: 1 }}\n\
             execution: {{ on_failure: continue }}\n\
             restores:\n\
             \x20 - table: good\n    after_restore:\n      verify:\n        keys: [{{ pk: k0 }}, {{ pk: k2 }}]\n\
             \x20 - table: nokey\n    after_restore:\n      verify:\n        keys: [{{ pk: k0 }}, {{ pk: k9 }}]\n\
             \x20 - table: few\n    after_restore:\n      verify:\n        items: {{ min: 100, max: 1000 }}\n\
             \x20 - table: after-nokey\n    depends_on: [nokey]\n\
             \x20 - table: after-few\n    depends_on: [few]\n"
        ),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        ["good".to_owned()].into(),
        "{}",
        out.stdout
    );
    assert_eq!(
        ids_with(&ev, "restore-failed"),
        ["few".to_owned(), "nokey".to_owned()].into()
    );
    assert_eq!(
        ids_with(&ev, "restore-skipped"),
        ["after-few".to_owned(), "after-nokey".to_owned()].into()
    );

    let good = checks(&ev, "good");
    let items = check(&good, "items");
    assert_eq!(items["passed"], true, "{items}");
    let detail = items["detail"].as_str().unwrap();
    assert!(
        detail.contains("3 items counted") && detail.contains("read units consumed"),
        "{detail}"
    );
    let keys: Vec<&Value> = good.iter().filter(|c| c["name"] == "key").collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["passed"] == true), "{keys:?}");

    let nokey = checks(&ev, "nokey");
    let missing: Vec<&Value> = nokey
        .iter()
        .filter(|c| c["name"] == "key" && c["passed"] == false)
        .collect();
    assert_eq!(missing.len(), 1, "{nokey:?}");
    assert!(
        missing[0]["detail"]
            .as_str()
            .unwrap()
            .contains("{pk: \"k9\"} is not in the table"),
        "{}",
        missing[0]
    );
    assert_eq!(check(&nokey, "items")["passed"], true);

    let few = checks(&ev, "few");
    let items = check(&few, "items");
    assert_eq!(items["passed"], false);
    let detail = items["detail"].as_str().unwrap();
    assert!(
        detail.contains("expected between 100 and 1000") && detail.contains("3 items counted"),
        "{detail}"
    );
    let failed = ev
        .iter()
        .find(|e| e["event"] == "restore-failed" && e["id"] == "few")
        .unwrap();
    assert!(
        failed["cause"]
            .as_str()
            .unwrap()
            .contains("items: expected"),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provisioned_table_is_counted_within_half_its_read_capacity() {
    let w = World::new(fast(), TIME_SCALE).await;
    let (name, items, payload) = ("paced", 24usize, 3000usize);
    w.aws
        .ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::Provisioned)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
    for i in 0..items {
        w.aws
            .ddb
            .put_item()
            .table_name(name)
            .item("pk", AttributeValue::S(format!("k{i:04}")))
            .item("data", AttributeValue::S("x".repeat(payload)))
            .send()
            .await
            .expect("PutItem");
    }
    w.aws.on_demand_backup(name).await;
    let acct = &w.acct;
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: paced\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             restores:\n  - table: {name}\n    name: {name}-copy\n    after_restore:\n      verify:\n        items: {{ min: {items}, max: {items} }}\n"
        ),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let ev = events(&out);
    let items_check = check(&checks(&ev, name), "items").clone();
    assert_eq!(items_check["passed"], true, "{items_check}");
    let detail = items_check["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{items} items counted")) && detail.contains("5 RCU"),
        "{detail}"
    );
    let ledger =
        w.em.control(&format!("/_restoreplan/capacity?table={name}-copy"));
    let entry = &ledger["tables"][0];
    assert_eq!(entry["provisioned_read_capacity_units"], 5, "{ledger}");
    let max = entry["max_read_units_per_second"].as_f64().unwrap();
    assert!(max > 0.0 && max <= 2.5, "{ledger}");
    // 24 items of 3 KB: 9 units or more, at most 2.5 a second.
    assert!(entry["seconds"].as_array().unwrap().len() >= 3, "{ledger}");
}

/// Where restore `id` ran as an AWS Backup restore job, its job id.
fn job_of(ev: &[Value], id: &str) -> Option<String> {
    ev.iter()
        .find(|e| e["event"] == "restore-accepted" && e["id"] == id)
        .and_then(|e| e["handle"]["id"].as_str().map(str::to_owned))
}

/// `ValidationStatus` and `ValidationStatusMessage` of a restore job.
async fn validation(w: &World, job: &str) -> (Option<String>, Option<String>) {
    let j = w
        .aws
        .backup
        .describe_restore_job()
        .restore_job_id(job)
        .send()
        .await
        .expect("DescribeRestoreJob");
    (
        j.validation_status().map(|s| s.as_str().to_owned()),
        j.validation_status_message().map(str::to_owned),
    )
}

/// The `KEY=VALUE` lines a command wrote with `env`.
fn env_file(w: &World, name: &str) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(w.dir.path().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_items_and_command_fail_exactly_their_restores_and_aws_backup_is_told() {
    let w = World::new(fast(), TIME_SCALE).await;
    let mut native = std::collections::BTreeMap::new();
    for t in ["good", "nokey", "cmd3", "after-nokey", "after-cmd3"] {
        w.source(t, 0).await;
    }
    for t in ["few", "native-good", "after-few"] {
        w.aws.table(t, None, 2).await;
        native.insert(t, w.aws.on_demand_backup(t).await);
    }
    let plan = format!(
        "{}\
         \x20 - table: good\n    after_restore:\n      verify:\n        items: {{ min: 2, max: 2 }}\n        keys: [{{ pk: k0 }}, {{ pk: k1 }}]\n        command: [sh, -c, \"env > env-$RESTOREPLAN_RESTORE_ID.txt; echo checked\"]\n\
         \x20 - table: nokey\n    after_restore:\n      verify:\n        keys: [{{ pk: k0 }}, {{ pk: k9 }}]\n\
         \x20 - table: cmd3\n    after_restore:\n      verify:\n        items: {{ min: 1 }}\n        command: [sh, -c, \"echo one; echo two >&2; exit 3\"]\n\
         \x20 - table: few\n    recovery_point: {}\n    after_restore:\n      verify:\n        items: {{ min: 100 }}\n\
         \x20 - table: native-good\n    recovery_point: {}\n    after_restore:\n      verify:\n        items: {{ min: 2 }}\n        keys: [{{ pk: k1 }}]\n\
         \x20 - table: after-nokey\n    depends_on: [nokey]\n\
         \x20 - table: after-cmd3\n    depends_on: [cmd3]\n\
         \x20 - table: after-few\n    depends_on: [few]\n    recovery_point: {}\n",
        w.header("checks", 10, None),
        native["few"],
        native["native-good"],
        native["after-few"],
    );
    w.write("plan.yaml", &plan);
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        set(&["good", "native-good"]),
        "{}",
        out.stdout
    );
    assert_eq!(
        ids_with(&ev, "restore-failed"),
        set(&["cmd3", "few", "nokey"])
    );
    assert_eq!(
        ids_with(&ev, "restore-skipped"),
        set(&["after-cmd3", "after-few", "after-nokey"])
    );

    // Evidence of each failure, and only the failing checks failed.
    let failed_names = |id: &str| -> Vec<String> {
        checks(&ev, id)
            .iter()
            .filter(|c| c["passed"] == false)
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(failed_names("nokey"), ["key"]);
    assert_eq!(failed_names("few"), ["items"]);
    assert_eq!(failed_names("cmd3"), ["command"]);
    assert!(failed_names("good").is_empty() && failed_names("native-good").is_empty());
    let cmd = checks(&ev, "cmd3");
    let detail = check(&cmd, "command")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("exited with status 3") && detail.contains("one") && detail.contains("two"),
        "{detail}"
    );
    let good = checks(&ev, "good");
    let detail = check(&good, "command")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("exited 0") && detail.contains("checked"),
        "{detail}"
    );

    // The command's environment: the run, the restore, the table and
    // credentials of the target account at the same endpoint.
    let env = env_file(&w, "env-good.txt");
    let run = crate::apply::run_id(&ev);
    assert_eq!(env["RESTOREPLAN_RUN"], run);
    assert_eq!(env["RESTOREPLAN_RESTORE_ID"], "good");
    assert_eq!(env["RESTOREPLAN_TABLE_NAME"], "good-dr");
    assert!(
        env["RESTOREPLAN_TABLE_ARN"].ends_with(":table/good-dr"),
        "{env:?}"
    );
    assert_eq!(env["RESTOREPLAN_ACCOUNT"], w.acct);
    assert_eq!(env["RESTOREPLAN_REGION"], EAST);
    assert_eq!(env["AWS_REGION"], EAST);
    assert_eq!(env["AWS_ENDPOINT_URL"], w.em.endpoint);
    assert_ne!(
        env["AWS_ACCESS_KEY_ID"], "test",
        "the role's, not the ambient credentials"
    );
    let creds = aws_credential_types::Credentials::new(
        &env["AWS_ACCESS_KEY_ID"],
        &env["AWS_SECRET_ACCESS_KEY"],
        env.get("AWS_SESSION_TOKEN").cloned(),
        None,
        "command",
    );
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&env["AWS_ENDPOINT_URL"])
        .region(aws_config::Region::new(EAST))
        .credentials_provider(creds)
        .http_client(restoreplan::aws::http_client())
        .load()
        .await;
    let who = aws_sdk_sts::Client::new(&conf)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the command's credentials");
    assert_eq!(who.account(), Some(w.acct.as_str()));

    // AWS Backup holds the verdict of each restore job; native restores have none.
    for (id, want) in [
        ("good", "SUCCESSFUL"),
        ("nokey", "FAILED"),
        ("cmd3", "FAILED"),
    ] {
        let job = job_of(&ev, id).unwrap_or_else(|| panic!("{id} ran as a restore job"));
        let (status, message) = validation(&w, &job).await;
        assert_eq!(status.as_deref(), Some(want), "{id}");
        let message = message.unwrap_or_default();
        match id {
            "nokey" => assert!(
                message.contains("failed (key)") && message.contains("k9"),
                "{message}"
            ),
            "cmd3" => assert!(
                message.contains("failed (command)") && message.contains("status 3"),
                "{message}"
            ),
            _ => assert!(message.contains("checks passed"), "{message}"),
        }
        assert!(message.chars().count() <= 1000);
    }
    for id in ["few", "native-good"] {
        assert!(job_of(&ev, id).is_none());
        assert!(
            !ev.iter()
                .any(|e| e["event"] == "validation-reported" && e["id"] == id),
            "{id}: a native restore has no job to report to"
        );
    }

    // The run report lists every check with its evidence.
    let report = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(&run)
        .join("report.txt");
    let report = std::fs::read_to_string(&report).expect("report.txt");
    assert!(
        report.contains("verification:")
            && report.contains("✗ key: {pk: \"k9\"} is not in the table"),
        "{report}"
    );
    let gantt = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(&run)
        .join("gantt.svg");
    let gantt = std::fs::read_to_string(&gantt).expect("gantt.svg");
    assert!(gantt.contains("good: verification +"), "a verification bar");

    // `verify RUN` runs the same checks again from the journal.
    let again = w.run(&["verify", &run, "--format", "json"], 1);
    let ev2 = events(&again);
    let last = ev2.last().expect("a verification line");
    assert_eq!(last["event"], "verification");
    assert_eq!(last["passed"], false);
    let states: std::collections::BTreeMap<String, String> = last["restores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(states["good"], "passed");
    assert_eq!(states["native-good"], "passed");
    assert_eq!(states["nokey"], "failed");
    assert_eq!(states["few"], "failed");
    assert_eq!(states["cmd3"], "failed");
    assert_eq!(states["after-nokey"], "not-verified");
    assert!(ids_with(&ev2, "validation-reported").contains("cmd3"));
    let ok = w.run(
        &[
            "verify",
            &run,
            "--restore",
            "good",
            "--restore",
            "native-good",
        ],
        0,
    );
    assert!(
        ok.stdout.contains("✓ good (good-dr): passed") && ok.stdout.contains("✓ command: `sh -c"),
        "{}",
        ok.stdout
    );
    let unknown = w.run(&["verify", &run, "--restore", "nope"], 2);
    assert!(
        unknown.stderr.contains("has no restore `nope`"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_command_is_killed_with_its_process_group_and_the_run_goes_on() {
    let w = World::new(fast(), TIME_SCALE).await;
    for t in ["hang", "other", "after-hang"] {
        w.aws.table(t, None, 2).await;
        w.aws.on_demand_backup(t).await;
    }
    let acct = &w.acct;
    // 20 minutes at the emulator's time scale: 2.4 s.
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: hangs\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             defaults:\n  name: \"{{table}}-copy\"\n\
             restores:\n\
             \x20 - table: hang\n    after_restore:\n      verify:\n        command: [sh, -c, \"sleep 300 & echo $! > child.pid; echo waiting; wait\"]\n        timeout: 20m\n\
             \x20 - table: other\n    after_restore:\n      verify:\n        items: {{ min: 2 }}\n\
             \x20 - table: after-hang\n    depends_on: [hang]\n"
        ),
    );
    let began = std::time::Instant::now();
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        ["other".to_owned()].into()
    );
    assert_eq!(ids_with(&ev, "restore-failed"), ["hang".to_owned()].into());
    assert_eq!(
        ids_with(&ev, "restore-skipped"),
        ["after-hang".to_owned()].into()
    );
    let hang = checks(&ev, "hang");
    let c = check(&hang, "command");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        c["passed"] == false
            && detail.contains("did not finish within the verification's timeout of 20m")
            && detail.contains("process group were killed")
            && detail.contains("waiting"),
        "{detail}"
    );
    assert!(began.elapsed() < std::time::Duration::from_secs(60));
    let pid = std::fs::read_to_string(w.dir.path().join("child.pid")).expect("child.pid");
    let pid = pid.trim();
    let alive = |pid: &str| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .to_owned();
        !stat.is_empty() && !state.starts_with('Z')
    };
    let gone = (0..100).any(|_| {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        false
    });
    assert!(gone, "the command's child {pid} outlived the timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_live_refuses_keys_that_do_not_fit_the_key_schema_at_their_line() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("strs", None, 1).await;
    w.aws.on_demand_backup("strs").await;
    w.aws
        .ddb
        .create_table()
        .table_name("nums")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
    w.aws.on_demand_backup("nums").await;
    let acct = &w.acct;
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: keys\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             defaults:\n  name: \"{{table}}-copy\"\n\
             restores:\n\
             \x20 - table: strs\n    after_restore:\n      verify:\n        keys:\n\
             \x20         - {{ pk: k0 }}\n\
             \x20         - {{ pk: k0, extra: x }}\n\
             \x20         - {{ sk: k0 }}\n\
             \x20 - table: nums\n    after_restore:\n      verify:\n        keys:\n\
             \x20         - {{ id: 7 }}\n\
             \x20         - {{ id: seven }}\n"
        ),
    );
    let out = w.run(&["validate", "--live", "plan.yaml"], 1);
    let text = format!("{}{}", out.stdout, out.stderr);
    let hits = text.matches("restoreplan::verify::key_schema").count();
    assert_eq!(hits, 3, "{text}");
    for (line, what) in [(13, "extra"), (14, "`pk` (hash) is missing"), (20, "seven")] {
        assert!(
            text.contains(&format!("plan.yaml:{line}:")) && text.contains(what),
            "line {line} ({what}):\n{text}"
        );
    }
    assert!(
        !text.contains("plan.yaml:12:") && !text.contains("plan.yaml:19:"),
        "{text}"
    );
}
