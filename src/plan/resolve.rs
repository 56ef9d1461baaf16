//! Resolution and static rules: [`RawPlan`] + position tree → resolved restores.
//!
//! Two jobs, kept apart:
//!
//! - **Field picking.** Values written once (in `defaults`, `keys`,
//!   plan-level blocks) are parsed and checked once where written; then each
//!   restore picks its source, target, name, recovery point and encryption
//!   field by field (restore, then `defaults`, then the plan-level block),
//!   one pure function per field group (`pick_*`).
//! - **Restore rules.** Rules about a restore run in a loop over two lists:
//!   [`ENTRY_RULES`] on the entry as written (table name, id, duplicate id),
//!   [`OUTCOME_RULES`] on the picked fields (missing location, expanded
//!   names, cross-account PITR, recovery point location, role, overwrite,
//!   duplicate target). Each rule is one function with its code; findings
//!   keep list order. Adding a rule is adding one entry.
//!
//! Pure: the date for `{date}` comes from the options.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::diag::{Finding, Span};
use crate::graph::closest;
use crate::plan::ids::{split_arn, valid_role_arn, valid_vault};
use crate::plan::model::{
    AccountId, AfterRestore, Encryption, Execution, KeyRef, Location, Objectives, OnFailure,
    PlanHeader, RecoveryPointSelector, Region, Restore, RestoreSpans, StreamSetting, Target,
    TtlSetting,
};
use crate::plan::raw::{
    RawAfterRestore, RawEncryption, RawEncryptionType, RawLocation, RawOnFailure, RawPlan,
    RawRecoveryPoint, RawRestore, RawStream, RawTarget, RawTtl,
};
use crate::plan::rules;
use crate::plan::tree::{Node, Segment};
use crate::text::parse_duration;

/// Template placeholders.
const PLACEHOLDERS: &[&str] = &["table", "plan", "date"];

/// Builds an owned tree path from keys and indices.
macro_rules! path {
    ($($s:expr),* $(,)?) => { vec![$(Segment::from($s)),*] };
}

/// Builds a borrowed tree path (an array) from keys and indices.
macro_rules! at {
    ($($s:expr),* $(,)?) => { [$(Segment::from($s)),*] };
}

impl From<&str> for Segment {
    fn from(s: &str) -> Self {
        Segment::Key(s.to_owned())
    }
}

impl From<usize> for Segment {
    fn from(i: usize) -> Self {
        Segment::Index(i)
    }
}

/// The outcome of resolution: header and restores when nothing blocks, and
/// every finding (errors and warnings) either way.
pub(crate) struct Resolution {
    pub header: PlanHeader,
    pub restores: Vec<Restore>,
    pub findings: Vec<Finding>,
    /// Id, dependencies and spans of every restore, for graph checks even
    /// when some restores could not be resolved.
    pub stubs: Vec<crate::plan::model::NodeRef>,
}

/// A value written in the file: `None` when it was written but invalid (and
/// already reported), with the path it was written at.
#[derive(Debug, Clone)]
struct Field<T> {
    value: Option<T>,
    path: Vec<Segment>,
}

#[derive(Debug, Clone, Default)]
struct LocFields {
    account: Option<Field<AccountId>>,
    region: Option<Field<Region>>,
}

#[derive(Debug, Clone, Default)]
struct TargetFields {
    loc: LocFields,
    vault: Option<Field<String>>,
    role: Option<Field<String>>,
}

/// The settings a restore can inherit, parsed where written.
#[derive(Debug, Clone, Default)]
struct Settings {
    name: Option<Field<String>>,
    recovery_point: Option<Field<RecoveryPointSelector>>,
    encryption: Option<Field<(Encryption, Option<Span>)>>,
    indexes: Option<Vec<String>>,
    after_restore: Option<RawAfterRestore>,
    source: LocFields,
    target: TargetFields,
}

struct Ctx<'a> {
    root: &'a Node,
    findings: Vec<Finding>,
    plan_name: String,
    date: String,
    /// Named keys; `None` when the entry's ARN is malformed (already reported).
    keys: BTreeMap<String, Option<(KeyRef, Option<Span>)>>,
}

impl Ctx<'_> {
    fn span(&self, path: &[Segment]) -> Option<Span> {
        self.root.at(path).map(|n| n.span)
    }

    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }
}

