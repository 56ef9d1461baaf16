//! Typed loading: the one place that turns the YAML document into the serde
//! types of [`crate::plan::raw`].
//!
//! The document has already been parsed once, with positions and limits,
//! by [`crate::plan::tree`]; its JSON form (also what the schema validates)
//! is deserialized here with `serde_path_to_error`, so a failure names the
//! exact path and the tree turns it into a span. Parsing the text a second
//! time with serde_yaml cost 38% of `validate`'s instructions on a
//! 10,000-restore plan (see docs/performance.md), so no second YAML parser
//! runs; replacing the YAML front end means replacing `tree` and this file.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::plan::tree::Segment;

/// A typed deserialization error: where (as a tree path) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// Path to the offending value.
    pub path: Vec<Segment>,
    /// What serde said.
    pub message: String,
}

/// A change applied before typed loading, so that the rules after the
/// schema still run on a document with its reported problems taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch {
    /// Drop the mapping entry at this path.
    Remove(Vec<Segment>),
    /// Treat the scalar at this path as this string.
    Text(Vec<Segment>, String),
}

/// Applies `patches`, then deserializes `document` into `T`, reporting the
/// exact path of a failure.
pub fn from_document<T: DeserializeOwned>(
    mut document: Value,
    patches: &[Patch],
) -> Result<T, DeError> {
    for patch in patches {
        apply(&mut document, patch);
    }
    serde_path_to_error::deserialize(&document).map_err(|e| {
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
        DeError {
            path,
            message: e.into_inner().to_string(),
        }
    })
}

fn apply(root: &mut Value, patch: &Patch) {
    let (path, text) = match patch {
        Patch::Remove(p) => (p, None),
        Patch::Text(p, t) => (p, Some(t)),
    };
    let Some((Segment::Key(last), parent)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for seg in parent {
        let next = match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k.as_str()),
            (Segment::Index(i), Value::Array(s)) => s.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Value::Object(m) = cur {
        match text {
            None => {
                m.remove(last.as_str());
            }
            Some(t) => {
                if let Some(v) = m.get_mut(last.as_str()) {
                    *v = Value::String(t.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_then_reports_paths() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: String,
            b: Vec<u8>,
        }
        let doc = json!({"a": 1, "b": [1, "x"], "c": true});
        let patches = vec![
            Patch::Text(vec![Segment::Key("a".into())], "1".into()),
            Patch::Remove(vec![Segment::Key("c".into())]),
        ];
        let err = from_document::<T>(doc, &patches).unwrap_err();
        assert_eq!(err.path, vec![Segment::Key("b".into()), Segment::Index(1)]);
    }
}
