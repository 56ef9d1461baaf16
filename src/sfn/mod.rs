//! The AWS Step Functions engine behind `apply --engine step-functions`
//! (docs/step-functions.md): deploys what the export describes (the
//! coordination table with the run's items, the state machine), starts
//! the execution named after the run, and follows it ([`follow`]) into the
//! same event stream, journal and report as the local engine. Redrives a
//! failed or aborted execution of a run.
//!
//! Everything sent comes from [`crate::export`]: the definition, the
//! coordination items and the table's shape are the export's, so an
//! exported machine and an applied one are the same machine.

pub mod follow;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
};
use serde_json::Value;

use crate::aws::{AwsCloud, sdk_error};
use crate::cloud::data::KeyAttribute;
use crate::cloud::{CloudError, ErrorKind, Scope};
use crate::exec::journal::EngineRun;
use crate::exec::spec::RestoreSpec;
use crate::export::{self, Export};
use crate::plan::model::Plan;

/// The engine's name in the journal and in `--engine`.
pub const ENGINE: &str = "step-functions";

/// Attempts of one deployment call that is throttled or fails on AWS's side.
const ATTEMPTS: u32 = 8;

/// Retries `call` on throttling and server errors: 1 s doubling up to
/// 20 s (times `time_scale`), [`ATTEMPTS`] attempts.
pub(crate) async fn retried<T, F, Fut>(time_scale: f64, mut call: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    let mut delay = 1.0f64;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e)
                if attempt < ATTEMPTS
                    && matches!(e.kind, ErrorKind::Throttled | ErrorKind::Transient) =>
            {
                let wait = delay * rand::random::<f64>() * time_scale;
                tokio::time::sleep(Duration::from_secs_f64(wait.max(0.001))).await;
                delay = (delay * 2.0).min(20.0);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What `deploy` needs besides the plan and its restores.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The run id: the execution's name.
    pub run_id: String,
    /// Key schemas of the tables `verify.keys` reads, by restore id.
    pub key_schemas: BTreeMap<String, Vec<KeyAttribute>>,
    /// The emulator's time scale for the engine's own waits (1 against AWS).
    pub time_scale: f64,
    /// The role the state machine runs as, over the plan's
    /// `execution.step_functions.role`.
    pub role: Option<String>,
}

/// The export of `plan` for run `opts.run_id`, with the plan's engine
/// settings; `Err` says why it cannot run on Step Functions.
pub fn exported(
    plan: &Plan,
    specs: &[RestoreSpec],
    opts: &DeployOptions,
) -> Result<(Export, export::Options), String> {
    let mut o = export::Options::of_plan(plan, &opts.run_id);
    if let Some(role) = &opts.role {
        if !crate::plan::engine::valid_role_arn(role) {
            return Err(format!(
                "--state-machine-role `{role}` is not an IAM role ARN"
            ));
        }
        o.role = Some(role.clone());
    }
    if o.role.is_none() {
        return Err(
            "the Step Functions engine needs the role the state machine runs as: `execution.step_functions.role` in the plan, or --state-machine-role ARN (docs/step-functions.md; `restoreplan export step-functions` writes its policy)"
                .to_owned(),
        );
    }
    o.key_schemas = opts.key_schemas.clone();
    let e = export::step_functions(plan, specs, &o)?;
    Ok((e, o))
}

/// Where the state machine of an export lives: the plan's first target.
pub fn home(specs: &[RestoreSpec]) -> Result<Scope, String> {
    specs
        .first()
        .map(|s| s.target.clone())
        .ok_or_else(|| "the plan has no restores".to_owned())
}

