//! Capacity and class of a restored table: `billing_mode`, `throughput`,
//! `on_demand_throughput`, `table_class` (per restore and in `defaults`).
//!
//! The raw types mirror the YAML; [`Capacity`] is what a sealed restore
//! holds. A key set nowhere means "what the original has": the live stage
//! reads the original table and decides the requests (see
//! `check::capacity`). The static rules here need the file alone.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::diag::Finding;
use crate::plan::rules;

/// Billing mode as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "BillingMode")]
pub enum RawBillingMode {
    /// On-demand capacity (`PAY_PER_REQUEST`).
    OnDemand,
    /// Provisioned capacity (`PROVISIONED`); needs `throughput` unless the original is provisioned.
    Provisioned,
}

/// Provisioned capacity as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Throughput")]
pub struct RawThroughput {
    /// Read capacity units (at least 1), of the table and of each kept GSI.
    pub read: i64,
    /// Write capacity units (at least 1), of the table and of each kept GSI.
    pub write: i64,
}

/// On-demand maximum throughput as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "OnDemandThroughput")]
pub struct RawOnDemandThroughput {
    /// Most read request units per second (at least 1; `-1`: no maximum).
    pub max_read: Option<i64>,
    /// Most write request units per second (at least 1; `-1`: no maximum).
    pub max_write: Option<i64>,
}

/// Table class as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "TableClass")]
pub enum RawTableClass {
    /// `STANDARD`.
    Standard,
    /// `STANDARD_INFREQUENT_ACCESS`.
    StandardInfrequentAccess,
}

/// Billing mode of a restored table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BillingMode {
    /// `PAY_PER_REQUEST`.
    OnDemand,
    /// `PROVISIONED`.
    Provisioned,
}

impl BillingMode {
    /// DynamoDB's name (`BillingMode`, `BillingModeOverride`).
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::OnDemand => "PAY_PER_REQUEST",
            Self::Provisioned => "PROVISIONED",
        }
    }

    /// From DynamoDB's name; anything but `PAY_PER_REQUEST` is provisioned
    /// (DynamoDB omits `BillingModeSummary` for provisioned tables).
    pub fn from_aws(name: Option<&str>) -> Self {
        match name {
            Some("PAY_PER_REQUEST") => Self::OnDemand,
            _ => Self::Provisioned,
        }
    }
}

/// Provisioned read and write capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// `ReadCapacityUnits`.
    pub read: u64,
    /// `WriteCapacityUnits`.
    pub write: u64,
}

/// On-demand maximum request units; `None` leaves a side as it is, `-1` is no maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDemandThroughput {
    /// `MaxReadRequestUnits`.
    pub max_read: Option<i64>,
    /// `MaxWriteRequestUnits`.
    pub max_write: Option<i64>,
}

/// Table class of a restored table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableClass {
    /// `STANDARD`.
    Standard,
    /// `STANDARD_INFREQUENT_ACCESS`.
    StandardInfrequentAccess,
}

impl TableClass {
    /// DynamoDB's name (`TableClass`).
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::StandardInfrequentAccess => "STANDARD_INFREQUENT_ACCESS",
        }
    }

    /// From DynamoDB's name; a table without `TableClassSummary` is standard.
    pub fn from_aws(name: Option<&str>) -> Self {
        match name {
            Some("STANDARD_INFREQUENT_ACCESS") => Self::StandardInfrequentAccess,
            _ => Self::Standard,
        }
    }
}

/// One `indexes` entry as written: a GSI's name, or `{name, throughput}`
/// to give that index its own provisioned capacity (the table's
/// `throughput` applies to the others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawIndex {
    /// `NAME`.
    Name(String),
    /// `{name: NAME, throughput: {read, write}}`.
    Entry {
        /// The index name.
        name: String,
        /// Its provisioned capacity.
        throughput: Option<RawThroughput>,
    },
}

impl RawIndex {
    /// The index name.
    pub fn name(&self) -> &str {
        match self {
            Self::Name(n) | Self::Entry { name: n, .. } => n,
        }
    }

