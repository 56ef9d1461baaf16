//! The after-restore settings that may be copied from the original table
//! (`copy`, `from_source: all`): their written forms, their resolved forms,
//! and how the layers (`defaults`, the restore) combine.
//!
//! Explicit keys win over `from_source: all`, whichever layer they stand in:
//! `from_source: all` only fills in the keys no layer sets.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

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
        && parts[5]
            .strip_prefix("stream/")
            .is_some_and(|n| !n.is_empty())
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
        let k: Result<RawKinesis, _> =
            serde_yaml::from_str("{stream_arn: arn:aws:kinesis:us-east-1:111122223333:stream/s}");
        assert_eq!(
            k.ok(),
            Some(RawKinesis::Stream(
                "arn:aws:kinesis:us-east-1:111122223333:stream/s".to_owned()
            ))
        );
        assert!(serde_yaml::from_str::<RawKinesis>("on").is_err());
        assert!(is_stream_arn(
            "arn:aws:kinesis:us-east-1:111122223333:stream/s"
        ));
        assert!(!is_stream_arn("arn:aws:kinesis:us-east-1:1111:stream/s"));
        assert!(!is_stream_arn("stream/s"));
    }
}

// Contributor insights with its mode.
/// `ContributorInsightsMode`: which keys contributor insights reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "ContributorInsightsMode")]
pub enum InsightsMode {
    /// `ACCESSED_AND_THROTTLED_KEYS` (AWS's default): the most accessed and the most throttled keys.
    AccessedAndThrottledKeys,
    /// `THROTTLED_KEYS`: the most throttled keys only.
    ThrottledKeys,
}

impl InsightsMode {
    /// DynamoDB's name.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::AccessedAndThrottledKeys => "ACCESSED_AND_THROTTLED_KEYS",
            Self::ThrottledKeys => "THROTTLED_KEYS",
        }
    }
}

/// `contributor_insights` as written: `copy`, `true`, `false`, or
/// `{mode: throttled-keys | accessed-and-throttled-keys}` (on, in that mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawInsights {
    /// `copy`, `true` or `false`.
    Toggle(RawToggle),
    /// `{mode: MODE}`.
    Mode(InsightsMode),
}

impl<'de> Deserialize<'de> for RawInsights {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawInsights;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false`, `copy` or `{mode: throttled-keys | accessed-and-throttled-keys}`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RawInsights::Toggle(RawToggle::Set(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "copy" {
                    Ok(RawInsights::Toggle(RawToggle::Copy))
                } else {
                    Err(de::Error::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::missing_field("mode"));
                };
                if key != "mode" {
                    return Err(de::Error::unknown_field(&key, &["mode"]));
                }
                let mode: InsightsMode = map.next_value()?;
                if let Some(k) = map.next_key::<String>()? {
                    return Err(de::Error::unknown_field(&k, &["mode"]));
                }
                Ok(RawInsights::Mode(mode))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawInsights {
    fn schema_name() -> Cow<'static, str> {
        "ContributorInsights".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let mode = g.subschema_for::<InsightsMode>();
        json_schema!({
            "description": "`true`, `false`, `copy` (what the original table has, its mode included), or `{mode: MODE}`: on, reporting `throttled-keys` only or `accessed-and-throttled-keys` (AWS's default).",
            "oneOf": [
                { "type": "boolean" },
                { "type": "string", "enum": ["copy"], "description": "What the original table has." },
                {
                    "type": "object",
                    "properties": { "mode": mode },
                    "required": ["mode"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
mod insights_tests {
    use super::*;

    #[test]
    fn contributor_insights_is_a_toggle_or_a_mode() {
        let parse = |s: &str| serde_yaml::from_str::<RawInsights>(s);
        assert_eq!(parse("copy").unwrap(), RawInsights::Toggle(RawToggle::Copy));
        assert_eq!(
            parse("true").unwrap(),
            RawInsights::Toggle(RawToggle::Set(true))
        );
        assert_eq!(
            parse("{mode: throttled-keys}").unwrap(),
            RawInsights::Mode(InsightsMode::ThrottledKeys)
        );
        assert_eq!(InsightsMode::ThrottledKeys.aws_name(), "THROTTLED_KEYS");
        assert!(parse("{mode: all-keys}").is_err());
        assert!(parse("{mood: throttled-keys}").is_err());
        assert!(parse("on").is_err());
    }
}
