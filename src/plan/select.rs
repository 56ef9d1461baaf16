//! `select:` restores: one restore per matching table of the source account
//! and Region.
//!
//! Expansion runs between the typed load and `resolve`: each `select:` entry
//! becomes one plain restore per matching table (its id the table's name),
//! with the tree entry cloned for each, so every later finding points at the
//! selector's lines. `depends_on` naming a group becomes every restore in it.
//!
//! Where the tables come from is an [`Inventory`]: the source account's
//! listing in the live stages, a `--sizes` file in `simulate`. Without one
//! (offline `validate`, `graph`, `diff`) a group stands in as a single
//! restore whose id is the group's, so the graph and the static rules still
//! see it. Pure: no network.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::diag::{Finding, Severity, Span};
use crate::plan::raw::{RawPlan, RawRestore, RawSelect};
use crate::plan::rules;
use crate::plan::tree::{Entry, Node, Segment, Value};

/// A selector that matches no table.
pub const NO_MATCH: &str = rules::SELECT_NO_MATCH;
/// A table matched by two selectors.
pub const MATCHED_TWICE: &str = rules::SELECT_MATCHED_TWICE;
/// A table matched by a selector that has its own restore (a note).
pub const OVERRIDDEN: &str = rules::SELECT_OVERRIDDEN;
/// A group id that is also a restore's id, or another group's.
pub const GROUP_ID_TAKEN: &str = rules::SELECT_GROUP_ID_TAKEN;
/// A restore with both `table` and `select`.
pub const TABLE_OR_SELECT: &str = rules::SELECT_TABLE_OR_SELECT;
/// A selector without `names` or `tags`, or with a malformed glob.
pub const INVALID: &str = rules::SELECT_INVALID;
/// A group that depends on itself.
pub const SELF_DEPENDENCY: &str = rules::SELECT_SELF_DEPENDENCY;

/// Every code of this module, with a summary, for `docs/rules.md`.
pub const CODES: &[(&str, &str)] = &[
    (
        NO_MATCH,
        "a `select:` matches no table of the source account and Region",
    ),
    (MATCHED_TWICE, "a table is matched by two selectors"),
    (
        OVERRIDDEN,
        "a selector match that has its own restore (note: the own restore wins)",
    ),
    (
        GROUP_ID_TAKEN,
        "a group id that is also a restore's or another group's id",
    ),
    (
        TABLE_OR_SELECT,
        "a restore with both `table` and `select`, or neither",
    ),
    (
        INVALID,
        "a selector without `names` or `tags`, or with a malformed glob",
    ),
    (
        SELF_DEPENDENCY,
        "a group whose `depends_on` names the group itself",
    ),
];

/// Tags of a table; `None` when they were not read.
pub type Tags = Option<BTreeMap<String, String>>;

/// The tables of some accounts and Regions, with their tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    tables: BTreeMap<(String, String), BTreeMap<String, Tags>>,
}

impl Inventory {
    /// Records table `name` of `account`/`region`; `tags: None` when not read.
    pub fn insert(
        &mut self,
        account: &str,
        region: &str,
        name: &str,
        tags: Option<BTreeMap<String, String>>,
    ) {
        self.tables
            .entry((account.to_owned(), region.to_owned()))
            .or_default()
            .insert(name.to_owned(), tags);
    }

    /// Marks `account`/`region` as listed, even when it holds no table.
    pub fn listed(&mut self, account: &str, region: &str) {
        self.tables
            .entry((account.to_owned(), region.to_owned()))
            .or_default();
    }

    /// The tables of `account`/`region`, or `None` when it was not listed.
    pub fn tables(&self, account: &str, region: &str) -> Option<&BTreeMap<String, Tags>> {
        self.tables.get(&(account.to_owned(), region.to_owned()))
    }
}

