//! What a restore's capacity and class become, given the plan and the
//! original table. Pure.
//!
//! A key the plan leaves unset means "what the original has". DynamoDB's
//! own restores take the capacity as overrides (`BillingModeOverride`,
//! `ProvisionedThroughputOverride`, `OnDemandThroughputOverride`, and each
//! index's capacity in `GlobalSecondaryIndexOverride`); an AWS Backup
//! restore takes none, so its capacity is an `UpdateTable` once the table
//! is ACTIVE. The table class is never a restore override: it is always an
//! `UpdateTable` after ACTIVE, sent only when it differs from the
//! original's (a restore keeps the original's class).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cloud::{CapacityOverride, IndexCapacity, RestoreRequest, TableCapacity, TableChange};
use crate::plan::capacity::{BillingMode, Capacity, OnDemandThroughput, TableClass, Throughput};

/// Why the plan's capacity cannot be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Provisioned billing without `throughput`, and the original has no
    /// provisioned capacity to copy.
    NeedsThroughput,
    /// `throughput` (or `on_demand_throughput`) without `billing_mode`,
    /// where the original's billing mode is the other one.
    OriginalMode {
        /// The key that contradicts the original.
        key: &'static str,
        /// The original's billing mode.
        original: BillingMode,
    },

    /// A kept index of a provisioned table has no throughput: the plan
    /// gives the table's from the original, and the original has none for
    /// this index (it has no such index now, or it cannot be read).
    IndexNeedsThroughput {
        /// The index.
        index: String,
    },
}

/// What the restore sends for capacity and class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The overrides of a DynamoDB restore (`None` for AWS Backup restores,
    /// and when the plan leaves capacity to the original).
    pub restore_override: Option<CapacityOverride>,
    /// `UpdateTable` calls after ACTIVE, in order.
    pub changes: Vec<TableChange>,
}

