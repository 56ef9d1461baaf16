//! The semantic diff of two versions of a plan: restores added, removed and
//! changed, field by field (keys, dependencies, objectives, encryption), as
//! a reviewer of a pull request needs it. Offline and pure: it compares two
//! sealed [`Plan`]s.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::build::selector_text;
use crate::plan::model::{Encryption, OnFailure, Plan, Restore, StreamSetting, TtlSetting};
use crate::text::duration_text;

/// Version of the plan-diff JSON shape.
pub const PLAN_DIFF_SCHEMA_VERSION: u32 = 1;

/// One field that differs; `None` on a side means "not set".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    /// The field, as written in the plan (`objectives.rto`, `encryption`, …).
    pub field: String,
    /// The old value.
    pub old: Option<String>,
    /// The new value.
    pub new: Option<String>,
}

/// What happened to a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Only in the new plan.
    Added,
    /// Only in the old plan.
    Removed,
    /// In both, with differences.
    Changed,
}

/// One restore that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreDiff {
    /// Restore id.
    pub id: String,
    /// Added, removed or changed.
    pub change: Change,
    /// `table → account/region/name`, of the new side (the old one when removed).
    pub summary: String,
    /// Differing fields (for added and removed: every field, on one side).
    pub fields: Vec<FieldChange>,
}

/// The semantic diff of two plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanDiff {
    /// Version of this JSON shape.
    pub schema_version: u32,
    /// Old plan's name.
    pub old_name: String,
    /// New plan's name.
    pub new_name: String,
    /// Plan-wide fields that differ (name, objectives, execution, keys).
    pub plan: Vec<FieldChange>,
    /// Restores that differ, in the new plan's order, removed ones last.
    pub restores: Vec<RestoreDiff>,
    /// Restores identical on both sides.
    pub unchanged: usize,
    /// `select:` restores added, removed or changed (by group id), as
    /// written; with `--live` the tables they add or remove are in
    /// `restores`.
    #[serde(default)]
    pub selectors: Vec<crate::plan::select::SelectorChange>,
}

impl PlanDiff {
    /// True when the plans mean the same thing.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty() && self.restores.is_empty() && self.selectors.is_empty()
    }

    /// The same diff with the selector changes of the two plans' `select:`
    /// restores (see [`crate::plan::select::diff_groups`]).
    pub fn with_selectors(mut self, selectors: Vec<crate::plan::select::SelectorChange>) -> Self {
        self.selectors = selectors;
        self
    }

    /// Restores with this change.
    pub fn count(&self, change: Change) -> usize {
        self.restores.iter().filter(|r| r.change == change).count()
    }
}

fn dur(d: Option<Duration>) -> Option<String> {
    d.map(duration_text)
}

fn field(out: &mut Vec<FieldChange>, name: &str, old: Option<String>, new: Option<String>) {
    if old != new {
        out.push(FieldChange {
            field: name.to_owned(),
            old,
            new,
        });
    }
}

/// The encryption setting as a reviewer reads it.
pub fn encryption_text(e: &Encryption) -> String {
    match e {
        Encryption::DynamodbOwned => "dynamodb-owned".to_owned(),
        Encryption::DynamodbManaged => "dynamodb-managed".to_owned(),
        Encryption::SameAsSource => "same-as-source".to_owned(),
        Encryption::CustomerManaged { key } => match &key.name {
            Some(n) => format!("customer-managed key `{n}` ({})", key.arn),
            None => format!("customer-managed key {}", key.arn),
        },
    }
}

fn copy_or_off(v: crate::plan::model::CopyOrOff) -> &'static str {
    match v {
        crate::plan::model::CopyOrOff::Copy => "copy",
        crate::plan::model::CopyOrOff::Off => "off",
    }
}

fn stream_text(s: StreamSetting) -> String {
    match s {
        StreamSetting::Off => "off",
        StreamSetting::NewImage => "new-image",
        StreamSetting::OldImage => "old-image",
        StreamSetting::NewAndOldImages => "new-and-old-images",
        StreamSetting::KeysOnly => "keys-only",
        StreamSetting::Copy => "copy",
    }
    .to_owned()
}

