//! The requests a restore makes once its table is ACTIVE, in the order they
//! are sent. Pure.
//!
//! [`planned`] is the one place the list is built: the live checks (`plan`,
//! `apply`) and the offline resolution (`simulate`) both call it, and the
//! executor only adds the run's tag with [`for_run`], so review, simulation
//! and execution send the same calls in the same order.

use std::collections::BTreeMap;

use crate::cloud::TableChange;
use crate::plan::model::{AfterRestore, TtlSetting};

/// Tag naming the plan on every table a run creates.
pub const PLAN_TAG: &str = "restoreplan:plan";
/// Tag naming the run on every table a run creates.
pub const RUN_TAG: &str = "restoreplan:run";

/// The settings applied after the restore of a table of plan `plan`, in
/// order: the tags first (the plan's, with [`PLAN_TAG`]; teardown can then
/// recognise the table as early as possible), then point-in-time recovery,
/// time to live, the stream, and deletion protection last (so a failed step
/// before it leaves a table teardown can still delete).
///
/// `copied_ttl` is the original table's TTL attribute when the plan says
/// `ttl: copy` and the original has TTL on; without it `ttl: copy` adds no
/// step (TTL stays off).
pub fn planned(plan: &str, after: &AfterRestore, copied_ttl: Option<&str>) -> Vec<TableChange> {
    let mut changes = Vec::new();
    let mut tags = after.tags.clone();
    tags.insert(PLAN_TAG.to_owned(), plan.to_owned());
    changes.push(TableChange::Tags { tags });
    if let Some(enabled) = after.point_in_time_recovery {
        changes.push(TableChange::PointInTimeRecovery { enabled });
    }
    let ttl = match &after.ttl {
        Some(TtlSetting::Attribute { attribute }) => Some(attribute.as_str()),
        Some(TtlSetting::Copy) => copied_ttl,
        None => None,
    };
    if let Some(attribute) = ttl {
        changes.push(TableChange::Ttl {
            attribute: attribute.to_owned(),
            enabled: true,
        });
    }
    if let Some(stream) = after.stream {
        changes.push(TableChange::Stream {
            view_type: stream.view_type().map(str::to_owned),
        });
    }
    if let Some(enabled) = after.deletion_protection {
        changes.push(TableChange::DeletionProtection { enabled });
    }
    changes
}

/// `changes` with the capacity and class changes (`UpdateTable`, see
/// [`crate::check::capacity`]) placed right after the leading tags: before
/// deletion protection, and first among the table's updates, so the
/// capacity the plan asks for is in place as early as possible.
pub fn with_capacity(
    mut changes: Vec<TableChange>,
    capacity: Vec<TableChange>,
) -> Vec<TableChange> {
    let at = usize::from(matches!(changes.first(), Some(TableChange::Tags { .. })));
    changes.splice(at..at, capacity);
    changes
}

/// The planned settings as run `run_id` of plan `plan` sends them: the run
/// tags ([`PLAN_TAG`], [`RUN_TAG`]) ride in the leading `TagResource` call
/// (a new one first when the list has none there); nothing else changes,
/// so the order stays the planned one. The run tags win on a clash.
pub fn for_run(planned: &[TableChange], plan: &str, run_id: &str) -> Vec<TableChange> {
    let run_tags = [
        (PLAN_TAG.to_owned(), plan.to_owned()),
        (RUN_TAG.to_owned(), run_id.to_owned()),
    ];
    let mut all = planned.to_vec();
    match all.first_mut() {
        Some(TableChange::Tags { tags }) => tags.extend(run_tags),
        _ => all.insert(
            0,
            TableChange::Tags {
                tags: BTreeMap::from(run_tags),
            },
        ),
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::StreamSetting;

    fn every_setting() -> AfterRestore {
        AfterRestore {
            point_in_time_recovery: Some(true),
            deletion_protection: Some(true),
            tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
            ttl: Some(TtlSetting::Attribute {
                attribute: "expires".to_owned(),
            }),
            stream: Some(StreamSetting::NewImage),
            verify: None,
        }
    }

    fn kinds(changes: &[TableChange]) -> Vec<&'static str> {
        changes
            .iter()
            .map(|c| match c {
                TableChange::Tags { .. } => "tags",
                TableChange::PointInTimeRecovery { .. } => "pitr",
                TableChange::Ttl { .. } => "ttl",
                TableChange::Stream { .. } => "stream",
                TableChange::DeletionProtection { .. } => "deletion-protection",
                TableChange::Capacity { .. } => "capacity",
                TableChange::TableClass { .. } => "table-class",
            })
            .collect()
    }

    #[test]
    fn tags_come_first_and_deletion_protection_last() {
        let c = planned("p", &every_setting(), None);
        assert_eq!(
            kinds(&c),
            ["tags", "pitr", "ttl", "stream", "deletion-protection"]
        );
        assert!(
            matches!(&c[0], TableChange::Tags { tags } if tags[PLAN_TAG] == "p" && tags["team"] == "payments")
        );
    }

    #[test]
    fn ttl_copy_follows_the_original_table() {
        let after = AfterRestore {
            ttl: Some(TtlSetting::Copy),
            ..AfterRestore::default()
        };
        assert_eq!(kinds(&planned("p", &after, None)), ["tags"]);
        let c = planned("p", &after, Some("expires_at"));
        assert!(
            matches!(&c[1], TableChange::Ttl { attribute, enabled: true } if attribute == "expires_at")
        );
    }

    #[test]
    fn capacity_changes_follow_the_tags() {
        use crate::plan::capacity::TableClass;
        let class = vec![TableChange::TableClass {
            class: TableClass::StandardInfrequentAccess,
        }];
        let c = with_capacity(planned("p", &every_setting(), None), class);
        assert_eq!(
            kinds(&c),
            [
                "tags",
                "table-class",
                "pitr",
                "ttl",
                "stream",
                "deletion-protection"
            ]
        );
    }

    #[test]
    fn the_run_adds_its_tag_to_the_first_call_and_keeps_the_order() {
        let p = planned("p", &every_setting(), None);
        let run = for_run(&p, "p", "run-1");
        assert_eq!(kinds(&run), kinds(&p));
        assert!(
            matches!(&run[0], TableChange::Tags { tags } if tags[RUN_TAG] == "run-1" && tags[PLAN_TAG] == "p" && tags["team"] == "payments")
        );
        let bare = for_run(
            &[TableChange::PointInTimeRecovery { enabled: true }],
            "p",
            "r",
        );
        assert_eq!(kinds(&bare), ["tags", "pitr"]);
    }
}