pub(crate) fn resolve(raw: &RawPlan, root: &Node, text: &str, date: NaiveDate) -> Resolution {
    let mut cx = Ctx {
        root,
        findings: Vec::new(),
        plan_name: raw.name.clone(),
        date: date.format("%Y%m%d").to_string(),
        keys: BTreeMap::new(),
    };

    if raw.version != 1 {
        let f = Finding::error(
            rules::PLAN_VERSION,
            format!("plan format version {} is not supported", raw.version),
        )
        .at(cx.span(&at!["version"]))
        .label("only version 1 exists")
        .help("write `version: 1`");
        cx.push(f);
    }
    if !valid_plan_name(&raw.name) {
        let f = Finding::error(rules::PLAN_INVALID_NAME, format!("plan name `{}` is not valid", raw.name))
            .at(cx.span(&at!["name"]))
            .label("must match ^[a-z0-9][a-z0-9-]{0,62}$")
            .help(format!(
                "use 1–63 lowercase letters, digits and `-`, starting with a letter or digit, e.g. `{}`",
                suggest_plan_name(&raw.name)
            ));
        cx.push(f);
    }

    let objectives = Objectives {
        rpo: raw
            .objectives
            .as_ref()
            .and_then(|o| o.rpo.as_deref())
            .and_then(|d| duration_field(&mut cx, d, path!["objectives", "rpo"])),
        rto: raw
            .objectives
            .as_ref()
            .and_then(|o| o.rto.as_deref())
            .and_then(|d| duration_field(&mut cx, d, path!["objectives", "rto"])),
    };

    let execution = execution(&mut cx, raw);
    let state = state_backend(&mut cx, raw);

    for (name, key) in &raw.keys {
        let p = path!["keys", name.as_str(), "arn"];
        let span = cx.span(&p);
        let entry = if valid_kms_arn(&key.arn) {
            Some((
                KeyRef {
                    name: Some(name.clone()),
                    arn: key.arn.clone(),
                },
                span,
            ))
        } else {
            cx.push(malformed_key(&key.arn, span, None));
            None
        };
        cx.keys.insert(name.clone(), entry);
    }

    let plan_source = location_fields(&mut cx, raw.source.as_ref(), path!["source"]);
    let plan_target = target_fields(&mut cx, raw.target.as_ref(), path!["target"]);
    let defaults = match &raw.defaults {
        Some(d) => settings(
            &mut cx,
            SettingsIn {
                name: d.name.as_deref(),
                recovery_point: d.recovery_point.as_ref(),
                encryption: d.encryption.as_ref(),
                indexes: d.indexes.as_deref().map(index_names),
                after_restore: d.after_restore.as_ref(),
                source: d.source.as_ref(),
                target: d.target.as_ref(),
            },
            path!["defaults"],
        ),
        None => Settings::default(),
    };

    if raw.restores.is_empty() {
        let f = Finding::error(rules::PLAN_NO_RESTORES, "the plan has no restores")
            .at(cx.span(&at!["restores"]))
            .label("empty list")
            .help("add at least one restore, e.g. `- table: orders`");
        cx.push(f);
    }

    let mut restores = Vec::with_capacity(raw.restores.len());
    let mut stubs = Vec::with_capacity(raw.restores.len());
    let mut broken = false;
    let mut seen = Seen::with_capacity(raw.restores.len());

    for (i, r) in raw.restores.iter().enumerate() {
        let base = path!["restores", i];
        let id = r.id.clone().unwrap_or_else(|| r.table.clone());
        // Look the entry up once; its fields are found from it directly.
        let node = root.get("restores").and_then(|n| n.index(i));
        let field_span = |key: &str| node.and_then(|n| n.get(key)).map(|n| n.span);
        let entry = Entry {
            index: i,
            id: &id,
            explicit_id: r.id.is_some(),
            table: &r.table,
            entry_span: node.map(|n| n.span),
            table_span: field_span("table"),
            id_span: field_span("id"),
        };
        let mut ok = true;
        for rule in ENTRY_RULES {
            let before = cx.findings.len();
            if !(rule.check)(&mut cx, &mut seen, &entry, text) {
                ok = false;
            }
            debug_assert!(cx.findings[before..].iter().all(|f| f.code == rule.code));
        }

        let own = settings(
            &mut cx,
            SettingsIn {
                name: r.name.as_deref(),
                recovery_point: r.recovery_point.as_ref(),
                encryption: r.encryption.as_ref(),
                indexes: r.indexes.as_deref().map(index_names),
                after_restore: r.after_restore.as_ref(),
                source: r.source.as_ref(),
                target: r.target.as_ref(),
            },
            base.clone(),
        );

        let deps_node = node.and_then(|n| n.get("depends_on"));
        let depends_on_spans: Vec<Span> = (0..r.depends_on.len())
            .map(|k| {
                deps_node
                    .and_then(|d| d.index(k))
                    .map_or(Span::new(0, 0), |n| n.span)
            })
            .collect();

        // Field picking: restore, then defaults, then plan.
        let layers = Layers {
            own: &own,
            defaults: &defaults,
            plan_source: &plan_source,
            plan_target: &plan_target,
        };
        let source = pick_source(&layers);
        let target = pick_target(&layers, source.location.as_ref());
        let name = pick_name(&cx, &layers, &r.table);
        let recovery_point = pick_recovery_point(&cx, &layers);
        let encryption = pick_encryption(&cx, &layers);
        let copy = crate::plan::copy::resolve(
            root,
            raw.defaults.as_ref().and_then(|d| d.copy.as_ref()),
            r.copy.as_ref(),
            &base,
            &id,
            &mut cx.findings,
        );
        ok &= copy.written == copy.step.is_some();
        ok &= source.location.is_some()
            && target.valid()
            && name.value.is_some()
            && recovery_point.value.is_some()
            && encryption.value.is_some();

        // Outcome rules, in order; each sees whether the restore is still sound.
        let mut outcome = Outcome {
            entry,
            source: &source,
            target: &target,
            name: &name,
            recovery_point: &recovery_point,
            ok,
            copied: copy.written,
        };
        for rule in OUTCOME_RULES {
            let before = cx.findings.len();
            if !(rule.check)(&mut cx, &mut seen, &outcome) {
                outcome.ok = false;
            }
            debug_assert!(cx.findings[before..].iter().all(|f| f.code == rule.code));
        }
        let ok = outcome.ok;
        let (entry_span, table_span, id_span) = (entry.entry_span, entry.table_span, entry.id_span);

        let capacity = restore_capacity(&mut cx, raw, r, &id, &base);
        let ok = ok && capacity.is_some();
        let after_restore =
            merge_after_restore(defaults.after_restore.as_ref(), own.after_restore.as_ref());
        let indexes = own.indexes.clone().or_else(|| defaults.indexes.clone());

        // Where each `verify.keys` entry is written: the restore's own
        // list wins over the defaults' (as the values do).
        let keys_node =
            verify_keys_node(node).or_else(|| verify_keys_node(cx.root.get("defaults")));
        let verify_keys: Vec<Option<Span>> =
            (0..after_restore.verify.as_ref().map_or(0, |v| v.keys.len()))
                .map(|k| keys_node.and_then(|d| d.index(k)).map(|n| n.span))
                .collect();
        let spans = RestoreSpans {
            verify_keys,
            entry: entry_span,
            table: table_span,
            id: id_span,
            name: name.span,
            recovery_point: recovery_point.span,
            encryption: encryption.span,
            key: encryption.key_span,
            depends_on: depends_on_spans,
            copy: copy.span,
        };
        stubs.push(crate::plan::model::NodeRef {
            id: id.clone(),
            depends_on: r.depends_on.clone(),
            spans: spans.clone(),
        });

        match (
            ok,
            source.location,
            target.location,
            name.value,
            recovery_point.value,
            encryption.value,
        ) {
            (
                true,
                Some(source),
                Some(location),
                Some(target_name),
                Some(recovery_point),
                Some(encryption),
            ) => {
                restores.push(Restore {
                    id,
                    table: r.table.clone(),
                    source,
                    target: Target {
                        location,
                        vault: target.vault,
                        role: target.role,
                    },
                    target_name,
                    recovery_point,
                    encryption,
                    indexes,
                    after_restore,
                    capacity: capacity.unwrap_or_default(),
                    depends_on: r.depends_on.clone(),
                    spans,
                    copy: copy.step,
                });
                if let Some(last) = restores.last() {
                    crate::plan::copy::rules(last, &mut cx.findings);
                }
            }
            _ => broken = true,
        }
    }

    seen.finish(&mut cx);
    if broken && !cx.findings.iter().any(Finding::is_error) {
        // Every path that marks a restore broken reports an error; keep the
        // invariant visible rather than sealing a partial plan.
        cx.push(Finding::error(
            rules::SCHEMA_INVALID_VALUE,
            "some restores could not be resolved",
        ));
    }

    let header = PlanHeader {
        name: raw.name.clone(),
        description: raw.description.clone(),
        objectives,
        execution,
        state,
        keys: cx
            .keys
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|(r, _)| (k.clone(), r.clone())))
            .collect(),
    };
    Resolution {
        header,
        restores,
        findings: cx.findings,
        stubs,
    }
}

// ---------------------------------------------------------------------------
// Field picking: one pure function per field group. A restore's own value
// wins, then `defaults`, then (for source and target) the plan-level block.
// ---------------------------------------------------------------------------

/// The layers a restore inherits from, nearest first.
struct Layers<'a> {
    own: &'a Settings,
    defaults: &'a Settings,
    plan_source: &'a LocFields,
    plan_target: &'a TargetFields,
}

/// The picked source: its location when both fields hold valid values, and
/// which fields are set nowhere.
struct PickedSource {
    location: Option<Location>,
    account_missing: bool,
    region_missing: bool,
}

fn pick_source(l: &Layers<'_>) -> PickedSource {
    let account = pick(&[
        &l.own.source.account,
        &l.defaults.source.account,
        &l.plan_source.account,
    ]);
    let region = pick(&[
        &l.own.source.region,
        &l.defaults.source.region,
        &l.plan_source.region,
    ]);
    let location = match (field_value(account), field_value(region)) {
        (Some(account), Some(region)) => Some(Location { account, region }),
        _ => None,
    };
    PickedSource {
        location,
        account_missing: account.is_none(),
        region_missing: region.is_none(),
    }
}

/// The picked target: its location (the source's account and Region where
/// the target sets none), vault and role.
struct PickedTarget {
    location: Option<Location>,
    vault: Option<String>,
    role: Option<String>,
    /// `target.role` is written somewhere (even if invalid).
    role_set: bool,
    /// A vault or role was written but is invalid (already reported).
    invalid: bool,
}

impl PickedTarget {
    fn valid(&self) -> bool {
        !self.invalid
    }
}

