//! The plan language: load YAML, check it, resolve defaults and templates,
//! and seal the result into a [`model::Plan`].
//!
//! ```text
//! bytes ─► source (size cap, UTF-8) ─► tree (saphyr events, spans, limits)
//!       ─► schema (jsonschema on the tree's JSON form, paths → spans)
//!       ─► yaml (typed RawPlan via serde_yaml + serde_path_to_error)
//!       ─► resolve (defaults, overrides, templates, static rules)
//!       ─► Plan::seal (graph rules)
//! ```
//!
//! Each stage reports every problem it finds; a stage runs only when the
//! ones before it found no error. Pure: no network, no clock (the date for
//! `{date}` is passed in through [`CompileOptions`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::diag::{Finding, Span};
use crate::graph::DependencyGraph;
use crate::plan::model::Plan;
use crate::plan::tree::{Node, Segment, Value};

pub mod capacity;
mod copied;
pub mod copy;
pub mod engine;
pub mod fingerprint;
pub mod ids;
pub mod model;
pub mod raw;
mod resolve;
pub mod rules;
pub mod schema;
pub mod select;
pub mod settings;
pub mod source;
pub mod state;
pub mod tree;
pub mod verify;
pub mod yaml;

pub use crate::text::parse_duration;
pub use resolve::{valid_kms_arn, valid_plan_name, valid_table_name};
pub use source::SourceFile;

/// Inputs of compilation that do not come from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    /// The date `{date}` expands to (UTC, as `YYYYMMDD`).
    pub date: NaiveDate,
    /// Limits of the span-aware YAML pass.
    pub limits: tree::Limits,
    /// The tables `select:` restores expand to; `None` leaves each group
    /// standing in as one restore (offline).
    pub inventory: Option<select::Inventory>,
}

impl CompileOptions {
    /// Options with `{date}` = `date` and the default limits.
    pub fn new(date: NaiveDate) -> Self {
        Self {
            date,
            limits: tree::Limits::default(),
            inventory: None,
        }
    }
}

/// A plan that passed every static rule.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The sealed plan.
    pub plan: Plan,
    /// Its source, for rendering later findings (live checks carry spans).
    pub source: SourceFile,
    /// Warnings (they do not block the plan).
    pub warnings: Vec<Finding>,
    /// The `select:` restores and what each expanded to.
    pub groups: Vec<select::Group>,
}

/// A plan refused by the static rules: every finding, warnings included.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The source the findings point into.
    pub source: SourceFile,
    /// Every finding, in file order.
    pub findings: Vec<Finding>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors = self.findings.iter().filter(|f| f.is_error()).count();
        write!(f, "{} has {errors} error(s)", self.source.name())
    }
}

impl std::error::Error for Rejected {}

/// Why [`load_file`] produced no plan.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read at all (missing, a directory, no permission).
    #[error("failed to read {}: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file was read and refused; render the findings.
    #[error("{0}")]
    Rejected(Box<Rejected>),
}

/// Reads (bounded) and compiles the plan at `path` (`-`: standard input).
pub fn load_file(path: &Path, opts: &CompileOptions) -> Result<Loaded, LoadError> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let bytes = match source::read_bounded(path) {
        Ok(b) => b,
        Err(source::ReadError::Io(source)) => {
            return Err(LoadError::Read {
                path: path.to_owned(),
                source,
            });
        }
        Err(source::ReadError::TooLarge(len)) => {
            return Err(LoadError::Rejected(Box::new(Rejected {
                source: SourceFile::new(name, ""),
                findings: vec![source::too_large_finding(len)],
            })));
        }
    };
    let src = source::decode(&name, bytes).map_err(|r| {
        LoadError::Rejected(Box::new(Rejected {
            source: r.source,
            findings: vec![r.finding],
        }))
    })?;
    compile(src, opts).map_err(|r| LoadError::Rejected(Box::new(r)))
}

