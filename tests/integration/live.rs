//! Live validation against the emulator with the real SDK: every live rule in
//! a passing and a failing case, scenarios seeded only through AWS APIs.

use std::collections::BTreeMap;

use restoreplan::aws::{AccountAccess, AwsCloud, AwsOptions};
use restoreplan::check::live::{self, LiveReport, codes};
use restoreplan::check::resolved::Disposition;
use restoreplan::cloud::cache::Cached;
use restoreplan::cloud::{RestoreRequest, SseRequest};
use restoreplan::plan::model::{Encryption, Plan, RecoveryPointSelector};

use crate::support::aws::Aws;
use crate::support::emulator::{Emulator, shared};
use crate::support::plans::{cmk, plan, restore};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

fn cloud(em: &Emulator, accounts: &[&str]) -> Cached<AwsCloud> {
    let accounts: BTreeMap<String, AccountAccess> = accounts
        .iter()
        .map(|a| {
            (
                a.to_string(),
                AccountAccess {
                    profile: None,
                    role_arn: Some(Emulator::role(a)),
                },
            )
        })
        .collect();
    Cached::new(AwsCloud::new(AwsOptions {
        accounts,
        default: AccountAccess::default(),
        endpoint: Some(em.endpoint.clone()),
    }))
}

async fn check(em: &Emulator, accounts: &[&str], plan: &Plan) -> LiveReport {
    live::check(plan, &cloud(em, accounts), &em.live_options()).await
}

/// `(restore, code)` of every finding.
fn codes_of(r: &LiveReport) -> Vec<(String, &'static str)> {
    r.findings
        .iter()
        .map(|f| (f.restore.clone().unwrap_or_default(), f.code))
        .collect()
}

fn assert_clean(r: &LiveReport) {
    assert!(
        r.findings.is_empty(),
        "unexpected findings: {:#?}",
        r.findings
    );
    assert!(
        r.resolved
            .iter()
            .all(|x| x.disposition == Disposition::Ready)
    );
}

fn metadata(r: &LiveReport, i: usize) -> BTreeMap<String, String> {
    match &r.resolved[i].request {
        RestoreRequest::StartRestoreJob {
            target_table_name,
            sse,
            indexes,
            ..
        } => {
            restoreplan::aws::start_restore_job_metadata(target_table_name, sse, indexes.as_deref())
        }
        other => panic!("expected StartRestoreJob, got {other:?}"),
    }
}

#[tokio::test]
async fn latest_resolves_to_the_newest_completed_recovery_point() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("orders", None, 3).await;
    aws.vault("dr").await;
    let _older = aws.backup("dr", &arn).await;
    let newer = aws.backup("dr", &arn).await;

    let mut r = restore("orders", (&acct, EAST), (&acct, EAST), "orders-dr");
    r.target.vault = Some("dr".into());
    let report = check(em, &[&acct], &plan(vec![r], Some(86_400))).await;
    assert_clean(&report);
    let rp = report.resolved[0]
        .recovery_point
        .as_ref()
        .expect("resolved");
    assert_eq!(rp.arn, newer);
    assert_eq!(rp.resource_arn, arn);
    let m = metadata(&report, 0);
    assert_eq!(m["targetTableName"], "orders-dr");
    assert_eq!(m["encryptionType"], "Default");
    assert_eq!(m["kmsMasterKeyArn"], "Not Applicable");
    assert_eq!(report.identities.len(), 1);
    assert_eq!(
        report.identities[0]
            .identity
            .as_ref()
            .expect("identity")
            .account,
        acct
    );
}

#[tokio::test]
async fn a_recovery_point_older_than_the_rpo_is_refused() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("ledger", None, 1).await;
    aws.vault("dr").await;
    let rp = aws.backup("dr", &arn).await;
    em.post(
        &format!("/_restoreplan/recovery-points/{}", urlencode(&rp)),
        &serde_json::json!({"age_seconds": 3 * 86_400}),
    );
    let mut r = restore("ledger", (&acct, EAST), (&acct, EAST), "ledger-dr");
    r.target.vault = Some("dr".into());
    let report = check(em, &[&acct], &plan(vec![r.clone()], Some(86_400))).await;
    assert_eq!(
        codes_of(&report),
        vec![("ledger".into(), codes::RP_TOO_OLD)]
    );
    let f = &report.findings[0];
    assert!(f.message.contains("3d old"), "{}", f.message);
    assert!(matches!(
        report.resolved[0].disposition,
        Disposition::Blocked { .. }
    ));

    // Within a 7-day RPO the same recovery point passes.
    let report = check(em, &[&acct], &plan(vec![r], Some(7 * 86_400))).await;
    assert_clean(&report);
}

