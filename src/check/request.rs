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