/// A `select:` restore and what it expanded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group's id: its `id`, or `select-N` (N: its place in `restores`, from 1).
    pub id: String,
    /// The selector as a reader would say it.
    pub selector: String,
    /// Source account and Region it selects from, when known.
    pub account: Option<String>,
    /// Source Region.
    pub region: Option<String>,
    /// Ids of the restores it expanded to (a stand-in: just the group's id).
    pub members: Vec<String>,
    /// Matching tables that have their own restore: `(table, that restore's id)`.
    pub overridden: Vec<(String, String)>,
    /// False when no inventory was at hand and the group stands in as one restore.
    pub expanded: bool,
    /// The line of the `select:` key.
    pub line: usize,
    /// The `select:` value's span.
    #[serde(skip)]
    pub span: Option<Span>,
    /// The selector as written.
    #[serde(skip)]
    pub select: RawSelect,
}

impl Group {
    /// True when `id` is the group or one of its restores.
    pub fn contains(&self, id: &str) -> bool {
        self.members.iter().any(|m| m == id)
    }
}

/// A group as the reports show it (`plan` JSON, text and Markdown, the
/// journal, `audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct GroupView {
    /// The group id (`depends_on` may name it).
    pub id: String,
    /// The selector, e.g. `names orders-*; tags env=prod`.
    pub selector: String,
    /// `ACCOUNT/REGION` it selected from.
    pub source: String,
    /// The restores it expanded to, one per table (ids are the table names).
    pub restores: Vec<String>,
    /// Matching tables restored by their own entry instead: `{table, restore}`.
    pub overridden: Vec<OverriddenView>,
    /// Line of the `select:` key in the plan.
    pub line: usize,
}

/// A selector match that has its own restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct OverriddenView {
    /// The table.
    pub table: String,
    /// The restore that restores it.
    pub restore: String,
}

impl Group {
    /// The report view; `None` for a group that was not expanded.
    pub fn view(&self) -> Option<GroupView> {
        self.expanded.then(|| GroupView {
            id: self.id.clone(),
            selector: self.selector.clone(),
            source: format!(
                "{}/{}",
                self.account.as_deref().unwrap_or("?"),
                self.region.as_deref().unwrap_or("?")
            ),
            restores: self.members.clone(),
            overridden: self
                .overridden
                .iter()
                .map(|(t, r)| OverriddenView {
                    table: t.clone(),
                    restore: r.clone(),
                })
                .collect(),
            line: self.line,
        })
    }
}

/// Text lines describing `groups`, for the terminal reports.
pub fn groups_text(groups: &[GroupView]) -> String {
    let mut out = String::new();
    for g in groups {
        out.push_str(&format!(
            "selector {} (line {}: {}) in {}: {} table{}: {}\n",
            g.id,
            g.line,
            g.selector,
            g.source,
            g.restores.len(),
            if g.restores.len() == 1 { "" } else { "s" },
            if g.restores.is_empty() {
                "-".to_owned()
            } else {
                g.restores.join(", ")
            }
        ));
        for o in &g.overridden {
            out.push_str(&format!(
                "  {} also matches; restored by its own restore `{}`\n",
                o.table, o.restore
            ));
        }
    }
    out
}

/// A selector that differs between two versions of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SelectorChange {
    /// The group id.
    pub id: String,
    /// The old selector (`None`: added).
    pub old: Option<String>,
    /// The new selector (`None`: removed).
    pub new: Option<String>,
}

impl SelectorChange {
    /// `~ selector orders: names orders-* -> names orders-*, payments`.
    pub fn text(&self) -> String {
        match (&self.old, &self.new) {
            (None, Some(n)) => format!("+ selector {}: {n}", self.id),
            (Some(o), None) => format!("- selector {}: {o}", self.id),
            (Some(o), Some(n)) => format!("~ selector {}: {o} -> {n}", self.id),
            (None, None) => format!("  selector {}", self.id),
        }
    }
}