/// Compiles plan text into a sealed [`Plan`], or every finding against it.
pub fn compile(source: SourceFile, opts: &CompileOptions) -> Result<Loaded, Rejected> {
    let reject = |source: SourceFile, mut findings: Vec<Finding>| {
        sort(&mut findings);
        Err(Rejected { source, findings })
    };
    let text = source.text();
    let clock = StageClock::start();
    let doc = match tree::parse(text, opts.limits) {
        Ok(doc) => doc,
        Err(f) => return reject(source, vec![*f]),
    };
    let root = &doc.root;
    let mut findings = doc.findings;

    let mut skip: HashSet<Vec<Segment>> = HashSet::new();
    let mut patches = Vec::new();
    unquoted_accounts(root, text, &mut findings, &mut skip, &mut patches);

    // Tree findings (duplicate keys, tags) make the document ambiguous.
    let mut blocked = findings
        .iter()
        .any(|f| f.is_error() && f.code != rules::ACCOUNT_UNQUOTED);
    // Reported, without keeping the later rules from running.
    reserved_tags(root, &mut findings);
    copied::stream_arns(root, &mut findings);
    verify::rules(root, &mut findings);
    engine::rules(root, &mut findings);
    clock.lap("yaml tree");
    let instance = root.to_json();
    clock.lap("json form");
    // Spans of values replaced by stand-ins: later findings there only
    // restate the schema's.
    let mut stood_in: Vec<Span> = Vec::new();
    for sf in schema::check(root, &instance, &skip) {
        match (sf.prune, sf.stand_in) {
            (Some(p), _) if sf.finding.is_error() => patches.push(yaml::Patch::Remove(p)),
            (Some(_), _) => {}
            (None, Some((path, value))) if sf.finding.is_error() => {
                let (node, exact) = root.walk(&path);
                stood_in.push(if exact {
                    node.span
                } else {
                    Span::new(node.span.offset, 0)
                });
                patches.push(yaml::Patch::Value(path, value));
            }
            (None, _) => blocked |= sf.finding.is_error(),
        }
        findings.push(sf.finding);
    }
    clock.lap("schema");
    if blocked {
        return reject(source, findings);
    }
    // Rules that would only restate a problem already reported (a dropped
    // key leaves a location or key unset) are left out once keys are dropped.
    let pruned = patches
        .iter()
        .any(|p| matches!(p, yaml::Patch::Remove(_) | yaml::Patch::Value(..)));

    drop(instance);
    let mut raw: raw::RawPlan = match yaml::from_str_patched(text, &patches) {
        Ok(raw) => raw,
        Err(e) => {
            let (node, _) = root.walk(&e.path);
            let f = Finding::error(
                rules::SCHEMA_INVALID_VALUE,
                format!("{}: {}", schema::describe(root, &e.path), e.message),
            )
            .at(Some(node.span))
            .label("invalid value")
            .help("see docs/plan-format.md for the accepted values of this key");
            findings.push(schema::with_restore(f, root, &e.path));
            return reject(source, findings);
        }
    };

    clock.lap("typed load");
    let expansion = select::expand(&mut raw, root, text, opts.inventory.as_ref());
    findings.extend(expansion.findings);
    let groups = expansion.groups;
    let root = expansion.root.as_ref().unwrap_or(root);
    let resolution = resolve::resolve(&raw, root, text, opts.date);
    clock.lap("resolve");
    let restates = |f: &Finding| {
        let mentions_stand_in = [Some(&f.message), f.restore.as_ref(), f.label.as_ref()]
            .into_iter()
            .flatten()
            .any(|t| t.contains(schema::STAND_IN));
        mentions_stand_in
            || f.span.is_some_and(|s| {
                stood_in.iter().any(|t| {
                    if t.len == 0 {
                        // A missing key: findings fall back to its parent's start.
                        s.offset == t.offset
                    } else {
                        s.offset >= t.offset && s.offset + s.len <= t.offset + t.len
                    }
                })
            })
    };
    findings.extend(
        resolution
            .findings
            .into_iter()
            .filter(|f| !(restates(f) || pruned && CASCADING.contains(&f.code))),
    );
    if findings.iter().any(Finding::is_error) {
        // Some restores may be unresolved; check the graph on what is known.
        if let Err(graph_findings) = DependencyGraph::build_from(&resolution.stubs) {
            findings.extend(graph_findings);
        }
        return reject(source, findings);
    }
    clock.lap("graph check");
    let sealed = Plan::seal(resolution.header, resolution.restores);
    clock.lap("seal");
    match sealed {
        Ok(plan) => {
            sort(&mut findings);
            Ok(Loaded {
                plan,
                source,
                warnings: findings,
                groups,
            })
        }
        Err(graph_findings) => {
            findings.extend(graph_findings);
            reject(source, findings)
        }
    }
}

