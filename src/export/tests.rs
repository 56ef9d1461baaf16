use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::duration::DurationModel;
use crate::plan::{CompileOptions, SourceFile, compile};

const PLAN: &str = r#"
version: 1
name: shop
source: { account: "111122223333", region: us-east-1 }
target:
  account: "111122223333"
  region: us-west-2
  vault: dr
  role: arn:aws:iam::111122223333:role/backup
defaults:
  name: "{table}-dr"
  after_restore:
    point_in_time_recovery: true
    deletion_protection: true
    tags: { purpose: dr }
    verify:
      items: { min: 1 }
execution: { concurrency: 80, on_failure: stop }
restores:
  - table: accounts
  - table: ledger
    depends_on: [accounts]
  - table: orders
    depends_on: [accounts]
  - table: invoices
    depends_on: [ledger, orders]
    recovery_point: { point_in_time: latest }
"#;

fn plan_and_specs(text: &str) -> (Plan, Vec<RestoreSpec>) {
    let opts = CompileOptions::new(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    let loaded = compile(SourceFile::new("plan.yaml", text), &opts).expect("a valid plan");
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let model = DurationModel::default();
    let specs = loaded
        .plan
        .restores()
        .iter()
        .map(|r| {
            let mut s = RestoreSpec::offline(loaded.plan.name(), r, 1 << 30, &model, now);
            s.expect.data = r.after_restore.verify.clone();
            s
        })
        .collect();
    (loaded.plan, specs)
}

fn export(text: &str) -> Export {
    let (plan, specs) = plan_and_specs(text);
    step_functions(&plan, &specs, &Options::new(plan.name(), "shop-run-1")).expect("exported")
}

fn seed_items(e: &Export) -> Vec<Value> {
    e.seed
        .iter()
        .flat_map(|f| f["restoreplan-shop-runs"].as_array().unwrap().clone())
        .map(|w| w["PutRequest"]["Item"].clone())
        .collect()
}

fn spec_of(item: &Value) -> Value {
    serde_json::from_str(item["spec"]["S"].as_str().unwrap()).unwrap()
}

#[test]
fn tokens_and_run_tags_are_the_local_engines() {
    let e = export(PLAN);
    let items = seed_items(&e);
    assert_eq!(items.len(), 5, "four restores and the run's item");
    let accounts = spec_of(&items[0]);
    assert_eq!(accounts["kind"], "StartRestoreJob");
    assert_eq!(
        accounts["params"]["IdempotencyToken"],
        idempotency_token("shop-run-1", "accounts")
    );
    let tags = &accounts["changes"][0];
    assert_eq!(tags["kind"], "TagResource");
    let pairs: Vec<(String, String)> = tags["params"]["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(pairs.contains(&("restoreplan:run".into(), "shop-run-1".into())));
    assert!(pairs.contains(&("restoreplan:plan".into(), "shop".into())));
    let kinds: Vec<&str> = accounts["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "TagResource",
            "UpdateContinuousBackups",
            "UpdateTableDeletionProtection"
        ]
    );
}

#[test]
fn dependency_counts_and_ranks_follow_the_graph() {
    let e = export(PLAN);
    let items = seed_items(&e);
    let by_id = |id: &str| items.iter().find(|i| i["id"]["S"] == id).unwrap().clone();
    let accounts = by_id("accounts");
    assert_eq!(accounts["st"]["S"], "READY");
    assert!(
        accounts.get("rk").is_some(),
        "a ready restore is in the ready index"
    );
    let invoices = by_id("invoices");
    assert_eq!(invoices["st"]["S"], "WAITING");
    assert_eq!(invoices["deps"]["N"], "2");
    assert!(invoices.get("rk").is_none());
    let deps: BTreeSet<String> = spec_of(&accounts)["dependents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(deps, BTreeSet::from(["ledger".into(), "orders".into()]));
    // A restore heading a longer chain sorts first in the ready index.
    assert!(accounts["rkv"]["S"].as_str() < invoices["rkv"]["S"].as_str());
    let run = by_id(RUN_ITEM);
    assert_eq!(run["remaining"]["N"], "4");
    assert_eq!(run["stopped"]["BOOL"], false);
}

#[test]
fn lanes_honour_the_cap_and_the_per_account_limit() {
    let e = export(PLAN);
    assert_eq!(e.lanes, 50, "concurrency 80 runs in at most 50 lanes");
    let lanes = &e.definition["States"]["Lanes"];
    assert_eq!(lanes["MaxConcurrency"], 50);
    assert_eq!(
        lanes["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    let small = export(&PLAN.replace("concurrency: 80", "concurrency: 3"));
    assert_eq!(
        small.definition["States"]["Prepare"]["Parameters"]["lanes"],
        serde_json::json!([0, 1, 2])
    );
}

/// Every `Next`, `Default` and `StartAt` names a state of its own scope.
fn check_transitions(scope: &Value) {
    let states = scope["States"].as_object().unwrap();
    assert!(states.contains_key(scope["StartAt"].as_str().unwrap()));
    for (name, s) in states {
        let mut targets = Vec::new();
        for k in ["Next", "Default"] {
            if let Some(t) = s.get(k).and_then(Value::as_str) {
                targets.push(t.to_owned());
            }
        }
        for list in ["Choices", "Catch"] {
            for c in s.get(list).and_then(Value::as_array).into_iter().flatten() {
                targets.push(c["Next"].as_str().unwrap().to_owned());
            }
        }
        for t in targets {
            assert!(
                states.contains_key(&t),
                "state `{name}` goes to unknown `{t}`"
            );
        }
        if let Some(p) = s.get("ItemProcessor") {
            check_transitions(p);
        }
    }
}

fn state_names(scope: &Value, names: &mut Vec<String>) {
    for (name, s) in scope["States"].as_object().unwrap() {
        names.push(name.clone());
        if let Some(p) = s.get("ItemProcessor") {
            state_names(p, names);
        }
    }
}

#[test]
fn every_transition_names_a_state_and_names_are_unique() {
    let text = PLAN.replace(
        "items: { min: 1 }",
        "items: { min: 1 }\n      keys: [{ pk: a }]",
    );
    let e = export(&text);
    check_transitions(&e.definition);
    let mut names = Vec::new();
    state_names(&e.definition, &mut names);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[test]
fn only_the_kinds_the_plan_uses_have_states() {
    let e = export(PLAN);
    let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert!(lane.get("Start StartRestoreJob").is_some());
    assert!(lane.get("Start RestoreTableToPointInTime L").is_some());
    assert!(lane.get("Start RestoreTableFromBackup").is_none());
    assert!(lane.get("Count first page").is_some());
    assert!(lane.get("Keys").is_none(), "no verify.keys in this plan");
    // on_failure: stop sets the run's stop flag.
    let stop = lane["Count down failed"]["Parameters"]["UpdateExpression"]
        .as_str()
        .unwrap();
    assert!(stop.contains("stopped = :t"));
    let settings = &lane["Settings"]["ItemProcessor"]["States"];
    assert!(settings.get("UpdateContinuousBackups").is_some());
    assert!(settings.get("UpdateTimeToLive").is_none());
}

#[test]
fn the_policy_names_only_what_the_plan_uses() {
    let e = export(PLAN);
    let text = e.policy.to_string();
    for needed in [
        "backup:StartRestoreJob",
        "iam:PassRole",
        "dynamodb:RestoreTableToPointInTime",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:TagResource",
        "states:StartExecution",
        "arn:aws:dynamodb:us-west-2:111122223333:table/restoreplan-shop-runs",
        "arn:aws:dynamodb:us-west-2:111122223333:table/ledger-dr",
        "arn:aws:iam::111122223333:role/backup",
    ] {
        assert!(text.contains(needed), "policy lacks {needed}: {text}");
    }
    for unused in [
        "dynamodb:RestoreTableFromBackup",
        "dynamodb:UpdateTimeToLive",
        "kms:",
        "sts:AssumeRole",
    ] {
        assert!(!text.contains(unused), "policy has {unused}");
    }
    // Only the actions without resource-level permissions are on `*`.
    for st in e.policy["Statement"].as_array().unwrap() {
        if st["Resource"] == serde_json::json!(["*"]) {
            assert_eq!(
                st["Action"],
                serde_json::json!([
                    "backup:DescribeRestoreJob",
                    "backup:PutRestoreValidationResult"
                ])
            );
        }
    }
    let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert_eq!(
        lane["Report verified"]["Resource"],
        "arn:aws:states:::aws-sdk:backup:putRestoreValidationResult"
    );
    assert_eq!(lane["Count out of bounds"]["Next"], "Verification failed");
    assert!(e.task_policies.is_empty());
}

#[test]
fn a_plan_across_accounts_assumes_a_task_role_in_each() {
    let text = PLAN.replace(
        "  - table: orders\n",
        "  - table: orders\n    target: { account: \"444455556666\", role: arn:aws:iam::444455556666:role/backup }\n",
    );
    let e = export(&text);
    assert_eq!(
        e.task_policies.keys().collect::<Vec<_>>(),
        ["111122223333", "444455556666"]
    );
    let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert_eq!(
        lane["Start StartRestoreJob"]["Credentials"]["RoleArn.$"],
        "$.task.spec.credentials"
    );
    let items = seed_items(&e);
    let orders = items.iter().find(|i| i["id"]["S"] == "orders").unwrap();
    assert_eq!(
        spec_of(orders)["credentials"],
        "arn:aws:iam::444455556666:role/restoreplan-shop-tasks"
    );
    assert!(e.policy.to_string().contains("sts:AssumeRole"));
    assert!(e.template["Resources"].get("TaskRole").is_some());
}

#[test]
fn a_command_check_or_a_blocked_restore_is_refused() {
    let (plan, mut specs) = plan_and_specs(PLAN);
    let opts = Options::new("shop", "r");
    specs[1].blocked = Some("the table exists".into());
    let err = step_functions(&plan, &specs, &opts).unwrap_err();
    assert!(
        err.contains("`ledger`") && err.contains("the table exists"),
        "{err}"
    );
    specs[1].blocked = None;
    if let Some(v) = specs[2].expect.data.as_mut() {
        v.command = Some(vec!["./check.sh".into()]);
    }
    let err = step_functions(&plan, &specs, &opts).unwrap_err();
    assert!(err.contains("verify.command"), "{err}");
}

#[test]
fn a_plan_whose_restores_target_two_regions_is_refused() {
    let text = PLAN.replace(
        "  - table: orders\n    depends_on: [accounts]\n",
        "  - table: orders\n    depends_on: [accounts]\n    target: { region: eu-west-1 }\n",
    );
    assert_ne!(text, PLAN);
    let (plan, specs) = plan_and_specs(&text);
    let err = step_functions(&plan, &specs, &Options::new("shop", "r")).unwrap_err();
    assert!(
        err.contains("`orders`") && err.contains("eu-west-1") && err.contains("us-west-2"),
        "{err}"
    );
    assert!(err.contains("--engine local"), "{err}");
}

/// A DR plan that copies each point from the production account's vault
/// into the DR account's vault, in one Region.
const COPY_PLAN: &str = r#"
version: 1
name: shop
source: { account: "111122223333", region: us-west-2 }
target:
  account: "444455556666"
  region: us-west-2
  vault: dr
  role: arn:aws:iam::444455556666:role/backup
defaults:
  name: "{table}-dr"
  copy:
    vault: prod
    role: arn:aws:iam::111122223333:role/copier
execution: { concurrency: 4, on_failure: continue }
restores:
  - table: accounts
    recovery_point: arn:aws:backup:us-west-2:111122223333:recovery-point:rp-accounts
  - table: ledger
    depends_on: [accounts]
    recovery_point: arn:aws:backup:us-west-2:111122223333:recovery-point:rp-ledger
"#;

#[test]
fn a_copy_step_starts_the_local_engines_copy_and_restores_the_copy() {
    let (plan, specs) = plan_and_specs(COPY_PLAN);
    let e =
        step_functions(&plan, &specs, &Options::new(plan.name(), "shop-run-1")).expect("exported");
    let items = seed_items(&e);
    let ledger = spec_of(items.iter().find(|i| i["id"]["S"] == "ledger").unwrap());
    // The copy the local engine sends, with the local engine's copy token.
    let local = specs[1]
        .copy
        .as_ref()
        .unwrap()
        .request
        .with_idempotency_token(&copy_token("shop-run-1", "ledger", 0));
    let copy = &ledger["copy"]["params"];
    assert_eq!(copy["RecoveryPointArn"], local.recovery_point_arn);
    assert_eq!(copy["SourceBackupVaultName"], "prod");
    assert_eq!(
        copy["DestinationBackupVaultArn"],
        "arn:aws:backup:us-west-2:444455556666:backup-vault:dr"
    );
    assert_eq!(copy["IamRoleArn"], "arn:aws:iam::111122223333:role/copier");
    assert_eq!(copy["IdempotencyToken"], local.idempotency_token);
    assert_ne!(
        copy["IdempotencyToken"], ledger["params"]["IdempotencyToken"],
        "the copy's token is not the restore's"
    );
    assert_eq!(
        ledger["copy"]["minutes"],
        copy_minutes(specs[1].copy.as_ref().unwrap().estimated_seconds)
    );
    // The copy runs in the source account, through its task role.
    assert_eq!(
        ledger["copy"]["credentials"],
        "arn:aws:iam::111122223333:role/restoreplan-shop-tasks"
    );
    let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert_eq!(lane["Doomed?"]["Default"], "Copy?");
    assert_eq!(
        lane["Start copy"]["Resource"],
        "arn:aws:states:::aws-sdk:backup:startCopyJob"
    );
    assert_eq!(
        lane["Start copy"]["Credentials"]["RoleArn.$"],
        "$.task.spec.copy.credentials"
    );
    assert_eq!(
        lane["Describe copy job"]["Credentials"]["RoleArn.$"],
        "$.task.spec.copy.credentials"
    );
    assert!(
        lane["Start StartRestoreJob"].get("Credentials").is_none(),
        "the restores run in the state machine's own account"
    );
    // The restore restores the copy's point.
    assert_eq!(
        lane["Copied"]["ResultPath"],
        "$.task.spec.params.RecoveryPointArn"
    );
    assert_eq!(
        lane["Start StartRestoreJob"]["Parameters"]["RecoveryPointArn.$"],
        "$.task.spec.params.RecoveryPointArn"
    );
    assert_eq!(lane["Copy job failed"]["Next"], "Failed");
    // Retried with jitter on throttling, like every task.
    assert_eq!(
        lane["Describe copy job"]["Retry"][0]["JitterStrategy"],
        "FULL"
    );
    check_transitions(&e.definition);
    let mut names = Vec::new();
    state_names(&e.definition, &mut names);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    // IAM: the copy's actions in the source account's task role, the
    // restore of a copy on the target account's recovery points.
    let src = e.task_policies["111122223333"].to_string();
    for needed in [
        "backup:StartCopyJob",
        "arn:aws:backup:us-west-2:111122223333:recovery-point:rp-ledger",
        "backup:DescribeCopyJob",
        "backup:CopyIntoBackupVault",
        "arn:aws:backup:us-west-2:444455556666:backup-vault:dr",
        "arn:aws:iam::111122223333:role/copier",
    ] {
        assert!(
            src.contains(needed),
            "the source's policy lacks {needed}: {src}"
        );
    }
    assert!(!src.contains("StartRestoreJob"), "{src}");
    let own = e.policy.to_string();
    assert!(
        own.contains("arn:aws:backup:us-west-2:444455556666:recovery-point:*"),
        "{own}"
    );
    assert!(own.contains("arn:aws:iam::111122223333:role/restoreplan-shop-tasks"));
    assert!(!own.contains("StartCopyJob"), "{own}");
    assert!(!own.contains("<the copy"), "{own}");
}

#[test]
fn a_copy_within_the_machines_account_assumes_no_role() {
    let text = COPY_PLAN.replace("444455556666", "111122223333");
    let (plan, specs) = plan_and_specs(&text);
    let e = step_functions(&plan, &specs, &Options::new(plan.name(), "r")).expect("exported");
    let lane = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert!(lane["Start copy"].get("Credentials").is_none());
    assert!(e.task_policies.is_empty());
    let own = e.policy.to_string();
    assert!(own.contains("backup:StartCopyJob") && own.contains("backup:DescribeCopyJob"));
    // A plan without copies has no copy states.
    let plain = export(PLAN);
    let lane = &plain.definition["States"]["Lanes"]["ItemProcessor"]["States"];
    assert!(lane.get("Start copy").is_none());
    assert_eq!(lane["Doomed?"]["Default"], "Restore kind");
}

#[test]
fn a_copy_from_another_region_is_refused() {
    let (plan, specs) = plan_and_specs(include_str!(
        "../../plans/examples/dr-copy-from-production-vault.yaml"
    ));
    assert!(specs.iter().any(|s| s.copy.is_some()));
    let err = step_functions(&plan, &specs, &Options::new(plan.name(), "r")).unwrap_err();
    assert!(
        err.contains("`accounts`")
            && err.contains("us-east-1")
            && err.contains("us-west-2")
            && err.contains("local engine"),
        "{err}"
    );
}

#[test]
fn a_step_policys_alarm_takes_the_arn_its_policy_state_recorded() {
    use crate::cloud::TableChange;
    use crate::cloud::settings::{Alarm, StepAdjustment, StepPolicy, step_policy_action};
    let (plan, mut specs) = plan_and_specs(PLAN);
    let rid = "table/ledger-dr";
    specs[1].changes.push(TableChange::StepScalingPolicy {
        policy: Box::new(StepPolicy {
            name: "scale-out".into(),
            resource_id: rid.into(),
            dimension: "dynamodb:table:WriteCapacityUnits".into(),
            arn: String::new(),
            adjustment_type: Some("ChangeInCapacity".into()),
            steps: vec![StepAdjustment {
                lower: Some(0.0),
                upper: None,
                adjustment: 5,
            }],
            min_adjustment_magnitude: None,
            cooldown: Some(60),
            metric_aggregation_type: None,
        }),
    });
    let alarm: Alarm = serde_json::from_value(serde_json::json!({
        "name": "ledger-dr-writes",
        "namespace": "AWS/DynamoDB",
        "metric": "ConsumedWriteCapacityUnits",
        "dimensions": [["TableName", "ledger-dr"]],
        "period": 60,
        "evaluation_periods": 1,
        "threshold": 10.0,
        "comparison": "GreaterThanThreshold",
        "actions_enabled": true,
        "alarm_actions": [step_policy_action(rid, "scale-out"), "arn:aws:sns:us-west-2:111122223333:ops"],
        "ok_actions": [],
        "insufficient_data_actions": [],
        "tags": {}
    }))
    .expect("an alarm");
    specs[1].changes.push(TableChange::Alarm {
        alarm: Box::new(alarm),
    });
    let e = step_functions(&plan, &specs, &Options::new(plan.name(), "r")).expect("exported");
    let ledger = spec_of(
        seed_items(&e)
            .iter()
            .find(|i| i["id"]["S"] == "ledger")
            .unwrap(),
    );
    let changes = ledger["changes"].as_array().unwrap();
    let policy = changes
        .iter()
        .find(|c| c["kind"] == "PutStepScalingPolicy")
        .unwrap();
    assert_eq!(policy["ref"], "table/ledger-dr#scale-out");
    let alarm = changes
        .iter()
        .find(|c| c["kind"] == "PutMetricAlarm P")
        .unwrap();
    assert_eq!(
        alarm["actions"],
        serde_json::json!([
            [{"policy": "table/ledger-dr#scale-out"}, {"arn": "arn:aws:sns:us-west-2:111122223333:ops"}],
            [],
            []
        ])
    );
    assert!(alarm["params"].get("AlarmActions").is_none());
    assert!(
        !ledger
            .to_string()
            .contains("restoreplan:step-scaling-policy:")
    );
    let settings = &e.definition["States"]["Lanes"]["ItemProcessor"]["States"]["Settings"];
    let inner = &settings["ItemProcessor"]["States"];
    assert_eq!(
        inner["PutStepScalingPolicy"]["ResultSelector"]["arn.$"],
        "$.PolicyARN"
    );
    assert_eq!(inner["PutStepScalingPolicy"]["Next"], "Record policy ARN");
    assert_eq!(
        inner["PutMetricAlarm P"]["Parameters"]["AlarmActions.$"],
        "$.actions[0]"
    );
    assert_eq!(inner["Resolve alarm actions"]["ResultPath"], "$.actions");
    assert_eq!(settings["ItemSelector"]["rid.$"], "$.task.spec.id");
    check_transitions(&e.definition);
    assert!(e.policy.to_string().contains("dynamodb:PutItem"));
}

#[test]
fn the_template_holds_the_definition_and_the_policy() {
    let e = export(PLAN);
    let sm = &e.template["Resources"]["StateMachine"]["Properties"];
    assert_eq!(sm["StateMachineName"], "restoreplan-shop");
    let def: Value = serde_json::from_str(sm["DefinitionString"].as_str().unwrap()).unwrap();
    assert_eq!(def, e.definition);
    assert_eq!(
        e.template["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"],
        e.policy
    );
    let files: Vec<String> = e.files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        files,
        [
            "state-machine.asl.json",
            "iam-policy.json",
            "template.json",
            "input.json",
            "seed/0001.json"
        ]
    );
}

#[test]
fn the_definition_does_not_grow_with_the_plan() {
    let one = export(PLAN).definition.to_string().len();
    let mut text = PLAN.to_owned();
    for i in 0..200 {
        text.push_str(&format!(
            "  - table: extra{i}\n    depends_on: [invoices]\n"
        ));
    }
    let many = export(&text).definition.to_string().len();
    assert_eq!(one, many, "the restores live in the coordination table");
    assert!(one < 64 * 1024, "{one} bytes");
}
