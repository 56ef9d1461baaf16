//! Hand-built plans and live reports for the unit tests of the dry run and
//! its renderers.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::source::SourceSettings;
use crate::check::live::{AccountIdentity, LiveReport};
use crate::check::request::build_request;
use crate::check::resolved::{Disposition, ResolvedRestore};
use crate::cloud::{
    Identity, IndexDef, KeyFacts, KeyManager, MultiRegion, MultiRegionRole, PitrFacts,
    RecoveryPoint, RecoveryPointOrigin, TableChange, TableEncryption, TableFacts,
};
use crate::diag::Finding;
use crate::plan::model::{
    AccountId, AfterRestore, Copyable, Encryption, Execution, KeyRef, Location, Objectives, Plan,
    PlanHeader, RecoveryPointSelector, Region, Restore, StreamSetting, Target,
};

pub(crate) const SOURCE: &str = "111122223333";
pub(crate) const TARGET: &str = "444455556666";
pub(crate) const KEY: &str =
    "arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab";

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn loc(account: &str, region: &str) -> Location {
    Location {
        account: AccountId::parse(account).unwrap_or_else(|| panic!("bad account {account}")),
        region: Region::parse(region).unwrap_or_else(|| panic!("bad region {region}")),
    }
}

pub(crate) fn header(concurrency: u32) -> PlanHeader {
    let mut keys = BTreeMap::new();
    keys.insert(
        "dr".to_owned(),
        KeyRef {
            name: Some("dr".to_owned()),
            arn: KEY.to_owned(),
        },
    );
    PlanHeader {
        name: "payments-dr-rehearsal".to_owned(),
        description: Some("Quarterly rehearsal.".to_owned()),
        objectives: Objectives {
            rpo: Some(Duration::from_secs(24 * 3600)),
            rto: Some(Duration::from_secs(4 * 3600)),
        },
        execution: Execution {
            concurrency,
            ..Execution::default()
        },
        keys,
        state: Default::default(),
    }
}

pub(crate) fn restore(id: &str, table: &str) -> Restore {
    Restore {
        id: id.to_owned(),
        table: table.to_owned(),
        source: loc(SOURCE, "us-east-1"),
        target: Target {
            location: loc(TARGET, "us-west-2"),
            vault: Some("payments-dr".to_owned()),
            role: Some(
                "arn:aws:iam::444455556666:role/service-role/AWSBackupDefaultServiceRole"
                    .to_owned(),
            ),
        },
        target_name: format!("{table}-dr"),
        recovery_point: RecoveryPointSelector::Latest,
        encryption: Encryption::CustomerManaged {
            key: KeyRef {
                name: Some("dr".to_owned()),
                arn: KEY.to_owned(),
            },
        },
        indexes: None,
        after_restore: AfterRestore {
            point_in_time_recovery: Some(Copyable::Set(true)),
            deletion_protection: Some(Copyable::Set(false)),
            tags: BTreeMap::from([("purpose".to_owned(), "dr-rehearsal".to_owned())]),
            ttl: None,
            stream: None,
            verify: None,
            ..AfterRestore::default()
        },
        capacity: Default::default(),
        depends_on: Vec::new(),
        spans: Default::default(),
        copy: None,
    }
}

/// Three restores: `accounts` (AWS Backup, customer key, one index dropped),
/// `ledger` (depends on accounts, its stream is lost) and `audit` (point in
/// time, blocked because its target exists).
pub(crate) fn plan() -> Plan {
    let accounts = Restore {
        indexes: Some(vec!["by-email".to_owned()]),
        ..restore("accounts", "accounts")
    };
    let ledger = Restore {
        depends_on: vec!["accounts".to_owned()],
        encryption: Encryption::SameAsSource,
        ..restore("ledger", "ledger")
    };
    let mut audit = restore("audit-pitr", "audit");
    audit.target.location = loc(SOURCE, "us-west-2");
    audit.target.vault = None;
    audit.recovery_point = RecoveryPointSelector::PointInTime { at: None };
    audit.encryption = Encryption::DynamodbOwned;
    audit.after_restore.stream = Some(StreamSetting::NewImage);
    Plan::seal(header(10), vec![accounts, ledger, audit])
        .unwrap_or_else(|f| panic!("fixture plan does not seal: {f:?}"))
}

