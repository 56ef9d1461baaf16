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
pub use crate::plan::tree::{restore_name, with_restore};

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
    /// For a required value of the wrong type (or missing): a stand-in of
    /// the right type, so typed loading and the later rules still run.
    pub stand_in: Option<(Vec<Segment>, Json)>,
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
                    if key == "<<" {
                        let f = Finding::error(
                            rules::SCHEMA_UNKNOWN_KEY,
                            format!(
                                "YAML merge keys (`<<`) are not supported; found one in {whre}"
                            ),
                        )
                        .at(Some(span))
                        .label("merge key")
                        .help(
                            "write the keys out in full, or move shared settings to `defaults`, \
                             which every restore inherits",
                        );
                        findings.push(SchemaFinding {
                            finding: with_restore(f, root, &path),
                            prune: Some(key_path),
                            stand_in: None,
                        });
                        continue;
                    }
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
                        stand_in: None,
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
                let mut key_path = path.clone();
                key_path.push(Segment::Key(name.to_owned()));
                let optional = optional_key(&c.schema, &path);
                let stand_in = match optional {
                    Some(_) => None,
                    None => stand_in(&c.schema, &key_path, &Json::Null),
                };
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional,
                    stand_in,
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
                    stand_in: stand_in(&c.schema, &path, error.instance()),
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
                    stand_in: stand_in(&c.schema, &path, error.instance()),
                });
            }
            ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
                let node = schema_at(&c.schema, &path);
                let (values, forms) = node
                    .map(|n| accepted_forms(&c.schema, n))
                    .unwrap_or_default();
                let shown = match error.instance().as_str() {
                    Some(s) => format!("`{s}`"),
                    None => json_kind(error.instance()),
                };
                let listed: Vec<String> = values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .chain(forms.iter().cloned())
                    .collect();
                let near = error
                    .instance()
                    .as_str()
                    .and_then(|s| closest(s, values.iter().map(String::as_str)));
                let f = if listed.is_empty() {
                    let description = node
                        .and_then(|s| s.get("description"))
                        .and_then(Json::as_str)
                        .unwrap_or("see docs/plan-format.md for the accepted forms")
                        .to_owned();
                    Finding::error(
                        rules::SCHEMA_INVALID_VALUE,
                        format!("{whre} does not have an accepted form"),
                    )
                    .label("not an accepted form")
                    .help(description)
                } else {
                    let list = or_list(&listed);
                    Finding::error(
                        rules::SCHEMA_INVALID_VALUE,
                        format!(
                            "{whre} is {shown}, which is not one of: {}",
                            listed.join(", ")
                        ),
                    )
                    .label("not an accepted value")
                    .help(match near {
                        Some(near) => format!("did you mean `{near}`? Accepted: {list}"),
                        None => format!("use {list}"),
                    })
                }
                .at(Some(node_span));
                findings.push(SchemaFinding {
                    finding: with_restore(f, root, &path),
                    prune: optional_key(&c.schema, &path),
                    stand_in: stand_in(&c.schema, &path, error.instance()),
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
                    stand_in: stand_in(&c.schema, &path, error.instance()),
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

/// The text of a string stand-in: a valid name, and a mark by which
/// findings about the stand-in itself are recognised and left out.
pub const STAND_IN: &str = "restoreplan-stand-in";

/// A value of the type the schema wants at `path`, standing in for a
/// required value that is missing or of the wrong type. `None` for an
/// optional key (dropped instead) or a place with no known schema.
fn stand_in(schema: &Json, path: &[Segment], found: &Json) -> Option<(Vec<Segment>, Json)> {
    if optional_key(schema, path).is_some() || path.is_empty() {
        return None;
    }
    let node = schema_at(schema, path)?;
    Some((path.to_vec(), value_of_type(schema, node, found)))
}

fn value_of_type(root: &Json, node: &Json, found: &Json) -> Json {
    let node = deref(root, node);
    if let Some(c) = node.get("const") {
        return c.clone();
    }
    if let Some(first) = node
        .get("enum")
        .and_then(Json::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(first) = node
            .get(combinator)
            .and_then(Json::as_array)
            .and_then(|b| b.first())
        {
            return value_of_type(root, first, found);
        }
    }
    let ty = match node.get("type") {
        Some(Json::Array(ts)) => ts.first().and_then(Json::as_str),
        Some(t) => t.as_str(),
        None => None,
    };
    match ty {
        // A scalar of the wrong kind keeps its text, so rules on the value
        // (a name's form, say) still see it.
        Some("string") => match found {
            Json::Number(n) => Json::String(n.to_string()),
            Json::Bool(b) => Json::String(b.to_string()),
            _ => Json::String(STAND_IN.to_owned()),
        },
        Some("integer" | "number") => Json::from(1),
        Some("boolean") => Json::Bool(false),
        Some("array") => Json::Array(Vec::new()),
        _ => Json::Object(Default::default()),
    }
}

/// The string values a `oneOf`/`anyOf` accepts, and the other forms it
/// accepts described in words (`{latest_before: …}`, a string).
fn accepted_forms(root: &Json, node: &Json) -> (Vec<String>, Vec<String>) {
    let node = deref(root, node);
    let mut values = Vec::new();
    let mut forms = Vec::new();
    let branches = ["oneOf", "anyOf"]
        .iter()
        .filter_map(|c| node.get(*c).and_then(Json::as_array))
        .flatten();
    for b in branches {
        let b = deref(root, b);
        if let Some(c) = b.get("const").and_then(Json::as_str) {
            values.push(c.to_owned());
        } else if let Some(e) = b.get("enum").and_then(Json::as_array) {
            values.extend(e.iter().filter_map(Json::as_str).map(str::to_owned));
        } else if b.get("type").and_then(Json::as_str) == Some("object") {
            let keys: Vec<&str> = b
                .get("required")
                .and_then(Json::as_array)
                .map(|r| r.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            forms.push(match keys.as_slice() {
                [] => "a mapping".to_owned(),
                keys => format!(
                    "`{{{}}}`",
                    keys.iter()
                        .map(|k| format!("{k}: …"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        } else if let Some(t) = b.get("type").and_then(Json::as_str) {
            let words = article(t);
            forms.push(match b.get("description").and_then(Json::as_str) {
                Some(d) => format!("{words} ({})", d.trim_end_matches('.')),
                None => words,
            });
        }
    }
    (values, forms)
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
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