/// Decides capacity and class. `original` is the original table's capacity
/// when readable; `indexes` are the names of the indexes the restored table
/// keeps; `native` is true for DynamoDB's own restores (which take
/// overrides), false for AWS Backup restores.
pub fn decide(
    plan: &Capacity,
    original: Option<&TableCapacity>,
    indexes: &[String],
    native: bool,
) -> Result<Decision, Problem> {
    let mut out = Decision::default();
    let capacity_set = plan.billing_mode.is_some()
        || plan.throughput.is_some()
        || plan.on_demand_throughput.is_some()
        || !plan.indexes.is_empty();
    let original_mode = original.and_then(|o| o.billing_mode);
    if capacity_set {
        if plan.billing_mode.is_none() {
            match original_mode {
                Some(BillingMode::OnDemand) if plan.throughput.is_some() => {
                    return Err(Problem::OriginalMode {
                        key: "throughput",
                        original: BillingMode::OnDemand,
                    });
                }
                Some(BillingMode::OnDemand) if !plan.indexes.is_empty() => {
                    return Err(Problem::OriginalMode {
                        key: "indexes[].throughput",
                        original: BillingMode::OnDemand,
                    });
                }
                Some(BillingMode::Provisioned) if plan.on_demand_throughput.is_some() => {
                    return Err(Problem::OriginalMode {
                        key: "on_demand_throughput",
                        original: BillingMode::Provisioned,
                    });
                }
                _ => {}
            }
        }
        let mode = plan.billing_mode.or(original_mode).unwrap_or(
            if plan.throughput.is_some() || !plan.indexes.is_empty() {
                BillingMode::Provisioned
            } else {
                BillingMode::OnDemand
            },
        );
        let copy_from = original.filter(|o| o.billing_mode == Some(mode));
        let (throughput, on_demand, per_index) = match mode {
            BillingMode::Provisioned => {
                let table = plan
                    .throughput
                    .or_else(|| copy_from.and_then(|o| o.throughput))
                    .ok_or(Problem::NeedsThroughput)?;
                // An index's own `throughput` first, then the table's as
                // the plan writes it, then the original index's.
                let per_index = indexes
                    .iter()
                    .map(|ix| {
                        let t = plan
                            .indexes
                            .get(ix)
                            .copied()
                            .or(plan.throughput)
                            .or_else(|| {
                                copy_from
                                    .and_then(|o| o.indexes.get(ix))
                                    .and_then(|c| c.throughput)
                            })
                            .ok_or_else(|| Problem::IndexNeedsThroughput { index: ix.clone() })?;
                        Ok((
                            ix.clone(),
                            IndexCapacity {
                                throughput: Some(t),
                                on_demand: None,
                            },
                        ))
                    })
                    .collect::<Result<BTreeMap<_, _>, Problem>>()?;
                (Some(table), None, per_index)
            }
            BillingMode::OnDemand => {
                let table = plan
                    .on_demand_throughput
                    .or_else(|| copy_from.and_then(|o| o.on_demand));
                let per_index = indexes
                    .iter()
                    .filter_map(|ix| {
                        let od = plan.on_demand_throughput.or_else(|| {
                            copy_from
                                .and_then(|o| o.indexes.get(ix))
                                .and_then(|c| c.on_demand)
                        })?;
                        Some((
                            ix.clone(),
                            IndexCapacity {
                                throughput: None,
                                on_demand: Some(od),
                            },
                        ))
                    })
                    .collect::<BTreeMap<_, _>>();
                (None, table, per_index)
            }
        };
        if native {
            out.restore_override = Some(CapacityOverride {
                billing_mode: mode,
                throughput,
                on_demand,
                indexes: per_index,
            });
        } else {
            let change = TableChange::Capacity {
                billing_mode: mode,
                throughput,
                on_demand,
                indexes: per_index,
            };
            // An AWS Backup restore keeps the original's capacity: nothing
            // to change when that is already what the plan asks for.
            let unchanged = original.is_some_and(|o| in_effect(&change, o));
            if !unchanged {
                out.changes.push(change);
            }
        }
    }
    if let Some(class) = plan.table_class {
        // A class the original's description does not carry (a backup's)
        // is unknown: the change is sent, and one already in effect counts
        // as done.
        let original_class = original.and_then(|o| o.table_class);
        if original_class != Some(class) {
            out.changes.push(TableChange::TableClass { class });
        }
    }
    Ok(out)
}

/// Where the capacity a restore copies ("what the original has") is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CapacitySource {
    /// The original table, read with `DescribeTable`.
    OriginalTable,
    /// The original cannot be read (deleted, or no access): the table
    /// description the recovery point holds (DynamoDB `DescribeBackup`
    /// `SourceTableDetails`, each GSI's in `SourceTableFeatureDetails`).
    RecoveryPoint,
    /// Neither: the original cannot be read and the recovery point holds no
    /// table description (an AWS Backup recovery point).
    Unknown,
}

impl CapacitySource {
    /// How `plan` names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OriginalTable => "the original table (DescribeTable)",
            Self::RecoveryPoint => {
                "the recovery point's table description (DescribeBackup SourceTableDetails): the original table cannot be read"
            }
            Self::Unknown => {
                "nowhere: the original table cannot be read and the recovery point holds no table description"
            }
        }
    }
}

/// The capacity "what the original has" means for a restore, and where it
/// was read: the original table when readable, else the recovery point's
/// table description. `None` when the plan sets no capacity or class (the
/// restore then keeps the backup's, and nothing is decided).
pub fn original_capacity<'a>(
    plan: &Capacity,
    source_table: Option<&'a crate::cloud::TableFacts>,
    recovery_point: Option<&'a crate::cloud::RecoveryPoint>,
) -> Option<(CapacitySource, Option<&'a TableCapacity>)> {
    if plan.is_unset() {
        return None;
    }
    Some(
        match (
            source_table,
            recovery_point.and_then(|rp| rp.capacity.as_ref()),
        ) {
            (Some(t), _) => (CapacitySource::OriginalTable, Some(&t.capacity)),
            (None, Some(c)) => (CapacitySource::RecoveryPoint, Some(c)),
            (None, None) => (CapacitySource::Unknown, None),
        },
    )
}