fn index(name: &str) -> IndexDef {
    IndexDef {
        name: name.to_owned(),
        key_schema: vec![(name.replace("by-", ""), "HASH".to_owned())],
        projection_type: "ALL".to_owned(),
        non_key_attributes: Vec::new(),
    }
}

fn table(name: &str, encryption: TableEncryption, indexes: Vec<IndexDef>) -> TableFacts {
    TableFacts {
        arn: format!("arn:aws:dynamodb:us-east-1:{SOURCE}:table/{name}"),
        name: name.to_owned(),
        status: "ACTIVE".to_owned(),
        item_count: Some(1_000),
        size_bytes: Some(5 * 1024 * 1024),
        encryption,
        indexes,
        stream: None,
        deletion_protection: false,
        restore_in_progress: false,
        origin: Default::default(),
        table_id: None,
        capacity: Default::default(),
    }
}

pub(crate) fn vault_point(table: &str, n: u32, hours_old: i64) -> RecoveryPoint {
    RecoveryPoint {
        arn: format!(
            "arn:aws:backup:us-west-2:{TARGET}:recovery-point:0b5c8e4a-aaaa-bbbb-cccc-{n:012}"
        ),
        origin: RecoveryPointOrigin::Vault {
            vault: "payments-dr".to_owned(),
        },
        resource_arn: format!("arn:aws:dynamodb:us-east-1:{SOURCE}:table/{table}"),
        resource_type: "DynamoDB".to_owned(),
        status: "COMPLETED".to_owned(),
        created: now() - chrono::TimeDelta::hours(hours_old),
        size_bytes: Some(3 * 1024 * 1024 * 1024),
        item_count: Some(12_345_678),
        encryption_key_arn: None,
        indexes: None,
        capacity: None,
    }
}

pub(crate) fn key_facts() -> KeyFacts {
    KeyFacts {
        arn: KEY.to_owned(),
        account: TARGET.to_owned(),
        region: "us-west-2".to_owned(),
        state: "Enabled".to_owned(),
        spec: "SYMMETRIC_DEFAULT".to_owned(),
        usage: "ENCRYPT_DECRYPT".to_owned(),
        manager: KeyManager::Customer,
        multi_region: None,
    }
}

fn changes(plan: &Plan, r: &Restore) -> Vec<TableChange> {
    crate::check::changes::planned(
        plan.name(),
        &r.after_restore,
        &crate::check::changes::Original::default(),
    )
}

