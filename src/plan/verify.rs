//! `after_restore.verify`: data checks run once a restore's settings are
//! applied (item count, keys that must exist, a user command).
//!
//! The raw types mirror the YAML; [`Verify`] is the resolved form; [`rules`]
//! checks the values offline with the YAML position of each.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::rules as codes;
use super::tree::{Node, Segment, Value};
use crate::diag::Finding;

/// The default share of a provisioned table's read capacity the checks may use.
pub const DEFAULT_MAX_READ_FRACTION: f64 = 0.5;

/// Data checks of a restored table, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Verify")]
pub struct RawVerify {
    /// Item count from a parallel `Scan` with `Select=COUNT`: `{min: N, max: N}`.
    pub items: Option<RawItems>,
    /// Keys that must exist (`GetItem`), each a map of key attribute to
    /// value; values are typed by the table's key schema.
    pub keys: Option<Vec<BTreeMap<String, RawKeyValue>>>,
    /// A command run after the built-in checks (local engine only): the
    /// program and its arguments. Exit 0 passes.
    pub command: Option<Vec<String>>,
    /// Time allowed for the whole verification of this restore, e.g. `30m`.
    pub timeout: Option<String>,
    /// Share of a provisioned table's read capacity the checks may consume
    /// per second, in (0, 1]; default 0.5.
    pub max_read_fraction: Option<f64>,
}

/// Bounds of the item count.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "VerifyItems")]
pub struct RawItems {
    /// Fewest items the restored table may hold.
    pub min: Option<u64>,
    /// Most items the restored table may hold.
    pub max: Option<u64>,
}

/// A key attribute's value as written: a string or a number, kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawKeyValue(pub String);

impl<'de> Deserialize<'de> for RawKeyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawKeyValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawKeyValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawKeyValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RawKeyValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawKeyValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawKeyValue {
    fn schema_name() -> Cow<'static, str> {
        "KeyValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A key attribute's value: a string (S, or base64 for B) or a number (N).",
            "type": ["string", "number"]
        })
    }
}

/// Bounds of the item count, resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemBounds {
    /// Fewest items.
    pub min: Option<u64>,
    /// Most items.
    pub max: Option<u64>,
}

/// Data checks of a restored table, resolved (defaults merged key by key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verify {
    /// Item count bounds, when counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<ItemBounds>,
    /// Keys that must exist, each attribute name to value as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<BTreeMap<String, String>>,
    /// The user command: program and arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Time allowed for the whole verification, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Share of a provisioned table's read capacity the checks may consume per second.
    pub max_read_fraction: f64,
}

// `max_read_fraction` is never NaN: the rules reject it before resolving.
impl Eq for Verify {}

impl Default for Verify {
    fn default() -> Self {
        Self {
            items: None,
            keys: Vec::new(),
            command: None,
            timeout_seconds: None,
            max_read_fraction: DEFAULT_MAX_READ_FRACTION,
        }
    }
}

impl Verify {
    /// True when there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.items.is_none() && self.keys.is_empty() && self.command.is_none()
    }

    /// The timeout, when set.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout_seconds.map(Duration::from_secs)
    }
}

/// Merges the `verify` blocks of the defaults and of the restore: each key
/// the restore writes wins; `None` when neither writes one.
pub fn merge(layers: &[Option<&RawVerify>]) -> Option<Verify> {
    let mut out: Option<Verify> = None;
    for layer in layers.iter().flatten() {
        let v = out.get_or_insert_with(Verify::default);
        if let Some(items) = &layer.items {
            v.items = Some(ItemBounds {
                min: items.min,
                max: items.max,
            });
        }
        if let Some(keys) = &layer.keys {
            v.keys = keys
                .iter()
                .map(|k| k.iter().map(|(a, x)| (a.clone(), x.0.clone())).collect())
                .collect();
        }
        if let Some(c) = &layer.command {
            v.command = Some(c.clone());
        }
        if let Some(t) = &layer.timeout {
            v.timeout_seconds = crate::text::parse_duration(t).map(|d| d.as_secs());
        }
        if let Some(f) = layer.max_read_fraction {
            v.max_read_fraction = f;
        }
    }
    out
}