#[tokio::test]
async fn recovery_points_must_exist_and_be_completed() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("carts", None, 1).await;
    aws.vault("dr").await;
    let rp = aws.backup("dr", &arn).await;
    em.post(
        &format!("/_restoreplan/recovery-points/{}", urlencode(&rp)),
        &serde_json::json!({"status": "PARTIAL"}),
    );
    let explicit = |a: &str| {
        let mut r = restore("carts", (&acct, EAST), (&acct, EAST), "carts-dr");
        r.target.vault = Some("dr".into());
        r.recovery_point = RecoveryPointSelector::BackupArn { arn: a.to_owned() };
        r
    };
    let report = check(em, &[&acct], &plan(vec![explicit(&rp)], None)).await;
    assert_eq!(
        codes_of(&report),
        vec![("carts".into(), codes::RP_NOT_COMPLETED)]
    );

    let missing =
        format!("arn:aws:backup:{EAST}:{acct}:recovery-point:00000000-0000-0000-0000-000000000000");
    let report = check(em, &[&acct], &plan(vec![explicit(&missing)], None)).await;
    assert_eq!(
        codes_of(&report),
        vec![("carts".into(), codes::RP_NOT_FOUND)]
    );

    // `latest` skips the PARTIAL one and finds nothing else.
    let mut r = restore("carts", (&acct, EAST), (&acct, EAST), "carts-dr");
    r.target.vault = Some("dr".into());
    let report = check(em, &[&acct], &plan(vec![r.clone()], None)).await;
    assert_eq!(codes_of(&report), vec![("carts".into(), codes::RP_NONE)]);
    assert!(
        report.findings[0]
            .evidence
            .as_deref()
            .unwrap_or("")
            .contains("PARTIAL")
    );

    // A fresh backup makes `latest` pass again.
    let fresh = aws.backup("dr", &arn).await;
    let report = check(em, &[&acct], &plan(vec![r], None)).await;
    assert_clean(&report);
    assert_eq!(
        report.resolved[0]
            .recovery_point
            .as_ref()
            .map(|p| p.arn.as_str()),
        Some(fresh.as_str())
    );
}

#[tokio::test]
async fn an_existing_target_table_blocks_the_restore() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("users", None, 1).await;
    aws.table("users-dr", None, 0).await;
    aws.vault("dr").await;
    aws.backup("dr", &arn).await;
    let mut blocked = restore("users", (&acct, EAST), (&acct, EAST), "users-dr");
    blocked.target.vault = Some("dr".into());
    let mut fine = blocked.clone();
    fine.id = "users-2".into();
    fine.target_name = "users-dr2".into();
    let report = check(em, &[&acct], &plan(vec![blocked, fine], None)).await;
    assert_eq!(
        codes_of(&report),
        vec![("users".into(), codes::TARGET_EXISTS)]
    );
    assert!(matches!(
        report.resolved[0].disposition,
        Disposition::Blocked { .. }
    ));
    assert_eq!(report.resolved[1].disposition, Disposition::Ready);
}

#[tokio::test]
async fn customer_managed_keys_must_be_enabled_symmetric_and_customer_managed() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("payments", None, 1).await;
    aws.vault("dr").await;
    aws.backup("dr", &arn).await;

    let good = aws.key(false).await;
    let disabled = aws.key(false).await;
    aws.kms
        .disable_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("DisableKey");
    let doomed = aws.key(false).await;
    aws.kms
        .schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    let signing = aws
        .kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .expect("CreateKey RSA")
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("arn")
        .to_owned();
    let made_up = format!("arn:aws:kms:{EAST}:{acct}:key/11111111-2222-3333-4444-555555555555");
    let managed = format!("arn:aws:kms:{EAST}:{acct}:alias/aws/dynamodb");

    let cases = [
        ("good", good.clone()),
        ("disabled", disabled),
        ("doomed", doomed),
        ("signing", signing),
        ("made-up", made_up),
        ("managed", managed),
    ];
    let restores = cases
        .iter()
        .map(|(id, key)| {
            let mut r = restore(
                "payments",
                (&acct, EAST),
                (&acct, EAST),
                &format!("payments-{id}"),
            );
            r.id = id.to_string();
            r.target.vault = Some("dr".into());
            r.encryption = cmk(key);
            r
        })
        .collect();
    let report = check(em, &[&acct], &plan(restores, None)).await;
    assert_eq!(
        codes_of(&report),
        vec![
            ("disabled".into(), codes::KEY_NOT_ENABLED),
            ("doomed".into(), codes::KEY_NOT_ENABLED),
            ("signing".into(), codes::KEY_NOT_SYMMETRIC),
            ("made-up".into(), codes::KEY_NOT_FOUND),
            ("managed".into(), codes::NOT_CUSTOMER_MANAGED),
        ]
    );
    let doomed = &report.findings[1];
    assert!(
        doomed
            .evidence
            .as_deref()
            .unwrap_or("")
            .contains("PendingDeletion"),
        "{doomed:?}"
    );
    let m = metadata(&report, 0);
    assert_eq!(m["encryptionType"], "KMS");
    assert_eq!(m["kmsMasterKeyArn"], good);
}