fn pick_target(l: &Layers<'_>, source: Option<&Location>) -> PickedTarget {
    let account = pick(&[
        &l.own.target.loc.account,
        &l.defaults.target.loc.account,
        &l.plan_target.loc.account,
    ]);
    let region = pick(&[
        &l.own.target.loc.region,
        &l.defaults.target.loc.region,
        &l.plan_target.loc.region,
    ]);
    let vault = pick(&[
        &l.own.target.vault,
        &l.defaults.target.vault,
        &l.plan_target.vault,
    ]);
    let role = pick(&[
        &l.own.target.role,
        &l.defaults.target.role,
        &l.plan_target.role,
    ]);
    let location = match (source, account, region) {
        (_, Some(Field { value: None, .. }), _) | (_, _, Some(Field { value: None, .. })) => None,
        (Some(src), a, rg) => Some(Location {
            account: a
                .and_then(|f| f.value.clone())
                .unwrap_or_else(|| src.account.clone()),
            region: rg
                .and_then(|f| f.value.clone())
                .unwrap_or_else(|| src.region.clone()),
        }),
        (None, Some(a), Some(rg)) => match (&a.value, &rg.value) {
            (Some(a), Some(rg)) => Some(Location {
                account: a.clone(),
                region: rg.clone(),
            }),
            _ => None,
        },
        (None, _, _) => None,
    };
    PickedTarget {
        location,
        vault: field_value(vault),
        role: field_value(role),
        role_set: role.is_some(),
        invalid: vault.is_some_and(|v| v.value.is_none())
            || role.is_some_and(|v| v.value.is_none()),
    }
}

/// The picked target table name, expanded; `None` when the template was
/// invalid (already reported).
struct PickedName {
    value: Option<String>,
    template: Option<String>,
    span: Option<Span>,
}

fn pick_name(cx: &Ctx<'_>, l: &Layers<'_>, table: &str) -> PickedName {
    let field = pick(&[&l.own.name, &l.defaults.name]);
    let value = match field {
        Some(Field { value: Some(t), .. }) => Some(expand(t, table, &cx.plan_name, &cx.date)),
        Some(Field { value: None, .. }) => None,
        None => Some(table.to_owned()),
    };
    PickedName {
        value,
        template: field.and_then(|f| f.value.clone()),
        span: field.and_then(|f| cx.span(&f.path)),
    }
}

/// The picked recovery point (`latest` when set nowhere).
struct PickedRecoveryPoint {
    value: Option<RecoveryPointSelector>,
    span: Option<Span>,
}

fn pick_recovery_point(cx: &Ctx<'_>, l: &Layers<'_>) -> PickedRecoveryPoint {
    let field = pick(&[&l.own.recovery_point, &l.defaults.recovery_point]);
    let value = match field {
        Some(Field {
            value: Some(rp), ..
        }) => Some(rp.clone()),
        Some(Field { value: None, .. }) => None,
        None => Some(RecoveryPointSelector::Latest),
    };
    PickedRecoveryPoint {
        value,
        span: field.and_then(|f| cx.span(&f.path)),
    }
}

/// The picked encryption (DynamoDB-owned when set nowhere).
struct PickedEncryption {
    value: Option<Encryption>,
    span: Option<Span>,
    key_span: Option<Span>,
}

fn pick_encryption(cx: &Ctx<'_>, l: &Layers<'_>) -> PickedEncryption {
    let field = pick(&[&l.own.encryption, &l.defaults.encryption]);
    let (value, key_span) = match field {
        Some(Field {
            value: Some((e, ks)),
            ..
        }) => (Some(e.clone()), *ks),
        Some(Field { value: None, .. }) => (None, None),
        None => (Some(Encryption::DynamodbOwned), None),
    };
    PickedEncryption {
        value,
        span: field.and_then(|f| cx.span(&f.path)),
        key_span,
    }
}

// ---------------------------------------------------------------------------
// Rules about a restore: entry rules see the entry as written (before its
// fields are parsed), outcome rules see the picked fields. Each rule reports
// its own findings and returns `false` when the restore cannot be sealed.
// Rules run in list order; findings keep that order. Adding a rule is adding
// one entry to a list.
// ---------------------------------------------------------------------------

/// What the rules remember across restores; rules about the whole list
/// (one finding naming many restores) report in [`Seen::finish`].
struct Seen {
    missing: BTreeMap<&'static str, Vec<(String, Option<Span>)>>,
    needs_role: Vec<(String, Option<Span>)>,
    /// Restore id → index of the first restore with it.
    ids: HashMap<String, usize>,
    /// Target (account, Region, name) → id of the first restore into it.
    targets: HashMap<(AccountId, Region, String), String>,
}

impl Seen {
    fn with_capacity(n: usize) -> Self {
        Seen {
            missing: BTreeMap::new(),
            needs_role: Vec::new(),
            ids: HashMap::with_capacity(n),
            targets: HashMap::with_capacity(n),
        }
    }

    /// Reports the rules collected over every restore.
    fn finish(self, cx: &mut Ctx<'_>) {
        for (field, who) in self.missing {
            let (first, span) = who[0].clone();
            let f = Finding::error(
                rules::LOCATION_MISSING,
                format!("no source {field} is set for {}", list_restores(&who)),
            )
            .restore(first)
            .at(span)
            .label(format!("source {field} unknown for this restore"))
            .help(format!(
                "set `source.{field}` at the top of the plan (or under `defaults.source` or a restore's `source`)"
            ));
            cx.push(f);
        }
        if !self.needs_role.is_empty() {
            let (first, span) = self.needs_role[0].clone();
            let f = Finding::error(
                rules::ROLE_REQUIRED,
                format!("{} through AWS Backup, which needs `target.role`", restore_verb(&self.needs_role)),
            )
            .restore(first)
            .at(span)
            .label("restores through AWS Backup")
            .help("set `target.role` to the IAM role AWS Backup assumes, e.g. arn:aws:iam::ACCOUNT:role/service-role/AWSBackupDefaultServiceRole");
            cx.push(f);
        }
    }
}

/// One restore entry as written.
#[derive(Clone, Copy)]
struct Entry<'a> {
    index: usize,
    id: &'a str,
    explicit_id: bool,
    table: &'a str,
    entry_span: Option<Span>,
    table_span: Option<Span>,
    id_span: Option<Span>,
}

/// A rule about a restore entry as written.
struct EntryRule {
    /// The code the rule reports under (every finding it pushes has it).
    code: &'static str,
    check: fn(&mut Ctx<'_>, &mut Seen, &Entry<'_>, &str) -> bool,
}

/// Entry rules, in reporting order.
const ENTRY_RULES: &[EntryRule] = &[
    EntryRule {
        code: rules::INVALID_TABLE_NAME,
        check: original_table_name,
    },
    EntryRule {
        code: rules::INVALID_ID,
        check: restore_id,
    },
    EntryRule {
        code: rules::DUPLICATE_ID,
        check: duplicate_id,
    },
];

fn original_table_name(cx: &mut Ctx<'_>, _: &mut Seen, e: &Entry<'_>, _: &str) -> bool {
    if valid_table_name(e.table) {
        return true;
    }
    cx.push(table_name_finding(
        e.id,
        "original table name",
        e.table,
        e.table_span,
        None,
    ));
    false
}

fn restore_id(cx: &mut Ctx<'_>, _: &mut Seen, e: &Entry<'_>, _: &str) -> bool {
    if !e.explicit_id || valid_id(e.id) {
        return true;
    }
    let id = e.id;
    let f = Finding::error(rules::INVALID_ID, format!("restore id `{id}` is not valid"))
        .restore(id)
        .at(e.id_span)
        .label("ids are 1–255 characters of A-Z a-z 0-9 _ . -")
        .help("use letters, digits, `_`, `.` and `-`, e.g. `orders-pitr`");
    cx.push(f);
    false
}

/// Reports a repeated id; the restore itself may still be sealed.
fn duplicate_id(cx: &mut Ctx<'_>, seen: &mut Seen, e: &Entry<'_>, text: &str) -> bool {
    let id = e.id;
    match seen.ids.get(id) {
        Some(&first) => {
            let first_span = cx.span(&at!["restores", first]);
            let line = first_span.map(|s| line_of(text, s)).unwrap_or(0);
            let f = Finding::error(rules::DUPLICATE_ID, format!("restore id `{id}` is used twice"))
                .restore(id)
                .at(e.id_span.or(e.table_span))
                .label(format!("restore `{id}` is already defined on line {line}"))
                .help("give one of them an explicit, unique `id` (restoring the same table twice needs two ids)");
            cx.push(f);
        }
        None => {
            seen.ids.insert(id.to_owned(), e.index);
        }
    }
    true
}

