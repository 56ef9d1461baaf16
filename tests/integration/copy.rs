//! The copy step (`copy:`) through the real binary against the emulator: a
//! cross-account, cross-Region plan copies each chosen recovery point from
//! the source account's vault into the DR vault with `StartCopyJob`, then
//! restores the copy. What restoreplan claims is read back from AWS Backup
//! itself (`ListCopyJobs` in the source account, `ListRestoreJobs` and the
//! vault's recovery points in the target account).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use aws_sdk_dynamodb::types::Tag;
use serde_json::Value;

use crate::support::aws::Aws;
use crate::support::emulator::Emulator;
use crate::test::{Output, Test};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

/// Restores take `600 s × TIME_SCALE` (1.2 s) and more for larger tables;
/// a copy takes `COPY_BASE × TIME_SCALE` (1 s) and more for its size.
const TIME_SCALE: &str = "0.002";
const COPY_BASE: &str = "500";

fn emulator() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| {
        Emulator::start(&["--time-scale", TIME_SCALE, "--copy-base-seconds", COPY_BASE])
    })
}

/// A source account (tables and the vault `prod` in us-east-1) and a DR
/// account (the vault `dr` in us-west-2), both fresh.
struct Accounts {
    em: &'static Emulator,
    src: Aws,
    dr: Aws,
    dir: tempfile::TempDir,
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole")
}

/// The vault access policy letting `account` copy into a vault.
pub(crate) fn admits(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "backup:CopyIntoBackupVault",
            "Resource": "*"
        }]
    })
    .to_string()
}

