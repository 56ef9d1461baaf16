//! Runtime JSON Schema validation of the position tree.
//!
//! Validates the tree's JSON form against the schema generated from
//! [`crate::plan::raw`], collects every error, and maps each instance path
//! back to a YAML span. Unknown keys get a "did you mean" from the schema's
//! own property names. Must not check values the static rules own.

use std::collections::HashSet;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value as Json;

use crate::diag::Finding;
use crate::graph::closest;
use crate::plan::raw;
use crate::plan::rules;
use crate::plan::tree::{Node, Segment};

struct Compiled {
    schema: Json,
    validator: Option<jsonschema::Validator>,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let schema = raw::schema();
        // The schema is generated from our own types; a failure to compile it
        // is a bug caught by the tests, and validation then falls back to
        // typed deserialization alone.
        let validator = jsonschema::validator_for(&schema).ok();
        Compiled { schema, validator }
    })
}

/// A schema finding, and the path whose removal lets loading go on to the
/// later rules (`None` when the problem blocks typed loading).
#[derive(Debug, Clone)]
pub struct SchemaFinding {
    /// The finding.
    pub finding: Finding,
    /// An optional key to drop so typed loading can continue.
    pub prune: Option<Vec<Segment>>,
}

/// Validates `instance` (the JSON form of `root`) and returns one finding per
/// problem. Paths in `skip` (already reported by an earlier pass) are ignored.
pub fn check(root: &Node, instance: &Json, skip: &HashSet<Vec<Segment>>) -> Vec<SchemaFinding> {
    let c = compiled();
    let Some(validator) = &c.validator else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for error in validator.iter_errors(instance) {
        let path: Vec<Segment> = error
            .instance_path()
            .iter()
            .map(|s| match s {
                LocationSegment::Property(p) => Segment::Key(p.into_owned()),
                LocationSegment::Index(i) => Segment::Index(i),
            })
            .collect();
        if skip.iter().any(|s| path.starts_with(s)) {
            continue;
        }
        let whre = describe(root, &path);
        let node_span = root.walk(&path).0.span;
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = known_keys(&c.schema, &path);
                for key in unexpected {
                    let mut key_path = path.clone();
                    key_path.push(Segment::Key(key.clone()));
                    let span = root.key_span_at(&key_path).unwrap_or(node_span);
                    let mut f = Finding::error(
                        rules::SCHEMA_UNKNOWN_KEY,
                        format!("unknown key `{key}` in {whre}"),
                    )
                    .at(Some(span))
                    .label("unknown key");
                    f = match closest(key, known.iter().map(String::as_str)) {
                        Some(near) => f.help(format!("did you mean `{near}`?")),
                        None if !known.is_empty() => {
                            f.help(format!("valid keys here: {}", known.join(", ")))
                        }
                        None => f.help("remove this key"),
                    };
                    findings.push(SchemaFinding {
                        finding: with_restore(f, root, &path),
                        prune: Some(key_path),
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let f = Finding::error(
                    rules::SCHEMA_MISSING_KEY,
                    format!("missing required key `{name}` in {whre}"),
                )
                .at(Some(node_span))
                .label(format!("`{name}` is missing here"))
                .help(required_help(name));
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                });
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => article(&t.to_string()),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| article(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = json_kind(error.instance());
                let f = Finding::error(
                    rules::SCHEMA_WRONG_TYPE,
                    format!("{whre} must be {expected}, not {found}"),
                )
                .at(Some(node_span))
                .label(format!("expected {expected}"))
                .help(type_help(&expected, error.instance()));
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                });
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let shown = match error.instance().as_str() {
                    Some(s) => format!("`{s}`"),
                    None => json_kind(error.instance()),
                };
                let mut f = Finding::error(
                    rules::SCHEMA_INVALID_VALUE,
                    format!(
                        "{whre} is {shown}, which is not one of: {}",
                        allowed.join(", ")
                    ),
                )
                .at(Some(node_span))
                .label("not an accepted value");
                f = match error
                    .instance()
                    .as_str()
                    .and_then(|s| closest(s, allowed.iter().map(String::as_str)))
                {
                    Some(near) => f.help(format!("did you mean `{near}`?")),
                    None => f.help(format!("use one of: {}", allowed.join(", "))),
                };
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                });
            }
            ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
                let description = schema_at(&c.schema, &path)
                    .and_then(|s| s.get("description"))
                    .and_then(Json::as_str)
                    .unwrap_or("see docs/plan-format.md for the accepted forms")
                    .to_owned();
                let f = Finding::error(
                    rules::SCHEMA_INVALID_VALUE,
                    format!("{whre} does not have an accepted form"),
                )
                .at(Some(node_span))
                .label("not an accepted form")
                .help(description);
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                });
            }
            _ => {
                let f = Finding::error(rules::SCHEMA_INVALID_VALUE, format!("{whre}: {error}"))
                    .at(Some(node_span))
                    .label("invalid value")
                    .help("see docs/plan-format.md for this key");
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                });
            }
        }
    }
    findings
}

/// `path` when it ends in a key its parent does not require, so dropping it
/// leaves a loadable document.
fn optional_key(schema: &Json, path: &[Segment]) -> Option<Vec<Segment>> {
    let (Segment::Key(k), parent) = path.split_last()? else {
        return None;
    };
    let parent_schema = schema_at(schema, parent)?;
    let required = parent_schema
        .get("required")
        .and_then(Json::as_array)
        .is_some_and(|r| r.iter().any(|x| x == k));
    let is_map_entry = parent_schema.get("properties").is_none();
    (!required && !is_map_entry).then(|| path.to_vec())
}

