//! Reads the original table's settings (read-only): what the keys that say
//! `copy` take, and what `plan` shows beside the restored table.

use crate::check::changes::Original;
use crate::cloud::settings::resource_ids;
use crate::cloud::{CloudRead, TableFacts};
use crate::plan::model::{CopyOrOff, Copyable, KinesisSetting, Restore, StreamSetting, TtlSetting};

/// Which settings to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Only those the restore's `copy` keys need (validate, apply).
    Copies,
    /// Every setting (`plan` shows them all).
    All,
}

/// The settings of `r`'s original table (`table`, as `DescribeTable`
/// answered; `None` when it could not be read, which leaves every setting
/// unread), with the names rewriting needs. A read that fails leaves its
/// field `None`.
pub async fn read(
    cloud: &dyn CloudRead,
    r: &Restore,
    table: Option<&TableFacts>,
    kept_indexes: Option<Vec<String>>,
    want: Want,
) -> Original {
    let source = &r.source;
    let target = &r.target.location;
    let mut o = Original {
        table: r.table.clone(),
        table_arn: r.source_table_arn(),
        target_table: r.target_name.clone(),
        target_arn: r.target_table_arn(),
        moves: Some((
            format!(":{}:{}:", source.region, source.account),
            format!(":{}:{}:", target.region, target.account),
        )),
        kept_indexes,
        ..Original::default()
    };
    let Some(t) = table else {
        return o;
    };
    let a = &r.after_restore;
    let all = want == Want::All;
    let indexes: Vec<String> = t.indexes.iter().map(|i| i.name.clone()).collect();
    o.deletion_protection = Some(t.deletion_protection);
    o.stream = Some(t.stream.clone());
    if all || a.point_in_time_recovery == Some(Copyable::Copy) {
        o.point_in_time_recovery = cloud
            .describe_pitr(source, &r.table)
            .await
            .ok()
            .map(|p| p.enabled);
    }
    if all || a.ttl == Some(TtlSetting::Copy) {
        o.ttl = cloud.describe_ttl(source, &r.table).await.ok().map(|t| {
            matches!(t.status.as_str(), "ENABLED" | "ENABLING")
                .then_some(t.attribute)
                .flatten()
        });
    }
    if all || a.copy_source_tags {
        o.tags = cloud.table_tags(source, &t.arn).await.ok();
    }
    if all || a.auto_scaling == Some(CopyOrOff::Copy) {
        o.scaling = cloud
            .scaling(source, &resource_ids(&r.table, &indexes))
            .await
            .ok();
    }
    if all || a.resource_policy == Some(CopyOrOff::Copy) {
        o.resource_policy = cloud.resource_policy(source, &t.arn).await.ok();
    }
    if all || a.contributor_insights == Some(Copyable::Copy) {
        o.insights = cloud
            .contributor_insights(source, &r.table, &indexes)
            .await
            .ok();
    }
    if all || a.kinesis_destination == Some(KinesisSetting::Copy) {
        o.kinesis = cloud.kinesis_destinations(source, &r.table).await.ok();
    }
    // Step scaling policies are driven by alarms on the table: copying the
    // policies copies those alarms too.
    let steps = o
        .scaling
        .as_ref()
        .is_some_and(|s| !s.step_policies.is_empty());
    if all || a.alarms == Some(CopyOrOff::Copy) || steps {
        o.alarms = cloud.table_alarms(source, &r.table).await.ok();
    }
    o
}

/// The `copy` keys of `r` whose setting could not be read from the
/// original (each names the key), for a warning.
pub fn unread_copies(r: &Restore, o: &Original) -> Vec<&'static str> {
    let a = &r.after_restore;
    let mut out = Vec::new();
    let copy = |c: &Option<Copyable<bool>>| *c == Some(Copyable::Copy);
    let on = |c: &Option<CopyOrOff>| *c == Some(CopyOrOff::Copy);
    if copy(&a.point_in_time_recovery) && o.point_in_time_recovery.is_none() {
        out.push("point_in_time_recovery");
    }
    if copy(&a.deletion_protection) && o.deletion_protection.is_none() {
        out.push("deletion_protection");
    }
    if a.stream == Some(StreamSetting::Copy) && o.stream.is_none() {
        out.push("stream");
    }
    if a.ttl == Some(TtlSetting::Copy) && o.ttl.is_none() {
        out.push("ttl");
    }
    if a.copy_source_tags && o.tags.is_none() {
        out.push("copy_source_tags");
    }
    if on(&a.auto_scaling) && o.scaling.is_none() {
        out.push("auto_scaling");
    }
    if on(&a.resource_policy) && o.resource_policy.is_none() {
        out.push("resource_policy");
    }
    if copy(&a.contributor_insights) && o.insights.is_none() {
        out.push("contributor_insights");
    }
    if a.kinesis_destination == Some(KinesisSetting::Copy) && o.kinesis.is_none() {
        out.push("kinesis_destination");
    }
    if on(&a.alarms) && o.alarms.is_none() {
        out.push("alarms");
    }
    out
}
