//! Request shapes and error codes that the SDK adapter (`restoreplan::aws`)
//! and the SDK-free parts (the dry run, the Step Functions export, the live
//! checks) share: each is defined once, here.

use std::collections::BTreeMap;

use super::{IndexDef, SseRequest};

/// Restore-metadata value AWS Backup uses for "no key ARN".
pub const NOT_APPLICABLE: &str = "Not Applicable";

/// The AWS Backup restore metadata of a DynamoDB `StartRestoreJob`, keys
/// exactly as sent: the target table's name, the encryption and, when the
/// restore drops indexes, the indexes to create. The one place this map is
/// built; the send path and the dry run's rendering of the request both
/// call it.
pub fn start_restore_job_metadata(
    target_table_name: &str,
    sse: &SseRequest,
    kept_indexes: Option<&[IndexDef]>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("targetTableName".to_owned(), target_table_name.to_owned());
    match sse {
        SseRequest::Owned => {
            m.insert("encryptionType".to_owned(), "Default".to_owned());
            m.insert("kmsMasterKeyArn".to_owned(), NOT_APPLICABLE.to_owned());
        }
        SseRequest::Managed => {
            m.insert("encryptionType".to_owned(), "KMS".to_owned());
        }
        SseRequest::Customer { key_arn } => {
            m.insert("encryptionType".to_owned(), "KMS".to_owned());
            m.insert("kmsMasterKeyArn".to_owned(), key_arn.clone());
        }
    }
    if let Some(indexes) = kept_indexes {
        // The same shape GetRecoveryPointRestoreMetadata reports: a JSON
        // array (as a string) of the indexes to create.
        let list: Vec<serde_json::Value> = indexes
            .iter()
            .map(|ix| {
                serde_json::json!({
                    "indexName": ix.name,
                    "indexType": "GSI",
                    "keySchema": ix.key_schema.iter().map(|(a, t)| serde_json::json!({"AttributeName": a, "KeyType": t})).collect::<Vec<_>>(),
                    "projectedAttributes": {"ProjectionType": ix.projection_type, "NonKeyAttributes": ix.non_key_attributes},
                })
            })
            .collect();
        m.insert(
            "secondaryIndices".to_owned(),
            serde_json::Value::Array(list).to_string(),
        );
    }
    m
}

/// True for the error codes the SDK adapter gives network failures
/// (connection refused or reset, timeouts, DNS and TLS errors).
pub fn is_network_code(code: &str) -> bool {
    matches!(
        code,
        "ConnectTimeout"
            | "DnsError"
            | "ConnectionRefused"
            | "TlsError"
            | "ConnectionReset"
            | "NetworkError"
            | "Timeout"
    )
}
