//! Results that match the plan, through the real binary against the
//! emulator: warnings that change what is restored stop `apply` unless
//! accepted, `same-as-source` keeps the AWS-owned key in another account,
//! and item counts are verified without comparing two approximations.

use aws_sdk_dynamodb::types::Tag;
use serde_json::Value;

use crate::apply::{World, events, fast, ids_with};
use crate::support::aws::Aws;

const EAST: &str = "us-east-1";
const TIME_SCALE: &str = "0.002";

/// Operations that only read, as the emulator's request log names them.
fn read_only(op: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| op.starts_with(p))
        || op == "AssumeRole"
}

/// Operations of `requests` after the first `skip`, in order.
fn operations(requests: &[Value], skip: usize) -> Vec<String> {
    requests
        .iter()
        .skip(skip)
        .map(|r| r["operation"].as_str().unwrap_or("?").to_owned())
        .collect()
}

async fn tag(aws: &Aws, table_arn: &str, key: &str, value: &str) {
    aws.ddb
        .tag_resource()
        .resource_arn(table_arn)
        .tags(Tag::builder().key(key).value(value).build().expect("a tag"))
        .send()
        .await
        .expect("TagResource");
}

/// Issue item 6: `accounts` restored from *ledger's* recovery point with a
/// mistyped index. `validate --live` warns; `apply` refuses before any
/// mutating call, naming both warnings; accepting both lets it run, and the
/// report names what was accepted.
#[tokio::test(flavor = "multi_thread")]
async fn warnings_that_change_the_result_stop_apply_unless_accepted() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.source("accounts", 0).await;
    let ledger_rp = w.source("ledger", 0).await;
    let plan = format!(
        "{}  - table: accounts\n    recovery_point: \"{ledger_rp}\"\n    indexes: [by-usr]\n",
        w.header("mixup", 4, None)
    );
    w.write("plan.yaml", &plan);

    let live = w.run(&["validate", "--live", "plan.yaml"], 0);
    for code in [
        "restoreplan::recovery_point::other_table",
        "restoreplan::plan::unknown_index",
    ] {
        assert!(
            live.stderr.contains(code),
            "validate --live: {}",
            live.stderr
        );
    }
    assert!(
        live.stderr.contains("did you mean `by-user`"),
        "{}",
        live.stderr
    );

    // Refused, naming both, before anything changes.
    let before = w.requests().len();
    let refused = w.run(&["apply", "plan.yaml", "--yes"], 1);
    assert!(
        refused
            .stderr
            .contains("restoreplan::recovery_point::other_table")
            && refused.stderr.contains("restoreplan::plan::unknown_index"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("--accept-warnings recovery_point::other_table plan::unknown_index"),
        "{}",
        refused.stderr
    );
    let ops = operations(&w.requests(), before);
    assert!(!ops.is_empty(), "the live checks ran");
    let mutating: Vec<&String> = ops.iter().filter(|op| !read_only(op)).collect();
    assert!(mutating.is_empty(), "mutating calls: {mutating:?}");
    assert!(!w.tables().await.contains("accounts-dr"));
    assert!(
        !w.dir.path().join(".restoreplan/runs").exists() || {
            std::fs::read_dir(w.dir.path().join(".restoreplan/runs"))
                .map(|d| d.count() == 0)
                .unwrap_or(true)
        }
    );

    // Accepting one is not enough; a code that is no warning's is a usage error.
    let partly = w.run(
        &[
            "apply",
            "plan.yaml",
            "--yes",
            "--accept-warnings",
            "recovery_point::other_table",
        ],
        1,
    );
    assert!(
        partly.stderr.contains("restoreplan::plan::unknown_index")
            && partly
                .stderr
                .contains("error: 1 warning would make the restored tables differ"),
        "{}",
        partly.stderr
    );
    let typo = w.run(
        &[
            "apply",
            "plan.yaml",
            "--yes",
            "--accept-warnings",
            "plan::unknown_indx",
        ],
        2,
    );
    assert!(
        typo.stderr.contains("is not the code of a warning"),
        "{}",
        typo.stderr
    );
    assert_eq!(
        operations(&w.requests(), before)
            .iter()
            .filter(|op| !read_only(op))
            .count(),
        0
    );

    // Both accepted: it runs, and the report says what was accepted.
    let ok = w.run(
        &[
            "apply",
            "plan.yaml",
            "--yes",
            "--accept-warnings",
            "recovery_point::other_table",
            "restoreplan::plan::unknown_index",
        ],
        0,
    );
    assert!(ok.stdout.contains("accepted warnings"), "{}", ok.stdout);
    for code in [
        "restoreplan::recovery_point::other_table",
        "restoreplan::plan::unknown_index",
    ] {
        assert!(ok.stdout.contains(code), "report: {}", ok.stdout);
        assert!(
            ok.stderr
                .contains(&format!("accepted (--accept-warnings {code})"))
        );
    }
    assert!(w.tables().await.contains("accounts-dr"));
    let runs = w.dir.path().join(".restoreplan/runs");
    let run = std::fs::read_dir(&runs)
        .expect("a run directory")
        .filter_map(Result::ok)
        .find(|e| e.path().join("journal.jsonl").is_file())
        .expect("one run");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(run.path().join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    let accepted: Vec<&str> = report["accepted_warnings"]
        .as_array()
        .expect("accepted_warnings in report.json")
        .iter()
        .filter_map(|a| a["code"].as_str())
        .collect();
    assert_eq!(
        accepted,
        vec![
            "restoreplan::recovery_point::other_table",
            "restoreplan::plan::unknown_index"
        ]
    );
    let journal = std::fs::read_to_string(run.path().join("journal.jsonl")).expect("journal");
    assert!(
        journal
            .lines()
            .next()
            .unwrap_or("")
            .contains("accepted_warnings")
    );
}

/// A warning that does not change what is restored is shown by `apply`
/// before its confirmation, and does not stop it.
#[tokio::test]
async fn apply_shows_informational_warnings_before_the_confirmation() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.source("notes", 0).await;
    let plan = format!("{}  - table: notes\n", w.header("shown", 60, None));
    w.write("plan.yaml", &plan);
    let code = "concurrency_above_quota";
    // Without --yes and without a terminal to ask on: the warning and the
    // summary come before the question, and nothing starts.
    let asked = w.run(&["apply", "plan.yaml"], 2);
    let e = &asked.stderr;
    let (warned, summary, refused) = (
        e.find(code),
        e.find("start these restores?")
            .or_else(|| e.find("plan `shown`")),
        e.find("refusing to go on without confirmation"),
    );
    assert!(
        matches!((warned, summary, refused), (Some(a), Some(b), Some(c)) if a < b && b < c),
        "{e}"
    );
    assert!(w.restores().is_empty());
    // With --yes it runs, having said the same.
    let ok = w.run(&["apply", "plan.yaml", "--yes", "--no-progress"], 0);
    assert!(ok.stderr.contains(code), "{}", ok.stderr);
    assert!(w.tables().await.contains("notes-dr"));
}

