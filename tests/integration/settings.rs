//! Every setting a restore drops, brought back with `from_source: all`
//! after a copy step into another account and Region: the real binary
//! against the emulator, read back through the AWS APIs.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{StreamViewType, Tag};

use crate::apply::{TIME_SCALE, World, events, fast, run_id};
use crate::support::aws::Aws;
use crate::support::settings::{Extra, alarm, alarms, auto_scale, kinesis_stream, scaling_of};
use crate::support::snapshot;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

/// The original `orders` in the source account (us-east-1) with every
/// setting a restore drops, backed up into its vault `prod` (the plan's
/// copy step brings the point to the target account's vault `dr` in
/// us-west-2); its Kinesis stream's namesake in the target account.
async fn seed_original(w: &World, src: &Aws, dst_west: &Aws) {
    let arn = src.table("orders", None, 3).await;
    let x = Extra::of(src);
    auto_scale(
        &x,
        "table/orders",
        "dynamodb:table:ReadCapacityUnits",
        "DynamoDBReadCapacityUtilization",
        70.0,
    )
    .await;
    auto_scale(
        &x,
        "table/orders/index/by-user",
        "dynamodb:index:WriteCapacityUnits",
        "DynamoDBWriteCapacityUtilization",
        60.0,
    )
    .await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":["{arn}","{arn}/index/*"]}}]}}"#,
        src.account
    );
    src.ddb
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(&policy)
        .send()
        .await
        .expect("PutResourcePolicy");
    src.ddb
        .update_contributor_insights()
        .table_name("orders")
        .contributor_insights_action(aws_sdk_dynamodb::types::ContributorInsightsAction::Enable)
        .send()
        .await
        .expect("UpdateContributorInsights");
    let stream = kinesis_stream(w.em, src, "orders-events");
    kinesis_stream(w.em, dst_west, "orders-events");
    src.ddb
        .enable_kinesis_streaming_destination()
        .table_name("orders")
        .stream_arn(&stream)
        .send()
        .await
        .expect("EnableKinesisStreamingDestination");
    alarm(
        &x,
        "orders-read-throttles",
        "orders",
        "ReadThrottleEvents",
        &[],
    )
    .await;
    alarm(
        &x,
        "high-latency",
        "orders",
        "SuccessfulRequestLatency",
        &[("Operation", "GetItem")],
    )
    .await;
    // An alarm of another table stays behind.
    alarm(
        &x,
        "payments-throttles",
        "payments",
        "ReadThrottleEvents",
        &[],
    )
    .await;
    src.enable_ttl("orders", "expires_at").await;
    src.enable_stream("orders", StreamViewType::NewAndOldImages)
        .await;
    src.enable_pitr("orders").await;
    src.ddb
        .tag_resource()
        .resource_arn(&arn)
        .tags(
            Tag::builder()
                .key("team")
                .value("payments")
                .build()
                .expect("a tag"),
        )
        .tags(
            Tag::builder()
                .key("cost-center")
                .value("cc-7")
                .build()
                .expect("a tag"),
        )
        .send()
        .await
        .expect("TagResource");
    src.ddb
        .update_table()
        .table_name("orders")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable");
    src.vault("prod").await;
    src.backup("prod", &arn).await;
}

async fn settings_of(aws: &Aws, table: &str) -> BTreeMap<&'static str, String> {
    let d = &aws.ddb;
    let mut out = BTreeMap::new();
    let t = d
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("DescribeTable");
    let t = t.table().expect("a table");
    out.insert(
        "deletion_protection",
        format!("{:?}", t.deletion_protection_enabled()),
    );
    out.insert(
        "stream",
        format!(
            "{:?}",
            t.stream_specification()
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str().to_owned())
        ),
    );
    let pitr = d
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .expect("DescribeContinuousBackups");
    out.insert(
        "pitr",
        format!(
            "{:?}",
            pitr.continuous_backups_description()
                .and_then(|c| c.point_in_time_recovery_description())
                .and_then(|p| p.point_in_time_recovery_status())
                .map(|s| s.as_str().to_owned())
        ),
    );
    let ttl = d
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .expect("DescribeTimeToLive");
    out.insert(
        "ttl",
        format!(
            "{:?}",
            ttl.time_to_live_description()
                .and_then(|t| t.attribute_name())
                .map(str::to_owned)
        ),
    );
    let ci = d
        .describe_contributor_insights()
        .table_name(table)
        .send()
        .await
        .expect("DescribeContributorInsights");
    out.insert(
        "contributor_insights",
        format!(
            "{:?}",
            ci.contributor_insights_status()
                .map(|s| s.as_str().to_owned())
        ),
    );
    let k = d
        .describe_kinesis_streaming_destination()
        .table_name(table)
        .send()
        .await
        .expect("DescribeKinesisStreamingDestination");
    out.insert(
        "kinesis",
        k.kinesis_data_stream_destinations()
            .iter()
            .map(|d| {
                format!(
                    "{} {:?}",
                    d.stream_arn().unwrap_or_default(),
                    d.destination_status().map(|s| s.as_str().to_owned())
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    let arn = t.table_arn().expect("an ARN");
    let policy = d
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .map(|p| p.policy().unwrap_or_default().to_owned())
        .unwrap_or_else(|e| format!("none: {e}"));
    out.insert("resource_policy", policy);
    let tags = d
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("ListTagsOfResource");
    let mut tags: Vec<String> = tags
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("restoreplan"))
        .map(|t| format!("{}={}", t.key(), t.value()))
        .collect();
    tags.sort();
    out.insert("tags", tags.join(", "));
    let x = Extra::of(aws);
    let (targets, policies) = scaling_of(
        &x,
        &[
            format!("table/{table}"),
            format!("table/{table}/index/by-user"),
        ],
    )
    .await;
    out.insert("scalable_targets", format!("{targets:?}"));
    out.insert("scaling_policies", format!("{policies:?}"));
    let mut on_table: Vec<String> = alarms(&x)
        .await
        .into_iter()
        .filter(|(_, (dims, ..))| dims.iter().any(|(n, v)| n == "TableName" && v == table))
        // Auto scaling names its own alarms with a fresh id.
        .map(|(name, a)| match name.strip_prefix("TargetTracking-") {
            Some(rest) if rest.len() > 37 => {
                format!("TargetTracking-{}: {a:?}", &rest[..rest.len() - 37])
            }
            _ => format!("{name}: {a:?}"),
        })
        .collect();
    on_table.sort();
    out.insert("alarms", on_table.join("\n"));
    out
}

/// What `settings_of` says of the original, with its names and ARNs as the
/// restored table's.
fn rewritten(
    original: &BTreeMap<&'static str, String>,
    from: &Aws,
    to: &Aws,
) -> BTreeMap<&'static str, String> {
    let from_loc = format!(":{}:{}:", from.region, from.account);
    let to_loc = format!(":{}:{}:", to.region, to.account);
    original
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace(&from_loc, &to_loc)
                .replace("table/orders", "table/orders-dr")
                .replace("\"orders\"", "\"orders-dr\"")
                .replace("orders-read-throttles", "orders-dr-read-throttles")
                .replace("high-latency:", "orders-dr-high-latency:");
            (*k, v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn from_source_all_brings_back_every_setting_across_accounts_and_regions() {
    let w = World::new(fast(), TIME_SCALE).await;
    let src_account = w.em.fresh_account();
    let src = Aws::new(w.em, &src_account, EAST).await;
    let dst = Aws::new(w.em, &w.acct, WEST).await;
    dst.vault("dr").await;
    // The DR vault admits copies from the source account; the plan's copy
    // step brings the original's recovery point over.
    dst.backup
        .put_backup_vault_access_policy()
        .backup_vault_name("dr")
        .policy(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{src_account}:root")},
                    "Action": "backup:CopyIntoBackupVault",
                    "Resource": "*"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .expect("PutBackupVaultAccessPolicy");
    seed_original(&w, &src, &dst).await;
    // An alarm in the target account that the run must not touch.
    let dst_x = Extra::of(&dst);
    alarm(
        &dst_x,
        "unrelated",
        "something-else",
        "ReadThrottleEvents",
        &[],
    )
    .await;

    let acct = &w.acct;
    let plan = format!(
        "version: 1\nname: settings\n\
         source: {{ account: \"{src_account}\", region: {EAST} }}\n\
         target: {{ account: \"{acct}\", region: {WEST}, vault: dr, role: \"arn:aws:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
         defaults:\n  copy: {{ vault: prod, role: \"arn:aws:iam::{src_account}:role/service-role/AWSBackupDefaultServiceRole\" }}\n  name: \"{{table}}-dr\"\n  after_restore:\n    from_source: all\n    tags: {{ purpose: rehearsal }}\n\
         restores:\n  - table: orders\n"
    );
    w.write("plan.yaml", &plan);
    let both = |args: &[&str], status: i32| {
        w.command(args)
            .roles(&[src_account.as_str()])
            .status(status)
            .run()
    };

    // `plan` shows every setting of the original beside the restored table's.
    let shown = both(&["plan", "plan.yaml", "--format", "json"], 0);
    let dry: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    let rows = dry["restores"][0]["settings"]
        .as_array()
        .expect("settings rows")
        .clone();
    for row in &rows {
        assert_eq!(row["outcome"], "reapplied", "{row}");
    }
    assert_eq!(rows.len(), 10, "{rows:#?}");
    let codes: Vec<&str> = dry["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "restoreplan::plan::identity_policies")
            .count(),
        1
    );
    let ops: Vec<&str> = dry["restores"][0]["after_restore"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["operation"].as_str())
        .collect();
    assert_eq!(
        ops,
        [
            "TagResource",
            "UpdateContinuousBackups",
            "UpdateTimeToLive",
            "UpdateTable",
            "EnableKinesisStreamingDestination",
            "UpdateContributorInsights",
            "RegisterScalableTarget",
            "RegisterScalableTarget",
            "PutScalingPolicy",
            "PutScalingPolicy",
            "PutResourcePolicy",
            "PutMetricAlarm",
            "PutMetricAlarm",
            "UpdateTable",
        ]
    );

    let applied = both(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = run_id(&events(&applied));
    // One copy job and one restore job.
    let copies = src
        .backup
        .list_copy_jobs()
        .send()
        .await
        .expect("ListCopyJobs");
    assert_eq!(copies.copy_jobs().len(), 1, "{copies:?}");
    let restores = dst
        .backup
        .list_restore_jobs()
        .send()
        .await
        .expect("ListRestoreJobs");
    assert_eq!(restores.restore_jobs().len(), 1, "{restores:?}");

    let original = settings_of(&src, "orders").await;
    let restored = settings_of(&dst, "orders-dr").await;
    let mut expected = rewritten(&original, &src, &dst);
    // The plan's tag joins the original's.
    expected.insert(
        "tags",
        "cost-center=cc-7, purpose=rehearsal, team=payments".to_owned(),
    );
    for (k, v) in &expected {
        assert_eq!(
            restored.get(k),
            Some(v),
            "{k}: restored {:?}, original {v:?}",
            restored.get(k)
        );
    }
    assert!(original["alarms"].contains("orders-read-throttles"));
    assert!(original["kinesis"].contains("ACTIVE"), "{original:?}");
    assert!(restored["scalable_targets"].contains("table/orders-dr/index/by-user"));
    assert!(restored["resource_policy"].contains(&format!(
        "arn:aws:dynamodb:{WEST}:{acct}:table/orders-dr/index/*"
    )));

    // Teardown removes the run's table, scalable targets and alarms only.
    let down = both(&["teardown", &run, "--yes"], 0);
    assert!(down.stdout.contains("deleted orders-dr"), "{}", down.stdout);
    assert!(
        down.stdout
            .contains("removed for orders-dr: DeleteAlarms orders-dr-read-throttles"),
        "{}",
        down.stdout
    );
    assert!(
        !dst.ddb
            .list_tables()
            .send()
            .await
            .expect("ListTables")
            .table_names()
            .contains(&"orders-dr".to_owned())
    );
    let (targets, policies) = scaling_of(
        &dst_x,
        &[
            "table/orders-dr".to_owned(),
            "table/orders-dr/index/by-user".to_owned(),
        ],
    )
    .await;
    assert!(
        targets.is_empty() && policies.is_empty(),
        "{targets:?} {policies:?}"
    );
    let left: Vec<String> = alarms(&dst_x).await.into_keys().collect();
    assert_eq!(left, ["unrelated"]);
    // The run's copy of the recovery point went with it.
    let points = dst
        .backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("dr")
        .send()
        .await
        .expect("ListRecoveryPointsByBackupVault");
    assert!(points.recovery_points().is_empty(), "{points:?}");
    // The original keeps everything.
    assert_eq!(settings_of(&src, "orders").await, original);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_the_run_did_not_create_is_never_overwritten() {
    let w = World::new(fast(), TIME_SCALE).await;
    let arn = w.aws.table("carts", None, 1).await;
    let x = Extra::of(&w.aws);
    alarm(&x, "carts-throttles", "carts", "ReadThrottleEvents", &[]).await;
    // Someone already has an alarm under the name the copy would get.
    alarm(
        &x,
        "carts-dr-throttles",
        "elsewhere",
        "WriteThrottleEvents",
        &[],
    )
    .await;
    w.aws.backup("dr", &arn).await;
    let mut plan = w.header("alarms", 1, None);
    plan.push_str("  - table: carts\n    after_restore: { alarms: copy }\n");
    w.write("plan.yaml", &plan);
    let out = w.run(&["apply", "plan.yaml", "--yes"], 1);
    assert!(
        out.stderr
            .contains("alarm `carts-dr-throttles` already exists"),
        "{}",
        out.stderr
    );
    let kept = &alarms(&x).await["carts-dr-throttles"];
    assert_eq!(kept.0, [("TableName".to_owned(), "elsewhere".to_owned())]);
    assert_eq!(kept.1, "WriteThrottleEvents");
}

/// A plan that brings back only some of the original's settings: `plan`
/// shows every setting of the original beside the restored table's, and
/// each one left behind is a warning naming the key that would bring it
/// back (text and Markdown, read through the real binary).
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_that_leaves_settings_behind_names_the_key_for_each() {
    let w = World::new(fast(), TIME_SCALE).await;
    let src_account = w.em.fresh_account();
    let src = Aws::new(w.em, &src_account, EAST).await;
    let dst = Aws::new(w.em, &w.acct, WEST).await;
    seed_original(&w, &src, &dst).await;
    // Restored beside the original, from its vault: only PITR and the
    // plan's tags come back.
    let plan = format!(
        "version: 1\nname: leaves-behind\n\
         source: {{ account: \"{src_account}\", region: {EAST} }}\n\
         target: {{ account: \"{src_account}\", region: {EAST}, vault: prod, role: \"arn:aws:iam::{src_account}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
         defaults:\n  name: \"{{table}}-rehearsal\"\n  after_restore:\n    point_in_time_recovery: copy\n    tags: {{ purpose: rehearsal }}\n\
         restores:\n  - table: orders\n"
    );
    w.write("plan.yaml", &plan);
    let run = |args: &[&str]| {
        w.command(args)
            .roles(&[src_account.as_str()])
            .status(0)
            .run()
    };
    let human = run(&["plan", "plan.yaml"]);
    let markdown = run(&["plan", "plan.yaml", "--format", "markdown"]);
    let json = run(&["plan", "plan.yaml", "--format", "json"]);
    let dry: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let lost: Vec<String> = dry["restores"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "restoreplan::plan::setting_lost")
        .map(|f| f["help"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Each setting left behind names its key; PITR comes back.
    for key in [
        "ttl: copy",
        "stream: new-and-old-images",
        "deletion_protection: true",
        "copy_source_tags: true",
        "auto_scaling: copy",
        "resource_policy: copy",
        "contributor_insights: copy",
        "kinesis_destination: copy",
        "alarms: copy",
    ] {
        assert!(
            lost.iter().any(|h| h.contains(key)),
            "no warning names `{key}`: {lost:#?}"
        );
    }
    assert!(
        !lost.iter().any(|h| h.contains("point_in_time_recovery")),
        "{lost:#?}"
    );
    snapshot::settings(&[(&src_account, "SOURCE")]).bind(|| {
        insta::assert_snapshot!("plan_leaves_settings_behind_human", human.stdout);
        insta::assert_snapshot!("plan_leaves_settings_behind_markdown", markdown.stdout);
    });
}
