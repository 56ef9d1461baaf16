//! The after-restore settings that may be copied from the original table
//! (`copy`, `from_source: all`): their written forms, their resolved forms,
//! and how the layers (`defaults`, the restore) combine.
//!
//! Explicit keys win over `from_source: all`, whichever layer they stand in:
//! `from_source: all` only fills in the keys no layer sets.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::diag::Finding;
use crate::plan::model::{AfterRestore, StreamSetting, TtlSetting};
use crate::plan::rules;
use crate::plan::tree::{Node, Segment, Value};
use crate::plan::raw::RawAfterRestore;

/// A value, or `copy` (the original table's, read live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copyable<T> {
    /// `copy`: whatever the original table has.
    Copy,
    /// An explicit value.
    Set(T),
}

impl<T: fmt::Display> fmt::Display for Copyable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Copy => f.write_str("copy"),
            Self::Set(v) => v.fmt(f),
        }
    }
}

impl<T: Serialize> Serialize for Copyable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Copy => s.serialize_str("copy"),
            Self::Set(v) => v.serialize(s),
        }
    }
}

/// `copy` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "CopyOrOff")]
pub enum CopyOrOff {
    /// Re-create what the original table has.
    Copy,
    /// Leave it off.
    Off,
}

/// The Kinesis streaming destination of the restored table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KinesisSetting {
    /// The original table's active destinations.
    Copy,
    /// None.
    Off,
    /// This Kinesis data stream.
    Stream {
        /// The stream's ARN.
        stream_arn: String,
    },
}

/// `true`, `false` or `copy`, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawToggle {
    /// `copy`.
    Copy,
    /// `true` / `false`.
    Set(bool),
}

impl From<RawToggle> for Copyable<bool> {
    fn from(t: RawToggle) -> Self {
        match t {
            RawToggle::Copy => Copyable::Copy,
            RawToggle::Set(b) => Copyable::Set(b),
        }
    }
}

impl<'de> Deserialize<'de> for RawToggle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawToggle;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false` or `copy`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RawToggle::Set(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "copy" {
                    Ok(RawToggle::Copy)
                } else {
                    Err(de::Error::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawToggle {
    fn schema_name() -> Cow<'static, str> {
        "Toggle".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`true`, `false`, or `copy` (what the original table has, read live).",
            "oneOf": [
                { "type": "boolean" },
                { "type": "string", "enum": ["copy"], "description": "What the original table has." }
            ]
        })
    }
}

/// `from_source` as written: only `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "FromSource")]
pub enum RawFromSource {
    /// Every setting the original has, as if each key said `copy`.
    All,
}

/// `kinesis_destination` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKinesis {
    /// `copy`.
    Copy,
    /// `off`.
    Off,
    /// `{stream_arn: ARN}`.
    Stream(String),
}