/// A live report of [`plan`] as `check::live::check` would produce it.
pub(crate) fn report(plan: &Plan) -> LiveReport {
    let rs = plan.restores();
    // accounts: customer key, index by-date dropped.
    let acc_table = table(
        "accounts",
        TableEncryption::Owned,
        vec![index("by-email"), index("by-date")],
    );
    let acc_rp = vault_point("accounts", 1, 3);
    let acc_key = key_facts();
    let acc = ResolvedRestore {
        index: 0,
        id: "accounts".to_owned(),
        target: rs[0].target.location.clone(),
        target_name: rs[0].target_name.clone(),
        request: build_request(&rs[0], Some(&acc_rp), Some(KEY), Some(&acc_table.indexes)),
        recovery_point: Some(acc_rp),
        pitr: None,
        source_table: Some(acc_table),
        key: Some(acc_key),
        changes: changes(plan, &rs[0]),
        estimated_seconds: 1_325.0,
        disposition: Disposition::Ready,
        copy: None,
    };
    // ledger: same-as-source with a multi-Region key; the original streams.
    let primary = "arn:aws:kms:us-east-1:111122223333:key/mrk-00000000000000000000000000000001";
    let replica = "arn:aws:kms:us-west-2:111122223333:key/mrk-00000000000000000000000000000001";
    let mut led_table = table(
        "ledger",
        TableEncryption::Customer {
            key_arn: primary.to_owned(),
        },
        Vec::new(),
    );
    led_table.stream = Some("NEW_AND_OLD_IMAGES".to_owned());
    let led_rp = vault_point("ledger", 2, 30);
    let led_key = KeyFacts {
        arn: replica.to_owned(),
        account: SOURCE.to_owned(),
        region: "us-west-2".to_owned(),
        multi_region: Some(MultiRegion {
            role: MultiRegionRole::Replica,
            primary_arn: primary.to_owned(),
            replica_arns: vec![replica.to_owned()],
        }),
        ..key_facts()
    };
    let mut as_sent = rs[1].clone();
    as_sent.encryption = Encryption::CustomerManaged {
        key: KeyRef {
            name: None,
            arn: replica.to_owned(),
        },
    };
    let too_old = Finding::error(
        "restoreplan::recovery_point::too_old",
        "restore `ledger`: the newest recovery point is 1d 6h old, older than the RPO of 1d",
    )
    .restore("ledger")
    .evidence(format!("taken at {}", led_rp.created.to_rfc3339()))
    .help("take a fresh backup or copy one into the vault, or raise `objectives.rpo` if this age is acceptable");
    let led = ResolvedRestore {
        index: 1,
        id: "ledger".to_owned(),
        target: rs[1].target.location.clone(),
        target_name: rs[1].target_name.clone(),
        request: build_request(&as_sent, Some(&led_rp), Some(replica), Some(&[])),
        recovery_point: Some(led_rp),
        pitr: None,
        source_table: Some(led_table),
        key: Some(led_key),
        changes: changes(plan, &rs[1]),
        estimated_seconds: 1_330.0,
        disposition: Disposition::Blocked {
            reasons: vec![too_old.clone()],
        },
        copy: None,
    };
    // audit-pitr: point in time, target exists.
    let aud_table = table(
        "audit",
        TableEncryption::Managed { key_arn: None },
        Vec::new(),
    );
    let exists = Finding::error(
        "restoreplan::target::exists",
        "restore `audit-pitr` would overwrite table `audit-dr` in 111122223333/us-west-2",
    )
    .restore("audit-pitr")
    .evidence("DescribeTable audit-dr in 111122223333/us-west-2: arn:aws:dynamodb:us-west-2:111122223333:table/audit-dr (status ACTIVE)")
    .help("choose another target `name`");
    let aud = ResolvedRestore {
        index: 2,
        id: "audit-pitr".to_owned(),
        target: rs[2].target.location.clone(),
        target_name: rs[2].target_name.clone(),
        request: build_request(&rs[2], None, None, Some(&[])),
        recovery_point: None,
        pitr: Some(PitrFacts {
            enabled: true,
            earliest: Some(now() - chrono::TimeDelta::days(35)),
            latest: Some(now() - chrono::TimeDelta::minutes(5)),
        }),
        source_table: Some(aud_table),
        key: None,
        changes: changes(plan, &rs[2]),
        estimated_seconds: 1_210.0,
        disposition: Disposition::Blocked {
            reasons: vec![exists.clone()],
        },
        copy: None,
    };
    LiveReport {
        resolved: vec![acc, led, aud],
        findings: vec![too_old, exists],
        identities: vec![
            AccountIdentity {
                account: SOURCE.to_owned(),
                identity: Ok(Identity {
                    account: SOURCE.to_owned(),
                    arn: format!("arn:aws:sts::{SOURCE}:assumed-role/dr-reader/restoreplan"),
                    source: "role arn:aws:iam::111122223333:role/dr-reader assumed with ambient credentials".to_owned(),
                }),
            },
            AccountIdentity {
                account: TARGET.to_owned(),
                identity: Ok(Identity {
                    account: TARGET.to_owned(),
                    arn: format!("arn:aws:iam::{TARGET}:user/sre"),
                    source: "ambient credentials".to_owned(),
                }),
            },
        ],
        checked_at: now(),
        draw: None,
    }
}

