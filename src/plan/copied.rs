//! How the after-restore keys that copy from the original combine across
//! `defaults` and a restore (`from_source: all` fills in only what no layer
//! sets), and the static check of their values.

use crate::diag::Finding;
use crate::plan::model::{AfterRestore, StreamSetting, TtlSetting};
use crate::plan::raw::RawAfterRestore;
use crate::plan::rules;
use crate::plan::settings::{CopyOrOff, Copyable, KinesisSetting, RawInsights, is_stream_arn};
use crate::plan::tree::{Node, Segment, Value};

/// Merges the copyable keys of `defaults` and `own` (the restore's layer
/// wins) into `out`, then lets `from_source: all` (in either layer) fill
/// every key no layer set with `copy`.
pub fn merge_copied(
    out: &mut AfterRestore,
    defaults: Option<&RawAfterRestore>,
    own: Option<&RawAfterRestore>,
) {
    let mut copy_tags = None;
    let mut all = false;
    for layer in [defaults, own].into_iter().flatten() {
        all |= layer.from_source.is_some();
        if let Some(v) = layer.copy_source_tags {
            copy_tags = Some(v);
        }
        if let Some(v) = layer.auto_scaling {
            out.auto_scaling = Some(v);
        }
        if let Some(v) = layer.resource_policy {
            out.resource_policy = Some(v);
        }
        match layer.contributor_insights {
            Some(RawInsights::Toggle(v)) => {
                out.contributor_insights = Some(v.into());
                out.contributor_insights_mode = None;
            }
            Some(RawInsights::Mode(m)) => {
                out.contributor_insights = Some(Copyable::Set(true));
                out.contributor_insights_mode = Some(m);
            }
            None => {}
        }
        if let Some(v) = &layer.kinesis_destination {
            out.kinesis_destination = Some(v.into());
        }
        if let Some(v) = layer.alarms {
            out.alarms = Some(v);
        }
    }
    out.copy_source_tags = copy_tags.unwrap_or(all);
    if all {
        out.point_in_time_recovery.get_or_insert(Copyable::Copy);
        out.deletion_protection.get_or_insert(Copyable::Copy);
        out.stream.get_or_insert(StreamSetting::Copy);
        out.ttl.get_or_insert(TtlSetting::Copy);
        out.auto_scaling.get_or_insert(CopyOrOff::Copy);
        out.resource_policy.get_or_insert(CopyOrOff::Copy);
        out.contributor_insights.get_or_insert(Copyable::Copy);
        out.kinesis_destination.get_or_insert(KinesisSetting::Copy);
        out.alarms.get_or_insert(CopyOrOff::Copy);
    }
}

/// `kinesis_destination: {stream_arn: …}` values (in `defaults` and each
/// restore) that are not Kinesis data stream ARNs.
pub fn stream_arns(root: &Node, findings: &mut Vec<Finding>) {
    let key = |k: &str| Segment::Key(k.to_owned());
    let mut places: Vec<(Vec<Segment>, &Node)> = Vec::new();
    if let Some(n) = root.at(&[
        key("defaults"),
        key("after_restore"),
        key("kinesis_destination"),
    ]) {
        places.push((vec![key("defaults")], n));
    }
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for (i, item) in items.iter().enumerate() {
            if let Some(n) = item
                .get("after_restore")
                .and_then(|a| a.get("kinesis_destination"))
            {
                places.push((vec![key("restores"), Segment::Index(i)], n));
            }
        }
    }
    for (path, node) in places {
        let Some(arn) = node.get("stream_arn") else {
            continue;
        };
        let Value::Str { text, .. } = &arn.value else {
            continue;
        };
        if is_stream_arn(text) {
            continue;
        }
        let f = Finding::error(
            rules::KINESIS_STREAM_ARN,
            format!("`{text}` is not a Kinesis data stream ARN"),
        )
        .at(Some(arn.span))
        .label("expected arn:aws:kinesis:REGION:ACCOUNT:stream/NAME")
        .help("copy the stream's ARN from `aws kinesis describe-stream-summary --stream-name NAME`; the stream must be in the restored table's account and Region");
        findings.push(crate::plan::tree::with_restore(f, root, &path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_source_fills_only_the_keys_no_layer_sets() {
        let defaults: RawAfterRestore = serde_yaml::from_str(
            "{ from_source: all, point_in_time_recovery: false, alarms: off }",
        )
        .unwrap_or_default();
        let own: RawAfterRestore =
            serde_yaml::from_str("{ copy_source_tags: false, stream: keys-only }")
                .unwrap_or_default();
        let mut out = AfterRestore {
            point_in_time_recovery: Some(Copyable::Set(false)),
            stream: Some(StreamSetting::KeysOnly),
            ..AfterRestore::default()
        };
        merge_copied(&mut out, Some(&defaults), Some(&own));
        assert_eq!(out.point_in_time_recovery, Some(Copyable::Set(false)));
        assert_eq!(out.alarms, Some(CopyOrOff::Off));
        assert_eq!(out.stream, Some(StreamSetting::KeysOnly));
        assert!(!out.copy_source_tags);
        assert_eq!(out.deletion_protection, Some(Copyable::Copy));
        assert_eq!(out.ttl, Some(TtlSetting::Copy));
        assert_eq!(out.auto_scaling, Some(CopyOrOff::Copy));
        assert_eq!(out.kinesis_destination, Some(KinesisSetting::Copy));
        // Without from_source nothing is copied.
        let mut plain = AfterRestore::default();
        merge_copied(&mut plain, None, Some(&own));
        assert_eq!(plain.auto_scaling, None);
        assert_eq!(plain.deletion_protection, None);
    }
}