/// Selectors added, removed or changed between `old` and `new` (by group id).
pub fn diff_groups(old: &[Group], new: &[Group]) -> Vec<SelectorChange> {
    let o: BTreeMap<&str, &Group> = old.iter().map(|g| (g.id.as_str(), g)).collect();
    let n: BTreeMap<&str, &Group> = new.iter().map(|g| (g.id.as_str(), g)).collect();
    let ids: BTreeSet<&str> = o.keys().chain(n.keys()).copied().collect();
    ids.into_iter()
        .filter_map(|id| {
            let (a, b) = (o.get(id), n.get(id));
            let differs = match (a, b) {
                (Some(a), Some(b)) => {
                    a.select != b.select || a.account != b.account || a.region != b.region
                }
                _ => true,
            };
            differs.then(|| SelectorChange {
                id: id.to_owned(),
                old: a.map(|g| g.selector.clone()),
                new: b.map(|g| g.selector.clone()),
            })
        })
        .collect()
}

/// The selector as a reader would say it: `names orders-*, payments; tags env=prod; exclude *-archive`.
pub fn selector_text(s: &RawSelect) -> String {
    let mut parts = Vec::new();
    if let Some(n) = s.names.as_ref().filter(|n| !n.is_empty()) {
        parts.push(format!("names {}", n.join(", ")));
    }
    if let Some(t) = s.tags.as_ref().filter(|t| !t.is_empty()) {
        let t: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("tags {}", t.join(", ")));
    }
    if let Some(x) = s.exclude.as_ref().filter(|x| !x.is_empty()) {
        parts.push(format!("exclude {}", x.join(", ")));
    }
    parts.join("; ")
}

/// Shell-style glob match: `*` any run, `?` one character, `[abc]`/`[a-z]`/`[!a]` a class.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtracking point for the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = class(&p[pi..], t[ti])
                        && matched
                    {
                        pi += len;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class at the start of `p` (`[...]`): whether it
/// matched and the class's length; `None` when the class is not closed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// Why `pattern` is not a glob, or `None` when it is one.
fn glob_problem(pattern: &str) -> Option<&'static str> {
    if pattern.is_empty() {
        return Some("an empty pattern matches no table");
    }
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < p.len() {
        if p[i] == '[' {
            match class(&p[i..], '\0') {
                Some((_, len)) => i += len,
                None => return Some("`[` opens a character class that is never closed"),
            }
        } else {
            i += 1;
        }
    }
    None
}

/// True when table `name` with `tags` (`None`: not read) is selected by `s`.
pub fn selects(s: &RawSelect, name: &str, tags: Option<&BTreeMap<String, String>>) -> bool {
    let named = match s.names.as_ref().filter(|n| !n.is_empty()) {
        Some(globs) => globs.iter().any(|g| glob_match(g, name)),
        None => true,
    };
    let excluded = s.exclude.iter().flatten().any(|g| glob_match(g, name));
    let tagged = match s.tags.as_ref().filter(|t| !t.is_empty()) {
        Some(want) => tags.is_some_and(|have| want.iter().all(|(k, v)| have.get(k) == Some(v))),
        None => true,
    };
    named && !excluded && tagged
}

/// The source account and Region of restore `r`: its own `source`, the
/// defaults', the plan's, field by field (as `resolve` does).
pub fn source_of(raw: &RawPlan, r: &RawRestore) -> (Option<String>, Option<String>) {
    let d = raw.defaults.as_ref().and_then(|d| d.source.as_ref());
    let p = raw.source.as_ref();
    let own = r.source.as_ref();
    let account = own
        .and_then(|l| l.account.clone())
        .or_else(|| d.and_then(|l| l.account.clone()))
        .or_else(|| p.and_then(|l| l.account.clone()));
    let region = own
        .and_then(|l| l.region.clone())
        .or_else(|| d.and_then(|l| l.region.clone()))
        .or_else(|| p.and_then(|l| l.region.clone()));
    (account, region)
}

/// True when the plan has a `select:` restore.
pub fn has_selectors(raw: &RawPlan) -> bool {
    raw.restores.iter().any(|r| r.select.is_some())
}

/// What [`expand`] made of the plan.
pub struct Expansion {
    /// The groups, in file order.
    pub groups: Vec<Group>,
    /// The tree with each group's entry cloned per restore (`None`: unchanged).
    pub root: Option<Node>,
    /// Findings at the selectors' lines.
    pub findings: Vec<Finding>,
}