/// A restore with its fields picked.
struct Outcome<'a> {
    entry: Entry<'a>,
    source: &'a PickedSource,
    target: &'a PickedTarget,
    name: &'a PickedName,
    recovery_point: &'a PickedRecoveryPoint,
    /// No field or earlier rule has made the restore unsealable.
    ok: bool,
    /// The restore has a copy step (`copy`).
    copied: bool,
}

/// A rule about a restore's picked fields.
struct OutcomeRule {
    /// The code the rule reports under (every finding it pushes has it).
    code: &'static str,
    check: fn(&mut Ctx<'_>, &mut Seen, &Outcome<'_>) -> bool,
}

/// Outcome rules, in reporting order.
const OUTCOME_RULES: &[OutcomeRule] = &[
    OutcomeRule {
        code: rules::LOCATION_MISSING,
        check: location_missing,
    },
    OutcomeRule {
        code: rules::INVALID_TABLE_NAME,
        check: target_table_name,
    },
    OutcomeRule {
        code: rules::PITR_CROSS_ACCOUNT,
        check: pitr_cross_account,
    },
    OutcomeRule {
        code: rules::RECOVERY_POINT_ARN_LOCATION,
        check: recovery_point_location,
    },
    OutcomeRule {
        code: rules::ROLE_REQUIRED,
        check: role_required,
    },
    OutcomeRule {
        code: rules::OVERWRITES_SOURCE,
        check: overwrites_source,
    },
    OutcomeRule {
        code: rules::DUPLICATE_TARGET,
        check: duplicate_target,
    },
];

/// Collects restores whose source account or Region is set nowhere; one
/// finding per field names them all.
fn location_missing(_: &mut Ctx<'_>, seen: &mut Seen, o: &Outcome<'_>) -> bool {
    let e = &o.entry;
    let at = e.table_span.or(e.entry_span);
    if o.source.account_missing {
        seen.missing
            .entry("account")
            .or_default()
            .push((e.id.to_owned(), at));
    }
    if o.source.region_missing {
        seen.missing
            .entry("region")
            .or_default()
            .push((e.id.to_owned(), at));
    }
    !(o.source.account_missing || o.source.region_missing)
}

/// A target name (after template expansion) DynamoDB rejects; reported only
/// when the original name is valid (else that finding says it already).
fn target_table_name(cx: &mut Ctx<'_>, _: &mut Seen, o: &Outcome<'_>) -> bool {
    let e = &o.entry;
    match &o.name.value {
        Some(n) if !valid_table_name(n) && valid_table_name(e.table) => {
            let f = table_name_finding(
                e.id,
                "target table name",
                n,
                o.name.span.or(e.table_span),
                o.name.template.as_deref(),
            );
            cx.push(f);
            false
        }
        _ => true,
    }
}

/// The resolved source, target and recovery point, when all three are known.
fn located<'a>(
    o: &'a Outcome<'_>,
) -> Option<(&'a Location, &'a Location, &'a RecoveryPointSelector)> {
    match (
        &o.source.location,
        &o.target.location,
        &o.recovery_point.value,
    ) {
        (Some(s), Some(t), Some(rp)) => Some((s, t, rp)),
        _ => None,
    }
}

fn pitr_cross_account(cx: &mut Ctx<'_>, _: &mut Seen, o: &Outcome<'_>) -> bool {
    let Some((src, tgt, rp)) = located(o) else {
        return true;
    };
    if !matches!(rp, RecoveryPointSelector::PointInTime { .. }) || src.account == tgt.account {
        return true;
    }
    let id = o.entry.id;
    let f = Finding::error(
        rules::PITR_CROSS_ACCOUNT,
        format!(
            "restore `{id}` is a point-in-time restore from account {} into account {}",
            src.account, tgt.account
        ),
    )
    .restore(id)
    .at(o.recovery_point.span.or(o.entry.entry_span))
    .label("point-in-time restores stay in the source account")
    .help(format!(
        "set `target: {{ account: \"{}\" }}` on this restore (another Region is fine), or restore a backup copied to account {}",
        src.account, tgt.account
    ));
    cx.push(f);
    false
}

fn recovery_point_location(cx: &mut Ctx<'_>, _: &mut Seen, o: &Outcome<'_>) -> bool {
    let Some((_, tgt, rp)) = located(o) else {
        return true;
    };
    let Some((kind, arn_loc)) = arn_location(rp) else {
        return true;
    };
    if o.copied {
        // Copied first: the point is where the copy starts (`copy::rules`).
        return true;
    }
    if &arn_loc == tgt {
        return true;
    }
    // DynamoDB restores its own backups into another Region of the same
    // account (the request then carries an explicit SSESpecificationOverride).
    let dynamodb_backup = matches!(rp, RecoveryPointSelector::DynamoDbBackupArn { .. });
    if dynamodb_backup && arn_loc.account == tgt.account {
        return true;
    }
    let id = o.entry.id;
    let help = if dynamodb_backup {
        format!(
            "a DynamoDB backup restores only in its own account ({}): add a `copy:` step to this restore (AWS Backup StartCopyJob into `target.vault`; the backup must be an advanced DynamoDB backup, managed by AWS Backup) and restore the copy, or set this restore's `target.account` to \"{}\"",
            arn_loc.account, arn_loc.account
        )
    } else {
        format!(
            "a restore runs where its recovery point is: add a `copy:` step to this restore (AWS Backup StartCopyJob into a vault in {tgt}), or set this restore's `target` to {arn_loc}"
        )
    };
    let f = Finding::error(
        rules::RECOVERY_POINT_ARN_LOCATION,
        format!("restore `{id}` restores in {tgt}, but its {kind} is in {arn_loc}"),
    )
    .restore(id)
    .at(o.recovery_point.span.or(o.entry.entry_span))
    .label(format!("this {kind} lives in {arn_loc}"))
    .help(help);
    cx.push(f);
    false
}

/// Collects restores through AWS Backup without `target.role`; one finding
/// names them all.
fn role_required(_: &mut Ctx<'_>, seen: &mut Seen, o: &Outcome<'_>) -> bool {
    let Some((_, _, rp)) = located(o) else {
        return true;
    };
    let through_backup = match rp {
        RecoveryPointSelector::BackupArn { .. } => true,
        RecoveryPointSelector::Latest
        | RecoveryPointSelector::LatestBefore { .. }
        | RecoveryPointSelector::RandomWithin { .. } => o.target.vault.is_some(),
        _ => false,
    } || o.copied;
    if !through_backup || o.target.role_set {
        return true;
    }
    let e = &o.entry;
    seen.needs_role.push((
        e.id.to_owned(),
        o.recovery_point.span.or(e.table_span).or(e.entry_span),
    ));
    false
}

/// The resolved source, target and target name of a restore still sound.
fn sealed_target<'a>(o: &'a Outcome<'_>) -> Option<(&'a Location, &'a Location, &'a String)> {
    match (&o.source.location, &o.target.location, &o.name.value) {
        (Some(s), Some(t), Some(n)) if o.ok => Some((s, t, n)),
        _ => None,
    }
}

fn overwrites_source(cx: &mut Ctx<'_>, _: &mut Seen, o: &Outcome<'_>) -> bool {
    let Some((src, tgt, n)) = sealed_target(o) else {
        return true;
    };
    if src != tgt || n != o.entry.table {
        return true;
    }
    let id = o.entry.id;
    let f = Finding::error(
        rules::OVERWRITES_SOURCE,
        format!("restore `{id}` would restore into its own original table `{n}` in {tgt}"),
    )
    .restore(id)
    .at(o.name.span.or(o.entry.table_span))
    .label("the target is the original table")
    .help("set `name` to another table name (e.g. `{table}-restored`), or restore into another account or Region");
    cx.push(f);
    false
}