/// `request` and `changes` with the restore's capacity and class: the
/// overrides in a DynamoDB restore's request, the `UpdateTable` calls in
/// the change list. `original` is the original table's capacity when
/// readable; `available` its indexes (the recovery point's when known).
pub fn apply(
    plan: &Capacity,
    request: RestoreRequest,
    changes: Vec<TableChange>,
    original: Option<&TableCapacity>,
    available: Option<&[crate::cloud::IndexDef]>,
) -> Result<(RestoreRequest, Vec<TableChange>), Problem> {
    if plan.is_unset() {
        return Ok((request, changes));
    }
    let native = !matches!(request, RestoreRequest::StartRestoreJob { .. });
    let kept = crate::check::request::kept_index_names(&request, available);
    let d = decide(plan, original, &kept, native)?;
    Ok((
        crate::check::request::with_capacity(request, d.restore_override, available),
        crate::check::changes::with_capacity(changes, d.changes),
    ))
}

/// True when `change` (a capacity or class change) is what `have` already
/// is; any other change is never reported in effect here.
pub fn in_effect(change: &TableChange, have: &TableCapacity) -> bool {
    match change {
        TableChange::Capacity {
            billing_mode,
            throughput,
            on_demand,
            indexes,
        } => {
            have.billing_mode.unwrap_or(BillingMode::Provisioned) == *billing_mode
                && (throughput.is_none() || have.throughput == *throughput)
                && on_demand_matches(*on_demand, have.on_demand)
                && indexes.iter().all(|(name, want)| {
                    have.indexes.get(name).is_some_and(|got| {
                        (want.throughput.is_none() || got.throughput == want.throughput)
                            && on_demand_matches(want.on_demand, got.on_demand)
                    })
                })
        }
        TableChange::TableClass { class } => {
            have.table_class.unwrap_or(TableClass::Standard) == *class
        }
        _ => false,
    }
}

/// A wanted maximum matches when each side it sets is what the table has.
fn on_demand_matches(want: Option<OnDemandThroughput>, have: Option<OnDemandThroughput>) -> bool {
    let Some(want) = want else {
        return true;
    };
    let side = |w: Option<i64>, h: Option<i64>| w.is_none() || w == h.or(Some(-1));
    let have = have.unwrap_or(OnDemandThroughput {
        max_read: None,
        max_write: None,
    });
    side(want.max_read, have.max_read) && side(want.max_write, have.max_write)
}

/// The capacity and class a restored table must have once its changes are
/// applied, for verification after `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Billing mode.
    pub billing_mode: Option<BillingMode>,
    /// Provisioned capacity of the table.
    pub throughput: Option<Throughput>,
    /// On-demand maximum of the table.
    pub on_demand: Option<OnDemandThroughput>,
    /// Table class.
    pub table_class: Option<TableClass>,
    /// Each index's capacity.
    #[serde(default)]
    pub indexes: BTreeMap<String, IndexCapacity>,
}

/// What the request and the changes make of the table's capacity and class;
/// `None` when neither sets any.
pub fn expected(request: &RestoreRequest, changes: &[TableChange]) -> Option<Expected> {
    let mut e = Expected {
        billing_mode: None,
        throughput: None,
        on_demand: None,
        table_class: None,
        indexes: BTreeMap::new(),
    };
    if let RestoreRequest::RestoreTableFromBackup {
        capacity: Some(c), ..
    }
    | RestoreRequest::RestoreTableToPointInTime {
        capacity: Some(c), ..
    } = request
    {
        e.billing_mode = Some(c.billing_mode);
        e.throughput = c.throughput;
        e.on_demand = c.on_demand;
        e.indexes = c.indexes.clone();
    }
    for change in changes {
        match change {
            TableChange::Capacity {
                billing_mode,
                throughput,
                on_demand,
                indexes,
            } => {
                e.billing_mode = Some(*billing_mode);
                e.throughput = *throughput;
                e.on_demand = *on_demand;
                e.indexes = indexes.clone();
            }
            TableChange::TableClass { class } => e.table_class = Some(*class),
            _ => {}
        }
    }
    (e.billing_mode.is_some() || e.table_class.is_some()).then_some(e)
}

