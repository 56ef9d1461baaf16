//! Building sealed plans in code, for tests that exercise stages after loading.

use std::collections::BTreeMap;

use restoreplan::plan::model::*;

/// A restore of `table` from `source` into `target`, restored under `name`.
pub fn restore(table: &str, source: (&str, &str), target: (&str, &str), name: &str) -> Restore {
    Restore {
        id: table.to_owned(),
        table: table.to_owned(),
        source: loc(source),
        target: Target {
            location: loc(target),
            vault: None,
            role: Some(format!(
                "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                target.0
            )),
        },
        target_name: name.to_owned(),
        recovery_point: RecoveryPointSelector::Latest,
        encryption: Encryption::DynamodbOwned,
        indexes: None,
        after_restore: AfterRestore::default(),
        capacity: Default::default(),
        depends_on: Vec::new(),
        spans: RestoreSpans::default(),
    }
}

/// An account/Region location.
pub fn loc((account, region): (&str, &str)) -> Location {
    Location {
        account: AccountId::parse(account).expect("12-digit account"),
        region: Region::parse(region).expect("a Region"),
    }
}

/// Seals restores into a plan with the given RPO (seconds).
pub fn plan(restores: Vec<Restore>, rpo_secs: Option<u64>) -> Plan {
    Plan::seal(
        PlanHeader {
            name: "test-plan".into(),
            description: None,
            objectives: Objectives {
                rpo: rpo_secs.map(std::time::Duration::from_secs),
                rto: None,
            },
            execution: Execution::default(),
            keys: BTreeMap::new(),
            state: Default::default(),
        },
        restores,
    )
    .expect("a valid graph")
}

/// A customer-managed key reference.
pub fn cmk(arn: &str) -> Encryption {
    Encryption::CustomerManaged {
        key: KeyRef {
            name: None,
            arn: arn.to_owned(),
        },
    }
}