/// Creates or updates the state machine, creates the coordination table
/// when it is missing, and writes the run's items (never over ones
/// already there). Returns where the run will live; [`start`] then starts
/// its execution (the caller journals the run in between, so a crash
/// after the start never leaves an execution the journal does not name).
pub async fn deploy(
    cloud: &AwsCloud,
    plan: &Plan,
    specs: &[RestoreSpec],
    opts: &DeployOptions,
) -> Result<EngineRun, String> {
    let (e, o) = exported(plan, specs, opts)?;
    let scope = home(specs)?;
    let ts = opts.time_scale;
    let ddb = cloud
        .dynamodb_client(&scope)
        .await
        .map_err(|e| e.to_string())?;
    ensure_table(&ddb, &e.template, &o.table, ts)
        .await
        .map_err(|e| format!("the coordination table `{}`: {e}", o.table))?;
    seed(&ddb, &e, &o.table, ts)
        .await
        .map_err(|e| format!("the run's items in `{}`: {e}", o.table))?;
    let sfn = cloud.sfn_client(&scope).await.map_err(|e| e.to_string())?;
    let role = o.role.clone().unwrap_or_default();
    let machine = ensure_state_machine(&sfn, &scope, &o.name, &role, &e.definition, ts)
        .await
        .map_err(|e| format!("the state machine `{}`: {e}", o.name))?;
    Ok(EngineRun {
        engine: ENGINE.to_owned(),
        execution_arn: execution_arn(&machine, &opts.run_id),
        state_machine_arn: machine,
        table: o.table,
        account: scope.account.to_string(),
        region: scope.region.to_string(),
    })
}

/// The ARN of state machine `name` in `scope`.
pub fn state_machine_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:states:{}:{}:stateMachine:{name}",
        scope.region, scope.account
    )
}

/// The ARN of execution `run` of state machine `machine`.
pub fn execution_arn(machine: &str, run: &str) -> String {
    format!(
        "{}:{run}",
        machine.replacen(":stateMachine:", ":execution:", 1)
    )
}

fn strings(v: &Value, field: &str) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some((
                d["AttributeName"].as_str()?.to_owned(),
                d[field].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn key_schema(v: &Value) -> Vec<KeySchemaElement> {
    strings(v, "KeyType")
        .into_iter()
        .filter_map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .ok()
        })
        .collect()
}

/// Creates the coordination table as the export's template describes it,
/// unless it exists; waits until it is ACTIVE.
async fn ensure_table(
    ddb: &aws_sdk_dynamodb::Client,
    template: &Value,
    table: &str,
    ts: f64,
) -> Result<(), CloudError> {
    let props = &template["Resources"]["CoordinationTable"]["Properties"];
    let describe = || async {
        match ddb.describe_table().table_name(table).send().await {
            Ok(d) => Ok(d
                .table()
                .and_then(|t| t.table_status())
                .map(|s| s.as_str().to_owned())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_error("DescribeTable", e)),
        }
    };
    if retried(ts, describe).await?.is_none() {
        let mut req = ddb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&props["KeySchema"])));
        for (name, kind) in strings(&props["AttributeDefinitions"], "AttributeType") {
            if let Ok(d) = AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
            {
                req = req.attribute_definitions(d);
            }
        }
        for g in props["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let projection = Projection::builder()
                .projection_type(ProjectionType::from(
                    g["Projection"]["ProjectionType"]
                        .as_str()
                        .unwrap_or("KEYS_ONLY"),
                ))
                .build();
            if let Ok(index) = GlobalSecondaryIndex::builder()
                .index_name(g["IndexName"].as_str().unwrap_or_default())
                .set_key_schema(Some(key_schema(&g["KeySchema"])))
                .projection(projection)
                .build()
            {
                req = req.global_secondary_indexes(index);
            }
        }
        let created = retried(ts, || async {
            req.clone()
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("CreateTable", e))
        })
        .await;
        match created {
            Ok(()) => {}
            // Another apply created it meanwhile.
            Err(e) if e.code == "ResourceInUseException" => {}
            Err(e) => return Err(e),
        }
    }
    for _ in 0..600 {
        if retried(ts, describe).await?.as_deref() == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_secs_f64((2.0 * ts).max(0.05))).await;
    }
    if props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| {
                CloudError::new(
                    ErrorKind::Invalid,
                    "UpdateContinuousBackups",
                    "Build",
                    e.to_string(),
                )
            })?;
        retried(ts, || async {
            ddb.update_continuous_backups()
                .table_name(table)
                .point_in_time_recovery_specification(spec.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("UpdateContinuousBackups", e))
        })
        .await?;
    }
    Ok(())
}