/// Compares `table` with what is expected: one line per difference.
pub fn differences(want: &Expected, have: &TableCapacity) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(mode) = want.billing_mode {
        let got = have.billing_mode.unwrap_or(BillingMode::Provisioned);
        if got != mode {
            out.push(format!(
                "billing mode {} expected, found {}",
                mode.aws_name(),
                got.aws_name()
            ));
        }
    }
    if let Some(t) = want.throughput
        && have.throughput != Some(t)
    {
        out.push(format!(
            "throughput {}/{} expected, found {}",
            t.read,
            t.write,
            show_throughput(have.throughput)
        ));
    }
    if !on_demand_matches(want.on_demand, have.on_demand) {
        out.push(format!(
            "on-demand maximum {} expected, found {}",
            show_on_demand(want.on_demand),
            show_on_demand(have.on_demand)
        ));
    }
    for (name, w) in &want.indexes {
        let Some(got) = have.indexes.get(name) else {
            continue;
        };
        if let Some(t) = w.throughput
            && got.throughput != Some(t)
        {
            out.push(format!(
                "index {name}: throughput {}/{} expected, found {}",
                t.read,
                t.write,
                show_throughput(got.throughput)
            ));
        }
        if !on_demand_matches(w.on_demand, got.on_demand) {
            out.push(format!(
                "index {name}: on-demand maximum {} expected, found {}",
                show_on_demand(w.on_demand),
                show_on_demand(got.on_demand)
            ));
        }
    }
    if let Some(class) = want.table_class {
        let got = have.table_class.unwrap_or(TableClass::Standard);
        if got != class {
            out.push(format!(
                "table class {} expected, found {}",
                class.aws_name(),
                got.aws_name()
            ));
        }
    }
    out
}

fn show_throughput(t: Option<Throughput>) -> String {
    t.map_or_else(|| "none".to_owned(), |t| format!("{}/{}", t.read, t.write))
}

