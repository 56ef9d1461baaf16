//! The Amazon States Language definition: a Distributed Map of worker
//! lanes over the coordination table. Pure.
//!
//! Every lane runs the same loop: find the ready restore of highest rank
//! (a `Query` of the `ready` index, ascending), claim it with a
//! transaction that also checks the run is not stopped, run it (start,
//! adaptive polling, after-restore settings in order, verification),
//! record the outcome and release its dependents. A lane ends when the
//! run has nothing left (or is stopped).

use serde_json::{Map, Value, json};

use super::items::{ACTION_LISTS, RESOLVED_ALARM_KIND, STEP_POLICY_KIND, TaskCall};
use super::{READY_INDEX, RUN_ITEM, Shape};
use crate::plan::model::OnFailure;

/// The largest count a `verify.items` bound can hold in the state's JSON
/// (an integer JSON keeps exactly): 2^53 - 1.
pub const MAX_SAFE_COUNT: u64 = 9_007_199_254_740_991;

/// The largest `ExpectedCompletionTimeMinutes` the wait tables index (12 h).
pub const MAX_EXPECTED_MINUTES: u64 = 720;

/// Seconds to wait before polling a restore job again, indexed by its
/// `ExpectedCompletionTimeMinutes` (capped at the last index): a thirtieth
/// of the expected time, at least 10 s, at most 10 min.
pub fn poll_waits() -> Vec<u64> {
    (0..=MAX_EXPECTED_MINUTES)
        .map(|m| (m * 2).clamp(10, 600))
        .collect()
}

/// Seconds to wait before the second look at a job, indexed by its
/// `ExpectedCompletionTimeMinutes` (capped at the last index): eleven
/// twelfths of the expected time, so a job is polled a few times near its end
/// rather than all along.
pub fn first_waits() -> Vec<u64> {
    (0..=MAX_EXPECTED_MINUTES)
        .map(|m| (m * 55).max(10))
        .collect()
}

/// Seconds an idle lane waits before looking for ready work again, by the
/// number of times in a row it found none (capped at the last index).
pub fn idle_waits() -> Vec<u64> {
    vec![5, 10, 20, 40, 60, 120, 240, 300]
}

/// Errors worth retrying: throttling and AWS's server-side failures, as
/// Step Functions names the errors of AWS SDK integrations.
pub const RETRYABLE: &[&str] = &[
    "Backup.ThrottlingException",
    "Backup.LimitExceededException",
    "Backup.ServiceUnavailableException",
    "Backup.InternalFailureException",
    "DynamoDb.ThrottlingException",
    "DynamoDb.ProvisionedThroughputExceededException",
    "DynamoDb.RequestLimitExceededException",
    "DynamoDb.InternalServerErrorException",
    "DynamoDb.LimitExceededException",
    "States.Timeout",
];

fn retry() -> Value {
    json!([
        {
            "ErrorEquals": RETRYABLE,
            "IntervalSeconds": 2,
            "BackoffRate": 2.0,
            "MaxAttempts": 8,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL"
        },
        {
            // A table still UPDATING after the previous setting.
            "ErrorEquals": ["DynamoDb.ResourceInUseException"],
            "IntervalSeconds": 5,
            "BackoffRate": 1.5,
            "MaxAttempts": 10,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL"
        }
    ])
}

fn sdk(action: &str) -> String {
    format!("arn:aws:states:::aws-sdk:{action}")
}

/// A task state; `extra` adds or overrides fields.
fn task(action: &str, params: Value, extra: Value) -> Value {
    let mut t = json!({
        "Type": "Task",
        "Resource": sdk(action),
        "Parameters": params,
        "Retry": retry(),
    });
    if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
        t.extend(extra);
    }
    t
}

/// `Key` of an item of the run.
fn key(id: Value) -> Value {
    json!({"run": {"S.$": "$.run"}, "id": id})
}

fn run_key() -> Value {
    key(json!({"S": RUN_ITEM}))
}

fn restore_key() -> Value {
    key(json!({"S.$": "$.task.spec.id"}))
}

/// Parameters that pass each of `call`'s parameters from the restore's
/// entry (`base` is its JSON path), plus the task credentials when tasks
/// assume a role in the target account.
fn passed_params(call: &TaskCall, base: &str, credentials: Option<&str>) -> (Value, Option<Value>) {
    let mut p = Map::new();
    for k in call.keys() {
        p.insert(format!("{k}.$"), json!(format!("{base}.{k}")));
    }
    (
        Value::Object(p),
        credentials.map(|c| json!({"RoleArn.$": c})),
    )
}

fn with_credentials(mut state: Value, credentials: Option<Value>) -> Value {
    if let Some(c) = credentials {
        state["Credentials"] = c;
    }
    state
}

fn fail_catch(next: &str) -> Value {
    json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": next}])
}