/// Offline rules of every `verify` block (defaults and restores), each at
/// the YAML position of the value.
pub fn rules(root: &Node, findings: &mut Vec<Finding>) {
    let key = |k: &str| Segment::Key(k.to_owned());
    let mut places: Vec<Vec<Segment>> = vec![vec![key("defaults")]];
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for i in 0..items.len() {
            places.push(vec![key("restores"), Segment::Index(i)]);
        }
    }
    for base in places {
        let mut path = base.clone();
        path.extend([key("after_restore"), key("verify")]);
        let Some(v) = root.at(&path) else {
            continue;
        };
        let mut push = |f: Finding| {
            findings.push(super::tree::with_restore(f, root, &base));
        };
        if let Some(items) = v.get("items") {
            let n = |k: &str| match items.get(k).map(|n| &n.value) {
                Some(Value::Number(n)) => n.as_u64(),
                _ => None,
            };
            if let (Some(min), Some(max)) = (n("min"), n("max"))
                && min > max
            {
                push(
                    Finding::error(
                        codes::VERIFY_ITEMS_RANGE,
                        format!("verify.items.min ({min}) is above verify.items.max ({max})"),
                    )
                    .at(Some(items.span))
                    .label("no count can pass")
                    .help("make `min` at most `max`, or drop one of them"),
                );
            }
            if let Value::Map(entries) = &items.value
                && entries.is_empty()
            {
                push(
                    Finding::error(codes::VERIFY_ITEMS_RANGE, "verify.items sets no bound")
                        .at(Some(items.span))
                        .label("empty")
                        .help("write `{min: N}`, `{max: N}` or both"),
                );
            }
        }
        if let Some(f) = v.get("max_read_fraction")
            && let Value::Number(n) = &f.value
            && let Some(x) = n.as_f64()
            && !(x > 0.0 && x <= 1.0)
        {
            push(
                Finding::error(
                    codes::VERIFY_READ_FRACTION,
                    format!("verify.max_read_fraction is {n}; it must be above 0 and at most 1"),
                )
                .at(Some(f.span))
                .label("outside (0, 1]")
                .help(
                    "write the share of the table's read capacity the checks may use, e.g. `0.5`",
                ),
            );
        }
        if let Some(t) = v.get("timeout")
            && let Value::Str { text, .. } = &t.value
            && crate::text::parse_duration(text).is_none_or(|d| d.is_zero())
        {
            push(
                Finding::error(
                    codes::DURATION_INVALID,
                    format!("verify.timeout `{text}` is not a duration"),
                )
                .at(Some(t.span))
                .label("expected a number and a unit: s, m, h or d")
                .help("write a whole number above 0 followed by s, m, h or d, e.g. `30m`"),
            );
        }
        if let Some(c) = v.get("command")
            && let Value::Seq(args) = &c.value
            && args
                .first()
                .is_none_or(|a| matches!(&a.value, Value::Str { text, .. } if text.is_empty()))
        {
            push(
                Finding::error(codes::VERIFY_COMMAND_EMPTY, "verify.command names no program")
                    .at(Some(c.span))
                    .label("empty command")
                    .help("write the program and its arguments, e.g. `[\"./checks/ledger.sh\", \"--strict\"]`"),
            );
        }
        if let Some(k) = v.get("keys")
            && let Value::Seq(keys) = &k.value
        {
            for key in keys {
                if let Value::Map(attrs) = &key.value
                    && attrs.is_empty()
                {
                    push(
                        Finding::error(codes::VERIFY_KEY_EMPTY, "a verify.keys entry names no attribute")
                            .at(Some(key.span))
                            .label("empty key")
                            .help("write the table's key attributes, e.g. `{ tenant_id: \"t-0001\", sk: \"profile\" }`"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> RawVerify {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn restore_keys_win_over_defaults_key_by_key() {
        let d = raw("items: {min: 1}\nmax_read_fraction: 0.25\ntimeout: 5m\n");
        let own = raw("keys: [{pk: 7, sk: a}]\ncommand: [./x.sh]\n");
        let v = merge(&[Some(&d), Some(&own)]).unwrap();
        assert_eq!(
            v.items,
            Some(ItemBounds {
                min: Some(1),
                max: None
            })
        );
        assert_eq!(v.max_read_fraction, 0.25);
        assert_eq!(v.timeout_seconds, Some(300));
        assert_eq!(v.keys[0]["pk"], "7");
        assert_eq!(v.keys[0]["sk"], "a");
        assert_eq!(v.command.as_deref(), Some(&["./x.sh".to_owned()][..]));
        assert!(merge(&[None, None]).is_none());
    }

    #[test]
    fn default_read_fraction_is_half() {
        let v = merge(&[Some(&raw("items: {min: 1}\n"))]).unwrap();
        assert_eq!(v.max_read_fraction, 0.5);
    }
}