/// `read/write` request units; `-` for a side without a maximum.
pub fn show_on_demand(t: Option<OnDemandThroughput>) -> String {
    let side = |v: Option<i64>| match v {
        Some(v) if v > 0 => v.to_string(),
        _ => "-".to_owned(),
    };
    match t {
        Some(t) => format!("{}/{}", side(t.max_read), side(t.max_write)),
        None => "-/-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provisioned(read: u64, write: u64, ix: &[(&str, u64, u64)]) -> TableCapacity {
        TableCapacity {
            billing_mode: Some(BillingMode::Provisioned),
            throughput: Some(Throughput { read, write }),
            on_demand: None,
            table_class: Some(TableClass::Standard),
            indexes: ix
                .iter()
                .map(|(n, r, w)| {
                    (
                        (*n).to_owned(),
                        IndexCapacity {
                            throughput: Some(Throughput {
                                read: *r,
                                write: *w,
                            }),
                            on_demand: None,
                        },
                    )
                })
                .collect(),
        }
    }

    fn on_demand() -> TableCapacity {
        TableCapacity {
            billing_mode: Some(BillingMode::OnDemand),
            table_class: Some(TableClass::Standard),
            ..TableCapacity::default()
        }
    }

    fn ix(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn nothing_set_sends_nothing() {
        let d = decide(&Capacity::default(), Some(&on_demand()), &ix(&["g"]), true).unwrap();
        assert_eq!(d, Decision::default());
    }

    #[test]
    fn a_provisioned_override_gives_every_kept_index_throughput() {
        let plan = Capacity {
            billing_mode: Some(BillingMode::Provisioned),
            throughput: Some(Throughput { read: 7, write: 3 }),
            ..Capacity::default()
        };
        let d = decide(&plan, Some(&on_demand()), &ix(&["by-user", "by-day"]), true).unwrap();
        let o = d.restore_override.unwrap();
        assert_eq!(o.billing_mode, BillingMode::Provisioned);
        assert_eq!(o.throughput, Some(Throughput { read: 7, write: 3 }));
        assert_eq!(o.indexes.len(), 2);
        assert!(
            o.indexes
                .values()
                .all(|c| c.throughput == Some(Throughput { read: 7, write: 3 }))
        );
        assert!(d.changes.is_empty());
    }

    #[test]
    fn provisioned_without_throughput_copies_the_original_or_fails() {
        let plan = Capacity {
            billing_mode: Some(BillingMode::Provisioned),
            ..Capacity::default()
        };
        let original = provisioned(20, 10, &[("g", 4, 2)]);
        let o = decide(&plan, Some(&original), &ix(&["g"]), true)
            .unwrap()
            .restore_override
            .unwrap();
        assert_eq!(
            o.throughput,
            Some(Throughput {
                read: 20,
                write: 10
            })
        );
        assert_eq!(
            o.indexes["g"].throughput,
            Some(Throughput { read: 4, write: 2 })
        );
        assert_eq!(
            decide(&plan, Some(&on_demand()), &[], true),
            Err(Problem::NeedsThroughput)
        );
        assert_eq!(
            decide(&plan, None, &[], true),
            Err(Problem::NeedsThroughput)
        );
    }

    #[test]
    fn an_index_of_its_own_gets_its_throughput_and_the_others_the_tables() {
        let plan = Capacity {
            billing_mode: Some(BillingMode::Provisioned),
            throughput: Some(Throughput { read: 7, write: 3 }),
            indexes: [("by-day".to_owned(), Throughput { read: 2, write: 1 })].into(),
            ..Capacity::default()
        };
        let o = decide(&plan, Some(&on_demand()), &ix(&["by-user", "by-day"]), true)
            .unwrap()
            .restore_override
            .unwrap();
        assert_eq!(
            o.indexes["by-day"].throughput,
            Some(Throughput { read: 2, write: 1 })
        );
        assert_eq!(
            o.indexes["by-user"].throughput,
            Some(Throughput { read: 7, write: 3 })
        );
        // Without the table's `throughput`, the other indexes copy the original's.
        let plan = Capacity {
            indexes: [("by-day".to_owned(), Throughput { read: 2, write: 1 })].into(),
            ..Capacity::default()
        };
        let original = provisioned(20, 10, &[("by-user", 4, 2), ("by-day", 9, 9)]);
        let o = decide(&plan, Some(&original), &ix(&["by-user", "by-day"]), true)
            .unwrap()
            .restore_override
            .unwrap();
        assert_eq!(o.billing_mode, BillingMode::Provisioned);
        assert_eq!(
            o.throughput,
            Some(Throughput {
                read: 20,
                write: 10
            })
        );
        assert_eq!(
            o.indexes["by-user"].throughput,
            Some(Throughput { read: 4, write: 2 })
        );
        assert_eq!(
            o.indexes["by-day"].throughput,
            Some(Throughput { read: 2, write: 1 })
        );
        // An AWS Backup restore changes only the index after ACTIVE.
        let d = decide(&plan, Some(&original), &ix(&["by-user", "by-day"]), false).unwrap();
        assert!(
            matches!(&d.changes[..], [TableChange::Capacity { indexes, .. }] if indexes["by-day"].throughput == Some(Throughput { read: 2, write: 1 }))
        );
        // A kept index the original no longer has, with no throughput of its own.
        let plan = Capacity {
            billing_mode: Some(BillingMode::Provisioned),
            ..Capacity::default()
        };
        assert_eq!(
            decide(&plan, Some(&original), &ix(&["by-user", "by-week"]), true),
            Err(Problem::IndexNeedsThroughput {
                index: "by-week".to_owned()
            })
        );
        // An index's throughput on an on-demand original without `billing_mode`.
        let plan = Capacity {
            indexes: [("by-day".to_owned(), Throughput { read: 2, write: 1 })].into(),
            ..Capacity::default()
        };
        assert_eq!(
            decide(&plan, Some(&on_demand()), &ix(&["by-day"]), true),
            Err(Problem::OriginalMode {
                key: "indexes[].throughput",
                original: BillingMode::OnDemand
            })
        );
    }

    #[test]
    fn keys_that_contradict_the_original_mode_fail() {
        let plan = Capacity {
            throughput: Some(Throughput { read: 1, write: 1 }),
            ..Capacity::default()
        };
        assert_eq!(
            decide(&plan, Some(&on_demand()), &[], true),
            Err(Problem::OriginalMode {
                key: "throughput",
                original: BillingMode::OnDemand
            })
        );
        let plan = Capacity {
            on_demand_throughput: Some(OnDemandThroughput {
                max_read: Some(10),
                max_write: None,
            }),
            ..Capacity::default()
        };
        assert!(matches!(
            decide(&plan, Some(&provisioned(1, 1, &[])), &[], true),
            Err(Problem::OriginalMode {
                key: "on_demand_throughput",
                ..
            })
        ));
        // With the original on-demand, the maximum applies to the table and its indexes.
        let o = decide(&plan, Some(&on_demand()), &ix(&["g"]), true)
            .unwrap()
            .restore_override
            .unwrap();
        assert_eq!(o.billing_mode, BillingMode::OnDemand);
        assert_eq!(o.on_demand.unwrap().max_read, Some(10));
        assert_eq!(o.indexes["g"].on_demand.unwrap().max_read, Some(10));
    }

    #[test]
    fn aws_backup_restores_change_capacity_after_active_and_skip_what_is_in_effect() {
        let plan = Capacity {
            billing_mode: Some(BillingMode::OnDemand),
            table_class: Some(TableClass::StandardInfrequentAccess),
            ..Capacity::default()
        };
        let d = decide(&plan, Some(&provisioned(5, 5, &[])), &[], false).unwrap();
        assert_eq!(d.restore_override, None);
        assert!(matches!(
            d.changes[..],
            [
                TableChange::Capacity {
                    billing_mode: BillingMode::OnDemand,
                    ..
                },
                TableChange::TableClass {
                    class: TableClass::StandardInfrequentAccess
                }
            ]
        ));
        // Already on-demand and standard: nothing to change.
        let plan = Capacity {
            billing_mode: Some(BillingMode::OnDemand),
            table_class: Some(TableClass::Standard),
            ..Capacity::default()
        };
        assert!(
            decide(&plan, Some(&on_demand()), &[], false)
                .unwrap()
                .changes
                .is_empty()
        );
        // The class is an UpdateTable for DynamoDB's own restores too.
        let plan = Capacity {
            table_class: Some(TableClass::StandardInfrequentAccess),
            ..Capacity::default()
        };
        let d = decide(&plan, Some(&on_demand()), &[], true).unwrap();
        assert_eq!(d.restore_override, None);
        assert_eq!(d.changes.len(), 1);
    }

    #[test]
    fn expected_follows_the_override_then_the_changes() {
        let changes = [TableChange::TableClass {
            class: TableClass::StandardInfrequentAccess,
        }];
        let request = RestoreRequest::RestoreTableFromBackup {
            backup_arn: "b".to_owned(),
            target_table_name: "t".to_owned(),
            sse: crate::cloud::SseRequest::Owned,
            indexes: None,
            capacity: Some(CapacityOverride {
                billing_mode: BillingMode::Provisioned,
                throughput: Some(Throughput { read: 2, write: 1 }),
                on_demand: None,
                indexes: BTreeMap::new(),
            }),
        };
        let e = expected(&request, &changes).unwrap();
        assert_eq!(e.billing_mode, Some(BillingMode::Provisioned));
        assert_eq!(e.table_class, Some(TableClass::StandardInfrequentAccess));
        assert_eq!(
            differences(&e, &provisioned(2, 1, &[])),
            ["table class STANDARD_INFREQUENT_ACCESS expected, found STANDARD"]
        );
    }
}
