//! The one place that knows the YAML deserializer (serde_yaml).
//!
//! serde_yaml 0.9 is deprecated upstream; everything it does for us is in
//! this file, so a maintained fork can replace it here alone. Input reaching
//! this module has already passed the span-aware pass and its limits.

use serde::de::DeserializeOwned;

use crate::plan::tree::Segment;

/// A typed deserialization error: where (as a tree path) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// Path to the offending value.
    pub path: Vec<Segment>,
    /// What serde said, without position (positions come from the tree).
    pub message: String,
}

/// A change applied before typed loading, so that rules after the schema
/// still run on a document with reported problems taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch {
    /// Drop the mapping entry at this path.
    Remove(Vec<Segment>),
    /// Treat the scalar at this path as this string.
    Text(Vec<Segment>, String),
    /// Put this value at this path (replacing or adding the entry).
    Value(Vec<Segment>, serde_json::Value),
}

/// Deserializes one YAML document into `T`, reporting the exact path of a failure.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DeError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(convert)
}

/// Like [`from_str`], after applying `patches` to the document.
pub fn from_str_patched<T: DeserializeOwned>(text: &str, patches: &[Patch]) -> Result<T, DeError> {
    if patches.is_empty() {
        return from_str(text);
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| DeError {
        path: Vec::new(),
        message: trim_position(e.to_string()),
    })?;
    for patch in patches {
        apply(&mut value, patch);
    }
    serde_path_to_error::deserialize(value).map_err(convert)
}

fn apply(root: &mut serde_yaml::Value, patch: &Patch) {
    let (path, text) = match patch {
        Patch::Remove(p) => (p, None),
        Patch::Text(p, t) => (p, Some(serde_yaml::Value::String(t.clone()))),
        Patch::Value(p, v) => (
            p,
            Some(serde_yaml::to_value(v).unwrap_or(serde_yaml::Value::Null)),
        ),
    };
    let insert = matches!(patch, Patch::Value(..));
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for seg in parent {
        let next = match (seg, cur) {
            (Segment::Key(k), serde_yaml::Value::Mapping(m)) => m.get_mut(k.as_str()),
            (Segment::Index(i), serde_yaml::Value::Sequence(s)) => s.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match (last, cur, text) {
        (Segment::Key(k), serde_yaml::Value::Mapping(m), None) => {
            m.remove(k.as_str());
        }
        (Segment::Key(k), serde_yaml::Value::Mapping(m), Some(t)) => {
            if let Some(v) = m.get_mut(k.as_str()) {
                *v = t;
            } else if insert {
                m.insert(serde_yaml::Value::String(k.clone()), t);
            }
        }
        (Segment::Index(i), serde_yaml::Value::Sequence(items), Some(t)) => {
            if let Some(v) = items.get_mut(*i) {
                *v = t;
            }
        }
        _ => {}
    }
}

fn trim_position(mut message: String) -> String {
    // serde_yaml appends " at line L column C"; the tree gives positions.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    message
}

fn convert<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> DeError {
    {
        let path = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = trim_position(e.into_inner().to_string());
        DeError { path, message }
    }
}
