//! The least-privilege IAM policies of an exported state machine and the
//! CloudFormation template that creates it. Pure.
//!
//! Only the actions the plan's calls use appear, each on the resources it
//! touches: the recovery points, backups and original tables it restores
//! from, the tables it creates, the keys it encrypts with, the roles it
//! passes to AWS Backup, and the run's coordination table.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Options, READY_INDEX, Shape};
use crate::cloud::{RestoreRequest, SseRequest};
use crate::exec::spec::RestoreSpec;

/// Actions AWS requires of the caller on the table a DynamoDB restore
/// creates (it writes the restored items as that caller).
const NATIVE_TARGET_ACTIONS: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
];

/// Actions DynamoDB needs on a customer-managed key to create a table with it.
const KEY_ACTIONS: &[&str] = &[
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
];

/// Statements collected action by action: each action's resources.
#[derive(Default)]
struct Grants(BTreeMap<String, BTreeSet<String>>);

impl Grants {
    fn allow(&mut self, action: &str, resource: impl Into<String>) {
        self.0
            .entry(action.to_owned())
            .or_default()
            .insert(resource.into());
    }

    /// One statement per distinct set of resources, actions sorted.
    fn statements(self) -> Vec<Value> {
        let mut by_resources: BTreeMap<BTreeSet<String>, BTreeSet<String>> = BTreeMap::new();
        for (action, resources) in self.0 {
            by_resources.entry(resources).or_default().insert(action);
        }
        by_resources
            .into_iter()
            .map(|(resources, actions)| {
                json!({
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resources,
                })
            })
            .collect()
    }
}

fn table_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
}

/// What the restores of one account need.
fn restore_grants(specs: &[&RestoreSpec], shape: &Shape, grants: &mut Grants) {
    for s in specs {
        let target = table_arn(
            s.target.region.as_str(),
            s.target.account.as_str(),
            &s.target_name,
        );
        match &s.request {
            RestoreRequest::StartRestoreJob {
                recovery_point_arn,
                iam_role_arn,
                ..
            } => {
                // A copy's recovery point gets its ARN when the copy
                // completes: any recovery point of the target account and
                // Region (recovery point ARNs do not name their vault).
                let point = if s.copy.is_some() {
                    format!(
                        "arn:aws:backup:{}:{}:recovery-point:*",
                        s.target.region, s.target.account
                    )
                } else {
                    recovery_point_arn.clone()
                };
                grants.allow("backup:StartRestoreJob", point);
                grants.allow("backup:DescribeRestoreJob", "*");
                grants.allow("iam:PassRole", iam_role_arn.clone());
            }
            RestoreRequest::RestoreTableFromBackup { backup_arn, .. } => {
                grants.allow("dynamodb:RestoreTableFromBackup", backup_arn.clone());
                grants.allow("dynamodb:RestoreTableFromBackup", target.clone());
                for a in NATIVE_TARGET_ACTIONS {
                    grants.allow(a, target.clone());
                }
                grants.allow("dynamodb:DescribeTable", target.clone());
            }
            RestoreRequest::RestoreTableToPointInTime {
                source_table_arn, ..
            } => {
                grants.allow(
                    "dynamodb:RestoreTableToPointInTime",
                    source_table_arn.clone(),
                );
                grants.allow("dynamodb:RestoreTableToPointInTime", target.clone());
                for a in NATIVE_TARGET_ACTIONS {
                    grants.allow(a, target.clone());
                }
                grants.allow("dynamodb:DescribeTable", target.clone());
            }
        }
        if let SseRequest::Customer { key_arn } = s.request.sse() {
            for a in KEY_ACTIONS {
                grants.allow(a, key_arn.clone());
            }
        }
        // Only the kinds of call matter here; the run's tags ride in the
        // leading TagResource whatever the run is.
        for c in &s.changes_for_run("", "") {
            let call = super::items::change_call(c, &s.target_name, &target);
            grants.allow(call.iam_action, target.clone());
        }
        if let Some(v) = &s.expect.data {
            if matches!(s.request, RestoreRequest::StartRestoreJob { .. })
                && (v.items.is_some() || !v.keys.is_empty())
            {
                // It takes no resource-level permissions.
                grants.allow("backup:PutRestoreValidationResult", "*");
            }
            if shape.counts && v.items.is_some() {
                grants.allow("dynamodb:Scan", target.clone());
            }
            if shape.keys && !v.keys.is_empty() {
                grants.allow("dynamodb:GetItem", target.clone());
            }
        }
    }
}