/// Every compared field of a restore, as `(field, value)`; `None` = not set.
fn restore_fields(r: &Restore) -> Vec<(&'static str, Option<String>)> {
    let a = &r.after_restore;
    let mut v = vec![
        ("table", Some(r.table.clone())),
        ("source", Some(r.source.to_string())),
        ("target", Some(r.target.location.to_string())),
        ("name", Some(r.target_name.clone())),
        ("target.vault", r.target.vault.clone()),
        ("target.role", r.target.role.clone()),
        ("recovery_point", Some(selector_text(&r.recovery_point))),
        ("encryption", Some(encryption_text(&r.encryption))),
        (
            "indexes",
            Some(match &r.indexes {
                None => "all".to_owned(),
                Some(ix) if ix.is_empty() => "none".to_owned(),
                Some(ix) => ix.join(", "),
            }),
        ),
        (
            "depends_on",
            (!r.depends_on.is_empty()).then(|| r.depends_on.join(", ")),
        ),
        (
            "after_restore.point_in_time_recovery",
            a.point_in_time_recovery.map(|b| b.to_string()),
        ),
        (
            "after_restore.deletion_protection",
            a.deletion_protection.map(|b| b.to_string()),
        ),
        (
            "after_restore.ttl",
            a.ttl.as_ref().map(|t| match t {
                TtlSetting::Attribute { attribute } => format!("attribute {attribute}"),
                TtlSetting::Copy => "copy".to_owned(),
            }),
        ),
        ("after_restore.stream", a.stream.map(stream_text)),
        (
            "after_restore.copy_source_tags",
            a.copy_source_tags.then(|| "true".to_owned()),
        ),
        (
            "after_restore.auto_scaling",
            a.auto_scaling.map(|v| copy_or_off(v).to_owned()),
        ),
        (
            "after_restore.resource_policy",
            a.resource_policy.map(|v| copy_or_off(v).to_owned()),
        ),
        (
            "after_restore.contributor_insights",
            a.contributor_insights.map(|v| v.to_string()),
        ),
        (
            "after_restore.kinesis_destination",
            a.kinesis_destination.as_ref().map(|k| match k {
                crate::plan::model::KinesisSetting::Copy => "copy".to_owned(),
                crate::plan::model::KinesisSetting::Off => "off".to_owned(),
                crate::plan::model::KinesisSetting::Stream { stream_arn } => stream_arn.clone(),
            }),
        ),
        (
            "after_restore.alarms",
            a.alarms.map(|v| copy_or_off(v).to_owned()),
        ),
    ];
    // Tags compare key by key, so a review shows exactly which tag moved.
    for (k, val) in &a.tags {
        v.push(("after_restore.tags", Some(format!("{k}={val}"))));
    }
    v
}

fn restore_changes(old: &Restore, new: &Restore) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let of = restore_fields(old);
    let nf = restore_fields(new);
    let single = |v: &[(&'static str, Option<String>)], name: &str| {
        v.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, x)| x.clone())
    };
    for (name, _) in of.iter().filter(|(n, _)| *n != "after_restore.tags") {
        if *name == "depends_on" {
            continue;
        }
        field(&mut out, name, single(&of, name), single(&nf, name));
    }
    // Dependencies: list what was added and removed rather than two lists.
    let removed: Vec<&String> = old
        .depends_on
        .iter()
        .filter(|d| !new.depends_on.contains(d))
        .collect();
    let added: Vec<&String> = new
        .depends_on
        .iter()
        .filter(|d| !old.depends_on.contains(d))
        .collect();
    for d in removed {
        field(&mut out, "depends_on", Some(d.clone()), None);
    }
    for d in added {
        field(&mut out, "depends_on", None, Some(d.clone()));
    }
    let ot = &old.after_restore.tags;
    let nt = &new.after_restore.tags;
    let keys: std::collections::BTreeSet<&String> = ot.keys().chain(nt.keys()).collect();
    for k in keys {
        field(
            &mut out,
            &format!("after_restore.tags.{k}"),
            ot.get(k).cloned(),
            nt.get(k).cloned(),
        );
    }
    out
}