/// Source settings: accounts has PITR and tags, ledger has TTL, audit unknown.
pub(crate) fn sources() -> BTreeMap<String, SourceSettings> {
    BTreeMap::from([
        (
            "accounts".to_owned(),
            SourceSettings {
                point_in_time_recovery: Some(true),
                ttl_attribute: Some(None),
                tags: Some(BTreeMap::from([
                    ("team".to_owned(), "payments".to_owned()),
                    ("aws:cloudformation:stack-name".to_owned(), "x".to_owned()),
                ])),
                original: Some(accounts_original()),
            },
        ),
        (
            "ledger".to_owned(),
            SourceSettings {
                point_in_time_recovery: Some(false),
                ttl_attribute: Some(Some("expires_at".to_owned())),
                tags: Some(BTreeMap::new()),
                original: None,
            },
        ),
    ])
}

/// What `accounts` has beyond the table, none of which the plan copies:
/// auto scaling on the table, a resource policy, contributor insights, a
/// Kinesis destination and an alarm (besides auto scaling's own).
fn accounts_original() -> crate::check::changes::Original {
    use crate::cloud::settings::{
        Alarm, Insights, KinesisDestination, ScalableTarget, Scaling, ScalingPolicy,
    };
    let alarm = |name: &str, metric: &str| Alarm {
        name: name.to_owned(),
        description: None,
        namespace: "AWS/DynamoDB".to_owned(),
        metric: metric.to_owned(),
        dimensions: vec![("TableName".to_owned(), "accounts".to_owned())],
        statistic: Some("Sum".to_owned()),
        extended_statistic: None,
        period: 60,
        evaluation_periods: 2,
        datapoints_to_alarm: None,
        threshold: 5.0,
        comparison: "GreaterThanOrEqualToThreshold".to_owned(),
        treat_missing_data: None,
        unit: None,
        actions_enabled: true,
        alarm_actions: Vec::new(),
        ok_actions: Vec::new(),
        insufficient_data_actions: Vec::new(),
        tags: BTreeMap::new(),
    };
    crate::check::changes::Original {
        table: "accounts".to_owned(),
        scaling: Some(Scaling {
            targets: vec![ScalableTarget {
                resource_id: "table/accounts".to_owned(),
                dimension: "dynamodb:table:ReadCapacityUnits".to_owned(),
                min_capacity: 5,
                max_capacity: 100,
            }],
            policies: vec![ScalingPolicy {
                name: "accounts-read".to_owned(),
                resource_id: "table/accounts".to_owned(),
                dimension: "dynamodb:table:ReadCapacityUnits".to_owned(),
                target_value: 70.0,
                predefined_metric: Some("DynamoDBReadCapacityUtilization".to_owned()),
                scale_in_cooldown: None,
                scale_out_cooldown: None,
                disable_scale_in: None,
            }],
            other_policies: Vec::new(),
            step_policies: Vec::new(),
        }),
        resource_policy: Some(Some("{\"Version\":\"2012-10-17\"}".to_owned())),
        insights: Some(vec![Insights {
            index: None,
            enabled: true,
            mode: None,
        }]),
        kinesis: Some(vec![KinesisDestination {
            stream_arn: "arn:aws:kinesis:us-east-1:111122223333:stream/accounts-events".to_owned(),
            status: "ACTIVE".to_owned(),
            precision: None,
        }]),
        alarms: Some(vec![
            alarm("accounts-read-throttles", "ReadThrottleEvents"),
            alarm(
                "TargetTracking-table/accounts-AlarmHigh-0d2c",
                "ConsumedReadCapacityUnits",
            ),
        ]),
        ..crate::check::changes::Original::default()
    }
}
