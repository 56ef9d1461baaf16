//! Building the exact restore request for a resolved restore. Pure.

use crate::cloud::{
    CapacityOverride, IndexDef, RecoveryPoint, RecoveryPointOrigin, RestoreRequest, SseRequest,
};
use crate::plan::model::{Encryption, RecoveryPointSelector, Restore};

use super::resolved::TOKEN_PLACEHOLDER;

/// The server-side encryption a restore asks for, given the key resolved in
/// the target Region (`key_arn`, required for customer-managed and
/// same-as-source with a customer key).
pub fn sse_for(encryption: &Encryption, key_arn: Option<&str>) -> SseRequest {
    match (encryption, key_arn) {
        (Encryption::DynamodbOwned, _) => SseRequest::Owned,
        (Encryption::DynamodbManaged, _) => SseRequest::Managed,
        (Encryption::CustomerManaged { .. } | Encryption::SameAsSource, Some(arn)) => {
            SseRequest::Customer {
                key_arn: arn.to_owned(),
            }
        }
        // Same-as-source on a table without a customer key keeps AWS's default.
        (Encryption::SameAsSource, None) => SseRequest::Owned,
        (Encryption::CustomerManaged { key }, None) => SseRequest::Customer {
            key_arn: key.arn.clone(),
        },
    }
}

/// The indexes to keep: all of `available` when the plan keeps all (returns
/// `None`, meaning no override), else those named in the plan.
pub fn kept_indexes(restore: &Restore, available: Option<&[IndexDef]>) -> Option<Vec<IndexDef>> {
    let wanted = restore.indexes.as_ref()?;
    let available = available.unwrap_or(&[]);
    Some(
        available
            .iter()
            .filter(|ix| wanted.iter().any(|w| w == &ix.name))
            .cloned()
            .collect(),
    )
}

/// The request `apply` sends for `restore`, given the chosen recovery point
/// (`None` for point-in-time), the key ARN in the target Region, and the
/// original table's indexes when known.
pub fn build_request(
    restore: &Restore,
    recovery_point: Option<&RecoveryPoint>,
    key_arn: Option<&str>,
    source_indexes: Option<&[IndexDef]>,
) -> RestoreRequest {
    let sse = sse_for(&restore.encryption, key_arn);
    let rp_indexes = recovery_point.and_then(|rp| rp.indexes.as_deref());
    let indexes = kept_indexes(restore, rp_indexes.or(source_indexes));
    match (&restore.recovery_point, recovery_point) {
        (RecoveryPointSelector::PointInTime { at }, _) => {
            RestoreRequest::RestoreTableToPointInTime {
                source_table_arn: restore.source_table_arn(),
                target_table_name: restore.target_name.clone(),
                restore_date_time: *at,
                sse,
                indexes,
                capacity: None,
            }
        }
        (_, Some(rp)) if rp.origin == RecoveryPointOrigin::DynamoDbBackup => {
            RestoreRequest::RestoreTableFromBackup {
                backup_arn: rp.arn.clone(),
                target_table_name: restore.target_name.clone(),
                sse,
                indexes,
                capacity: None,
            }
        }
        (RecoveryPointSelector::DynamoDbBackupArn { arn }, None) => {
            RestoreRequest::RestoreTableFromBackup {
                backup_arn: arn.clone(),
                target_table_name: restore.target_name.clone(),
                sse,
                indexes,
                capacity: None,
            }
        }
        (selector, rp) => {
            let arn = match (rp, selector) {
                (Some(rp), _) => rp.arn.clone(),
                (None, RecoveryPointSelector::BackupArn { arn }) => arn.clone(),
                (None, _) => "<resolved at apply>".to_owned(),
            };
            RestoreRequest::StartRestoreJob {
                recovery_point_arn: arn,
                iam_role_arn: restore.target.role.clone().unwrap_or_default(),
                idempotency_token: TOKEN_PLACEHOLDER.to_owned(),
                resource_type: "DynamoDB".to_owned(),
                target_table_name: restore.target_name.clone(),
                sse,
                indexes,
            }
        }
    }
}