/// Names the restore a path is inside, when it is.
pub fn with_restore(f: Finding, root: &Node, path: &[Segment]) -> Finding {
    match restore_name(root, path) {
        Some(id) => f.restore(id),
        None => f,
    }
}

/// The id (or table) of the restore that `path` points into.
pub fn restore_name(root: &Node, path: &[Segment]) -> Option<String> {
    let [Segment::Key(k), Segment::Index(i), ..] = path else {
        return None;
    };
    if k != "restores" {
        return None;
    }
    let entry = root.get("restores")?.index(*i)?;
    let text = |key: &str| match entry.get(key).map(|n| &n.value) {
        Some(crate::plan::tree::Value::Str { text, .. }) => Some(text.clone()),
        _ => None,
    };
    text("id").or_else(|| text("table"))
}

/// A readable location: "restore `orders` (`restores[3].depends_on`)" or "`target.role`".
pub fn describe(root: &Node, path: &[Segment]) -> String {
    let dotted = dotted(path);
    match (restore_name(root, path), path.len()) {
        (Some(id), 2) => format!("restore `{id}`"),
        (Some(id), _) => format!("restore `{id}` (`{dotted}`)"),
        (None, 0) => "the plan".to_owned(),
        (None, _) => format!("`{dotted}`"),
    }
}

/// `restores[3].depends_on[0]`.
pub fn dotted(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".to_owned(),
        "array" => "a list".to_owned(),
        "integer" => "an integer".to_owned(),
        "null" => "empty".to_owned(),
        "boolean" => "`true` or `false`".to_owned(),
        other => format!("a {other}"),
    }
}

fn json_kind(v: &Json) -> String {
    match v {
        Json::Null => "empty".to_owned(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) => format!("the string `{s}`"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "a mapping".to_owned(),
    }
}

fn type_help(expected: &str, found: &Json) -> String {
    match (expected, found) {
        ("a string", Json::Number(_) | Json::Bool(_)) => {
            "quote the value to make it a string".to_owned()
        }
        ("a list", Json::String(s)) => format!("write a list: `[{s}]`"),
        ("a list", _) => "write a list, e.g. `[a, b]`".to_owned(),
        ("a mapping", _) => "write a mapping of `key: value` lines".to_owned(),
        (e, _) => format!("write {e} here"),
    }
}

fn required_help(name: &str) -> String {
    match name {
        "version" => "add `version: 1` at the top of the plan".to_owned(),
        "name" => "add `name: my-plan` (lowercase letters, digits and `-`)".to_owned(),
        "restores" => "add `restores:` with at least one `- table: NAME`".to_owned(),
        "table" => "add `table: NAME`, the original table's name".to_owned(),
        "type" => "add `type:` with one of dynamodb-owned, dynamodb-managed, customer-managed, same-as-source".to_owned(),
        "arn" => "add `arn:` with a KMS key ARN or alias ARN".to_owned(),
        other => format!("add `{other}`"),
    }
}

/// The schema node describing the instance at `path`, following `$ref`,
/// `properties`, `items`, `additionalProperties` and the first matching
/// `anyOf`/`oneOf` branch.
fn schema_at<'a>(root: &'a Json, path: &[Segment]) -> Option<&'a Json> {
    let mut cur = deref(root, root);
    for seg in path {
        cur = step(root, cur, seg)?;
    }
    Some(cur)
}

fn deref<'a>(root: &'a Json, node: &'a Json) -> &'a Json {
    let mut node = node;
    for _ in 0..8 {
        match node
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(name) => match root.get("$defs").and_then(|d| d.get(name)) {
                Some(n) => node = n,
                None => break,
            },
            None => break,
        }
    }
    node
}

fn step<'a>(root: &'a Json, node: &'a Json, seg: &Segment) -> Option<&'a Json> {
    let node = deref(root, node);
    let direct = match seg {
        Segment::Key(k) => node
            .get("properties")
            .and_then(|p| p.get(k))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object())),
        Segment::Index(_) => node.get("items"),
    };
    if let Some(n) = direct {
        return Some(deref(root, n));
    }
    for combinator in ["anyOf", "oneOf"] {
        if let Some(branches) = node.get(combinator).and_then(Json::as_array) {
            if let Some(n) = branches.iter().find_map(|b| step(root, b, seg)) {
                return Some(n);
            }
        }
    }
    None
}

fn known_keys(root: &Json, path: &[Segment]) -> Vec<String> {
    let Some(node) = schema_at(root, path) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    collect_keys(root, node, &mut keys);
    keys
}

fn collect_keys(root: &Json, node: &Json, keys: &mut Vec<String>) {
    let node = deref(root, node);
    if let Some(props) = node.get("properties").and_then(Json::as_object) {
        for k in props.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    for combinator in ["anyOf", "oneOf"] {
        if let Some(branches) = node.get(combinator).and_then(Json::as_array) {
            for b in branches {
                collect_keys(root, b, keys);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_schema_compiles() {
        assert!(compiled().validator.is_some());
    }

    #[test]
    fn known_keys_follow_refs() {
        let schema = raw::schema();
        let keys = known_keys(
            &schema,
            &[Segment::Key("restores".into()), Segment::Index(0)],
        );
        assert!(keys.iter().any(|k| k == "depends_on"), "{keys:?}");
        let keys = known_keys(
            &schema,
            &[
                Segment::Key("defaults".into()),
                Segment::Key("encryption".into()),
            ],
        );
        assert_eq!(keys, vec!["type".to_owned(), "key".to_owned()]);
    }
}