/// Issue item 8: a table on the AWS-owned key restored into another account
/// with `same-as-source` validates live and applies with the AWS-owned key;
/// findings merged across restores name the right key type for each.
#[tokio::test(flavor = "multi_thread")]
async fn same_as_source_on_the_aws_owned_key_restores_into_another_account() {
    let w = World::new(fast(), TIME_SCALE).await;
    let src = w.em.fresh_account();
    let a = Aws::new(w.em, &src, EAST).await;
    a.vault("src").await;
    let dr = w.aws.vault_arn("dr");
    for (table, key) in [
        ("profiles", None),
        ("sessions", Some("alias/aws/dynamodb")),
        ("carts", Some("alias/aws/dynamodb")),
    ] {
        let arn = a.table(table, key, 3).await;
        let rp = a.backup("src", &arn).await;
        a.copy("src", &rp, &dr).await;
    }
    let dst = &w.acct;
    let header = format!(
        "version: 1\nname: owned\nsource: {{ account: \"{src}\", region: {EAST} }}\n\
         target: {{ account: \"{dst}\", region: {EAST}, vault: dr, role: \"arn:aws:iam::{dst}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
         defaults:\n  name: \"{{table}}-dr\"\n  encryption: {{ type: same-as-source }}\nrestores:\n"
    );
    w.write("owned.yaml", &format!("{header}  - table: profiles\n"));
    w.write(
        "mixed.yaml",
        &format!(
            "{}  - table: sessions\n  - table: profiles\n  - table: carts\n",
            header.replace("{table}-dr", "{table}-mixed")
        ),
    );
    let both =
        |args: &[&str], status: i32| w.command(args).roles(&[src.as_str()]).status(status).run();

    let live = both(&["validate", "--live", "owned.yaml"], 0);
    assert!(!live.stderr.contains("cannot encrypt"), "{}", live.stderr);
    let applied = both(&["apply", "owned.yaml", "--yes"], 0);
    assert!(
        applied.stderr.contains("completed profiles"),
        "{}",
        applied.stderr
    );
    let table = w
        .aws
        .ddb
        .describe_table()
        .table_name("profiles-dr")
        .send()
        .await
        .expect("DescribeTable");
    let table = table.table().expect("a table");
    // No SSEDescription: the AWS-owned key.
    assert!(
        table.sse_description().is_none(),
        "{:?}",
        table.sse_description()
    );

    // Grouped findings: the two AWS-managed tables, named as such; the
    // AWS-owned one is not among them.
    let human = both(&["validate", "--live", "mixed.yaml"], 1);
    assert!(
        human.stderr.contains(
            "restores `sessions` and `carts`: the original table uses the AWS-managed key"
        ),
        "{}",
        human.stderr
    );
    assert!(
        !human.stderr.contains("AWS-owned key, which"),
        "{}",
        human.stderr
    );
    assert!(!human.stderr.contains("`profiles`"), "{}", human.stderr);
    let github = both(
        &["validate", "--live", "--format", "github", "mixed.yaml"],
        1,
    );
    let errors: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert!(!errors.is_empty(), "{}", github.stdout);
    for line in &errors {
        assert!(
            line.contains("AWS-managed") && !line.contains("profiles"),
            "{line}"
        );
    }
}