/// The indexes the restored table keeps, by name: those the request keeps,
/// or all of `available` when it keeps all.
pub fn kept_index_names(request: &RestoreRequest, available: Option<&[IndexDef]>) -> Vec<String> {
    request
        .indexes()
        .or(available)
        .unwrap_or(&[])
        .iter()
        .map(|ix| ix.name.clone())
        .collect()
}

/// `request` with the capacity overrides of a DynamoDB restore. An override
/// with per-index capacity lists every kept index in
/// `GlobalSecondaryIndexOverride` (all of `available` when the request kept
/// all), since a provisioned table's index override must carry throughput.
/// AWS Backup restores take no capacity overrides: they are left as they are.
pub fn with_capacity(
    mut request: RestoreRequest,
    capacity: Option<CapacityOverride>,
    available: Option<&[IndexDef]>,
) -> RestoreRequest {
    let Some(c) = capacity else {
        return request;
    };
    match &mut request {
        RestoreRequest::RestoreTableFromBackup {
            indexes, capacity, ..
        }
        | RestoreRequest::RestoreTableToPointInTime {
            indexes, capacity, ..
        } => {
            if indexes.is_none() && !c.indexes.is_empty() {
                *indexes = available.map(<[IndexDef]>::to_vec);
            }
            *capacity = Some(c);
        }
        RestoreRequest::StartRestoreJob { .. } => {}
    }
    request
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cloud::IndexCapacity;
    use crate::plan::capacity::{BillingMode, Throughput};

    fn index(name: &str) -> IndexDef {
        IndexDef {
            name: name.to_owned(),
            key_schema: vec![(format!("{name}_key"), "HASH".to_owned())],
            projection_type: "ALL".to_owned(),
            non_key_attributes: Vec::new(),
        }
    }

    fn provisioned(indexes: &[&str]) -> CapacityOverride {
        let t = Throughput { read: 7, write: 3 };
        CapacityOverride {
            billing_mode: BillingMode::Provisioned,
            throughput: Some(t),
            on_demand: None,
            indexes: indexes
                .iter()
                .map(|n| {
                    (
                        (*n).to_owned(),
                        IndexCapacity {
                            throughput: Some(t),
                            on_demand: None,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn from_backup(indexes: Option<Vec<IndexDef>>) -> RestoreRequest {
        RestoreRequest::RestoreTableFromBackup {
            backup_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t/backup/1".to_owned(),
            target_table_name: "t-dr".to_owned(),
            sse: SseRequest::Owned,
            indexes,
            capacity: None,
        }
    }

    #[test]
    fn a_capacity_override_lists_every_kept_index() {
        let available = [index("by-user"), index("by-day")];
        let r = with_capacity(
            from_backup(None),
            Some(provisioned(&["by-user", "by-day"])),
            Some(&available),
        );
        let RestoreRequest::RestoreTableFromBackup {
            indexes, capacity, ..
        } = &r
        else {
            panic!("{r:?}");
        };
        assert_eq!(indexes.as_deref(), Some(&available[..]));
        assert_eq!(capacity.as_ref().map(|c| c.indexes.len()), Some(2));
        assert_eq!(kept_index_names(&r, None), ["by-user", "by-day"]);
    }

    #[test]
    fn an_index_selection_stays_and_backup_restores_take_no_override() {
        let kept = vec![index("by-user")];
        let r = with_capacity(
            from_backup(Some(kept.clone())),
            Some(provisioned(&["by-user"])),
            Some(&[index("by-user"), index("by-day")]),
        );
        assert_eq!(r.indexes(), Some(&kept[..]));
        let job = RestoreRequest::StartRestoreJob {
            recovery_point_arn: "arn".to_owned(),
            iam_role_arn: "role".to_owned(),
            idempotency_token: "t".to_owned(),
            resource_type: "DynamoDB".to_owned(),
            target_table_name: "t-dr".to_owned(),
            sse: SseRequest::Owned,
            indexes: None,
        };
        assert_eq!(
            with_capacity(job.clone(), Some(provisioned(&[])), None),
            job
        );
        // Without per-index capacity the request keeps all indexes implicitly.
        let r = with_capacity(from_backup(None), Some(provisioned(&[])), None);
        assert_eq!(r.indexes(), None);
    }
}