fn duplicate_target(cx: &mut Ctx<'_>, seen: &mut Seen, o: &Outcome<'_>) -> bool {
    let Some((_, tgt, n)) = sealed_target(o) else {
        return true;
    };
    let key = (tgt.account.clone(), tgt.region.clone(), n.clone());
    let Some(first_id) = seen.targets.get(&key) else {
        seen.targets.insert(key, o.entry.id.to_owned());
        return true;
    };
    let id = o.entry.id;
    let f = Finding::error(
        rules::DUPLICATE_TARGET,
        format!("restores `{first_id}` and `{id}` both restore into table `{n}` in {tgt}"),
    )
    .restore(id)
    .at(o.name.span.or(o.entry.table_span))
    .label(format!("`{first_id}` already restores into `{n}`"))
    .help(
        "give one of them another `name` (a template such as `{table}-{date}` keeps names apart)",
    );
    cx.push(f);
    false
}

fn list_restores(who: &[(String, Option<Span>)]) -> String {
    let shown: Vec<String> = who
        .iter()
        .take(5)
        .map(|(id, _)| format!("`{id}`"))
        .collect();
    let more = who.len().saturating_sub(5);
    let noun = if who.len() == 1 {
        "restore"
    } else {
        "restores"
    };
    if more > 0 {
        format!("{noun} {} and {more} more", shown.join(", "))
    } else {
        format!("{noun} {}", shown.join(", "))
    }
}

fn restore_verb(who: &[(String, Option<Span>)]) -> String {
    let verb = if who.len() == 1 {
        "restores"
    } else {
        "restore"
    };
    format!("{} {verb}", list_restores(who))
}

fn pick<'f, T>(candidates: &[&'f Option<Field<T>>]) -> Option<&'f Field<T>> {
    candidates.iter().find_map(|c| c.as_ref())
}

fn field_value<T: Clone>(f: Option<&Field<T>>) -> Option<T> {
    f.and_then(|f| f.value.clone())
}