/// DynamoDB JSON (`{"S": "x"}`) as an SDK attribute value.
fn attribute(v: &Value) -> Option<AttributeValue> {
    let (k, inner) = v.as_object()?.iter().next()?;
    Some(match k.as_str() {
        "S" => AttributeValue::S(inner.as_str()?.to_owned()),
        "N" => AttributeValue::N(inner.as_str()?.to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        _ => return None,
    })
}

/// Writes each coordination item of the export unless the run already has
/// it: a second deployment of the same run never resets its progress.
async fn seed(
    ddb: &aws_sdk_dynamodb::Client,
    e: &Export,
    table: &str,
    ts: f64,
) -> Result<(), CloudError> {
    for file in &e.seed {
        for put in file[table].as_array().into_iter().flatten() {
            let item: HashMap<String, AttributeValue> = put["PutRequest"]["Item"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), attribute(v)?)))
                .collect();
            let out = retried(ts, || async {
                ddb.put_item()
                    .table_name(table)
                    .set_item(Some(item.clone()))
                    .condition_expression("attribute_not_exists(id)")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("PutItem", e))
            })
            .await;
            match out {
                Ok(()) => {}
                Err(e) if e.code == "ConditionalCheckFailedException" => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Creates state machine `name`, or updates its definition and role.
async fn ensure_state_machine(
    sfn: &aws_sdk_sfn::Client,
    scope: &Scope,
    name: &str,
    role: &str,
    definition: &Value,
    ts: f64,
) -> Result<String, CloudError> {
    let arn = state_machine_arn(scope, name);
    let text = definition.to_string();
    let existing = retried(ts, || async {
        match sfn
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_state_machine_does_not_exist()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_error("DescribeStateMachine", e)),
        }
    })
    .await?;
    match existing {
        Some(d) if d.definition() == text && d.role_arn() == role => Ok(arn),
        Some(_) => {
            retried(ts, || async {
                sfn.update_state_machine()
                    .state_machine_arn(&arn)
                    .definition(&text)
                    .role_arn(role)
                    .send()
                    .await
                    .map(|_| arn.clone())
                    .map_err(|e| sdk_error("UpdateStateMachine", e))
            })
            .await
        }
        None => {
            retried(ts, || async {
                sfn.create_state_machine()
                    .name(name)
                    .definition(&text)
                    .role_arn(role)
                    .r#type(aws_sdk_sfn::types::StateMachineType::Standard)
                    .send()
                    .await
                    .map(|o| o.state_machine_arn().to_owned())
                    .map_err(|e| sdk_error("CreateStateMachine", e))
            })
            .await
        }
    }
}

/// Starts the execution of `run` (named after the run, with the export's
/// input), or finds it started by an earlier attempt.
pub async fn start(cloud: &AwsCloud, run: &EngineRun, ts: f64) -> Result<(), String> {
    let sfn = cloud
        .sfn_client(&run_scope(run)?)
        .await
        .map_err(|e| e.to_string())?;
    let name = run
        .execution_arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let input = serde_json::json!({"table": run.table});
    start_execution(&sfn, &run.state_machine_arn, &name, &input, ts)
        .await
        .map(|_| ())
        .map_err(|e| format!("the execution `{name}`: {e}"))
}

async fn start_execution(
    sfn: &aws_sdk_sfn::Client,
    machine: &str,
    run: &str,
    input: &Value,
    ts: f64,
) -> Result<String, CloudError> {
    let out = retried(ts, || async {
        sfn.start_execution()
            .state_machine_arn(machine)
            .name(run)
            .input(input.to_string())
            .send()
            .await
            .map(|o| o.execution_arn().to_owned())
            .map_err(|e| sdk_error("StartExecution", e))
    })
    .await;
    match out {
        Err(e) if e.code == "ExecutionAlreadyExists" => Ok(execution_arn(machine, run)),
        other => other,
    }
}