/// What the copy steps of one source account need: `StartCopyJob` on
/// each recovery point copied, `CopyIntoBackupVault` on each destination
/// vault, `DescribeCopyJob` (it takes no resource), `iam:PassRole` on each
/// copy role, handed to AWS Backup.
fn copy_grants(specs: &[&RestoreSpec], grants: &mut Grants) {
    for c in specs.iter().filter_map(|s| s.copy.as_ref()) {
        grants.allow("backup:StartCopyJob", c.request.recovery_point_arn.clone());
        grants.allow(
            "backup:CopyIntoBackupVault",
            c.request.destination_backup_vault_arn.clone(),
        );
        grants.allow("backup:DescribeCopyJob", "*");
        grants.allow("iam:PassRole", c.request.iam_role_arn.clone());
    }
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The state machine role's policy and, when the plan spans more than one
/// target account, the task role's policy in each.
pub(crate) fn policies(
    specs: &[RestoreSpec],
    shape: &Shape,
    opts: &Options,
    home: &(String, String),
) -> (Value, BTreeMap<String, Value>) {
    let (account, region) = home;
    let mut grants = Grants::default();
    let table = table_arn(region, account, &opts.table);
    for a in [
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    ] {
        grants.allow(a, table.clone());
    }
    grants.allow("dynamodb:Query", format!("{table}/index/{READY_INDEX}"));
    // The step scaling policies' ARNs, recorded for their alarms.
    if shape
        .change_kinds
        .contains_key(super::items::STEP_POLICY_KIND)
    {
        grants.allow("dynamodb:PutItem", table.clone());
    }
    // The Distributed Map starts its lanes as child executions.
    grants.allow(
        "states:StartExecution",
        format!(
            "arn:aws:states:{region}:{account}:stateMachine:{}",
            opts.name
        ),
    );
    for a in [
        "states:DescribeExecution",
        "states:StopExecution",
        "states:RedriveExecution",
    ] {
        grants.allow(
            a,
            format!(
                "arn:aws:states:{region}:{account}:execution:{}/*",
                opts.name
            ),
        );
    }
    grants.allow(
        "states:DescribeMapRun",
        format!("arn:aws:states:{region}:{account}:mapRun:{}/*", opts.name),
    );
    // Each account's task role, when tasks assume one there: the target
    // accounts of a plan across accounts, the source accounts of copies
    // from another account than the state machine's.
    let mut task_grants: BTreeMap<String, Grants> = BTreeMap::new();
    if shape.assume {
        let mut by_account: BTreeMap<String, Vec<&RestoreSpec>> = BTreeMap::new();
        for s in specs {
            by_account
                .entry(s.target.account.to_string())
                .or_default()
                .push(s);
        }
        for (acct, list) in by_account {
            restore_grants(&list, shape, task_grants.entry(acct).or_default());
        }
    } else {
        let all: Vec<&RestoreSpec> = specs.iter().collect();
        restore_grants(&all, shape, &mut grants);
    }
    if shape.copy_assume {
        let mut by_account: BTreeMap<String, Vec<&RestoreSpec>> = BTreeMap::new();
        for s in specs {
            if let Some(c) = &s.copy {
                by_account
                    .entry(c.scope.account.to_string())
                    .or_default()
                    .push(s);
            }
        }
        for (acct, list) in by_account {
            copy_grants(&list, task_grants.entry(acct).or_default());
        }
    } else {
        let all: Vec<&RestoreSpec> = specs.iter().collect();
        copy_grants(&all, &mut grants);
    }
    let mut tasks = BTreeMap::new();
    for (acct, g) in task_grants {
        grants.allow(
            "sts:AssumeRole",
            format!("arn:aws:iam::{acct}:role/{}", opts.task_role_name),
        );
        tasks.insert(acct, document(g.statements()));
    }
    (document(grants.statements()), tasks)
}

/// The role's name and path from its ARN (`arn:aws:iam::A:role/PATH/NAME`).
fn role_name_and_path(arn: &str) -> Option<(String, String)> {
    let rest = arn.split_once(":role/")?.1;
    match rest.rsplit_once('/') {
        Some((path, name)) => Some((name.to_owned(), format!("/{path}/"))),
        None => Some((rest.to_owned(), "/".to_owned())),
    }
}

/// The CloudFormation template: the coordination table, the state
/// machine's role (and the task role in its own account for plans that
/// span accounts), and the state machine.
pub(crate) fn template(
    definition: &Value,
    policy: &Value,
    task_policies: &BTreeMap<String, Value>,
    opts: &Options,
    home: &(String, String),
) -> Value {
    let (name, path) = opts
        .role
        .as_deref()
        .and_then(role_name_and_path)
        .unwrap_or_else(|| (format!("{}-state-machine", opts.name), "/".to_owned()));
    let mut resources = serde_json::Map::new();
    resources.insert(
        "CoordinationTable".into(),
        json!({
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": opts.table,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "run", "AttributeType": "S"},
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "rk", "AttributeType": "S"}
                ],
                "KeySchema": [
                    {"AttributeName": "run", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "RANGE"}
                ],
                "GlobalSecondaryIndexes": [{
                    "IndexName": READY_INDEX,
                    "KeySchema": [
                        {"AttributeName": "run", "KeyType": "HASH"},
                        {"AttributeName": "rk", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}
            }
        }),
    );
    resources.insert(
        "StateMachineRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Path": path,
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": home.0}}
                    }]
                },
                "Policies": [{"PolicyName": "restoreplan", "PolicyDocument": policy}]
            }
        }),
    );
    if let Some(own) = task_policies.get(&home.0) {
        resources.insert(
            "TaskRole".into(),
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": opts.task_role_name,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::GetAtt": ["StateMachineRole", "Arn"]}},
                            "Action": "sts:AssumeRole"
                        }]
                    },
                    "Policies": [{"PolicyName": "restoreplan-tasks", "PolicyDocument": own}]
                }
            }),
        );
    }
    resources.insert(
        "StateMachine".into(),
        json!({
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": opts.name,
                "StateMachineType": "STANDARD",
                "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
                "DefinitionString": definition.to_string()
            }
        }),
    );
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("restoreplan: state machine {} and its run coordination table", opts.name),
        "Resources": resources,
        "Outputs": {
            "StateMachineArn": {"Value": {"Ref": "StateMachine"}},
            "CoordinationTable": {"Value": {"Ref": "CoordinationTable"}},
            "RoleArn": {"Value": {"Fn::GetAtt": ["StateMachineRole", "Arn"]}}
        }
    })
}