/// The states that start a restore of each kind the plan uses and wait for
/// its table.
fn restore_states(shape: &Shape, states: &mut Map<String, Value>) {
    let creds = shape.assume.then_some("$.task.spec.credentials");
    let mut choices = Vec::new();
    for (kind, call) in &shape.restore_kinds {
        let name = format!("Start {kind}");
        choices.push(json!({"Variable": "$.task.spec.kind", "StringEquals": kind, "Next": name}));
        let (params, c) = passed_params(call, "$.task.spec.params", creds);
        let backup = call.action.starts_with("backup:");
        let state = if backup {
            task(
                call.action,
                params,
                json!({
                    "ResultSelector": {"job.$": "$.RestoreJobId"},
                    "ResultPath": "$.started",
                    "Next": "Record job",
                    "Catch": fail_catch("Failed"),
                }),
            )
        } else {
            task(
                call.action,
                params,
                json!({
                    "ResultPath": null,
                    "Next": "First wait for table",
                    "Catch": [
                        // A redriven or restarted lane finds the table it
                        // created: it goes on waiting only if the table
                        // was restored from this restore's source.
                        {"ErrorEquals": ["DynamoDb.TableAlreadyExistsException"], "ResultPath": "$.error", "Next": "Describe existing table"},
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}
                    ],
                }),
            )
        };
        states.insert(name, with_credentials(state, c));
    }
    states.insert(
        "Restore kind".into(),
        json!({"Type": "Choice", "Choices": choices, "Default": "Unknown kind"}),
    );
    states.insert(
        "Unknown kind".into(),
        json!({"Type": "Pass", "Parameters": {"Error": "Restoreplan.UnknownKind", "Cause.$": "$.task.spec.kind"}, "ResultPath": "$.error", "Next": "Failed"}),
    );
    let any_backup = shape
        .restore_kinds
        .values()
        .any(|c| c.action.starts_with("backup:"));
    let any_native = shape
        .restore_kinds
        .values()
        .any(|c| !c.action.starts_with("backup:"));
    if any_backup {
        // The job id on the restore's item, for whoever follows the run.
        states.insert(
            "Record job".into(),
            task(
                "dynamodb:updateItem",
                json!({
                    "TableName.$": "$.table",
                    "Key": restore_key(),
                    "UpdateExpression": "SET job = :j",
                    "ExpressionAttributeValues": {":j": {"S.$": "$.started.job"}}
                }),
                json!({"ResultPath": null, "Next": "Describe restore job", "Catch": fail_catch("Failed")}),
            ),
        );
        // Adaptive polling: the wait comes from AWS Backup's own estimate.
        states.insert(
            "Describe restore job".into(),
            with_credentials(
                task(
                    "backup:describeRestoreJob",
                    json!({"RestoreJobId.$": "$.started.job"}),
                    json!({"ResultPath": "$.poll", "Next": "Restore job done?", "Catch": fail_catch("Failed")}),
                ),
                creds.map(|c| json!({"RoleArn.$": c})),
            ),
        );
        // The first wait sleeps through most of the expected time; later
        // ones are short, so the job is seen done soon after it is.
        let cap = MAX_EXPECTED_MINUTES;
        let eta = "$.poll.ExpectedCompletionTimeMinutes";
        let first = json!({"Variable": "$.started.wait", "IsPresent": false});
        states.insert("Restore job done?".into(), json!({
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.poll.Status", "StringEquals": "COMPLETED", "Next": "Settings"},
                {"Or": [
                    {"Variable": "$.poll.Status", "StringEquals": "FAILED"},
                    {"Variable": "$.poll.Status", "StringEquals": "ABORTED"}
                ], "Next": "Restore job failed"},
                {"And": [{"Variable": eta, "IsPresent": true}, first.clone(), {"Variable": eta, "NumericGreaterThan": cap}], "Next": "First wait capped"},
                {"And": [{"Variable": eta, "IsPresent": true}, first], "Next": "First wait known"},
                {"And": [{"Variable": eta, "IsPresent": true}, {"Variable": eta, "NumericGreaterThan": cap}], "Next": "Poll wait capped"},
                {"Variable": eta, "IsPresent": true, "Next": "Poll wait known"}
            ],
            "Default": "Poll wait unknown"
        }));
        states.insert(
            "Restore job failed".into(),
            json!({"Type": "Pass", "Parameters": {"Error.$": "States.Format('RestoreJob{}', $.poll.Status)", "Cause.$": "States.JsonToString($.poll)"}, "ResultPath": "$.error", "Next": "Failed"}),
        );
        let wait_pass = |table: &str, index: Value| json!({"Type": "Pass", "Parameters": {"s.$": format!("States.ArrayGetItem($.tables.{table}, {})", index.as_str().map_or_else(|| index.to_string(), str::to_owned))}, "ResultPath": "$.started.wait", "Next": "Wait for restore job"});
        states.insert("First wait capped".into(), wait_pass("first", json!(cap)));
        states.insert("First wait known".into(), wait_pass("first", json!(eta)));
        states.insert("Poll wait capped".into(), wait_pass("poll", json!(cap)));
        states.insert("Poll wait known".into(), wait_pass("poll", json!(eta)));
        states.insert(
            "Poll wait unknown".into(),
            json!({"Type": "Pass", "Result": {"s": 60}, "ResultPath": "$.started.wait", "Next": "Wait for restore job"}),
        );
        states.insert(
            "Wait for restore job".into(),
            json!({"Type": "Wait", "SecondsPath": "$.started.wait.s", "Next": "Describe restore job"}),
        );
    }
    if any_native {
        states.insert(
            "First wait for table".into(),
            json!({"Type": "Wait", "SecondsPath": "$.task.spec.first_poll", "Next": "Describe table"}),
        );
        states.insert(
            "Wait for table".into(),
            json!({"Type": "Wait", "SecondsPath": "$.task.spec.poll", "Next": "Describe table"}),
        );
        states.insert(
            "Describe table".into(),
            with_credentials(
                task(
                    "dynamodb:describeTable",
                    json!({"TableName.$": "$.task.spec.table"}),
                    json!({"ResultSelector": {"status.$": "$.Table.TableStatus"}, "ResultPath": "$.poll", "Next": "Table active?", "Catch": fail_catch("Failed")}),
                ),
                creds.map(|c| json!({"RoleArn.$": c})),
            ),
        );
        states.insert(
            "Table active?".into(),
            json!({"Type": "Choice", "Choices": [{"Variable": "$.poll.status", "StringEquals": "ACTIVE", "Next": "Settings"}], "Default": "Wait for table"}),
        );
        states.insert(
            "Describe existing table".into(),
            with_credentials(
                task(
                    "dynamodb:describeTable",
                    json!({"TableName.$": "$.task.spec.table"}),
                    json!({"ResultPath": "$.existing", "Next": "Existing table is ours?", "Catch": fail_catch("Failed")}),
                ),
                creds.map(|c| json!({"RoleArn.$": c})),
            ),
        );
        states.insert(
            "Existing table is ours?".into(),
            json!({"Type": "Choice", "Choices": [
                {"Variable": "$.existing.Table.RestoreSummary.SourceBackupArn", "IsPresent": true, "Next": "Restored from our backup?"},
                {"Variable": "$.existing.Table.RestoreSummary.SourceTableArn", "IsPresent": true, "Next": "Restored from our table?"}
            ], "Default": "Failed"}),
        );
        for (name, field) in [
            ("Restored from our backup?", "SourceBackupArn"),
            ("Restored from our table?", "SourceTableArn"),
        ] {
            states.insert(
                name.into(),
                json!({"Type": "Choice", "Choices": [
                    {"Variable": format!("$.existing.Table.RestoreSummary.{field}"), "StringEqualsPath": "$.task.spec.origin", "Next": "Wait for table"}
                ], "Default": "Failed"}),
            );
        }
    }
}