    /// The index's own throughput, when written.
    pub fn throughput(&self) -> Option<&RawThroughput> {
        match self {
            Self::Name(_) => None,
            Self::Entry { throughput, .. } => throughput.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for RawIndex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawIndex;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an index name or `{name: NAME, throughput: {read: N, write: N}}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawIndex::Name(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut name, mut throughput) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" if name.is_none() => name = Some(map.next_value::<String>()?),
                        "throughput" if throughput.is_none() => {
                            throughput = Some(map.next_value::<RawThroughput>()?);
                        }
                        "name" | "throughput" => return Err(de::Error::duplicate_field("name")),
                        other => {
                            return Err(de::Error::unknown_field(other, &["name", "throughput"]));
                        }
                    }
                }
                let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
                Ok(RawIndex::Entry { name, throughput })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawIndex {
    fn schema_name() -> Cow<'static, str> {
        "Index".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let throughput = g.subschema_for::<RawThroughput>();
        json_schema!({
            "description": "A global secondary index to keep: its name, or `{name, throughput}` to give it its own provisioned capacity (the table's `throughput` applies to the others).",
            "oneOf": [
                { "type": "string", "description": "The index name." },
                {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "The index name." },
                        "throughput": throughput
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// Capacity and class the plan asks for; each `None` means "what the original has".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Capacity {
    /// `billing_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<BillingMode>,
    /// `throughput`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// `on_demand_throughput`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// `table_class`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_class: Option<TableClass>,

    /// Provisioned capacity of single indexes (`indexes: [{name, throughput}]`),
    /// over the table's `throughput`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, Throughput>,
}

impl Capacity {
    /// True when the plan sets none of the four keys.
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

/// The four keys of one layer (a restore or `defaults`) as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCapacity<'r> {
    /// `billing_mode`.
    pub billing_mode: Option<&'r RawBillingMode>,
    /// `throughput`.
    pub throughput: Option<&'r RawThroughput>,
    /// `on_demand_throughput`.
    pub on_demand_throughput: Option<&'r RawOnDemandThroughput>,
    /// `table_class`.
    pub table_class: Option<&'r RawTableClass>,

    /// `indexes` (its entries with their own `throughput`).
    pub indexes: Option<&'r [RawIndex]>,
}

/// Where a finding points: the span of a key of the layer that set it.
pub type SpanOf<'a> = &'a dyn Fn(&str) -> Option<crate::diag::Span>;

/// Resolves a restore's capacity from its own keys over the defaults' (a
/// restore's key wins, key by key), reporting the static rules: capacity
/// units out of range, `throughput` with on-demand billing,
/// `on_demand_throughput` with provisioned billing. `None` when an error
/// was reported.
pub fn resolve(
    id: &str,
    own: RawCapacity<'_>,
    defaults: RawCapacity<'_>,
    span: SpanOf<'_>,
    findings: &mut Vec<Finding>,
) -> Option<Capacity> {
    let before = findings.len();
    let billing_mode = own.billing_mode.or(defaults.billing_mode).map(|m| match m {
        RawBillingMode::OnDemand => BillingMode::OnDemand,
        RawBillingMode::Provisioned => BillingMode::Provisioned,
    });
    let table_class = own.table_class.or(defaults.table_class).map(|c| match c {
        RawTableClass::Standard => TableClass::Standard,
        RawTableClass::StandardInfrequentAccess => TableClass::StandardInfrequentAccess,
    });
    // A restore's own billing mode drops the capacity of the other mode it
    // would inherit from `defaults` (a restore switching to on-demand does
    // not carry the defaults' `throughput`); written beside it, it conflicts.
    let own_mode = own.billing_mode.copied();
    let raw_throughput = own.throughput.or(defaults
        .throughput
        .filter(|_| own_mode != Some(RawBillingMode::OnDemand)));
    let raw_on_demand = own.on_demand_throughput.or(defaults
        .on_demand_throughput
        .filter(|_| own_mode != Some(RawBillingMode::Provisioned)));
    let throughput = raw_throughput.and_then(|t| {
        checked_throughput(
            t,
            id,
            "",
            span("throughput"),
            "`throughput: { read: 5, write: 5 }`, or use `billing_mode: on-demand`",
            findings,
        )
    });
    let on_demand_throughput = raw_on_demand.and_then(|t| {
            let mut ok = true;
            if t.max_read.is_none() && t.max_write.is_none() {
                ok = false;
                findings.push(
                    Finding::error(
                        rules::CAPACITY_RANGE,
                        format!("restore `{id}`: `on_demand_throughput` sets neither `max_read` nor `max_write`"),
                    )
                    .restore(id)
                    .at(span("on_demand_throughput"))
                    .label("empty")
                    .help("set `max_read`, `max_write` or both, e.g. `on_demand_throughput: { max_read: 4000, max_write: 1000 }`"),
                );
            }
            for (side, v) in [("max_read", t.max_read), ("max_write", t.max_write)] {
                if let Some(v) = v.filter(|v| *v < 1 && *v != -1) {
                    ok = false;
                    findings.push(
                        Finding::error(
                            rules::CAPACITY_RANGE,
                            format!("restore `{id}`: `on_demand_throughput.{side}` is {v}; a maximum is at least 1 request unit, or -1 for none"),
                        )
                        .restore(id)
                        .at(span("on_demand_throughput"))
                        .label("at least 1, or -1")
                        .help("write a positive number of request units per second, or -1 to lift the maximum"),
                    );
                }
            }
            ok.then_some(OnDemandThroughput {
                max_read: t.max_read,
                max_write: t.max_write,
            })
        });
    let index_throughput = index_throughput(id, own, defaults, span, findings);
    let mode_span = || span("billing_mode");
    if billing_mode == Some(BillingMode::OnDemand) && raw_throughput.is_some() {
        findings.push(
            Finding::error(
                rules::CAPACITY_THROUGHPUT_ON_DEMAND,
                format!("restore `{id}` sets `throughput` with `billing_mode: on-demand`"),
            )
            .restore(id)
            .at(span("throughput").or_else(mode_span))
            .label("provisioned capacity of an on-demand table")
            .help("remove `throughput` (an on-demand table has no provisioned capacity; `on_demand_throughput` caps it), or write `billing_mode: provisioned`"),
        );
    }
    if billing_mode == Some(BillingMode::OnDemand)
        && let Some(ix) = index_throughput.keys().next()
    {
        findings.push(
            Finding::error(
                rules::CAPACITY_THROUGHPUT_ON_DEMAND,
                format!("restore `{id}` gives index `{ix}` a `throughput` with `billing_mode: on-demand`"),
            )
            .restore(id)
            .at(span("indexes").or_else(mode_span))
            .label("provisioned capacity of an on-demand table's index")
            .help("remove the index's `throughput` (an on-demand table's indexes have no provisioned capacity), or write `billing_mode: provisioned`"),
        );
    }
    if billing_mode == Some(BillingMode::Provisioned) && raw_on_demand.is_some() {
        findings.push(
            Finding::error(
                rules::CAPACITY_ON_DEMAND_PROVISIONED,
                format!("restore `{id}` sets `on_demand_throughput` with `billing_mode: provisioned`"),
            )
            .restore(id)
            .at(span("on_demand_throughput").or_else(mode_span))
            .label("an on-demand maximum on a provisioned table")
            .help("remove `on_demand_throughput` (a provisioned table is capped by `throughput`), or write `billing_mode: on-demand`"),
        );
    }
    (findings.len() == before).then_some(Capacity {
        billing_mode,
        throughput,
        on_demand_throughput,
        table_class,
        indexes: index_throughput,
    })
}

/// The `throughput` of single indexes, from the restore's `indexes` list or
/// else the defaults' (a list replaces the other whole; a restore switching
/// to on-demand drops the capacity of the list it inherits). Each is
/// checked like the table's.
fn index_throughput(
    id: &str,
    own: RawCapacity<'_>,
    defaults: RawCapacity<'_>,
    span: SpanOf<'_>,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Throughput> {
    let list = match (own.indexes, defaults.indexes) {
        (Some(l), _) => l,
        (None, Some(l)) if own.billing_mode != Some(&RawBillingMode::OnDemand) => l,
        _ => return BTreeMap::new(),
    };
    let mut out = BTreeMap::new();
    for ix in list {
        let Some(t) = ix.throughput() else {
            continue;
        };
        let name = ix.name();
        if let Some(t) = checked_throughput(
            t,
            id,
            &format!("index `{name}`: "),
            span("indexes"),
            "`{ name: by-user, throughput: { read: 5, write: 5 } }`",
            findings,
        ) {
            out.insert(name.to_owned(), t);
        }
    }
    out
}

/// `t` when both its sides are at least 1 unit; otherwise a
/// `capacity::range` error for each side below (`what` names an index,
/// `example` is the help's example) and `None`.
fn checked_throughput(
    t: &RawThroughput,
    id: &str,
    what: &str,
    at: Option<crate::diag::Span>,
    example: &str,
    findings: &mut Vec<Finding>,
) -> Option<Throughput> {
    let mut ok = true;
    for (side, v) in [("read", t.read), ("write", t.write)] {
        if v < 1 {
            ok = false;
            findings.push(
                Finding::error(
                    rules::CAPACITY_RANGE,
                    format!("restore `{id}`: {what}`throughput.{side}` is {v}; provisioned capacity is at least 1 unit"),
                )
                .restore(id)
                .at(at)
                .label("at least 1")
                .help(format!("write a positive number of capacity units, e.g. {example}")),
            );
        }
    }
    ok.then_some(Throughput {
        read: t.read.unsigned_abs(),
        write: t.write.unsigned_abs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        own: RawCapacity<'_>,
        defaults: RawCapacity<'_>,
    ) -> (Option<Capacity>, Vec<&'static str>) {
        let mut f = Vec::new();
        let c = resolve("orders", own, defaults, &|_| None, &mut f);
        (c, f.iter().map(|f| f.code).collect())
    }

    #[test]
    fn a_restore_key_wins_over_the_defaults_key_by_key() {
        let t = RawThroughput { read: 10, write: 5 };
        let class = RawTableClass::StandardInfrequentAccess;
        let mode = RawBillingMode::Provisioned;
        let (c, codes) = run(
            RawCapacity {
                throughput: Some(&t),
                ..RawCapacity::default()
            },
            RawCapacity {
                billing_mode: Some(&mode),
                table_class: Some(&class),
                ..RawCapacity::default()
            },
        );
        assert!(codes.is_empty());
        let c = c.unwrap();
        assert_eq!(c.billing_mode, Some(BillingMode::Provisioned));
        assert_eq!(c.throughput, Some(Throughput { read: 10, write: 5 }));
        assert_eq!(c.table_class, Some(TableClass::StandardInfrequentAccess));
        assert_eq!(
            run(RawCapacity::default(), RawCapacity::default()).0,
            Some(Capacity::default())
        );
    }

    #[test]
    fn an_index_entry_gives_that_index_its_own_throughput() {
        let list = [
            RawIndex::Name("by-user".to_owned()),
            RawIndex::Entry {
                name: "by-day".to_owned(),
                throughput: Some(RawThroughput { read: 3, write: 2 }),
            },
        ];
        let t = RawThroughput { read: 10, write: 5 };
        let (c, codes) = run(
            RawCapacity {
                throughput: Some(&t),
                ..RawCapacity::default()
            },
            RawCapacity {
                indexes: Some(&list),
                ..RawCapacity::default()
            },
        );
        assert!(codes.is_empty(), "{codes:?}");
        let c = c.unwrap();
        assert_eq!(
            c.indexes.into_iter().collect::<Vec<_>>(),
            [("by-day".to_owned(), Throughput { read: 3, write: 2 })]
        );
        // On-demand billing with an index's throughput is an error; a
        // restore switching to on-demand drops the defaults' list's.
        let on_demand = RawBillingMode::OnDemand;
        let (_, codes) = run(
            RawCapacity {
                billing_mode: Some(&on_demand),
                indexes: Some(&list),
                ..RawCapacity::default()
            },
            RawCapacity::default(),
        );
        assert_eq!(codes, vec![rules::CAPACITY_THROUGHPUT_ON_DEMAND]);
        let (c, codes) = run(
            RawCapacity {
                billing_mode: Some(&on_demand),
                ..RawCapacity::default()
            },
            RawCapacity {
                indexes: Some(&list),
                ..RawCapacity::default()
            },
        );
        assert!(codes.is_empty() && c.unwrap().indexes.is_empty());
        let zero = [RawIndex::Entry {
            name: "by-day".to_owned(),
            throughput: Some(RawThroughput { read: 0, write: 2 }),
        }];
        let (c, codes) = run(
            RawCapacity {
                indexes: Some(&zero),
                ..RawCapacity::default()
            },
            RawCapacity::default(),
        );
        assert_eq!((c, codes), (None, vec![rules::CAPACITY_RANGE]));
    }

    #[test]
    fn an_index_entry_is_a_name_or_a_mapping() {
        let list: Vec<RawIndex> = serde_yaml::from_str(
            "[by-user, {name: by-day, throughput: {read: 3, write: 2}}, {name: by-week}]",
        )
        .unwrap();
        assert_eq!(list[0], RawIndex::Name("by-user".to_owned()));
        assert_eq!(
            list[1].throughput(),
            Some(&RawThroughput { read: 3, write: 2 })
        );
        assert_eq!((list[2].name(), list[2].throughput()), ("by-week", None));
        let e = serde_yaml::from_str::<Vec<RawIndex>>("[{name: g, thruput: {read: 1, write: 1}}]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `thruput`"), "{e}");
        assert!(
            serde_yaml::from_str::<Vec<RawIndex>>("[{throughput: {read: 1, write: 1}}]").is_err()
        );
    }

    #[test]
    fn contradictions_and_ranges_are_errors() {
        let on_demand = RawBillingMode::OnDemand;
        let provisioned = RawBillingMode::Provisioned;
        let t = RawThroughput { read: 10, write: 5 };
        let od = RawOnDemandThroughput {
            max_read: Some(100),
            max_write: None,
        };
        let (c, codes) = run(
            RawCapacity {
                billing_mode: Some(&on_demand),
                throughput: Some(&t),
                ..RawCapacity::default()
            },
            RawCapacity::default(),
        );
        assert_eq!(
            (c, codes),
            (None, vec![rules::CAPACITY_THROUGHPUT_ON_DEMAND])
        );
        let (_, codes) = run(
            RawCapacity {
                on_demand_throughput: Some(&od),
                ..RawCapacity::default()
            },
            RawCapacity {
                billing_mode: Some(&provisioned),
                ..RawCapacity::default()
            },
        );
        assert_eq!(codes, vec![rules::CAPACITY_ON_DEMAND_PROVISIONED]);
        // A restore's own mode drops the other mode's capacity from the defaults.
        let (c, codes) = run(
            RawCapacity {
                billing_mode: Some(&on_demand),
                on_demand_throughput: Some(&od),
                ..RawCapacity::default()
            },
            RawCapacity {
                billing_mode: Some(&provisioned),
                throughput: Some(&t),
                ..RawCapacity::default()
            },
        );
        assert!(codes.is_empty(), "{codes:?}");
        let c = c.unwrap();
        assert_eq!(
            (c.billing_mode, c.throughput),
            (Some(BillingMode::OnDemand), None)
        );
        let zero = RawThroughput { read: 0, write: 5 };
        let bad = RawOnDemandThroughput {
            max_read: Some(0),
            max_write: Some(-1),
        };
        let (_, codes) = run(
            RawCapacity {
                throughput: Some(&zero),
                on_demand_throughput: Some(&bad),
                ..RawCapacity::default()
            },
            RawCapacity::default(),
        );
        assert_eq!(codes, vec![rules::CAPACITY_RANGE, rules::CAPACITY_RANGE]);
    }
}