fn line_of(text: &str, span: Span) -> usize {
    text.as_bytes()[..span.offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct SettingsIn<'r> {
    name: Option<&'r str>,
    recovery_point: Option<&'r RawRecoveryPoint>,
    encryption: Option<&'r RawEncryption>,
    indexes: Option<Vec<String>>,
    after_restore: Option<&'r RawAfterRestore>,
    source: Option<&'r RawLocation>,
    target: Option<&'r RawTarget>,
}

fn settings(cx: &mut Ctx<'_>, s: SettingsIn<'_>, base: Vec<Segment>) -> Settings {
    let at = |key: &str| {
        let mut p = base.clone();
        p.push(Segment::from(key));
        p
    };
    let name = s.name.map(|t| {
        let p = at("name");
        let ok = check_template(cx, t, &p);
        Field {
            value: ok.then(|| t.to_owned()),
            path: p,
        }
    });
    let recovery_point = s.recovery_point.map(|rp| {
        let p = at("recovery_point");
        Field {
            value: recovery_point(cx, rp, &p),
            path: p,
        }
    });
    let encryption = s.encryption.map(|e| {
        let p = at("encryption");
        Field {
            value: encryption(cx, e, &p),
            path: p,
        }
    });
    Settings {
        name,
        recovery_point,
        encryption,
        indexes: s.indexes,
        after_restore: s.after_restore.cloned(),
        source: location_fields(cx, s.source, at("source")),
        target: target_fields(cx, s.target, at("target")),
    }
}

fn location_fields(cx: &mut Ctx<'_>, raw: Option<&RawLocation>, base: Vec<Segment>) -> LocFields {
    let Some(raw) = raw else {
        return LocFields::default();
    };
    loc_fields(cx, raw.account.as_deref(), raw.region.as_deref(), &base)
}

fn loc_fields(
    cx: &mut Ctx<'_>,
    account: Option<&str>,
    region: Option<&str>,
    base: &[Segment],
) -> LocFields {
    let mut p_account = base.to_vec();
    p_account.push(Segment::from("account"));
    let mut p_region = base.to_vec();
    p_region.push(Segment::from("region"));
    let account = account.map(|a| {
        let value = AccountId::parse(a);
        if value.is_none() {
            let f = Finding::error(
                rules::ACCOUNT_INVALID,
                format!("account id `{a}` is not 12 digits"),
            )
            .at(cx.span(&p_account))
            .label("expected exactly 12 digits")
            .help("write the 12-digit account id in quotes, e.g. \"111122223333\"");
            let f = crate::plan::tree::with_restore(f, cx.root, &p_account);
            cx.push(f);
        }
        Field {
            value,
            path: p_account,
        }
    });
    let region = region.map(|r| {
        let value = Region::parse(r);
        if value.is_none() {
            let f = Finding::error(rules::REGION_INVALID, format!("`{r}` is not an AWS Region name"))
                .at(cx.span(&p_region))
                .label("expected a Region such as us-east-1")
                .help("use a Region code such as `us-east-1` or `eu-west-2` (lowercase, as in the AWS console)");
            let f = crate::plan::tree::with_restore(f, cx.root, &p_region);
            cx.push(f);
        }
        Field { value, path: p_region }
    });
    LocFields { account, region }
}

fn target_fields(cx: &mut Ctx<'_>, raw: Option<&RawTarget>, base: Vec<Segment>) -> TargetFields {
    let Some(raw) = raw else {
        return TargetFields::default();
    };
    let loc = loc_fields(cx, raw.account.as_deref(), raw.region.as_deref(), &base);
    let at = |key: &str| {
        let mut p = base.clone();
        p.push(Segment::from(key));
        p
    };
    let vault = raw.vault.as_ref().map(|v| {
        let p = at("vault");
        let ok = valid_vault(v);
        if !ok {
            let f = Finding::error(
                rules::VAULT_INVALID,
                format!("`{v}` is not a valid AWS Backup vault name"),
            )
            .at(cx.span(&p))
            .label("vault names are 2–50 characters of A-Z a-z 0-9 - _")
            .help("write the vault's name (not its ARN), e.g. `payments-dr`");
            let f = crate::plan::tree::with_restore(f, cx.root, &p);
            cx.push(f);
        }
        Field {
            value: ok.then(|| v.clone()),
            path: p,
        }
    });
    let role = raw.role.as_ref().map(|r| {
        let p = at("role");
        let ok = valid_role_arn(r);
        if !ok {
            let f = Finding::error(rules::ROLE_MALFORMED, format!("`{r}` is not an IAM role ARN"))
                .at(cx.span(&p))
                .label("expected arn:aws:iam::ACCOUNT:role/NAME")
                .help("write the role's full ARN, e.g. arn:aws:iam::444455556666:role/service-role/AWSBackupDefaultServiceRole");
            let f = crate::plan::tree::with_restore(f, cx.root, &p);
            cx.push(f);
        }
        Field {
            value: ok.then(|| r.clone()),
            path: p,
        }
    });
    TargetFields { loc, vault, role }
}

fn execution(cx: &mut Ctx<'_>, raw: &RawPlan) -> Execution {
    let mut execution = Execution::default();
    let Some(e) = &raw.execution else {
        return execution;
    };
    if let Some(c) = e.concurrency {
        let span = cx.span(&at!["execution", "concurrency"]);
        if !(1..=1000).contains(&c) {
            let f = Finding::error(rules::CONCURRENCY_RANGE, format!("`execution.concurrency` is {c}, outside 1..=1000"))
                .at(span)
                .label("must be between 1 and 1000")
                .help("set a number of restores in flight between 1 and 1000 (DynamoDB runs at most 50 per account)");
            cx.push(f);
        } else {
            if c > i64::from(Execution::PER_ACCOUNT_RESTORE_LIMIT) {
                let f = Finding::warning(
                    rules::CONCURRENCY_ABOVE_QUOTA,
                    format!("`execution.concurrency` is {c}, above DynamoDB's 50 concurrent restores per account"),
                )
                .at(span)
                .label("more than 50")
                .help("the executor never runs more than 50 restores per target account; lower this to 50 or less unless the plan targets several accounts");
                cx.push(f);
            }
            execution.concurrency = u32::try_from(c).unwrap_or(execution.concurrency);
        }
    }
    if let Some(of) = e.on_failure {
        execution.on_failure = match of {
            RawOnFailure::Continue => OnFailure::Continue,
            RawOnFailure::Stop => OnFailure::Stop,
        };
    }
    execution.engine = crate::plan::engine::resolve(&raw.name, e.engine, e.step_functions.as_ref());
    execution
}

/// The `state:` block: the backend and exactly the fields it takes.
fn state_backend(cx: &mut Ctx<'_>, raw: &RawPlan) -> crate::plan::state::StateBackend {
    use crate::plan::raw::RawBackend;
    use crate::plan::state::{S3Location, StateBackend, TableLocation};
    let Some(st) = &raw.state else {
        return StateBackend::Local;
    };
    let name = match st.backend {
        RawBackend::Local => "local",
        RawBackend::S3 => "s3",
        RawBackend::Dynamodb => "dynamodb",
    };
    let allowed: &[&str] = match st.backend {
        RawBackend::Local => &[],
        RawBackend::S3 => &["bucket", "prefix", "region", "account"],
        RawBackend::Dynamodb => &["table", "region", "account"],
    };
    let given = [
        ("bucket", st.bucket.is_some()),
        ("prefix", st.prefix.is_some()),
        ("table", st.table.is_some()),
        ("region", st.region.is_some()),
        ("account", st.account.is_some()),
    ];
    let mut ok = true;
    for (key, set) in given {
        if set && !allowed.contains(&key) {
            ok = false;
            let f = Finding::error(
                rules::SCHEMA_UNKNOWN_KEY,
                format!("`state.{key}` does not apply to `backend: {name}`"),
            )
            .at(cx.span(&at!["state", key]))
            .label(format!("not a `{name}` setting"))
            .help(if allowed.is_empty() {
                "the local backend takes no settings; remove it".to_owned()
            } else {
                format!("`backend: {name}` takes {}", allowed.join(", "))
            });
            cx.push(f);
        }
    }
    for key in allowed.iter().filter(|k| **k != "prefix") {
        if !given.iter().any(|(k, set)| k == key && *set) {
            ok = false;
            let f = Finding::error(
                rules::SCHEMA_MISSING_KEY,
                format!("`backend: {name}` needs `state.{key}`"),
            )
            .at(cx.span(&at!["state", "backend"]))
            .label(format!("no `{key}`"))
            .help(match *key {
                "account" => "set `account` to the 12-digit account of the bucket or table, quoted"
                    .to_owned(),
                "region" => {
                    "set `region` to the bucket's or table's Region, e.g. us-east-1".to_owned()
                }
                k => format!("set `{k}`; `restoreplan state init` creates it"),
            });
            cx.push(f);
        }
    }
    let loc = loc_fields(
        cx,
        st.account.as_deref(),
        st.region.as_deref(),
        &at!["state"],
    );
    let account = loc.account.and_then(|f| f.value);
    let region = loc.region.and_then(|f| f.value);
    let mut named = |key: &str, value: &Option<String>, valid: fn(&str) -> bool, what: &str| {
        let v = value.as_deref()?;
        if valid(v) {
            return Some(v.to_owned());
        }
        let f = Finding::error(
            rules::SCHEMA_INVALID_VALUE,
            format!("`{v}` is not a valid {what}"),
        )
        .at(cx.span(&at!["state", key]))
        .label(format!("not a {what}"))
        .help(match key {
            "bucket" => "use 3–63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit",
            _ => "use 3–255 letters, digits, `_`, `-` and `.`",
        });
        cx.push(f);
        None
    };
    let bucket = named(
        "bucket",
        &st.bucket,
        crate::plan::state::valid_bucket,
        "bucket name",
    );
    let table = named(
        "table",
        &st.table,
        crate::plan::state::valid_table,
        "table name",
    );
    let prefix = match st
        .prefix
        .as_deref()
        .map(crate::plan::state::normalise_prefix)
    {
        None => Some(String::new()),
        Some(Ok(p)) => Some(p),
        Some(Err(why)) => {
            let f = Finding::error(
                rules::SCHEMA_INVALID_VALUE,
                format!("`state.prefix`: {why}"),
            )
            .at(cx.span(&at!["state", "prefix"]))
            .label("not a key prefix")
            .help("write a path such as `restoreplan/payments`");
            cx.push(f);
            None
        }
    };
    match (st.backend, ok, account, region) {
        (RawBackend::S3, true, Some(account), Some(region)) => match (bucket, prefix) {
            (Some(bucket), Some(prefix)) => StateBackend::S3(S3Location {
                bucket,
                prefix,
                region,
                account,
            }),
            _ => StateBackend::Local,
        },
        (RawBackend::Dynamodb, true, Some(account), Some(region)) => match table {
            Some(table) => StateBackend::DynamoDb(TableLocation {
                table,
                region,
                account,
            }),
            None => StateBackend::Local,
        },
        _ => StateBackend::Local,
    }
}

fn duration_field(cx: &mut Ctx<'_>, text: &str, p: Vec<Segment>) -> Option<Duration> {
    let d = parse_duration(text);
    if d.is_none() {
        let f = Finding::error(
            rules::DURATION_INVALID,
            format!("`{text}` is not a duration"),
        )
        .at(cx.span(&p))
        .label("expected a number and a unit: s, m, h or d")
        .help("write a whole number followed by s, m, h or d, e.g. `90m`, `24h`, `7d`");
        cx.push(f);
    }
    d
}

/// Checks a name template where it is written; true when usable.
fn check_template(cx: &mut Ctx<'_>, template: &str, p: &[Segment]) -> bool {
    let span = cx.span(p);
    let mut ok = true;
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if rest.as_bytes()[i] == b'}' {
            ok = false;
            cx.push(malformed_template(cx.root, template, span, p));
            break;
        }
        let after = &rest[i + 1..];
        let Some(close) = after.find('}') else {
            ok = false;
            cx.push(malformed_template(cx.root, template, span, p));
            break;
        };
        let name = &after[..close];
        if name.contains('{') {
            ok = false;
            cx.push(malformed_template(cx.root, template, span, p));
            break;
        }
        if !PLACEHOLDERS.contains(&name) {
            ok = false;
            let mut f = Finding::error(
                rules::TEMPLATE_UNKNOWN_PLACEHOLDER,
                format!("unknown placeholder `{{{name}}}` in name template `{template}`"),
            )
            .at(span)
            .label("placeholders are {table}, {plan} and {date}");
            f = match closest(name, PLACEHOLDERS.iter().copied()) {
                Some(near) => f.help(format!("did you mean `{{{near}}}`?")),
                None => f.help("use `{table}` (original name), `{plan}` (plan name) or `{date}` (UTC YYYYMMDD)"),
            };
            let f = crate::plan::tree::with_restore(f, cx.root, p);
            cx.push(f);
        }
        rest = &after[close + 1..];
    }
    ok
}

fn malformed_template(root: &Node, template: &str, span: Option<Span>, p: &[Segment]) -> Finding {
    let f = Finding::error(
        rules::TEMPLATE_MALFORMED,
        format!("name template `{template}` has an unbalanced `{{` or `}}`"),
    )
    .at(span)
    .label("unbalanced brace")
    .help(
        "write placeholders as `{table}`, `{plan}` or `{date}`; table names cannot contain braces",
    );
    crate::plan::tree::with_restore(f, root, p)
}