impl<'de> Deserialize<'de> for RawKinesis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawKinesis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`copy`, `off` or `{stream_arn: ARN}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "copy" => Ok(RawKinesis::Copy),
                    "off" => Ok(RawKinesis::Off),
                    _ => Err(de::Error::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                if key != "stream_arn" {
                    return Err(de::Error::unknown_field(&key, &["stream_arn"]));
                }
                let value: String = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::invalid_length(2, &self));
                }
                Ok(RawKinesis::Stream(value))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawKinesis {
    fn schema_name() -> Cow<'static, str> {
        "KinesisDestination".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The Kinesis streaming destination: `copy` (the original table's), `off`, or `{stream_arn: ARN}`.",
            "oneOf": [
                { "type": "string", "enum": ["copy", "off"] },
                {
                    "type": "object",
                    "properties": { "stream_arn": { "type": "string", "description": "The Kinesis data stream's ARN, in the target account and Region." } },
                    "required": ["stream_arn"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl From<&RawKinesis> for KinesisSetting {
    fn from(k: &RawKinesis) -> Self {
        match k {
            RawKinesis::Copy => KinesisSetting::Copy,
            RawKinesis::Off => KinesisSetting::Off,
            RawKinesis::Stream(arn) => KinesisSetting::Stream {
                stream_arn: arn.clone(),
            },
        }
    }
}

/// True when `s` looks like a Kinesis data stream ARN.
pub fn is_stream_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kinesis"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("stream/").is_some_and(|n| !n.is_empty())
}

/// Merges the copyable keys of `defaults` and `own` (the restore's layer
/// wins) into `out`, then lets `from_source: all` (in either layer) fill
/// every key no layer set with `copy`.
pub fn merge_copied(
    out: &mut AfterRestore,
    defaults: Option<&RawAfterRestore>,
    own: Option<&RawAfterRestore>,
) {
    let mut copy_tags = None;
    let mut all = false;
    for layer in [defaults, own].into_iter().flatten() {
        all |= layer.from_source.is_some();
        if let Some(v) = layer.copy_source_tags {
            copy_tags = Some(v);
        }
        if let Some(v) = layer.auto_scaling {
            out.auto_scaling = Some(v);
        }
        if let Some(v) = layer.resource_policy {
            out.resource_policy = Some(v);
        }
        if let Some(v) = layer.contributor_insights {
            out.contributor_insights = Some(v.into());
        }
        if let Some(v) = &layer.kinesis_destination {
            out.kinesis_destination = Some(v.into());
        }
        if let Some(v) = layer.alarms {
            out.alarms = Some(v);
        }
    }
    out.copy_source_tags = copy_tags.unwrap_or(all);
    if all {
        out.point_in_time_recovery
            .get_or_insert(Copyable::Copy);
        out.deletion_protection.get_or_insert(Copyable::Copy);
        out.stream.get_or_insert(StreamSetting::Copy);
        out.ttl.get_or_insert(TtlSetting::Copy);
        out.auto_scaling.get_or_insert(CopyOrOff::Copy);
        out.resource_policy.get_or_insert(CopyOrOff::Copy);
        out.contributor_insights.get_or_insert(Copyable::Copy);
        out.kinesis_destination.get_or_insert(KinesisSetting::Copy);
        out.alarms.get_or_insert(CopyOrOff::Copy);
    }
}

/// `kinesis_destination: {stream_arn: …}` values (in `defaults` and each
/// restore) that are not Kinesis data stream ARNs.
pub fn stream_arns(root: &Node, findings: &mut Vec<Finding>) {
    let key = |k: &str| Segment::Key(k.to_owned());
    let mut places: Vec<(Vec<Segment>, &Node)> = Vec::new();
    if let Some(n) = root.at(&[key("defaults"), key("after_restore"), key("kinesis_destination")]) {
        places.push((vec![key("defaults")], n));
    }
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for (i, item) in items.iter().enumerate() {
            if let Some(n) = item
                .get("after_restore")
                .and_then(|a| a.get("kinesis_destination"))
            {
                places.push((vec![key("restores"), Segment::Index(i)], n));
            }
        }
    }
    for (path, node) in places {
        let Some(arn) = node.get("stream_arn") else {
            continue;
        };
        let Value::Str { text, .. } = &arn.value else {
            continue;
        };
        if is_stream_arn(text) {
            continue;
        }
        let f = Finding::error(
            rules::KINESIS_STREAM_ARN,
            format!("`{text}` is not a Kinesis data stream ARN"),
        )
        .at(Some(arn.span))
        .label("expected arn:aws:kinesis:REGION:ACCOUNT:stream/NAME")
        .help("copy the stream's ARN from `aws kinesis describe-stream-summary --stream-name NAME`; the stream must be in the restored table's account and Region");
        findings.push(crate::plan::schema::with_restore(f, root, &path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggles_take_booleans_and_copy() {
        let t: RawToggle = serde_yaml::from_str("copy").unwrap_or(RawToggle::Set(false));
        assert_eq!(t, RawToggle::Copy);
        let t: RawToggle = serde_yaml::from_str("true").unwrap_or(RawToggle::Copy);
        assert_eq!(t, RawToggle::Set(true));
        assert!(serde_yaml::from_str::<RawToggle>("maybe").is_err());
    }

    #[test]
    fn kinesis_takes_copy_off_and_a_stream() {
        let k: Result<RawKinesis, _> = serde_yaml::from_str("{stream_arn: arn:aws:kinesis:us-east-1:111122223333:stream/s}");
        assert_eq!(
            k.ok(),
            Some(RawKinesis::Stream(
                "arn:aws:kinesis:us-east-1:111122223333:stream/s".to_owned()
            ))
        );
        assert!(serde_yaml::from_str::<RawKinesis>("on").is_err());
        assert!(is_stream_arn("arn:aws:kinesis:us-east-1:111122223333:stream/s"));
        assert!(!is_stream_arn("arn:aws:kinesis:us-east-1:1111:stream/s"));
        assert!(!is_stream_arn("stream/s"));
    }
    #[test]
    fn from_source_fills_only_the_keys_no_layer_sets() {
        let defaults: RawAfterRestore = serde_yaml::from_str(
            "{ from_source: all, point_in_time_recovery: false, alarms: off }",
        )
        .unwrap_or_default();
        let own: RawAfterRestore =
            serde_yaml::from_str("{ copy_source_tags: false, stream: keys-only }").unwrap_or_default();
        let mut out = AfterRestore::default();
        out.point_in_time_recovery = Some(Copyable::Set(false));
        out.stream = Some(StreamSetting::KeysOnly);
        merge_copied(&mut out, Some(&defaults), Some(&own));
        assert_eq!(out.point_in_time_recovery, Some(Copyable::Set(false)));
        assert_eq!(out.alarms, Some(CopyOrOff::Off));
        assert_eq!(out.stream, Some(StreamSetting::KeysOnly));
        assert!(!out.copy_source_tags);
        assert_eq!(out.deletion_protection, Some(Copyable::Copy));
        assert_eq!(out.ttl, Some(TtlSetting::Copy));
        assert_eq!(out.auto_scaling, Some(CopyOrOff::Copy));
        assert_eq!(out.kinesis_destination, Some(KinesisSetting::Copy));
        // Without from_source nothing is copied.
        let mut plain = AfterRestore::default();
        merge_copied(&mut plain, None, Some(&own));
        assert_eq!(plain.auto_scaling, None);
        assert_eq!(plain.deletion_protection, None);
    }

}