fn line_of(text: &str, span: Span) -> usize {
    text.as_bytes()[..span.offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Expands every `select:` restore of `raw` (and the tree `root`) against
/// `inventory`; see the module docs.
pub fn expand(
    raw: &mut RawPlan,
    root: &Node,
    text: &str,
    inventory: Option<&Inventory>,
) -> Expansion {
    let mut findings = Vec::new();
    let entries: Vec<Option<&Node>> = (0..raw.restores.len())
        .map(|i| root.get("restores").and_then(|n| n.index(i)))
        .collect();
    let field = |i: usize, key: &str| entries[i].and_then(|n| n.get(key)).map(|n| n.span);
    let key_span = |i: usize, key: &str| entries[i].and_then(|n| n.entry(key)).map(|e| e.key_span);
    for (i, r) in raw.restores.iter_mut().enumerate() {
        if r.select.is_some() && !r.table.is_empty() {
            findings.push(
                Finding::error(
                    TABLE_OR_SELECT,
                    format!("restore `{}` has both `table` and `select`", r.table),
                )
                .at(field(i, "table"))
                .label("a restore names one table, or selects several")
                .help("keep `table` for one table, or `select` for every matching table, not both"),
            );
            r.table.clear();
        } else if r.select.is_none() && r.table.is_empty() {
            // A `table` of the wrong type was reported by the schema already.
            if entries[i].and_then(|n| n.get("table")).is_none() {
                // As the schema said it before `select` made `table` optional.
                let path = [Segment::Key("restores".to_owned()), Segment::Index(i)];
                let f = Finding::error(
                    crate::plan::rules::SCHEMA_MISSING_KEY,
                    format!(
                        "missing required key `table` in {}",
                        crate::plan::schema::describe(root, &path)
                    ),
                )
                .at(entries[i].map(|n| n.span))
                .label("`table` is missing here")
                .help("add `table: NAME`, the original table's name");
                findings.push(crate::plan::tree::with_restore(f, root, &path));
            }
            // Go on with a stand-in, so later rules do not restate this one.
            r.table = crate::plan::schema::STAND_IN.to_owned();
        }
    }
    if !has_selectors(raw) {
        return Expansion {
            groups: Vec::new(),
            root: None,
            findings,
        };
    }

    // Explicit restores: their ids and (source, table).
    let mut explicit_ids: HashMap<String, usize> = HashMap::new();
    let mut explicit_tables: HashMap<(Option<String>, Option<String>, String), String> =
        HashMap::new();
    for (i, r) in raw.restores.iter().enumerate() {
        if r.select.is_none() {
            let id = r.id.clone().unwrap_or_else(|| r.table.clone());
            explicit_ids.entry(id.clone()).or_insert(i);
            let (a, g) = source_of(raw, r);
            explicit_tables.entry((a, g, r.table.clone())).or_insert(id);
        }
    }

    let mut groups: Vec<Group> = Vec::new();
    let mut members_of: Vec<Vec<String>> = vec![Vec::new(); raw.restores.len()];
    let mut claimed: HashMap<(Option<String>, Option<String>, String), usize> = HashMap::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();
    let mut group_at: Vec<Option<usize>> = vec![None; raw.restores.len()];
    for (i, r) in raw.restores.iter().enumerate() {
        let Some(sel) = &r.select else { continue };
        group_at[i] = Some(groups.len());
        let span = key_span(i, "select").or(field(i, "select"));
        let line = key_span(i, "select").map(|s| line_of(text, s)).unwrap_or(0);
        let id = r.id.clone().unwrap_or_else(|| format!("select-{}", i + 1));
        let id_span = field(i, "id").or(span);
        if let Some(&other) = explicit_ids.get(&id) {
            let at = entries[other].map(|n| line_of(text, n.span)).unwrap_or(0);
            findings.push(
                Finding::error(
                    GROUP_ID_TAKEN,
                    format!("group id `{id}` is also the id of the restore on line {at}"),
                )
                .restore(&id)
                .at(id_span)
                .label("a group id must not name a restore")
                .help("give the group another `id` (e.g. `{id}-group`); `depends_on` would not know which one it means"),
            );
        }
        if let Some(&g) = group_index.get(&id) {
            findings.push(
                Finding::error(
                    GROUP_ID_TAKEN,
                    format!(
                        "group id `{id}` is used twice (first by the selector on line {})",
                        groups[g].line
                    ),
                )
                .restore(&id)
                .at(id_span)
                .label("already a group id")
                .help("give each selector its own `id`"),
            );
        }
        let empty = sel.names.as_ref().is_none_or(|n| n.is_empty())
            && sel.tags.as_ref().is_none_or(|t| t.is_empty());
        if empty {
            findings.push(
                Finding::error(INVALID, format!("selector `{id}` has neither `names` nor `tags`"))
                    .restore(&id)
                    .at(span)
                    .label("selects nothing in particular")
                    .help("add `names: [\"GLOB\"]` or `tags: { KEY: VALUE }` (`names: [\"*\"]` selects every table)"),
            );
        }
        for (key, globs) in [("names", &sel.names), ("exclude", &sel.exclude)] {
            for g in globs.iter().flatten() {
                if let Some(why) = glob_problem(g) {
                    let at = entries[i]
                        .and_then(|n| n.get("select"))
                        .and_then(|n| n.get(key))
                        .map(|n| n.span)
                        .or(span);
                    findings.push(
                        Finding::error(
                            INVALID,
                            format!("`{g}` in `select.{key}` is not a valid glob"),
                        )
                        .restore(&id)
                        .at(at)
                        .label(why)
                        .help("globs use `*`, `?` and `[a-z]`, e.g. `orders-*`"),
                    );
                }
            }
        }
        if r.depends_on.contains(&id) {
            findings.push(
                Finding::error(SELF_DEPENDENCY, format!("group `{id}` depends on itself"))
                    .restore(&id)
                    .at(field(i, "depends_on"))
                    .label("names its own group")
                    .help("the restores of a group run side by side; list the group in the `depends_on` of the restores that must wait for it instead"),
            );
        }
        let (account, region) = source_of(raw, r);
        let listed = match (&account, &region, inventory) {
            (Some(a), Some(g), Some(inv)) => inv.tables(a, g),
            _ => None,
        };
        let mut group = Group {
            id: id.clone(),
            selector: selector_text(sel),
            account: account.clone(),
            region: region.clone(),
            members: Vec::new(),
            overridden: Vec::new(),
            expanded: listed.is_some(),
            line,
            span,
            select: sel.clone(),
        };
        match listed {
            None => {
                members_of[i] = vec![id.clone()];
                group.members = vec![id.clone()];
            }
            Some(tables) => {
                for (name, tags) in tables {
                    if !selects(sel, name, tags.as_ref()) {
                        continue;
                    }
                    let key = (account.clone(), region.clone(), name.clone());
                    if let Some(own) = explicit_tables.get(&key) {
                        let own_line = explicit_ids
                            .get(own)
                            .and_then(|&j| entries[j])
                            .map(|n| line_of(text, n.span))
                            .unwrap_or(0);
                        let mut f = Finding::warning(
                            OVERRIDDEN,
                            format!(
                                "table `{name}` matches selector `{id}` and has its own restore `{own}` on line {own_line}: that restore wins"
                            ),
                        )
                        .restore(&id)
                        .at(span)
                        .label(format!("also matches `{name}`"))
                        .help(format!(
                            "nothing to do if `{own}` is meant to restore it differently; `exclude: [\"{name}\"]` says so explicitly"
                        ));
                        f.severity = Severity::Note;
                        findings.push(f);
                        group.overridden.push((name.clone(), own.clone()));
                        continue;
                    }
                    if let Some(&first) = claimed.get(&key) {
                        let g = &groups[first];
                        findings.push(
                            Finding::error(
                                MATCHED_TWICE,
                                format!(
                                    "table `{name}` is matched by selector `{}` (line {}) and by selector `{id}`",
                                    g.id, g.line
                                ),
                            )
                            .restore(&id)
                            .at(span)
                            .label(format!("matches `{name}` again"))
                            .help(format!(
                                "add `exclude: [\"{name}\"]` to one of the selectors, or give `{name}` its own restore"
                            )),
                        );
                        continue;
                    }
                    claimed.insert(key, groups.len());
                    group.members.push(name.clone());
                }
                if group.members.is_empty() && group.overridden.is_empty() {
                    let sample: Vec<&str> = tables.keys().take(8).map(String::as_str).collect();
                    findings.push(
                        Finding::error(
                            NO_MATCH,
                            format!(
                                "selector `{id}` matches no table in {}/{}",
                                account.as_deref().unwrap_or("?"),
                                region.as_deref().unwrap_or("?")
                            ),
                        )
                        .restore(&id)
                        .at(span)
                        .label("matches nothing")
                        .evidence(format!(
                            "ListTables: {} table(s){}{}",
                            tables.len(),
                            if sample.is_empty() { "" } else { ", e.g. " },
                            sample.join(", ")
                        ))
                        .help("check the globs, tags and `source`; remove the selector if the tables are gone"),
                    );
                }
                members_of[i] = group.members.clone();
            }
        }
        group_index.insert(id, groups.len());
        groups.push(group);
    }

    // Tables a group expanded to must not be named like a group.
    let mut expanded_ids: BTreeSet<String> = BTreeSet::new();
    for g in groups.iter().filter(|g| g.expanded) {
        expanded_ids.extend(g.members.iter().cloned());
    }
    for g in &groups {
        if expanded_ids.contains(&g.id) {
            findings.push(
                Finding::error(
                    GROUP_ID_TAKEN,
                    format!(
                        "group id `{}` is also the id of a selected table's restore",
                        g.id
                    ),
                )
                .restore(&g.id)
                .at(g.span)
                .label(format!("a selector matched table `{}`", g.id))
                .help(
                    "give the group another `id`; `depends_on` would not know which one it means",
                ),
            );
        }
    }

    // What `depends_on: [GROUP]` stands for: every restore of the group,
    // its own and the explicit restores that won over it.
    let waits_for: HashMap<String, Vec<String>> = groups
        .iter()
        .map(|g| {
            let mut all = g.members.clone();
            all.extend(g.overridden.iter().map(|(_, id)| id.clone()));
            (g.id.clone(), all)
        })
        .collect();

    let old = std::mem::take(&mut raw.restores);
    let mut nodes: Vec<Node> = Vec::new();
    let mut restores: Vec<RawRestore> = Vec::new();
    for (i, r) in old.into_iter().enumerate() {
        let node = entries[i].cloned().unwrap_or(Node {
            value: Value::Null,
            span: Span::new(0, 0),
        });
        match &r.select {
            None => {
                let (r, node) = rewrite_depends(r, node, &waits_for, None);
                restores.push(r);
                nodes.push(node);
            }
            Some(_) => {
                let g = group_at[i].map(|g| &groups[g]);
                let group_id = g.map(|g| g.id.clone()).unwrap_or_default();
                let stand_in = g.is_none_or(|g| !g.expanded);
                for table in &members_of[i] {
                    let mut m = r.clone();
                    m.select = None;
                    let select_span = field(i, "select").unwrap_or(node.span);
                    let mut n = node.clone();
                    if stand_in {
                        m.table = stand_in_table(&group_id);
                        m.id = Some(group_id.clone());
                    } else {
                        m.table = table.clone();
                        m.id = None;
                    }
                    if let Value::Map(es) = &mut n.value {
                        es.retain(|e| e.key != "select" && (stand_in || e.key != "id"));
                        es.insert(
                            0,
                            Entry {
                                key: "table".to_owned(),
                                key_span: select_span,
                                value: Node {
                                    value: Value::Str {
                                        text: m.table.clone(),
                                        quoted: false,
                                    },
                                    span: select_span,
                                },
                            },
                        );
                    }
                    let (m, n) = rewrite_depends(m, n, &waits_for, Some(&group_id));
                    restores.push(m);
                    nodes.push(n);
                }
            }
        }
    }
    raw.restores = restores;
    let mut new_root = root.clone();
    if let Value::Map(es) = &mut new_root.value
        && let Some(e) = es.iter_mut().find(|e| e.key == "restores")
    {
        e.value.value = Value::Seq(nodes);
    }
    Expansion {
        groups,
        root: Some(new_root),
        findings,
    }
}

/// The table name a group's stand-in restores: the group id when it is a
/// valid table name, else a fixed one.
fn stand_in_table(group: &str) -> String {
    if crate::plan::valid_table_name(group) {
        group.to_owned()
    } else {
        "selected-tables".to_owned()
    }
}

/// Replaces each `depends_on` item naming a group by the group's restores,
/// in the restore and in its tree entry (each copy keeps the item's span).
fn rewrite_depends(
    mut r: RawRestore,
    mut node: Node,
    waits_for: &HashMap<String, Vec<String>>,
    own_group: Option<&str>,
) -> (RawRestore, Node) {
    if !r.depends_on.iter().any(|d| waits_for.contains_key(d)) {
        return (r, node);
    }
    let items: Vec<Node> = node
        .get("depends_on")
        .and_then(|n| match &n.value {
            Value::Seq(items) => Some(items.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut deps = Vec::new();
    let mut spans = Vec::new();
    let mut seen = BTreeSet::new();
    for (j, d) in r.depends_on.iter().enumerate() {
        let item = items.get(j).cloned();
        // A group's own id was reported; dropping it keeps the graph from restating it.
        if Some(d.as_str()) == own_group {
            continue;
        }
        let expanded: Vec<String> = match waits_for.get(d) {
            Some(members) if !(members.len() == 1 && members[0] == *d) => members.clone(),
            _ => vec![d.clone()],
        };
        for e in expanded {
            if seen.insert(e.clone()) {
                let mut n = item.clone().unwrap_or(Node {
                    value: Value::Null,
                    span: Span::new(0, 0),
                });
                n.value = Value::Str {
                    text: e.clone(),
                    quoted: false,
                };
                spans.push(n);
                deps.push(e);
            }
        }
    }
    r.depends_on = deps;
    if let Value::Map(es) = &mut node.value
        && let Some(e) = es.iter_mut().find(|e| e.key == "depends_on")
    {
        e.value.value = Value::Seq(spans);
    }
    (r, node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_md_documents_every_selector_code() {
        let doc =
            std::fs::read_to_string(std::path::Path::new(crate::REPO_ROOT).join("docs/rules.md"))
                .unwrap_or_default();
        for (code, _) in CODES {
            let url = crate::diag::rule_url(code);
            let anchor = url.split('#').nth(1).unwrap_or_default();
            assert!(
                doc.contains(&format!("<a id=\"{anchor}\"></a>")),
                "docs/rules.md has no anchor for {code}"
            );
        }
    }

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_match("orders-*", "orders-eu"));
        assert!(glob_match("orders-*", "orders-"));
        assert!(!glob_match("orders-*", "order"));
        assert!(glob_match("*-archive", "ledger-archive"));
        assert!(glob_match("t?ble", "table"));
        assert!(glob_match("[a-c]*", "billing"));
        assert!(!glob_match("[!a-c]*", "billing"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert_eq!(
            glob_problem("orders-[a"),
            Some("`[` opens a character class that is never closed")
        );
        assert_eq!(glob_problem("orders-[ab]"), None);
    }

    #[test]
    fn a_selector_needs_every_tag_and_no_exclude() {
        let s = RawSelect {
            names: Some(vec!["orders-*".into()]),
            tags: Some(BTreeMap::from([("env".into(), "prod".into())])),
            exclude: Some(vec!["*-archive".into()]),
        };
        let prod = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let dev = BTreeMap::from([("env".to_owned(), "dev".to_owned())]);
        assert!(selects(&s, "orders-eu", Some(&prod)));
        assert!(!selects(&s, "orders-eu", Some(&dev)));
        assert!(!selects(&s, "orders-eu", None));
        assert!(!selects(&s, "orders-archive", Some(&prod)));
        assert!(!selects(&s, "ledger", Some(&prod)));
    }
}