/// Expands `{table}`, `{plan}`, `{date}` in a checked template, in one pass.
pub fn expand(template: &str, table: &str, plan: &str, date: &str) -> String {
    let mut out = String::with_capacity(template.len() + table.len() + plan.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let (value, skip) = if after.starts_with("{table}") {
            (table, 7)
        } else if after.starts_with("{plan}") {
            (plan, 6)
        } else if after.starts_with("{date}") {
            (date, 6)
        } else {
            ("{", 1)
        };
        out.push_str(value);
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

fn recovery_point(
    cx: &mut Ctx<'_>,
    rp: &RawRecoveryPoint,
    p: &[Segment],
) -> Option<RecoveryPointSelector> {
    let span = cx.span(p);
    match rp {
        RawRecoveryPoint::Latest => Some(RecoveryPointSelector::Latest),
        RawRecoveryPoint::Arn(arn) => {
            let parsed = parse_recovery_point_arn(arn);
            if parsed.is_none() {
                let mut f = Finding::error(
                    rules::RECOVERY_POINT_MALFORMED_ARN,
                    format!("`{arn}` is not a recovery point ARN"),
                )
                .at(span)
                .label("not an AWS Backup or DynamoDB backup ARN");
                f = if !arn.starts_with("arn:") && closest(arn, ["latest"]).is_some() {
                    f.help("did you mean `latest`?")
                } else {
                    f.help("use `latest`, an AWS Backup ARN (arn:aws:backup:REGION:ACCOUNT:recovery-point:ID) or a DynamoDB backup ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/backup/ID)")
                };
                let f = crate::plan::tree::with_restore(f, cx.root, p);
                cx.push(f);
            }
            parsed
        }
        RawRecoveryPoint::LatestBefore(ts) => {
            let mut tp = p.to_vec();
            tp.push(Segment::from("latest_before"));
            timestamp(cx, ts, &tp).map(|before| RecoveryPointSelector::LatestBefore { before })
        }
        RawRecoveryPoint::PointInTime(ts) if ts == "latest" => {
            Some(RecoveryPointSelector::PointInTime { at: None })
        }
        RawRecoveryPoint::PointInTime(ts) => {
            let mut tp = p.to_vec();
            tp.push(Segment::from("point_in_time"));
            timestamp(cx, ts, &tp).map(|at| RecoveryPointSelector::PointInTime { at: Some(at) })
        }
        RawRecoveryPoint::RandomWithin(text) => {
            let mut tp = p.to_vec();
            tp.push(Segment::from("random_within"));
            duration_field(cx, text, tp)
                .filter(|d| !d.is_zero())
                .map(|window| RecoveryPointSelector::RandomWithin { window })
        }
    }
}

fn timestamp(cx: &mut Ctx<'_>, ts: &str, p: &[Segment]) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            let f = Finding::error(
                rules::INVALID_TIMESTAMP,
                format!("`{ts}` is not an RFC 3339 timestamp"),
            )
            .at(cx.span(p))
            .label("expected a date, a time and a zone")
            .help("write a full RFC 3339 time with a zone, e.g. `2026-11-20T00:00:00Z`");
            let f = crate::plan::tree::with_restore(f, cx.root, p);
            cx.push(f);
            None
        }
    }
}

fn encryption(
    cx: &mut Ctx<'_>,
    e: &RawEncryption,
    p: &[Segment],
) -> Option<(Encryption, Option<Span>)> {
    let mut kp = p.to_vec();
    kp.push(Segment::from("key"));
    let key_span = cx.span(&kp);
    match (e.kind, &e.key) {
        (RawEncryptionType::CustomerManaged, None) => {
            let f = Finding::error(
                rules::KMS_MISSING_KEY,
                "`customer-managed` encryption needs a `key`",
            )
            .at(cx.span(p))
            .label("no key given")
            .help(match cx.keys.keys().next() {
                Some(k) => format!("add `key: {k}` (a name from `keys`) or a KMS key ARN"),
                None => "add `key:` with a KMS key ARN, or define a key under `keys` and name it"
                    .to_owned(),
            });
            let f = crate::plan::tree::with_restore(f, cx.root, p);
            cx.push(f);
            None
        }
        (RawEncryptionType::CustomerManaged, Some(k)) if k.starts_with("arn:") => {
            if valid_kms_arn(k) {
                Some((
                    Encryption::CustomerManaged {
                        key: KeyRef {
                            name: None,
                            arn: k.clone(),
                        },
                    },
                    key_span,
                ))
            } else {
                let f = malformed_key(k, key_span, Some((cx.root, &kp)));
                cx.push(f);
                None
            }
        }
        (RawEncryptionType::CustomerManaged, Some(k)) => match cx.keys.get(k) {
            Some(Some((key, span))) => {
                Some((Encryption::CustomerManaged { key: key.clone() }, *span))
            }
            // The entry's ARN is malformed and already reported.
            Some(None) => None,
            None => {
                let mut f = Finding::error(
                    rules::KMS_UNKNOWN_KEY,
                    format!("key `{k}` is not defined under `keys`"),
                )
                .at(key_span)
                .label("no key with this name");
                f = match closest(k, cx.keys.keys().map(String::as_str)) {
                    Some(near) => f.help(format!("did you mean `{near}`?")),
                    None if cx.keys.is_empty() => f.help(format!("define it: `keys: {{ {k}: {{ arn: arn:aws:kms:REGION:ACCOUNT:key/ID }} }}`, or write the key ARN here")),
                    None => f.help(format!(
                        "use one of: {}, or write a KMS key ARN",
                        cx.keys.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    )),
                };
                let f = crate::plan::tree::with_restore(f, cx.root, &kp);
                cx.push(f);
                None
            }
        },
        (kind, Some(_)) => {
            let name = match kind {
                RawEncryptionType::DynamodbOwned => "dynamodb-owned",
                RawEncryptionType::DynamodbManaged => "dynamodb-managed",
                RawEncryptionType::SameAsSource => "same-as-source",
                RawEncryptionType::CustomerManaged => "customer-managed",
            };
            let f = Finding::error(
                rules::KMS_UNUSED_KEY,
                format!("`key` has no effect with `{name}` encryption"),
            )
            .at(key_span)
            .label("ignored by this encryption type")
            .help("remove `key`, or set `type: customer-managed` to encrypt with this key");
            let f = crate::plan::tree::with_restore(f, cx.root, &kp);
            cx.push(f);
            None
        }
        (RawEncryptionType::DynamodbOwned, None) => Some((Encryption::DynamodbOwned, None)),
        (RawEncryptionType::DynamodbManaged, None) => Some((Encryption::DynamodbManaged, None)),
        (RawEncryptionType::SameAsSource, None) => Some((Encryption::SameAsSource, None)),
    }
}

fn malformed_key(arn: &str, span: Option<Span>, at: Option<(&Node, &[Segment])>) -> Finding {
    let f = Finding::error(rules::KMS_MALFORMED_ARN, format!("`{arn}` is not a KMS key ARN or alias ARN"))
        .at(span)
        .label("expected arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME")
        .help("copy the key's ARN from the KMS console, e.g. arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab");
    match at {
        Some((root, p)) => crate::plan::tree::with_restore(f, root, p),
        None => f,
    }
}

/// The restore's capacity and class, its own keys over the defaults';
/// `None` when a static capacity rule failed (already reported).
fn restore_capacity(
    cx: &mut Ctx<'_>,
    raw: &RawPlan,
    r: &RawRestore,
    id: &str,
    base: &[Segment],
) -> Option<crate::plan::capacity::Capacity> {
    use crate::plan::capacity::RawCapacity;
    let own = RawCapacity {
        billing_mode: r.billing_mode.as_ref(),
        throughput: r.throughput.as_ref(),
        on_demand_throughput: r.on_demand_throughput.as_ref(),
        table_class: r.table_class.as_ref(),
        indexes: r.indexes.as_deref(),
    };
    let d = raw.defaults.as_ref();
    let defaults = RawCapacity {
        billing_mode: d.and_then(|d| d.billing_mode.as_ref()),
        throughput: d.and_then(|d| d.throughput.as_ref()),
        on_demand_throughput: d.and_then(|d| d.on_demand_throughput.as_ref()),
        table_class: d.and_then(|d| d.table_class.as_ref()),
        indexes: d.and_then(|d| d.indexes.as_deref()),
    };
    let root = cx.root;
    // A key's span: the restore's own when it sets it, else the defaults'.
    let span = |key: &str| {
        let mut p = base.to_vec();
        p.push(Segment::from(key));
        root.at(&p)
            .or_else(|| root.at(&[Segment::from("defaults"), Segment::from(key)]))
            .map(|n| n.span)
    };
    crate::plan::capacity::resolve(id, own, defaults, &span, &mut cx.findings)
}