/// The copy step (`copy:`) of a restore that has one: `StartCopyJob` in
/// the source account with the run's idempotency token (a redriven or
/// restarted lane gets the same copy job back), the job id on the item,
/// `DescribeCopyJob` polled with waits from the copy's expected minutes
/// (the same tables as a restore job's), then the copy's recovery point
/// put into the restore request in place of the original's and recorded
/// on the item. A failed copy fails the restore.
fn copy_states(shape: &Shape, states: &mut Map<String, Value>) {
    let creds = shape
        .copy_assume
        .then(|| json!({"RoleArn.$": "$.task.spec.copy.credentials"}));
    states.insert(
        "Copy?".into(),
        json!({"Type": "Choice", "Choices": [{"Variable": "$.task.spec.copy", "IsPresent": true, "Next": "Start copy"}], "Default": "Restore kind"}),
    );
    let call = super::items::copy_call(&crate::cloud::CopyRequest {
        source_backup_vault_name: String::new(),
        recovery_point_arn: String::new(),
        destination_backup_vault_arn: String::new(),
        iam_role_arn: String::new(),
        idempotency_token: String::new(),
    });
    let (params, _) = passed_params(&call, "$.task.spec.copy.params", None);
    states.insert(
        "Start copy".into(),
        with_credentials(
            task(
                call.action,
                params,
                json!({
                    "ResultSelector": {"job.$": "$.CopyJobId"},
                    "ResultPath": "$.copy",
                    "Next": "Record copy job",
                    "Catch": fail_catch("Failed"),
                }),
            ),
            creds.clone(),
        ),
    );
    // The copy job's id on the restore's item, for whoever follows the run.
    states.insert(
        "Record copy job".into(),
        task(
            "dynamodb:updateItem",
            json!({
                "TableName.$": "$.table",
                "Key": restore_key(),
                "UpdateExpression": "SET cjob = :j",
                "ExpressionAttributeValues": {":j": {"S.$": "$.copy.job"}}
            }),
            json!({"ResultPath": null, "Next": "Describe copy job", "Catch": fail_catch("Failed")}),
        ),
    );
    states.insert(
        "Describe copy job".into(),
        with_credentials(
            task(
                "backup:describeCopyJob",
                json!({"CopyJobId.$": "$.copy.job"}),
                json!({
                    "ResultSelector": {"CopyJob.$": "$.CopyJob"},
                    "ResultPath": "$.copypoll",
                    "Next": "Copy job done?",
                    "Catch": fail_catch("Failed")
                }),
            ),
            creds,
        ),
    );
    let cap = MAX_EXPECTED_MINUTES;
    let minutes = "$.task.spec.copy.minutes";
    let state = "$.copypoll.CopyJob.State";
    let first = json!({"Variable": "$.copy.wait", "IsPresent": false});
    states.insert(
        "Copy job done?".into(),
        json!({
            "Type": "Choice",
            "Choices": [
                {"And": [
                    {"Variable": state, "StringEquals": "COMPLETED"},
                    {"Variable": "$.copypoll.CopyJob.DestinationRecoveryPointArn", "IsPresent": true}
                ], "Next": "Copied"},
                {"Or": [
                    {"Variable": state, "StringEquals": "FAILED"},
                    {"Variable": state, "StringEquals": "ABORTED"},
                    {"Variable": state, "StringEquals": "PARTIAL"},
                    {"Variable": state, "StringEquals": "COMPLETED"}
                ], "Next": "Copy job failed"},
                {"And": [first.clone(), {"Variable": minutes, "NumericGreaterThan": cap}], "Next": "First copy wait capped"},
                {"Variable": "$.copy.wait", "IsPresent": false, "Next": "First copy wait known"},
                {"Variable": minutes, "NumericGreaterThan": cap, "Next": "Copy wait capped"}
            ],
            "Default": "Copy wait known"
        }),
    );
    states.insert(
        "Copy job failed".into(),
        json!({"Type": "Pass", "Parameters": {"Error.$": "States.Format('CopyJob{}', $.copypoll.CopyJob.State)", "Cause.$": "States.JsonToString($.copypoll.CopyJob)"}, "ResultPath": "$.error", "Next": "Failed"}),
    );
    let wait_pass = |table: &str, index: &str| json!({"Type": "Pass", "Parameters": {"s.$": format!("States.ArrayGetItem($.tables.{table}, {index})")}, "ResultPath": "$.copy.wait", "Next": "Wait for copy job"});
    let cap_index = cap.to_string();
    states.insert(
        "First copy wait capped".into(),
        wait_pass("first", &cap_index),
    );
    states.insert("First copy wait known".into(), wait_pass("first", minutes));
    states.insert("Copy wait capped".into(), wait_pass("poll", &cap_index));
    states.insert("Copy wait known".into(), wait_pass("poll", minutes));
    states.insert(
        "Wait for copy job".into(),
        json!({"Type": "Wait", "SecondsPath": "$.copy.wait.s", "Next": "Describe copy job"}),
    );
    // The restore restores the copy, not the original.
    states.insert(
        "Copied".into(),
        json!({
            "Type": "Pass",
            "InputPath": "$.copypoll.CopyJob.DestinationRecoveryPointArn",
            "ResultPath": "$.task.spec.params.RecoveryPointArn",
            "Next": "Record copy"
        }),
    );
    states.insert(
        "Record copy".into(),
        task(
            "dynamodb:updateItem",
            json!({
                "TableName.$": "$.table",
                "Key": restore_key(),
                "UpdateExpression": "SET cpoint = :p, ct = :t",
                "ExpressionAttributeValues": {
                    ":p": {"S.$": "$.task.spec.params.RecoveryPointArn"},
                    ":t": {"S.$": "$$.State.EnteredTime"}
                }
            }),
            json!({"ResultPath": null, "Next": "Restore kind", "Catch": fail_catch("Failed")}),
        ),
    );
}