impl Accounts {
    /// Fresh accounts; the DR vault's access policy is `policy`.
    async fn new(policy: Option<String>) -> Accounts {
        let em = emulator();
        let (a, b) = (em.fresh_account(), em.fresh_account());
        let src = Aws::new(em, &a, EAST).await;
        let dr = Aws::new(em, &b, WEST).await;
        src.vault("prod").await;
        dr.vault("dr").await;
        if let Some(p) = policy {
            dr.backup
                .put_backup_vault_access_policy()
                .backup_vault_name("dr")
                .policy(p)
                .send()
                .await
                .expect("PutBackupVaultAccessPolicy");
        }
        Accounts {
            em,
            src,
            dr,
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Creates table `name` (a modeled size of `gib` GiB) in the source
    /// account and backs it up into `prod`; returns the recovery point ARN.
    async fn source(&self, name: &str, gib: u64) -> String {
        let arn = self.src.table(name, None, 3).await;
        if gib > 0 {
            self.src
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
        self.src.backup("prod", &arn).await
    }

    /// A plan restoring `tables` from the source account into the DR
    /// account, in another Region, each copied first.
    fn plan(&self, tables: &[&str]) -> String {
        let (a, b) = (&self.src.account, &self.dr.account);
        let mut plan = format!(
            "version: 1\nname: copied\n\
             source: {{ account: \"{a}\", region: {EAST} }}\n\
             target: {{ account: \"{b}\", region: {WEST}, vault: dr, role: \"{}\" }}\n\
             defaults:\n  copy:\n    vault: prod\n    role: \"{}\"\n  name: \"{{table}}-dr\"\n\
             execution: {{ concurrency: 4 }}\nrestores:\n",
            role(b),
            role(a)
        );
        for t in tables {
            plan.push_str(&format!("  - table: {t}\n"));
        }
        std::fs::write(self.dir.path().join("plan.yaml"), &plan).expect("write the plan");
        plan
    }

    fn command(&self, args: &[&str]) -> Test {
        Test::new()
            .args(args.iter().copied())
            .current_dir(self.dir.path())
            .emulator(self.em)
            .roles(&[&self.src.account, &self.dr.account])
            .env("RESTOREPLAN_TIME_SCALE", TIME_SCALE)
    }

    fn run(&self, args: &[&str], status: i32) -> Output {
        self.command(args).status(status).run()
    }

    /// Copy jobs of the source account: `(source point, destination point, state)`.
    async fn copy_jobs(&self) -> Vec<(String, String, String)> {
        let out = self
            .src
            .backup
            .list_copy_jobs()
            .send()
            .await
            .expect("ListCopyJobs");
        out.copy_jobs()
            .iter()
            .map(|j| {
                (
                    j.source_recovery_point_arn().unwrap_or_default().to_owned(),
                    j.destination_recovery_point_arn()
                        .unwrap_or_default()
                        .to_owned(),
                    j.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Restore jobs of the DR account, by restored table name: the
    /// recovery points each restored.
    async fn restore_jobs(&self) -> BTreeMap<String, Vec<String>> {
        let out = self
            .dr
            .backup
            .list_restore_jobs()
            .send()
            .await
            .expect("ListRestoreJobs");
        let mut by_table: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for j in out.restore_jobs() {
            let table = j
                .created_resource_arn()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or("?")
                .to_owned();
            by_table
                .entry(table)
                .or_default()
                .push(j.recovery_point_arn().unwrap_or_default().to_owned());
        }
        by_table
    }

    /// Recovery points in the DR vault.
    async fn dr_points(&self) -> BTreeSet<String> {
        let out = self
            .dr
            .backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name("dr")
            .send()
            .await
            .expect("ListRecoveryPointsByBackupVault");
        out.recovery_points()
            .iter()
            .filter_map(|p| p.recovery_point_arn().map(str::to_owned))
            .collect()
    }

    async fn dr_tables(&self) -> BTreeSet<String> {
        let out = self.dr.ddb.list_tables().send().await.expect("ListTables");
        out.table_names().iter().cloned().collect()
    }

    fn runs(&self) -> Vec<Value> {
        let out = Test::new()
            .args(["runs", "--json"])
            .current_dir(self.dir.path())
            .status(0)
            .run();
        let v: Value = serde_json::from_str(&out.stdout).expect("runs --json");
        v["runs"].as_array().cloned().unwrap_or_default()
    }
}

/// Checks that every table was restored by exactly one restore job, from
/// the recovery point of exactly one copy job of its own source point.
async fn assert_one_copy_and_one_restore_each(
    acc: &Accounts,
    sources: &BTreeMap<&str, String>,
    outside: &BTreeSet<String>,
) {
    let copies: Vec<_> = acc
        .copy_jobs()
        .await
        .into_iter()
        .filter(|(_, dest, _)| !outside.contains(dest))
        .collect();
    let restores = acc.restore_jobs().await;
    assert_eq!(
        restores.keys().cloned().collect::<BTreeSet<_>>(),
        sources
            .keys()
            .map(|t| format!("{t}-dr"))
            .collect::<BTreeSet<_>>(),
        "{restores:#?}"
    );
    for (table, rp) in sources {
        let mine: Vec<_> = copies.iter().filter(|(src, _, _)| src == rp).collect();
        assert_eq!(mine.len(), 1, "{table}: copy jobs {copies:#?}");
        assert_eq!(mine[0].2, "COMPLETED", "{table}");
        let restored = &restores[&format!("{table}-dr")];
        assert_eq!(restored.len(), 1, "{table}: restore jobs {restored:#?}");
        assert_eq!(restored[0], mine[0].1, "{table} was restored from its copy");
    }
}

#[test]
fn a_cross_account_cross_region_plan_copies_each_point_once_and_teardown_removes_only_its_copies() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let acc = rt.block_on(async {
        let acc = Accounts::new(None).await;
        let policy = admits(&acc.src.account);
        acc.dr
            .backup
            .put_backup_vault_access_policy()
            .backup_vault_name("dr")
            .policy(policy)
            .send()
            .await
            .expect("PutBackupVaultAccessPolicy");
        acc
    });
    let sources: BTreeMap<&str, String> = rt.block_on(async {
        let mut m = BTreeMap::new();
        m.insert("orders", acc.source("orders", 0).await);
        m.insert("ledger", acc.source("ledger", 1).await);
        m
    });
    // A copy made outside any run, into the same vault: teardown keeps it.
    let outside_copy = rt.block_on(acc.src.copy(
        "prod",
        &sources["orders"],
        &acc.dr.vault_arn("dr"),
    ));
    acc.plan(&["orders", "ledger"]);

    acc.run(&["validate", "plan.yaml"], 0);
    let live = acc.run(&["validate", "--live", "plan.yaml"], 0);
    assert!(live.stdout.contains("valid"), "{}", live.stdout);

    // The dry run shows the exact StartCopyJob before each restore.
    let plan = acc.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let dry: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    for r in dry["restores"].as_array().expect("restores") {
        let id = r["id"].as_str().expect("an id");
        let copy = &r["copy"];
        assert_eq!(copy["request"]["operation"], "StartCopyJob", "{id}: {r:#}");
        let p = &copy["request"]["parameters"];
        assert_eq!(p["RecoveryPointArn"], sources[id].as_str());
        assert_eq!(p["SourceBackupVaultName"], "prod");
        assert_eq!(p["DestinationBackupVaultArn"], acc.dr.vault_arn("dr"));
        assert_eq!(p["IamRoleArn"], role(&acc.src.account));
        assert_eq!(copy["account"], acc.src.account.as_str());
        assert_eq!(r["request"]["operation"], "StartRestoreJob");
    }
    let human = acc.run(&["plan", "plan.yaml"], 0);
    assert!(
        human.stdout.contains("copy first: backup StartCopyJob"),
        "{}",
        human.stdout
    );

    let applied = acc.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let events: Vec<Value> = applied
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let kinds = |k: &str| events.iter().filter(|e| e["event"] == k).count();
    assert_eq!(kinds("copy-started"), 2, "{}", applied.stdout);
    assert_eq!(kinds("copy-completed"), 2, "{}", applied.stdout);
    rt.block_on(assert_one_copy_and_one_restore_each(
        &acc,
        &sources,
        &BTreeSet::from([outside_copy.clone()]),
    ));
    assert_eq!(
        rt.block_on(acc.dr_tables()),
        BTreeSet::from(["ledger-dr".to_owned(), "orders-dr".to_owned()])
    );
    let before = rt.block_on(acc.dr_points());
    assert_eq!(before.len(), 3, "two copies of the run and one outside it");

    let run = acc.runs()[0]["run_id"]
        .as_str()
        .expect("a run id")
        .to_owned();
    let torn = acc.run(&["teardown", &run, "--yes"], 0);
    assert!(
        torn.stdout.contains("copied these recovery points"),
        "{}",
        torn.stdout
    );
    assert!(rt.block_on(acc.dr_tables()).is_empty());
    assert_eq!(
        rt.block_on(acc.dr_points()),
        BTreeSet::from([outside_copy]),
        "teardown deletes the run's copies and nothing else"
    );
    // A second teardown has nothing left to do.
    acc.run(&["teardown", &run, "--yes"], 0);
}

#[test]
fn validate_live_refuses_a_copy_into_a_vault_that_does_not_admit_the_source_account() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    // The DR vault admits some other account only.
    let acc = rt.block_on(Accounts::new(Some(admits("999988887777"))));
    rt.block_on(acc.source("orders", 0));
    let text = acc.plan(&["orders"]);
    let out = acc.run(&["validate", "--live", "plan.yaml"], 1);
    let text_out = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text_out.contains("restoreplan::copy::not_admitted"),
        "{text_out}"
    );
    assert!(text_out.contains("backup:CopyIntoBackupVault"));
    // The finding is at the line of the restore's copy step.
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("vault: prod"))
        .expect("the copy's vault line")
        + 1;
    assert!(
        text_out.contains(&format!("plan.yaml:{line}:")),
        "line {line}: {text_out}"
    );
    // Nothing was copied or restored.
    assert!(rt.block_on(acc.copy_jobs()).is_empty());
    assert!(rt.block_on(acc.restore_jobs()).is_empty());

    // A vault without any policy admits no other account either, and a
    // vault that is not there is named.
    let acc = rt.block_on(Accounts::new(None));
    rt.block_on(acc.source("orders", 0));
    acc.plan(&["orders"]);
    let out = acc.run(&["validate", "--live", "plan.yaml"], 1);
    let text_out = format!("{}{}", out.stdout, out.stderr);
    assert!(text_out.contains("has no access policy"), "{text_out}");
    let plan = std::fs::read_to_string(acc.dir.path().join("plan.yaml"))
        .expect("the plan")
        .replace("vault: prod", "vault: missing");
    std::fs::write(acc.dir.path().join("plan.yaml"), plan).expect("write the plan");
    let out = acc.run(&["validate", "--live", "plan.yaml"], 1);
    let text_out = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text_out.contains("restoreplan::copy::source_vault_not_found"),
        "{text_out}"
    );
}

#[test]
fn a_dynamodb_managed_backup_cannot_be_copied_to_another_account() {
    let plan = "version: 1\nname: copied\n\
        source: { account: \"111122223333\", region: us-east-1 }\n\
        target: { account: \"444455556666\", region: us-west-2, vault: dr, role: \"arn:aws:iam::444455556666:role/r\" }\n\
        restores:\n  - table: orders\n    recovery_point: arn:aws:dynamodb:us-east-1:111122223333:table/orders/backup/01700000000000-abcdef12\n    copy: { vault: prod, role: \"arn:aws:iam::111122223333:role/r\" }\n";
    let out = Test::new()
        .write("plan.yaml", plan)
        .args(["validate", "plan.yaml"])
        .status(1)
        .run();
    let text_out = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text_out.contains("restoreplan::copy::dynamodb_backup_cross_account"),
        "{text_out}"
    );
    assert!(text_out.contains("advanced DynamoDB backup"), "{text_out}");
    // The same backup copied to another Region of its own account is fine.
    let same_account = plan.replace("444455556666", "111122223333");
    Test::new()
        .write("plan.yaml", same_account)
        .args(["validate", "plan.yaml"])
        .status(0)
        .run();
}

/// The journal records of run `run` in `dir`.
fn journal(dir: &std::path::Path, run: &str) -> std::path::PathBuf {
    dir.join(".restoreplan/runs")
        .join(run)
        .join("journal.jsonl")
}

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn killed_during_a_copy_and_resumed_one_copy_job_and_one_restore_job_each() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let acc = rt.block_on(async {
        let acc = Accounts::new(None).await;
        acc.dr
            .backup
            .put_backup_vault_access_policy()
            .backup_vault_name("dr")
            .policy(admits(&acc.src.account))
            .send()
            .await
            .expect("PutBackupVaultAccessPolicy");
        acc
    });
    // 40 GiB: copies of about 2.6 s at this time scale.
    let sources: BTreeMap<&str, String> = rt.block_on(async {
        let mut m = BTreeMap::new();
        m.insert("orders", acc.source("orders", 40).await);
        m.insert("ledger", acc.source("ledger", 40).await);
        m
    });
    acc.plan(&["orders", "ledger"]);
    let mut child = acc
        .command(&["apply", "plan.yaml", "--yes"])
        .spawn(&acc.dir.path().join("killed.log"));
    // Wait until both copies are journaled as started, none completed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let run = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the copies never started"
        );
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "apply ended before the copies were seen: {}",
            std::fs::read_to_string(acc.dir.path().join("killed.log")).unwrap_or_default()
        );
        let runs = crate::apply_safety::runs(acc.dir.path());
        if let Some(run) = runs.iter().next() {
            let recs = records(&journal(acc.dir.path(), run));
            let started = recs
                .iter()
                .filter(|r| r["record"] == "copy-started")
                .count();
            if started == 2 {
                break run.clone();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // SIGKILL: no handler runs, the journal is left as it is.
    let _ = child.kill();
    let _ = child.wait();
    let path = journal(acc.dir.path(), &run);
    let recs = records(&path);
    assert!(
        !recs.iter().any(|r| r["record"] == "copy-completed"),
        "killed during the copies"
    );
    // As if the kill had come between StartCopyJob and its journal record
    // for the second restore: its copy is found by the idempotency token.
    let text = std::fs::read_to_string(&path).expect("the journal");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<Value>(l)
                .map(|r| !(r["record"] == "copy-started" && r["index"] == 1))
                .unwrap_or(false)
        })
        .collect();
    std::fs::write(&path, format!("{}\n", kept.join("\n"))).expect("rewrite the journal");

    acc.run(&["apply", "--resume", &run, "--yes"], 0);
    assert_eq!(acc.runs()[0]["status"], "finished");
    rt.block_on(assert_one_copy_and_one_restore_each(
        &acc,
        &sources,
        &BTreeSet::new(),
    ));
    let recs = records(&path);
    assert_eq!(
        recs.iter()
            .filter(|r| r["record"] == "copy-completed")
            .count(),
        2
    );
}