/// The names of an `indexes` list, as written.
fn index_names(list: &[crate::plan::capacity::RawIndex]) -> Vec<String> {
    list.iter().map(|ix| ix.name().to_owned()).collect()
}

fn merge_after_restore(
    defaults: Option<&RawAfterRestore>,
    own: Option<&RawAfterRestore>,
) -> AfterRestore {
    let mut out = AfterRestore::default();
    for layer in [defaults, own].into_iter().flatten() {
        if let Some(v) = layer.point_in_time_recovery {
            out.point_in_time_recovery = Some(v.into());
        }
        if let Some(v) = layer.deletion_protection {
            out.deletion_protection = Some(v.into());
        }
        if let Some(tags) = &layer.tags {
            out.tags
                .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(ttl) = &layer.ttl {
            out.ttl = Some(match ttl {
                RawTtl::Copy => TtlSetting::Copy,
                RawTtl::Attribute(a) => TtlSetting::Attribute {
                    attribute: a.clone(),
                },
            });
        }
        if let Some(s) = layer.stream {
            out.stream = Some(match s {
                RawStream::Off => StreamSetting::Off,
                RawStream::NewImage => StreamSetting::NewImage,
                RawStream::OldImage => StreamSetting::OldImage,
                RawStream::NewAndOldImages => StreamSetting::NewAndOldImages,
                RawStream::KeysOnly => StreamSetting::KeysOnly,
                RawStream::Copy => StreamSetting::Copy,
            });
        }
    }
    crate::plan::copied::merge_copied(&mut out, defaults, own);
    out.verify = crate::plan::verify::merge(&[
        defaults.and_then(|d| d.verify.as_ref()),
        own.and_then(|o| o.verify.as_ref()),
    ]);
    out
}

/// The `after_restore.verify.keys` list under `n`.
fn verify_keys_node(n: Option<&Node>) -> Option<&Node> {
    n.and_then(|n| n.get("after_restore"))
        .and_then(|n| n.get("verify"))
        .and_then(|n| n.get("keys"))
}

fn table_name_finding(
    id: &str,
    what: &str,
    name: &str,
    span: Option<Span>,
    template: Option<&str>,
) -> Finding {
    let len = name.chars().count();
    let problem = if len < 3 {
        let unit = if len == 1 { "character" } else { "characters" };
        format!("is {len} {unit} long (at least 3)")
    } else if len > 255 {
        format!("is {len} characters long (at most 255)")
    } else {
        let bad: String = name
            .chars()
            .filter(|c| !valid_table_char(*c))
            .take(5)
            .collect();
        format!("contains characters DynamoDB does not allow: `{bad}`")
    };
    let label = match template {
        Some(t) if t != name => format!("`{t}` expands to `{name}`"),
        _ => "invalid table name".to_owned(),
    };
    Finding::error(
        rules::INVALID_TABLE_NAME,
        format!("restore `{id}`: {what} `{name}` {problem}"),
    )
    .restore(id)
    .at(span)
    .label(label)
    .help("table names are 3–255 characters of A-Z a-z 0-9 _ . -")
}

fn valid_table_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// DynamoDB table names: 3–255 characters of `[A-Za-z0-9_.-]`.
pub fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len()) && name.chars().all(valid_table_char)
}

fn valid_id(id: &str) -> bool {
    (1..=255).contains(&id.len()) && id.chars().all(valid_table_char)
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn valid_plan_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn suggest_plan_name(name: &str) -> String {
    let mut s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s = s.trim_matches('-').chars().take(63).collect();
    if s.is_empty() {
        "payments-dr".to_owned()
    } else {
        s
    }
}

/// A KMS key ARN or alias ARN.
pub fn valid_kms_arn(arn: &str) -> bool {
    matches!(split_arn(arn), Some((_, "kms", region, account, resource))
        if Region::parse(region).is_some()
            && AccountId::parse(account).is_some()
            && (resource.strip_prefix("key/").is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                || resource.strip_prefix("alias/").is_some_and(|n| !n.is_empty())))
}

fn parse_recovery_point_arn(arn: &str) -> Option<RecoveryPointSelector> {
    let (_, service, region, account, resource) = split_arn(arn)?;
    Region::parse(region)?;
    AccountId::parse(account)?;
    match service {
        "backup" => resource
            .strip_prefix("recovery-point:")
            .filter(|id| !id.is_empty() && !id.contains(['/', ':']))
            .map(|_| RecoveryPointSelector::BackupArn {
                arn: arn.to_owned(),
            }),
        "dynamodb" => {
            let rest = resource.strip_prefix("table/")?;
            let (table, backup) = rest.split_once("/backup/")?;
            (valid_table_name(table) && !backup.is_empty() && !backup.contains('/')).then(|| {
                RecoveryPointSelector::DynamoDbBackupArn {
                    arn: arn.to_owned(),
                }
            })
        }
        _ => None,
    }
}

/// Where an ARN selector's recovery point lives: its kind and location.
fn arn_location(rp: &RecoveryPointSelector) -> Option<(&'static str, Location)> {
    let (kind, arn) = match rp {
        RecoveryPointSelector::BackupArn { arn } => ("recovery point", arn),
        RecoveryPointSelector::DynamoDbBackupArn { arn } => ("DynamoDB backup", arn),
        _ => return None,
    };
    let (_, _, region, account, _) = split_arn(arn)?;
    Some((
        kind,
        Location {
            account: AccountId::parse(account)?,
            region: Region::parse(region)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        for bad in ["", "h", "1.5h", "-1h", "24", "24H", "1w"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn arns() {
        assert!(valid_kms_arn(
            "arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd"
        ));
        assert!(valid_kms_arn("arn:aws:kms:us-west-2:444455556666:alias/dr"));
        assert!(!valid_kms_arn("arn:aws:kms:us-west-2:4444:key/x"));
        assert!(!valid_kms_arn("alias/dr"));
        assert!(valid_role_arn(
            "arn:aws:iam::444455556666:role/service-role/AWSBackupDefaultServiceRole"
        ));
        assert!(!valid_role_arn("arn:aws:iam::444455556666:user/bob"));
        assert!(matches!(
            parse_recovery_point_arn(
                "arn:aws:backup:us-west-2:444455556666:recovery-point:0b5c8e4a"
            ),
            Some(RecoveryPointSelector::BackupArn { .. })
        ));
        assert!(matches!(
            parse_recovery_point_arn(
                "arn:aws:dynamodb:us-east-1:234567890123:table/orders/backup/01616319501023-bc657c53"
            ),
            Some(RecoveryPointSelector::DynamoDbBackupArn { .. })
        ));
        assert!(
            parse_recovery_point_arn("arn:aws:dynamodb:us-east-1:234567890123:table/orders")
                .is_none()
        );
    }

    #[test]
    fn templates_expand() {
        assert_eq!(
            expand("{table}-{plan}-{date}", "orders", "dr", "20261120"),
            "orders-dr-20261120"
        );
    }

    #[test]
    fn plan_names() {
        assert!(valid_plan_name("payments-dr-rehearsal"));
        assert!(!valid_plan_name("Payments"));
        assert!(!valid_plan_name("-x"));
        assert!(!valid_plan_name(&"a".repeat(64)));
    }
}