/// The execution's status, as Step Functions names it (`RUNNING`, ...).
pub async fn execution_status(
    cloud: &AwsCloud,
    run: &EngineRun,
    ts: f64,
) -> Result<follow::Execution, String> {
    let sfn = cloud
        .sfn_client(&run_scope(run)?)
        .await
        .map_err(|e| e.to_string())?;
    follow::describe(&sfn, &run.execution_arn, ts)
        .await
        .map_err(|e| e.to_string())
}

/// `RedriveExecution` of the run's execution: it goes on from the states
/// that failed or were aborted; the restores it starts again carry the
/// same idempotency tokens.
pub async fn redrive(cloud: &AwsCloud, run: &EngineRun, ts: f64) -> Result<(), String> {
    let sfn = cloud
        .sfn_client(&run_scope(run)?)
        .await
        .map_err(|e| e.to_string())?;
    retried(ts, || async {
        sfn.redrive_execution()
            .execution_arn(&run.execution_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("RedriveExecution", e))
    })
    .await
    .map_err(|e| e.to_string())
}

/// The account and Region of a run's state machine.
pub fn run_scope(run: &EngineRun) -> Result<Scope, String> {
    Ok(Scope {
        account: crate::plan::model::AccountId::parse(&run.account)
            .ok_or_else(|| format!("`{}` is not an account id", run.account))?,
        region: crate::plan::model::Region::parse(&run.region)
            .ok_or_else(|| format!("`{}` is not a Region", run.region))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_follow_the_machine() {
        let scope = Scope {
            account: crate::plan::model::AccountId::parse("444455556666").unwrap(),
            region: crate::plan::model::Region::parse("eu-west-1").unwrap(),
        };
        let m = state_machine_arn(&scope, "restoreplan-shop");
        assert_eq!(
            m,
            "arn:aws:states:eu-west-1:444455556666:stateMachine:restoreplan-shop"
        );
        assert_eq!(
            execution_arn(&m, "shop-20261124T083000Z-0001"),
            "arn:aws:states:eu-west-1:444455556666:execution:restoreplan-shop:shop-20261124T083000Z-0001"
        );
    }

    #[test]
    fn the_engine_record_round_trips_and_sets_the_run_state() {
        let run = EngineRun {
            engine: ENGINE.into(),
            state_machine_arn: "arn:aws:states:us-east-1:444455556666:stateMachine:m".into(),
            execution_arn: "arn:aws:states:us-east-1:444455556666:execution:m:r".into(),
            table: "m-runs".into(),
            account: "444455556666".into(),
            region: "us-east-1".into(),
        };
        let at = "2026-11-24T08:30:00Z".parse().unwrap();
        let rec = crate::exec::journal::Record::Engine {
            run: run.clone(),
            at,
        };
        let line = serde_json::to_value(&rec).unwrap();
        assert_eq!(line["record"], "engine");
        assert_eq!(line["execution_arn"], run.execution_arn.as_str());
        let back: crate::exec::journal::Record = serde_json::from_value(line).unwrap();
        assert_eq!(back, rec);
        assert_eq!(run_scope(&run).unwrap().account.to_string(), "444455556666");
    }

    #[test]
    fn seed_values_become_attributes() {
        assert_eq!(
            attribute(&serde_json::json!({"S": "x"})),
            Some(AttributeValue::S("x".into()))
        );
        assert_eq!(
            attribute(&serde_json::json!({"N": "3"})),
            Some(AttributeValue::N("3".into()))
        );
        assert_eq!(
            attribute(&serde_json::json!({"BOOL": false})),
            Some(AttributeValue::Bool(false))
        );
        assert_eq!(attribute(&serde_json::json!({"L": []})), None);
    }
}