/// Logs the time each stage took (at debug level, `-vv`).
struct StageClock(std::cell::Cell<std::time::Instant>);

impl StageClock {
    fn start() -> Self {
        Self(std::cell::Cell::new(std::time::Instant::now()))
    }

    fn lap(&self, stage: &str) {
        let now = std::time::Instant::now();
        let took = now - self.0.replace(now);
        tracing::debug!(stage, micros = took.as_micros() as u64, "plan stage done");
    }
}

/// Rules whose findings may only restate a dropped key.
const CASCADING: &[&str] = &[
    rules::LOCATION_MISSING,
    rules::ROLE_REQUIRED,
    rules::KMS_MISSING_KEY,
];

/// File order; findings without a position go first (they concern the whole file).
fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.span.map(|s| s.offset));
}

/// Tag keys that cannot be set: AWS refuses keys starting with `aws:`
/// (any case), and `restoreplan:` keys are the run's own (`restoreplan:run`
/// and `restoreplan:plan`, which teardown relies on).
fn reserved_tags(root: &Node, findings: &mut Vec<Finding>) {
    let mut places: Vec<(Vec<Segment>, &Node)> = Vec::new();
    let key = |k: &str| Segment::Key(k.to_owned());
    if let Some(n) = root.at(&[key("defaults"), key("after_restore"), key("tags")]) {
        places.push((vec![key("defaults")], n));
    }
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for (i, item) in items.iter().enumerate() {
            if let Some(n) = item.get("after_restore").and_then(|a| a.get("tags")) {
                places.push((vec![key("restores"), Segment::Index(i)], n));
            }
        }
    }
    for (path, tags) in places {
        let Value::Map(entries) = &tags.value else {
            continue;
        };
        for e in entries {
            let lower = e.key.to_ascii_lowercase();
            let (owner, why) = if lower.starts_with("aws:") {
                ("AWS", "AWS refuses tag keys that start with `aws:`")
            } else if lower.starts_with("restoreplan:") {
                (
                    "restoreplan",
                    "restoreplan sets `restoreplan:run` and `restoreplan:plan` itself; teardown relies on them",
                )
            } else {
                continue;
            };
            let f = Finding::error(
                rules::RESERVED_TAG,
                format!("tag key `{}` is reserved by {owner}", e.key),
            )
            .at(Some(e.key_span))
            .label("reserved prefix")
            .help(format!("{why}; choose another key"));
            findings.push(schema::with_restore(f, root, &path));
        }
    }
}

/// Account ids written as YAML numbers lose leading zeros: report each with
/// the text as written, and keep the schema from reporting them again.
fn unquoted_accounts(
    root: &Node,
    text: &str,
    findings: &mut Vec<Finding>,
    skip: &mut HashSet<Vec<Segment>>,
    patches: &mut Vec<yaml::Patch>,
) {
    let mut check = |path: Vec<Segment>| {
        let Some(node) = root.at(&path) else {
            return;
        };
        if let Value::Number(_) = node.value {
            let written = &text[node.span.offset..node.span.offset + node.span.len];
            let f = Finding::error(
                rules::ACCOUNT_UNQUOTED,
                format!("account id {written} is written as a number"),
            )
            .at(Some(node.span))
            .label("unquoted")
            .help(format!(
                "quote it: `account: \"{written}\"` (YAML would drop leading zeros)"
            ));
            findings.push(schema::with_restore(f, root, &path));
            // Go on as if it had been quoted, so later rules still run.
            patches.push(yaml::Patch::Text(path.clone(), written.to_owned()));
            skip.insert(path);
        }
    };
    let key = |k: &str| Segment::Key(k.to_owned());
    for block in ["source", "target"] {
        check(vec![key(block), key("account")]);
        check(vec![key("defaults"), key(block), key("account")]);
    }
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for i in 0..items.len() {
            for block in ["source", "target"] {
                check(vec![
                    key("restores"),
                    Segment::Index(i),
                    key(block),
                    key("account"),
                ]);
            }
        }
    }
}