/// The after-restore settings: one call after the other, in the planned
/// order, each its own task.
fn settings_states(shape: &Shape, states: &mut Map<String, Value>) {
    let mut inner = Map::new();
    let mut choices = Vec::new();
    let creds = shape.assume.then_some("$.credentials");
    let mut records = false;
    for (kind, call) in &shape.change_kinds {
        let (mut params, c) = passed_params(call, "$.change.params", creds);
        if kind == STEP_POLICY_KIND {
            // The policy's ARN, for the alarms that drive it.
            records = true;
            choices.push(json!({"Variable": "$.change.kind", "StringEquals": kind, "Next": kind}));
            inner.insert(
                kind.clone(),
                with_credentials(
                    task(
                        call.action,
                        params,
                        json!({"ResultSelector": {"arn.$": "$.PolicyARN"}, "ResultPath": "$.policy", "Next": "Record policy ARN"}),
                    ),
                    c,
                ),
            );
            inner.insert(
                "Record policy ARN".into(),
                task(
                    "dynamodb:putItem",
                    json!({
                        "TableName.$": "$.table",
                        "Item": {
                            "run": {"S.$": "$.run"},
                            "id": {"S.$": "States.Format('{}#policy#{}', $.rid, $.change.ref)"},
                            "arn": {"S.$": "$.policy.arn"}
                        }
                    }),
                    json!({"End": true}),
                ),
            );
        } else if kind == RESOLVED_ALARM_KIND {
            // Each action naming a step policy becomes the ARN the policy's
            // state recorded; the others stay as written.
            records = true;
            choices.push(json!({"Variable": "$.change.kind", "StringEquals": kind, "Next": "Resolve alarm actions"}));
            for (i, list) in ACTION_LISTS.iter().enumerate() {
                params[format!("{list}.$").as_str()] = json!(format!("$.actions[{i}]"));
            }
            inner.insert(
                "Resolve alarm actions".into(),
                json!({
                    "Type": "Map",
                    "ItemsPath": "$.change.actions",
                    "ItemSelector": {"list.$": "$$.Map.Item.Value", "run.$": "$.run", "table.$": "$.table", "rid.$": "$.rid"},
                    "MaxConcurrency": 1,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Resolve action list",
                        "States": {
                            "Resolve action list": {
                                "Type": "Map",
                                "ItemsPath": "$.list",
                                "ItemSelector": {"a.$": "$$.Map.Item.Value", "run.$": "$.run", "table.$": "$.table", "rid.$": "$.rid"},
                                "MaxConcurrency": 1,
                                "ItemProcessor": {
                                    "ProcessorConfig": {"Mode": "INLINE"},
                                    "StartAt": "Action names a policy?",
                                    "States": {
                                        "Action names a policy?": {"Type": "Choice", "Choices": [{"Variable": "$.a.policy", "IsPresent": true, "Next": "Policy ARN"}], "Default": "Action as written"},
                                        "Policy ARN": task(
                                            "dynamodb:getItem",
                                            json!({
                                                "TableName.$": "$.table",
                                                "Key": {"run": {"S.$": "$.run"}, "id": {"S.$": "States.Format('{}#policy#{}', $.rid, $.a.policy)"}},
                                                "ConsistentRead": true
                                            }),
                                            json!({"ResultSelector": {"arn.$": "$.Item.arn.S"}, "OutputPath": "$.arn", "End": true}),
                                        ),
                                        "Action as written": {"Type": "Pass", "InputPath": "$.a.arn", "End": true}
                                    }
                                },
                                "End": true
                            }
                        }
                    },
                    "ResultPath": "$.actions",
                    "Next": kind.as_str()
                }),
            );
            inner.insert(
                kind.clone(),
                with_credentials(task(call.action, params, json!({"End": true})), c),
            );
        } else {
            choices.push(json!({"Variable": "$.change.kind", "StringEquals": kind, "Next": kind}));
            inner.insert(
                kind.clone(),
                with_credentials(task(call.action, params, json!({"End": true})), c),
            );
        }
    }
    inner.insert(
        "Setting kind".into(),
        json!({"Type": "Choice", "Choices": choices, "Default": "Unknown setting"}),
    );
    inner.insert(
        "Unknown setting".into(),
        json!({"Type": "Fail", "Error": "Restoreplan.UnknownSetting", "Cause": "a setting kind this state machine does not know"}),
    );
    let mut selector = json!({"change.$": "$$.Map.Item.Value"});
    if shape.assume {
        selector["credentials.$"] = json!("$.task.spec.credentials");
    }
    if records {
        selector["run.$"] = json!("$.run");
        selector["table.$"] = json!("$.table");
        selector["rid.$"] = json!("$.task.spec.id");
    }
    states.insert(
        "Settings".into(),
        json!({
            "Type": "Map",
            "ItemsPath": "$.task.spec.changes",
            "ItemSelector": selector,
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Setting kind",
                "States": inner
            },
            "ResultPath": null,
            "Next": "Verify?",
            "Catch": fail_catch("Failed")
        }),
    );
}

