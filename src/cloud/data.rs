//! Reads of a table's data, for verification: its key schema and read
//! capacity, one `Scan` page with `Select=COUNT`, one `GetItem`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A key attribute's value, typed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyValue {
    /// `S`.
    S(String),
    /// `N`, as text.
    N(String),
    /// `B`, the bytes.
    B(Vec<u8>),
}

/// A primary key (or a `Scan` cursor): attribute name to value.
pub type ItemKey = BTreeMap<String, KeyValue>;

/// One attribute of a table's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    /// Attribute name.
    pub name: String,
    /// `HASH` or `RANGE`.
    pub role: String,
    /// `S`, `N` or `B`.
    pub kind: String,
}

/// What verification needs to know of a table before reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFacts {
    /// The primary key, partition key first.
    pub key_schema: Vec<KeyAttribute>,
    /// Provisioned read capacity units, `None` for on-demand.
    pub read_capacity: Option<u64>,
    /// On-demand maximum read request units, when set.
    pub max_read_units: Option<u64>,
    /// Size in bytes (approximate).
    pub size_bytes: u64,
    /// Item count (approximate).
    pub item_count: u64,
}

/// One `Scan` page with `Select=COUNT`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountPage {
    /// Items counted on the page.
    pub count: u64,
    /// Read capacity units the page consumed (`ReturnConsumedCapacity`).
    pub consumed: f64,
    /// Where the next page starts; `None` when the segment is done.
    pub next: Option<ItemKey>,
}

/// One `GetItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemLookup {
    /// True when the item exists.
    pub found: bool,
    /// Read capacity units consumed.
    pub consumed: f64,
}

/// Types `written` (as the plan writes a key) by the table's key schema:
/// every key attribute must be given, no other, and each value must fit
/// its type (`N` a number, `B` base64). `Err` says what does not fit.
pub fn typed_key(
    written: &BTreeMap<String, String>,
    schema: &[KeyAttribute],
) -> Result<ItemKey, String> {
    let mut key = ItemKey::new();
    for a in schema {
        let Some(v) = written.get(&a.name) else {
            return Err(format!(
                "key attribute `{}` ({}) is missing",
                a.name,
                a.role.to_ascii_lowercase()
            ));
        };
        let value = match a.kind.as_str() {
            "N" => {
                if v.trim().parse::<f64>().is_err() {
                    return Err(format!("`{}` is a number (N); `{v}` is not one", a.name));
                }
                KeyValue::N(v.trim().to_owned())
            }
            "B" => match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v) {
                Ok(b) => KeyValue::B(b),
                Err(_) => {
                    return Err(format!("`{}` is binary (B); `{v}` is not base64", a.name));
                }
            },
            _ => KeyValue::S(v.clone()),
        };
        key.insert(a.name.clone(), value);
    }
    if let Some(extra) = written
        .keys()
        .find(|k| !schema.iter().any(|a| &a.name == *k))
    {
        let names: Vec<&str> = schema.iter().map(|a| a.name.as_str()).collect();
        return Err(format!(
            "`{extra}` is not a key attribute (the key is {})",
            names.join(", ")
        ));
    }
    Ok(key)
}

/// A key as text, for evidence: `{pk: "a", sk: 7}`.
pub fn show_key(key: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// What a verification command needs to act in the target account as
/// restoreplan does there: the credentials of the identity used for that
/// account, its Region, and the endpoint override when one is in use.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandAccess {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
    /// `AWS_REGION`.
    pub region: String,
    /// `AWS_ENDPOINT_URL`, when every service is reached at one endpoint.
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for CommandAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret or the token.
        f.debug_struct("CommandAccess")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The verdict reported to AWS Backup for a restore job
/// (`PutRestoreValidationResult` `ValidationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationStatus {
    /// Every check passed.
    Successful,
    /// A check failed or timed out.
    Failed,
}

impl ValidationStatus {
    /// As AWS Backup spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Successful => "SUCCESSFUL",
            ValidationStatus::Failed => "FAILED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<KeyAttribute> {
        vec![
            KeyAttribute {
                name: "pk".into(),
                role: "HASH".into(),
                kind: "S".into(),
            },
            KeyAttribute {
                name: "n".into(),
                role: "RANGE".into(),
                kind: "N".into(),
            },
        ]
    }

    fn w(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn keys_are_typed_by_the_schema() {
        let k = typed_key(&w(&[("pk", "a"), ("n", "7")]), &schema()).unwrap();
        assert_eq!(k["pk"], KeyValue::S("a".into()));
        assert_eq!(k["n"], KeyValue::N("7".into()));
        let e = typed_key(&w(&[("pk", "a"), ("n", "x")]), &schema()).unwrap_err();
        assert!(e.contains("is a number"), "{e}");
        let e = typed_key(&w(&[("pk", "a")]), &schema()).unwrap_err();
        assert!(e.contains("`n` (range) is missing"), "{e}");
        let e = typed_key(&w(&[("pk", "a"), ("n", "1"), ("z", "1")]), &schema()).unwrap_err();
        assert!(e.contains("`z` is not a key attribute"), "{e}");
    }
}