#[tokio::test]
async fn a_cross_region_restore_uses_the_replica_of_a_multi_region_key() {
    let em = shared();
    let acct = em.fresh_account();
    let east = Aws::new(em, &acct, EAST).await;
    let west = Aws::new(em, &acct, WEST).await;
    let table = east.table("inventory", None, 2).await;
    east.vault("primary").await;
    west.vault("dr").await;
    let rp = east.backup("primary", &table).await;
    let copy = east.copy("primary", &rp, &west.vault_arn("dr")).await;
    assert!(
        copy.contains(WEST),
        "the copy lives in the DR Region: {copy}"
    );

    let mrk = east.key(true).await;
    let replica = east.replicate(&mrk, WEST).await;
    let lonely_mrk = east.key(true).await;
    let single = east.key(false).await;

    let mk = |id: &str, key: &str| {
        let mut r = restore(
            "inventory",
            (&acct, EAST),
            (&acct, WEST),
            &format!("inventory-{id}"),
        );
        r.id = id.into();
        r.target.vault = Some("dr".into());
        r.encryption = cmk(key);
        r
    };
    let report = check(
        em,
        &[&acct],
        &plan(
            vec![
                mk("mrk", &mrk),
                mk("no-replica", &lonely_mrk),
                mk("single", &single),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(
        codes_of(&report),
        vec![
            ("no-replica".into(), codes::NO_REPLICA),
            ("single".into(), codes::NOT_MULTI_REGION)
        ]
    );
    let m = metadata(&report, 0);
    assert_eq!(
        m["kmsMasterKeyArn"], replica,
        "the replica in {WEST} is used"
    );
    assert_eq!(
        report.resolved[0]
            .recovery_point
            .as_ref()
            .map(|p| p.arn.as_str()),
        Some(copy.as_str())
    );
}

#[tokio::test]
async fn same_as_source_across_regions_needs_a_multi_region_key() {
    let em = shared();
    let acct = em.fresh_account();
    let east = Aws::new(em, &acct, EAST).await;
    let west = Aws::new(em, &acct, WEST).await;
    west.vault("dr").await;
    east.vault("primary").await;
    let mrk = east.key(true).await;
    let replica = east.replicate(&mrk, WEST).await;
    let mut restores = Vec::new();
    for (table, key) in [
        ("with-mrk", Some(mrk.as_str())),
        ("with-managed", Some("alias/aws/dynamodb")),
        ("with-owned", None),
    ] {
        let arn = east.table(table, key, 1).await;
        let rp = east.backup("primary", &arn).await;
        east.copy("primary", &rp, &west.vault_arn("dr")).await;
        let mut r = restore(table, (&acct, EAST), (&acct, WEST), &format!("{table}-dr"));
        r.target.vault = Some("dr".into());
        r.encryption = Encryption::SameAsSource;
        restores.push(r);
    }
    let report = check(em, &[&acct], &plan(restores, None)).await;
    // The AWS-owned key exists in every Region: only the AWS-managed key
    // cannot follow the table.
    assert_eq!(
        codes_of(&report),
        vec![("with-managed".into(), codes::NOT_MULTI_REGION)]
    );
    assert_eq!(metadata(&report, 0)["kmsMasterKeyArn"], replica);
    assert_eq!(metadata(&report, 2)["encryptionType"], "Default");
}

#[tokio::test]
async fn a_cross_account_key_must_be_shared_with_the_target_account() {
    let em = shared();
    let src = em.fresh_account();
    let dst = em.fresh_account();
    let s = Aws::new(em, &src, EAST).await;
    let d = Aws::new(em, &dst, EAST).await;
    s.vault("primary").await;
    d.vault("dr").await;

    let shared_key = s.key(false).await;
    s.share_key(&shared_key, &dst).await;
    let private_key = s.key(false).await;
    let mut restores = Vec::new();
    for (table, key) in [
        ("shared", Some(shared_key.as_str())),
        ("private", Some(private_key.as_str())),
        ("managed", Some("alias/aws/dynamodb")),
    ] {
        let arn = s.table(table, key, 1).await;
        let rp = s.backup("primary", &arn).await;
        s.copy("primary", &rp, &d.vault_arn("dr")).await;
        let mut r = restore(table, (&src, EAST), (&dst, EAST), table);
        r.target.vault = Some("dr".into());
        r.encryption = Encryption::SameAsSource;
        restores.push(r);
    }
    // A customer-managed key of the source account named directly.
    let mut direct = restores[1].clone();
    direct.id = "direct".into();
    direct.target_name = "direct".into();
    direct.encryption = cmk(&private_key);
    restores.push(direct);

    let report = check(em, &[&src, &dst], &plan(restores, None)).await;
    assert_eq!(
        codes_of(&report),
        vec![
            ("private".into(), codes::NOT_SHARED),
            ("managed".into(), codes::NOT_SHAREABLE),
            ("direct".into(), codes::KEY_NOT_FOUND),
        ],
        "{:#?}",
        report.findings
    );
    assert_eq!(metadata(&report, 0)["kmsMasterKeyArn"], shared_key);
    let private = &report.findings[0];
    assert!(
        private
            .evidence
            .as_deref()
            .unwrap_or("")
            .contains("kms:CreateGrant"),
        "{private:?}"
    );
    assert!(
        private
            .help
            .as_deref()
            .unwrap_or("")
            .contains(&format!("arn:aws:iam::{dst}:root"))
    );
}

#[tokio::test]
async fn point_in_time_restores_need_pitr_on_the_original_table() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    aws.table("audit", None, 2).await;
    aws.table("audit-on", None, 2).await;
    aws.ddb
        .update_continuous_backups()
        .table_name("audit-on")
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    let mk = |table: &str| {
        let mut r = restore(
            table,
            (&acct, EAST),
            (&acct, WEST),
            &format!("{table}-pitr"),
        );
        r.recovery_point = RecoveryPointSelector::PointInTime { at: None };
        r.encryption = Encryption::DynamodbManaged;
        r
    };
    let report = check(
        em,
        &[&acct],
        &plan(vec![mk("audit"), mk("audit-on")], Some(3600)),
    )
    .await;
    assert_eq!(
        codes_of(&report),
        vec![("audit".into(), codes::PITR_NOT_ENABLED)]
    );
    match &report.resolved[1].request {
        RestoreRequest::RestoreTableToPointInTime {
            source_table_arn,
            restore_date_time,
            sse,
            ..
        } => {
            assert!(source_table_arn.ends_with(":table/audit-on"));
            assert_eq!(*restore_date_time, None);
            assert_eq!(*sse, SseRequest::Managed);
        }
        other => panic!("expected RestoreTableToPointInTime, got {other:?}"),
    }
}

#[tokio::test]
async fn each_key_and_recovery_point_is_looked_up_once() {
    let em = shared();
    let acct = em.fresh_account();
    let aws = Aws::new(em, &acct, EAST).await;
    let arn = aws.table("events", None, 1).await;
    aws.vault("dr").await;
    aws.backup("dr", &arn).await;
    let key = aws.key(false).await;
    let restores = (0..20)
        .map(|i| {
            let mut r = restore(
                "events",
                (&acct, EAST),
                (&acct, EAST),
                &format!("events-{i}"),
            );
            r.id = format!("events-{i}");
            r.target.vault = Some("dr".into());
            r.encryption = cmk(&key);
            r
        })
        .collect();
    let report = check(em, &[&acct], &plan(restores, None)).await;
    assert_clean(&report);
    let log = em.control("/_restoreplan/requests");
    let count = |op: &str| {
        log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["account"] == acct.as_str() && r["operation"] == op)
            .count()
    };
    assert_eq!(count("DescribeKey"), 1);
    assert_eq!(count("ListRecoveryPointsByBackupVault"), 1);
    assert_eq!(
        count("DescribeTable"),
        21,
        "the original once, each of 20 targets once"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