/// `verify.items` (a `Scan` with `Select=COUNT`, page by page) and
/// `verify.keys` (`GetItem` each).
fn verify_states(shape: &Shape, states: &mut Map<String, Value>) {
    let mut choices = Vec::new();
    if shape.counts {
        choices.push(json!({"Variable": "$.task.spec.verify_items", "IsPresent": true, "Next": "Count start"}));
    }
    if shape.keys {
        choices.push(
            json!({"Variable": "$.task.spec.verify_keys", "IsPresent": true, "Next": "Keys"}),
        );
    }
    if choices.is_empty() {
        states.insert("Verify?".into(), json!({"Type": "Pass", "Next": "Done"}));
        return;
    }
    states.insert(
        "Verify?".into(),
        json!({"Type": "Choice", "Choices": choices, "Default": "Done"}),
    );
    let creds = shape
        .assume
        .then(|| json!({"RoleArn.$": "$.task.spec.credentials"}));
    // AWS Backup restore jobs get the verification's result
    // (PutRestoreValidationResult), as AWS Backup restore testing records it.
    let report = shape
        .restore_kinds
        .values()
        .any(|c| c.action.starts_with("backup:"));
    let (passed, failed) = if report {
        ("Verified", "Verification failed")
    } else {
        ("Done", "Failed")
    };
    let after_count = if shape.keys { "Keys?" } else { passed };
    if shape.counts {
        states.insert(
            "Count start".into(),
            json!({"Type": "Pass", "Result": {"n": 0}, "ResultPath": "$.count", "Next": "Count first page"}),
        );
        states.insert(
            "Count first page".into(),
            with_credentials(
                task(
                    "dynamodb:scan",
                    json!({"TableName.$": "$.task.spec.table", "Select": "COUNT"}),
                    json!({"ResultPath": "$.page", "Next": "Count add", "Catch": fail_catch(failed)}),
                ),
                creds.clone(),
            ),
        );
        states.insert(
            "Count next page".into(),
            with_credentials(
                task(
                    "dynamodb:scan",
                    json!({"TableName.$": "$.task.spec.table", "Select": "COUNT", "ExclusiveStartKey.$": "$.page.LastEvaluatedKey"}),
                    json!({"ResultPath": "$.page", "Next": "Count add", "Catch": fail_catch(failed)}),
                ),
                creds.clone(),
            ),
        );
        states.insert(
            "Count add".into(),
            json!({"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.count.n, $.page.Count)"}, "ResultPath": "$.count", "Next": "More pages?"}),
        );
        states.insert(
            "More pages?".into(),
            json!({"Type": "Choice", "Choices": [{"Variable": "$.page.LastEvaluatedKey", "IsPresent": true, "Next": "Count next page"}], "Default": "Count within bounds?"}),
        );
        states.insert(
            "Count within bounds?".into(),
            json!({"Type": "Choice", "Choices": [
                {"Or": [
                    {"Variable": "$.count.n", "NumericLessThanPath": "$.task.spec.verify_items.min"},
                    {"Variable": "$.count.n", "NumericGreaterThanPath": "$.task.spec.verify_items.max"}
                ], "Next": "Count out of bounds"}
            ], "Default": after_count}),
        );
        states.insert(
            "Count out of bounds".into(),
            json!({"Type": "Pass", "Parameters": {"Error": "Restoreplan.VerifyItems", "Cause.$": "States.Format('{} items, expected {} to {}', $.count.n, $.task.spec.verify_items.min, $.task.spec.verify_items.max)"}, "ResultPath": "$.error", "Next": failed}),
        );
    }
    if shape.keys {
        if shape.counts {
            states.insert(
                "Keys?".into(),
                json!({"Type": "Choice", "Choices": [{"Variable": "$.task.spec.verify_keys", "IsPresent": true, "Next": "Keys"}], "Default": passed}),
            );
        }
        let mut selector = json!({"key.$": "$$.Map.Item.Value", "table.$": "$.task.spec.table"});
        let mut get = task(
            "dynamodb:getItem",
            json!({"TableName.$": "$.table", "Key.$": "$.key", "ConsistentRead": true}),
            json!({"ResultPath": "$.got", "Next": "Key found?"}),
        );
        if shape.assume {
            selector["credentials.$"] = json!("$.task.spec.credentials");
            get["Credentials"] = json!({"RoleArn.$": "$.credentials"});
        }
        states.insert(
            "Keys".into(),
            json!({
                "Type": "Map",
                "ItemsPath": "$.task.spec.verify_keys",
                "ItemSelector": selector,
                "MaxConcurrency": 4,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Get key",
                    "States": {
                        "Get key": get,
                        "Key found?": {"Type": "Choice", "Choices": [{"Variable": "$.got.Item", "IsPresent": true, "Next": "Key present"}], "Default": "Key missing"},
                        "Key present": {"Type": "Succeed"},
                        "Key missing": {"Type": "Fail", "Error": "Restoreplan.VerifyKeyMissing", "Cause": "an item of verify.keys is not in the restored table"}
                    }
                },
                "ResultPath": null,
                "Next": passed,
                "Catch": fail_catch(failed)
            }),
        );
    }
    if report {
        let creds = shape.assume.then_some("$.task.spec.credentials");
        let result = |status: &str, message: Value, next: &str, catch_to: &str| {
            with_credentials(
                task(
                    "backup:putRestoreValidationResult",
                    json!({"RestoreJobId.$": "$.started.job", "ValidationStatus": status, "ValidationStatusMessage.$": message}),
                    json!({"ResultPath": null, "Next": next, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.report_error", "Next": catch_to}]}),
                ),
                creds.map(|c| json!({"RoleArn.$": c})),
            )
        };
        states.insert(
            "Verified".into(),
            json!({"Type": "Choice", "Choices": [{"Variable": "$.started.job", "IsPresent": true, "Next": "Report verified"}], "Default": "Done"}),
        );
        states.insert(
            "Report verified".into(),
            result(
                "SUCCESSFUL",
                json!(
                    "States.Format('restoreplan: every check of restore {} passed', $.task.spec.id)"
                ),
                "Done",
                "Done",
            ),
        );
        states.insert(
            "Verification failed".into(),
            json!({"Type": "Choice", "Choices": [{"Variable": "$.started.job", "IsPresent": true, "Next": "Report failed verification"}], "Default": "Failed"}),
        );
        states.insert(
            "Report failed verification".into(),
            result(
                "FAILED",
                json!("States.JsonToString($.error)"),
                "Failed",
                "Failed",
            ),
        );
    }
}

/// Marks the restore `outcome` and counts down the run; then releases
/// its dependents (`doom`: they are skipped when they come up).
fn outcome_states(shape: &Shape, states: &mut Map<String, Value>) {
    let update = |expr: &str, values: Value, key: Value, next: &str| {
        task(
            "dynamodb:updateItem",
            json!({"TableName.$": "$.table", "Key": key, "UpdateExpression": expr, "ExpressionAttributeValues": values}),
            json!({"ResultPath": null, "Next": next}),
        )
    };
    states.insert(
        "Done".into(),
        update(
            "SET st = :st, t1 = :t",
            json!({":st": {"S": "DONE"}, ":t": {"S.$": "$$.State.EnteredTime"}}),
            restore_key(),
            "Count down",
        ),
    );
    states.insert(
        "Count down".into(),
        update(
            "ADD remaining :m1",
            json!({":m1": {"N": "-1"}}),
            run_key(),
            "Release dependents",
        ),
    );
    states.insert(
        "Failed".into(),
        task(
            "dynamodb:updateItem",
            json!({
                "TableName.$": "$.table",
                "Key": restore_key(),
                "UpdateExpression": "SET st = :st, failure = :e, t1 = :t",
                "ExpressionAttributeValues": {":st": {"S": "FAILED"}, ":e": {"S.$": "States.JsonToString($.error)"}, ":t": {"S.$": "$$.State.EnteredTime"}}
            }),
            json!({"ResultPath": null, "Next": "Count down failed"}),
        ),
    );
    let (expr, values) = match shape.on_failure {
        OnFailure::Continue => (
            "ADD remaining :m1, failed :one",
            json!({":m1": {"N": "-1"}, ":one": {"N": "1"}}),
        ),
        OnFailure::Stop => (
            "SET stopped = :t ADD remaining :m1, failed :one",
            json!({":m1": {"N": "-1"}, ":one": {"N": "1"}, ":t": {"BOOL": true}}),
        ),
    };
    states.insert(
        "Count down failed".into(),
        update(expr, values, run_key(), "Doom dependents"),
    );
    states.insert(
        "Skipped".into(),
        update(
            "SET st = :st, t1 = :t",
            json!({":st": {"S": "SKIPPED"}, ":t": {"S.$": "$$.State.EnteredTime"}}),
            restore_key(),
            "Count down skipped",
        ),
    );
    states.insert(
        "Count down skipped".into(),
        update(
            "ADD remaining :m1",
            json!({":m1": {"N": "-1"}}),
            run_key(),
            "Doom dependents",
        ),
    );
    for (name, doom, p) in [
        ("Release dependents", false, "Release"),
        ("Doom dependents", true, "Doom"),
    ] {
        // State names are unique across the whole machine, Map processors included.
        let n = |s: &str| format!("{p}: {s}");
        let (expr, values) = if doom {
            (
                "SET doomed = :t ADD deps :m1",
                json!({":m1": {"N": "-1"}, ":t": {"BOOL": true}}),
            )
        } else {
            ("ADD deps :m1", json!({":m1": {"N": "-1"}}))
        };
        states.insert(
            name.into(),
            json!({
                "Type": "Map",
                "ItemsPath": "$.task.spec.dependents",
                "ItemSelector": {"id.$": "$$.Map.Item.Value", "run.$": "$.run", "table.$": "$.table"},
                "MaxConcurrency": 10,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": n("Count down dependency"),
                    "States": {
                        n("Count down dependency"): task(
                            "dynamodb:updateItem",
                            json!({
                                "TableName.$": "$.table",
                                "Key": key(json!({"S.$": "$.id"})),
                                "UpdateExpression": expr,
                                "ExpressionAttributeValues": values,
                                "ReturnValues": "ALL_NEW"
                            }),
                            json!({"ResultSelector": {"deps.$": "$.Attributes.deps.N"}, "ResultPath": "$.left", "Next": n("Last dependency?")}),
                        ),
                        n("Last dependency?"): {"Type": "Choice", "Choices": [{"Variable": "$.left.deps", "StringEquals": "0", "Next": n("Make ready")}], "Default": n("Still waiting")},
                        n("Make ready"): task(
                            "dynamodb:updateItem",
                            json!({
                                "TableName.$": "$.table",
                                "Key": key(json!({"S.$": "$.id"})),
                                "UpdateExpression": "SET st = :ready, rk = rkv",
                                "ConditionExpression": "st = :waiting",
                                "ExpressionAttributeValues": {":ready": {"S": "READY"}, ":waiting": {"S": "WAITING"}}
                            }),
                            json!({
                                "ResultPath": null,
                                "End": true,
                                "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"], "ResultPath": null, "Next": n("Still waiting")}]
                            }),
                        ),
                        n("Still waiting"): {"Type": "Succeed"}
                    }
                },
                "ResultPath": null,
                "Next": "Next restore"
            }),
        );
    }
    states.insert(
        "Next restore".into(),
        json!({"Type": "Pass", "Result": {"n": 0}, "ResultPath": "$.idle", "Next": "Find ready"}),
    );
}