/// Issue item 10 (item counts): a backup whose count AWS had not refreshed
/// (23 reported, 20 items) verifies within the tolerance; a count that is
/// clearly wrong (1000 reported, 2 items) fails verification.
#[tokio::test(flavor = "multi_thread")]
async fn item_counts_are_verified_within_a_tolerance_never_exactly() {
    let w = World::new(fast(), TIME_SCALE).await;
    for (table, items, reported) in [("stale", 20, "23"), ("wrong", 2, "1000")] {
        let arn = w.aws.table(table, None, items).await;
        tag(&w.aws, &arn, "restoreplan-emulator:item-count", reported).await;
        w.aws.on_demand_backup(table).await;
    }
    let acct = &w.acct;
    w.write(
        "counts.yaml",
        &format!(
            "version: 1\nname: counts\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             defaults:\n  name: \"{{table}}-copy\"\nexecution: {{ on_failure: continue }}\n\
             restores:\n  - table: stale\n  - table: wrong\n"
        ),
    );
    let out = w.run(&["apply", "counts.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        ["stale".to_owned()].into()
    );
    assert_eq!(ids_with(&ev, "restore-failed"), ["wrong".to_owned()].into());
    let count_check = |id: &str| -> Value {
        ev.iter()
            .find(|e| e["event"] == "verified" && e["id"] == id)
            .and_then(|e| {
                e["checks"]
                    .as_array()?
                    .iter()
                    .find(|c| c["name"] == "item-count")
                    .cloned()
            })
            .unwrap_or_else(|| panic!("an item-count check for {id}: {}", out.stdout))
    };
    let stale = count_check("stale");
    assert_eq!(stale["passed"], true, "{stale}");
    let detail = stale["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("exactly 20 items") && detail.contains("about 23"),
        "{detail}"
    );
    let wrong = count_check("wrong");
    assert_eq!(wrong["passed"], false, "{wrong}");
    assert!(
        wrong["detail"]
            .as_str()
            .unwrap_or("")
            .contains("exactly 2 items"),
        "{wrong}"
    );
    // The count came from a Scan of the restored table.
    let scans = w
        .requests()
        .iter()
        .filter(|r| r["operation"] == "Scan")
        .count();
    assert!(scans >= 2, "{scans} Scan calls");
}

/// Issue item 11, as restoreplan reads key policies: a `Deny` conditioned on
/// another account's `aws:PrincipalAccount` does not stop the key from being
/// used by the target account (neither the emulator's KMS nor restoreplan's
/// reader denies it), while a `Deny` whose condition names the target account
/// is reported as the key not being shared.
#[tokio::test(flavor = "multi_thread")]
async fn key_policy_denies_apply_only_to_the_accounts_their_conditions_name() {
    let w = World::new(fast(), TIME_SCALE).await;
    let src = w.em.fresh_account();
    let a = Aws::new(w.em, &src, EAST).await;
    a.vault("src").await;
    let arn = a.table("orders", None, 3).await;
    let rp = a.backup("src", &arn).await;
    a.copy("src", &rp, &w.aws.vault_arn("dr")).await;
    let dst = w.acct.clone();
    let policy = |deny_account: &str, action: &str| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{src}:root")}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "dr", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{dst}:root")},
                 "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*"},
                {"Sid": "fence", "Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*",
                 "Condition": {"StringEquals": {"aws:PrincipalAccount": deny_account}}}
            ]
        })
        .to_string()
    };
    let mut keys = Vec::new();
    for (deny, action) in [("999988887777", "kms:*"), (dst.as_str(), "kms:CreateGrant")] {
        let key = a.key(false).await;
        a.kms
            .put_key_policy()
            .key_id(&key)
            .policy_name("default")
            .policy(policy(deny, action))
            .send()
            .await
            .expect("PutKeyPolicy");
        keys.push(key);
    }
    w.write(
        "keys.yaml",
        &format!(
            "version: 1\nname: keys\nsource: {{ account: \"{src}\", region: {EAST} }}\n\
             target: {{ account: \"{dst}\", region: {EAST}, vault: dr, role: \"arn:aws:iam::{dst}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
             keys:\n  fenced-elsewhere: {{ arn: \"{}\" }}\n  fenced-here: {{ arn: \"{}\" }}\n\
             restores:\n  - table: orders\n    id: elsewhere\n    name: orders-a\n    encryption: {{ type: customer-managed, key: fenced-elsewhere }}\n\
             \x20 - table: orders\n    id: here\n    name: orders-b\n    encryption: {{ type: customer-managed, key: fenced-here }}\n",
            keys[0], keys[1]
        ),
    );
    let out = w
        .command(&["validate", "--live", "--format", "json", "keys.yaml"])
        .roles(&[src.as_str()])
        .status(1)
        .run();
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let findings: Vec<(String, String)> = doc["files"][0]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("findings: {}", out.stdout))
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["restore"].as_str().unwrap_or("").to_owned(),
                f["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![("here".to_owned(), "restoreplan::kms::not_shared".to_owned())],
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("kms:CreateGrant"), "{}", out.stdout);
}
