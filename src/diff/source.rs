//! Settings of the original tables that the live checks do not read but a
//! reviewer needs: whether point-in-time recovery, time to live and tags are
//! set, so the dry run can say which of them a restore loses.
//!
//! Read-only: it takes a [`CloudRead`].

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};

use crate::check::changes::Original;
use crate::check::original::{Want, read};
use crate::cloud::CloudRead;
use crate::plan::model::Plan;

/// What the original table has of the settings a restore does not carry
/// over; `None` means "could not be read".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSettings {
    /// Point-in-time recovery on or off.
    pub point_in_time_recovery: Option<bool>,
    /// `Some(Some(attr))` when TTL is on, `Some(None)` when off.
    pub ttl_attribute: Option<Option<String>>,
    /// Tags of the table.
    pub tags: Option<BTreeMap<String, String>>,
    /// Every setting the original has, as the live stage reads it (`None`
    /// when the table could not be described).
    pub original: Option<Original>,
}

/// Reads the settings of every restore's original table, by restore id.
/// Failures (no access, no table) leave the setting unknown; the live
/// checks already report unreadable tables.
pub async fn read_source_settings(
    plan: &Plan,
    cloud: &dyn CloudRead,
) -> BTreeMap<String, SourceSettings> {
    stream::iter(plan.restores())
        .map(|r| async move {
            let scope = &r.source;
            let table = cloud.describe_table(scope, &r.table).await.ok().flatten();
            let original = match &table {
                Some(t) => {
                    let kept = crate::check::request::kept_indexes(r, Some(&t.indexes))
                        .map(|v| v.into_iter().map(|ix| ix.name).collect());
                    Some(read(cloud, r, Some(t), kept, Want::All).await)
                }
                None => None,
            };
            let pitr = cloud.describe_pitr(scope, &r.table).await.ok();
            let ttl = cloud.describe_ttl(scope, &r.table).await.ok();
            let tags = cloud.table_tags(scope, &r.source_table_arn()).await.ok();
            let settings = SourceSettings {
                point_in_time_recovery: pitr.map(|p| p.enabled),
                ttl_attribute: ttl.map(|t| {
                    matches!(t.status.as_str(), "ENABLED" | "ENABLING")
                        .then_some(t.attribute)
                        .flatten()
                }),
                tags,
                original,
            };
            (r.id.clone(), settings)
        })
        .buffered(8)
        .collect()
        .await
}