/// The loop of one worker lane.
fn lane(shape: &Shape) -> Value {
    let mut states = Map::new();
    let bound = !shape.bound.is_empty();
    let mut start = json!({
        "Type": "Pass",
        "Parameters": {
            "run.$": "$.run",
            "table.$": "$.table",
            "lane.$": "$.lane",
            "idle": {"n": 0},
            "tables": {"poll": poll_waits(), "first": first_waits(), "idle": idle_waits()}
        },
        "Next": "Find ready"
    });
    let mut query = json!({
        "TableName.$": "$.table",
        "IndexName": READY_INDEX,
        "KeyConditionExpression": "#run = :run",
        "ExpressionAttributeNames": {"#run": "run"},
        "ExpressionAttributeValues": {":run": {"S.$": "$.run"}},
        "Limit": 1
    });
    if bound {
        // A lane bound to an account claims only that account's restores:
        // their ranks begin with the account.
        start["Parameters"]["group.$"] = json!("$.group");
        start["Parameters"]["slot.$"] = json!("$.slot");
        query["KeyConditionExpression"] = json!("#run = :run AND begins_with(rk, :group)");
        query["ExpressionAttributeValues"][":group"] = json!({"S.$": "$.group"});
    }
    states.insert("Start lane".into(), start);
    states.insert(
        "Find ready".into(),
        task(
            "dynamodb:query",
            query,
            json!({"ResultSelector": {"items.$": "$.Items", "lost": false}, "ResultPath": "$.found", "Next": "Any ready?"}),
        ),
    );
    states.insert(
        "Any ready?".into(),
        json!({"Type": "Choice", "Choices": [{"Variable": "$.found.items[0]", "IsPresent": true, "Next": "Claim"}], "Default": "Run state"}),
    );
    states.insert(
        "Claim".into(),
        task(
            "dynamodb:transactWriteItems",
            json!({"TransactItems": [
                {"ConditionCheck": {
                    "TableName.$": "$.table",
                    "Key": run_key(),
                    "ConditionExpression": "stopped = :f",
                    "ExpressionAttributeValues": {":f": {"BOOL": false}}
                }},
                {"Update": {
                    "TableName.$": "$.table",
                    "Key": key(json!({"S.$": "$.found.items[0].id.S"})),
                    "UpdateExpression": "SET st = :running, lane = :lane, t0 = :t REMOVE rk",
                    "ConditionExpression": "st = :ready",
                    "ExpressionAttributeValues": {
                        ":running": {"S": "RUNNING"},
                        ":ready": {"S": "READY"},
                        ":t": {"S.$": "$$.State.EnteredTime"},
                        ":lane": {"N.$": "States.Format('{}', $.lane)"}
                    }
                }}
            ]}),
            json!({
                "ResultPath": null,
                "Next": "Load",
                "Catch": [{"ErrorEquals": ["DynamoDb.TransactionCanceledException"], "ResultPath": "$.lost", "Next": "Lost the claim"}]
            }),
        ),
    );
    states.insert(
        "Load".into(),
        task(
            "dynamodb:getItem",
            json!({"TableName.$": "$.table", "Key": key(json!({"S.$": "$.found.items[0].id.S"})), "ConsistentRead": true}),
            json!({
                "ResultSelector": {"spec.$": "States.StringToJson($.Item.spec.S)", "doomed.$": "$.Item.doomed.BOOL"},
                "ResultPath": "$.task",
                "Next": "Doomed?"
            }),
        ),
    );
    let after_doom = if shape.copies {
        "Copy?"
    } else {
        "Restore kind"
    };
    states.insert(
        "Doomed?".into(),
        json!({"Type": "Choice", "Choices": [{"Variable": "$.task.doomed", "BooleanEquals": true, "Next": "Skipped"}], "Default": after_doom}),
    );
    if shape.copies {
        copy_states(shape, &mut states);
    }
    restore_states(shape, &mut states);
    settings_states(shape, &mut states);
    verify_states(shape, &mut states);
    outcome_states(shape, &mut states);
    // Nothing claimable: another lane won the race, the run is over, or
    // every open restore waits for one in flight. A lane whose number (in
    // its account, for lanes bound to accounts) is at least the number of
    // restores not yet done ends: the lanes below it are enough for every
    // restore that can still run at once.
    states.insert(
        "Lost the claim".into(),
        json!({"Type": "Pass", "Result": true, "ResultPath": "$.found.lost", "Next": "Run state"}),
    );
    states.insert(
        "Run state".into(),
        task(
            "dynamodb:getItem",
            json!({"TableName.$": "$.table", "Key": run_key(), "ConsistentRead": true}),
            json!({
                "ResultSelector": {"stopped.$": "$.Item.stopped.BOOL", "remaining.$": "States.StringToJson($.Item.remaining.N)"},
                "ResultPath": "$.meta",
                "Next": "Run over?"
            }),
        ),
    );
    let last_idle = idle_waits().len() - 1;
    let slot = if bound { "$.slot" } else { "$.lane" };
    states.insert(
        "Run over?".into(),
        json!({"Type": "Choice", "Choices": [
            {"Variable": "$.meta.stopped", "BooleanEquals": true, "Next": "Lane done"},
            {"Variable": "$.meta.remaining", "NumericEquals": 0, "Next": "Lane done"},
            {"Variable": slot, "NumericGreaterThanEqualsPath": "$.meta.remaining", "Next": "Lane done"},
            {"Variable": "$.found.lost", "BooleanEquals": true, "Next": "Find ready"},
            {"Variable": "$.idle.n", "NumericGreaterThanEquals": last_idle, "Next": "Idle again"}
        ], "Default": "Idle longer"}),
    );
    // The wait grows with each idle look in a row, up to the table's last.
    states.insert(
        "Idle longer".into(),
        json!({"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.idle.n, 1)", "s.$": "States.ArrayGetItem($.tables.idle, $.idle.n)"}, "ResultPath": "$.idle", "Next": "Idle wait"}),
    );
    states.insert(
        "Idle again".into(),
        json!({"Type": "Pass", "Parameters": {"n.$": "$.idle.n", "s.$": "States.ArrayGetItem($.tables.idle, $.idle.n)"}, "ResultPath": "$.idle", "Next": "Idle wait"}),
    );
    states.insert(
        "Idle wait".into(),
        json!({"Type": "Wait", "SecondsPath": "$.idle.s", "Next": "Find ready"}),
    );
    states.insert("Lane done".into(), json!({"Type": "Succeed"}));
    json!({"StartAt": "Start lane", "States": states})
}