fn summary(r: &Restore) -> String {
    format!("{} -> {}/{}", r.table, r.target.location, r.target_name)
}

fn one_side(r: &Restore, added: bool) -> Vec<FieldChange> {
    restore_fields(r)
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(name, v)| FieldChange {
            field: name.to_owned(),
            old: if added { None } else { v.clone() },
            new: if added { v } else { None },
        })
        .collect()
}

/// The semantic diff from `old` to `new`.
pub fn diff_plans(old: &Plan, new: &Plan) -> PlanDiff {
    let (oh, nh) = (old.header(), new.header());
    let mut plan = Vec::new();
    field(
        &mut plan,
        "name",
        Some(oh.name.clone()),
        Some(nh.name.clone()),
    );
    field(
        &mut plan,
        "description",
        oh.description.clone(),
        nh.description.clone(),
    );
    field(
        &mut plan,
        "objectives.rpo",
        dur(oh.objectives.rpo),
        dur(nh.objectives.rpo),
    );
    field(
        &mut plan,
        "objectives.rto",
        dur(oh.objectives.rto),
        dur(nh.objectives.rto),
    );
    field(
        &mut plan,
        "execution.concurrency",
        Some(oh.execution.concurrency.to_string()),
        Some(nh.execution.concurrency.to_string()),
    );
    let policy = |p: OnFailure| {
        match p {
            OnFailure::Continue => "continue",
            OnFailure::Stop => "stop",
        }
        .to_owned()
    };
    field(
        &mut plan,
        "execution.on_failure",
        Some(policy(oh.execution.on_failure)),
        Some(policy(nh.execution.on_failure)),
    );
    let keys: std::collections::BTreeSet<&String> = oh.keys.keys().chain(nh.keys.keys()).collect();
    for k in keys {
        field(
            &mut plan,
            &format!("keys.{k}"),
            oh.keys.get(k).map(|r| r.arn.clone()),
            nh.keys.get(k).map(|r| r.arn.clone()),
        );
    }

    let old_by_id: BTreeMap<&str, &Restore> =
        old.restores().iter().map(|r| (r.id.as_str(), r)).collect();
    let new_ids: std::collections::BTreeSet<&str> =
        new.restores().iter().map(|r| r.id.as_str()).collect();
    let mut restores = Vec::new();
    let mut unchanged = 0;
    for r in new.restores() {
        match old_by_id.get(r.id.as_str()) {
            None => restores.push(RestoreDiff {
                id: r.id.clone(),
                change: Change::Added,
                summary: summary(r),
                fields: one_side(r, true),
            }),
            Some(o) => {
                let fields = restore_changes(o, r);
                if fields.is_empty() {
                    unchanged += 1;
                } else {
                    restores.push(RestoreDiff {
                        id: r.id.clone(),
                        change: Change::Changed,
                        summary: summary(r),
                        fields,
                    });
                }
            }
        }
    }
    for r in old.restores() {
        if !new_ids.contains(r.id.as_str()) {
            restores.push(RestoreDiff {
                id: r.id.clone(),
                change: Change::Removed,
                summary: summary(r),
                fields: one_side(r, false),
            });
        }
    }
    PlanDiff {
        schema_version: PLAN_DIFF_SCHEMA_VERSION,
        old_name: oh.name.clone(),
        new_name: nh.name.clone(),
        plan,
        restores,
        unchanged,
        selectors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::fixtures;
    use crate::plan::model::KeyRef;

    fn seal(header: crate::plan::model::PlanHeader, rs: Vec<Restore>) -> Plan {
        Plan::seal(header, rs).unwrap_or_else(|f| panic!("{f:?}"))
    }

    #[test]
    fn identical_plans_have_no_diff() {
        let d = diff_plans(&fixtures::plan(), &fixtures::plan());
        assert!(d.is_empty());
        assert_eq!(d.unchanged, 3);
    }

    #[test]
    fn added_removed_and_changed_restores() {
        let old = fixtures::plan();
        let mut rs = old.restores().to_vec();
        rs.remove(2); // audit-pitr removed
        rs[1].depends_on = Vec::new(); // ledger no longer waits for accounts
        rs[1].encryption = Encryption::DynamodbManaged;
        rs[0].indexes = None;
        rs[0]
            .after_restore
            .tags
            .insert("owner".to_owned(), "sre".to_owned());
        rs[0].after_restore.stream = Some(StreamSetting::KeysOnly);
        rs.push(fixtures::restore("sessions", "sessions"));
        let new = seal(fixtures::header(10), rs);
        let d = diff_plans(&old, &new);
        assert_eq!(d.count(Change::Added), 1);
        assert_eq!(d.count(Change::Removed), 1);
        assert_eq!(d.count(Change::Changed), 2);
        assert_eq!(d.unchanged, 0);
        let by_id = |id: &str| {
            d.restores
                .iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("no {id}"))
        };
        let acc = by_id("accounts");
        let f = |name: &str| acc.fields.iter().find(|f| f.field == name).cloned();
        assert_eq!(
            f("indexes"),
            Some(FieldChange {
                field: "indexes".into(),
                old: Some("by-email".into()),
                new: Some("all".into())
            })
        );
        assert_eq!(
            f("after_restore.tags.owner").and_then(|c| c.new),
            Some("sre".into())
        );
        assert_eq!(
            f("after_restore.stream").and_then(|c| c.new),
            Some("keys-only".into())
        );
        let ledger = by_id("ledger");
        assert!(ledger.fields.contains(&FieldChange {
            field: "depends_on".into(),
            old: Some("accounts".into()),
            new: None
        }));
        let enc = ledger
            .fields
            .iter()
            .find(|f| f.field == "encryption")
            .cloned()
            .unwrap_or_else(|| panic!("no encryption change"));
        assert_eq!(enc.old.as_deref(), Some("same-as-source"));
        assert_eq!(enc.new.as_deref(), Some("dynamodb-managed"));
        assert_eq!(by_id("audit-pitr").change, Change::Removed);
        assert!(by_id("sessions").fields.iter().all(|f| f.old.is_none()));
        // Removed restores come last.
        assert_eq!(d.restores.last().map(|r| r.id.as_str()), Some("audit-pitr"));
    }

    #[test]
    fn objectives_keys_and_execution_are_compared() {
        let old = fixtures::plan();
        let mut h = fixtures::header(20);
        h.objectives.rto = Some(std::time::Duration::from_secs(2 * 3600));
        h.keys.insert(
            "old".to_owned(),
            KeyRef {
                name: Some("old".into()),
                arn: "arn:aws:kms:us-west-2:444455556666:alias/old".into(),
            },
        );
        let new = seal(h, old.restores().to_vec());
        let d = diff_plans(&old, &new);
        let fields: Vec<(&str, Option<&str>, Option<&str>)> = d
            .plan
            .iter()
            .map(|f| (f.field.as_str(), f.old.as_deref(), f.new.as_deref()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("objectives.rto", Some("4h"), Some("2h")),
                ("execution.concurrency", Some("10"), Some("20")),
                (
                    "keys.old",
                    None,
                    Some("arn:aws:kms:us-west-2:444455556666:alias/old")
                ),
            ]
        );
        assert!(d.restores.is_empty());
    }

    #[test]
    fn a_key_arn_change_shows_on_the_restores_that_use_it() {
        let old = fixtures::plan();
        let mut rs = old.restores().to_vec();
        let other = "arn:aws:kms:us-west-2:444455556666:key/mrk-ffffffffffffffffffffffffffffffff";
        rs[0].encryption = Encryption::CustomerManaged {
            key: KeyRef {
                name: Some("dr".into()),
                arn: other.into(),
            },
        };
        let d = diff_plans(&old, &seal(fixtures::header(10), rs));
        assert_eq!(d.restores.len(), 1);
        let f = &d.restores[0].fields[0];
        assert_eq!(f.field, "encryption");
        assert!(f.new.as_deref().is_some_and(|n| n.contains(other)));
    }
}