/// The whole definition for a plan of `shape`.
pub(crate) fn definition(shape: &Shape) -> Value {
    let mut processor = lane(shape);
    processor["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    let (lanes, selector) = if shape.bound.is_empty() {
        let lanes: Vec<u32> = (0..shape.lanes).collect();
        (
            json!(lanes),
            json!({"lane.$": "$$.Map.Item.Value", "run.$": "$.run", "table.$": "$.table"}),
        )
    } else {
        let mut lanes = Vec::new();
        for (account, k) in &shape.bound {
            for slot in 0..*k {
                lanes.push(
                    json!({"lane": lanes.len(), "slot": slot, "group": format!("{account}#")}),
                );
            }
        }
        (
            Value::Array(lanes),
            json!({"lane.$": "$$.Map.Item.Value.lane", "slot.$": "$$.Map.Item.Value.slot", "group.$": "$$.Map.Item.Value.group", "run.$": "$.run", "table.$": "$.table"}),
        )
    };
    json!({
        "Comment": "restoreplan: worker lanes over the run's coordination table (docs/step-functions.md)",
        "StartAt": "Prepare",
        "States": {
            "Prepare": {
                "Type": "Pass",
                "Parameters": {"run.$": "$$.Execution.Name", "table.$": "$.table", "lanes": lanes},
                "Next": "Lanes"
            },
            "Lanes": {
                "Type": "Map",
                "ItemsPath": "$.lanes",
                "ItemSelector": selector,
                "MaxConcurrency": shape.lanes,
                "ItemProcessor": processor,
                "ResultPath": null,
                "Next": "Outcome"
            },
            "Outcome": task(
                "dynamodb:getItem",
                json!({"TableName.$": "$.table", "Key": run_key(), "ConsistentRead": true}),
                json!({
                    "ResultSelector": {"failed.$": "$.Item.failed.N", "remaining.$": "$.Item.remaining.N", "total.$": "$.Item.total.N"},
                    "ResultPath": "$.outcome",
                    "Next": "All restored?"
                }),
            ),
            "All restored?": {
                "Type": "Choice",
                "Choices": [{"And": [
                    {"Variable": "$.outcome.failed", "StringEquals": "0"},
                    {"Variable": "$.outcome.remaining", "StringEquals": "0"}
                ], "Next": "Restored"}],
                "Default": "Not all restored"
            },
            "Restored": {"Type": "Succeed"},
            // Not a Fail state: a redrive goes on from the state that failed,
            // and a Fail state fails again. This task fails the execution
            // while restores are failed (`DynamoDb.ConditionalCheckFailedException`);
            // redriven after `apply --resume` put the failed and skipped
            // restores back (`failed` is 0 again), it passes and the lanes
            // run once more (docs/step-functions.md, "Redrive").
            "Not all restored": task(
                "dynamodb:updateItem",
                json!({
                    "TableName.$": "$.table",
                    "Key": run_key(),
                    "UpdateExpression": "ADD rounds :one",
                    "ConditionExpression": "failed = :zero",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}
                }),
                json!({"ResultPath": null, "Next": "Lanes"}),
            )
        }
    })
}
