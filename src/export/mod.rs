//! `restoreplan export step-functions`: the plan as an AWS Step Functions
//! state machine, with the IAM policy its role needs, a CloudFormation
//! template, and the coordination items a run starts from. Pure: the
//! caller resolves the plan (live, as `plan` does) into
//! [`RestoreSpec`]s, the same requests and change lists the local engine
//! sends.
//!
//! The design (docs/step-functions.md): a coordination table in DynamoDB
//! holds one item per restore (its state, how many dependencies are still
//! open, its critical-path rank, and the exact calls to make) and one item
//! for the run. A Distributed Map starts one child execution per worker
//! lane (as many as the concurrency cap, never more than 50); each lane
//! claims the ready restore of highest rank with a conditional write, runs
//! it to the end (restore, poll, after-restore settings, verification),
//! then counts down its dependents and makes those whose count reaches zero
//! ready. No lane waits for a whole level.

pub mod asl;
pub mod iam;
pub mod items;
pub mod transitions;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::cloud::data::KeyAttribute;
use crate::exec::spec::{RestoreSpec, copy_token, idempotency_token};
use crate::plan::model::{OnFailure, Plan};

/// Key of the run's own item in the coordination table.
pub const RUN_ITEM: &str = "#run";
/// Name of the coordination table's index of ready restores.
pub const READY_INDEX: &str = "ready";
/// The most lanes a state machine runs: DynamoDB's quota of concurrent
/// restores per account.
pub const MAX_LANES: u32 = crate::plan::model::Execution::PER_ACCOUNT_RESTORE_LIMIT;

/// Settings of an export.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The state machine's name.
    pub name: String,
    /// The run id (the execution's name); the idempotency tokens and the
    /// run tag are derived from it, as in the local engine.
    pub run_id: String,
    /// The coordination table's name.
    pub table: String,
    /// The role the state machine runs as (`execution.step_functions.role`);
    /// the template creates a role of this name and path.
    pub role: Option<String>,
    /// The name of the role tasks assume in each target account when the
    /// plan spans more than one.
    pub task_role_name: String,
    /// Key schemas of the tables `verify.keys` reads, by restore id; a
    /// restore without one sends every key value as a string.
    pub key_schemas: BTreeMap<String, Vec<KeyAttribute>>,
}

impl Options {
    /// The defaults for plan `plan` and run `run_id`: state machine
    /// `restoreplan-{plan}`, coordination table `restoreplan-{plan}-runs`.
    pub fn new(plan: &str, run_id: &str) -> Self {
        Self::named(&crate::plan::engine::default_name(plan), run_id)
    }

    /// The options of a plan's own engine settings
    /// (`execution.step_functions.name` and `.role` when it has them).
    pub fn of_plan(plan: &Plan, run_id: &str) -> Self {
        match &plan.header().execution.engine {
            crate::plan::engine::Engine::StepFunctions { role, name } => {
                let mut o = Self::named(name, run_id);
                o.role = role.clone();
                o
            }
            crate::plan::engine::Engine::Local => Self::new(plan.name(), run_id),
        }
    }

    /// The defaults for state machine `name`: coordination table
    /// `{name}-runs`, task role `{name}-tasks`.
    pub fn named(name: &str, run_id: &str) -> Self {
        let name = name.to_owned();
        Self {
            table: format!("{name}-runs"),
            task_role_name: format!("{name}-tasks"),
            name,
            role: None,
            run_id: run_id.to_owned(),
            key_schemas: BTreeMap::new(),
        }
    }
}

/// Everything an export writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// `state-machine.asl.json`.
    pub definition: Value,
    /// `iam-policy.json`: the state machine role's policy.
    pub policy: Value,
    /// `iam-policy-ACCOUNT.json`: the task role's policy in each target
    /// account, when the plan spans more than one.
    pub task_policies: BTreeMap<String, Value>,
    /// `template.json`: CloudFormation (coordination table, roles, state machine).
    pub template: Value,
    /// `seed/NNNN.json`: `BatchWriteItem` request files of at most 25 items.
    pub seed: Vec<Value>,
    /// `input.json`: the execution's input.
    pub input: Value,
    /// Where the state machine lives (the plan's first target).
    pub home: (String, String),
    /// Worker lanes (Distributed Map concurrency).
    pub lanes: u32,
    /// Lanes bound to each target account, when the plan's cap is above
    /// [`MAX_LANES`] and its restores span accounts (each account's lanes
    /// claim only its restores, so no account runs more than
    /// [`MAX_LANES`]); empty when every lane claims from every account.
    pub lanes_per_account: Vec<(String, u32)>,
}

/// The facts of a plan the definition and the policy are built from.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) lanes: u32,
    pub(crate) on_failure: OnFailure,
    pub(crate) assume: bool,
    pub(crate) restore_kinds: BTreeMap<String, items::TaskCall>,
    pub(crate) change_kinds: BTreeMap<String, items::TaskCall>,
    pub(crate) counts: bool,
    pub(crate) keys: bool,
    /// Lanes per target account when lanes are bound to accounts.
    pub(crate) bound: Vec<(String, u32)>,

    /// Some restore has a copy step (`copy:`): the copy states exist.
    pub(crate) copies: bool,
    /// Some copy runs in another account than the state machine's: every
    /// copy task assumes the task role in its source account.
    pub(crate) copy_assume: bool,
}

/// How many lanes each account gets when a plan of `concurrency` spans
/// more than one account: as many as it has restores, at most
/// [`MAX_LANES`]; when that is more than the cap in all, the cap is shared
/// in proportion to each account's estimated work (at least one lane
/// each). Empty when the lanes need not be bound: a single account, or a
/// cap of at most [`MAX_LANES`] (no account can then exceed it).
pub fn lanes_per_account(specs: &[RestoreSpec], concurrency: u32) -> Vec<(String, u32)> {
    let mut work: BTreeMap<&str, (u32, f64)> = BTreeMap::new();
    for s in specs {
        let e = work.entry(s.target.account.as_str()).or_default();
        e.0 += 1;
        e.1 += s.estimated_seconds.max(1.0);
    }
    if work.len() < 2 || concurrency <= MAX_LANES {
        return Vec::new();
    }
    let mut lanes: Vec<(String, u32)> = work
        .iter()
        .map(|(a, (n, _))| ((*a).to_owned(), (*n).min(MAX_LANES)))
        .collect();
    let wanted: u32 = lanes.iter().map(|l| l.1).sum();
    if wanted > concurrency {
        let total: f64 = work.values().map(|w| w.1).sum();
        let cap = concurrency.max(lanes.len() as u32);
        // Largest remainder over the share of the cap, within each
        // account's own maximum.
        let mut shares: Vec<(usize, f64)> = Vec::new();
        let mut given = 0u32;
        for (k, (_, (n, w))) in work.iter().enumerate() {
            let share = cap as f64 * w / total;
            let whole = (share.floor() as u32).clamp(1, (*n).min(MAX_LANES));
            lanes[k].1 = whole;
            given += whole;
            shares.push((k, share - share.floor()));
        }
        shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut k = 0;
        while given < cap && k < shares.len() * 64 {
            let i = shares[k % shares.len()].0;
            let most = work.values().nth(i).map_or(1, |w| w.0.min(MAX_LANES));
            if lanes[i].1 < most {
                lanes[i].1 += 1;
                given += 1;
            }
            k += 1;
        }
    }
    lanes
}

/// The restore entries of the coordination table, one per spec, and the
/// shape of the plan.
fn entries(plan: &Plan, specs: &[RestoreSpec], opts: &Options) -> (Vec<Value>, Shape) {
    let graph = plan.graph();
    let rank = graph.remaining_path(|i| specs.get(i).map_or(0.0, |s| s.estimated_seconds));
    let accounts: BTreeSet<&str> = specs.iter().map(|s| s.target.account.as_str()).collect();
    let assume = accounts.len() > 1;
    let execution = &plan.header().execution;
    let bound = lanes_per_account(specs, execution.concurrency);
    let mut shape = Shape {
        lanes: if bound.is_empty() {
            execution.concurrency.clamp(1, MAX_LANES)
        } else {
            bound.iter().map(|b| b.1).sum()
        },
        on_failure: execution.on_failure,
        assume,
        restore_kinds: BTreeMap::new(),
        change_kinds: BTreeMap::new(),
        counts: false,
        keys: false,
        bound,
        copies: specs.iter().any(|s| s.copy.is_some()),
        copy_assume: specs.iter().filter_map(|s| s.copy.as_ref()).any(|c| {
            Some(c.scope.account.as_str()) != specs.first().map(|s| s.target.account.as_str())
        }),
    };
    let mut out = Vec::with_capacity(specs.len() + 1);
    for (i, s) in specs.iter().enumerate() {
        let token = idempotency_token(&opts.run_id, &s.id);
        let call = items::restore_call(&s.request.with_idempotency_token(&token));
        let arn = format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            s.target.region, s.target.account, s.target_name
        );
        let changes: Vec<Value> = s
            .changes_for_run(plan.name(), &opts.run_id)
            .iter()
            .map(|c| {
                let call = items::change_call(c, &s.target_name, &arn);
                let mut v = json!({"kind": call.kind, "params": call.params});
                if let Some((key, refs)) = items::change_refs(c) {
                    v[key] = refs;
                }
                shape.change_kinds.entry(call.kind.clone()).or_insert(call);
                v
            })
            .collect();
        let origin = match &s.request {
            crate::cloud::RestoreRequest::StartRestoreJob {
                recovery_point_arn, ..
            } => recovery_point_arn.clone(),
            crate::cloud::RestoreRequest::RestoreTableFromBackup { backup_arn, .. } => {
                backup_arn.clone()
            }
            crate::cloud::RestoreRequest::RestoreTableToPointInTime {
                source_table_arn, ..
            } => source_table_arn.clone(),
        };
        let mut spec = Map::new();
        spec.insert("id".into(), json!(s.id));
        spec.insert("kind".into(), json!(call.kind));
        spec.insert("params".into(), Value::Object(call.params.clone()));
        spec.insert("table".into(), json!(s.target_name));
        spec.insert("table_arn".into(), json!(arn));
        spec.insert("origin".into(), json!(origin));
        // Native restores have no progress figures: the first wait is nine
        // tenths of the estimate, later ones a twentieth of it.
        spec.insert(
            "poll".into(),
            json!((s.estimated_seconds / 20.0).clamp(10.0, 300.0).round() as u64),
        );
        spec.insert(
            "first_poll".into(),
            json!((s.estimated_seconds * 0.9).max(10.0).round() as u64),
        );
        spec.insert("changes".into(), Value::Array(changes));
        if let Some(copy) = &s.copy {
            spec.insert("copy".into(), copy_entry(copy, &s.id, opts, &shape));
        }
        spec.insert(
            "dependents".into(),
            json!(
                graph
                    .dependents(i)
                    .map(|d| specs[d].id.clone())
                    .collect::<Vec<_>>()
            ),
        );
        if assume {
            spec.insert(
                "credentials".into(),
                json!(format!(
                    "arn:aws:iam::{}:role/{}",
                    s.target.account, opts.task_role_name
                )),
            );
        }
        if let Some(v) = &s.expect.data {
            if let Some(b) = &v.items {
                shape.counts = true;
                spec.insert(
                    "verify_items".into(),
                    json!({"min": b.min.unwrap_or(0), "max": b.max.unwrap_or(asl::MAX_SAFE_COUNT)}),
                );
            }
            if !v.keys.is_empty() {
                shape.keys = true;
                let schema = opts.key_schemas.get(&s.id);
                let keys: Vec<Value> = v.keys.iter().map(|k| typed_key(k, schema)).collect();
                spec.insert("verify_keys".into(), Value::Array(keys));
            }
        }
        shape.restore_kinds.entry(call.kind.clone()).or_insert(call);
        let deps = graph.dependencies(i).count();
        // Ascending order of the index is descending rank: the longest
        // remaining chain is claimed first.
        let mut rk = format!(
            "{:012}#{}",
            100_000_000_000u64 - rank[i].clamp(0.0, 1e11) as u64,
            s.id
        );
        // Lanes bound to an account query the ready restores of theirs.
        if !shape.bound.is_empty() {
            rk = format!("{}#{rk}", s.target.account);
        }
        let mut item = json!({
            "run": {"S": opts.run_id},
            "id": {"S": s.id},
            "st": {"S": if deps == 0 { "READY" } else { "WAITING" }},
            "deps": {"N": deps.to_string()},
            "rkv": {"S": rk},
            "doomed": {"BOOL": false},
            "spec": {"S": Value::Object(spec).to_string()},
        });
        if deps == 0 {
            item["rk"] = json!({"S": rk});
        }
        out.push(item);
    }
    out.push(json!({
        "run": {"S": opts.run_id},
        "id": {"S": RUN_ITEM},
        "total": {"N": specs.len().to_string()},
        "remaining": {"N": specs.len().to_string()},
        "failed": {"N": "0"},
        "stopped": {"BOOL": false},
    }));
    (out, shape)
}

/// The copy step of a restore's entry: the exact `StartCopyJob` request
/// (the local engine's idempotency token for the run's first attempt), the
/// copy's expected minutes (the duration model's estimate, which indexes
/// the wait tables as a restore job's `ExpectedCompletionTimeMinutes`
/// does) and, when copies assume a role, the task role in the source
/// account.
fn copy_entry(
    copy: &crate::check::resolved::ResolvedCopy,
    id: &str,
    opts: &Options,
    shape: &Shape,
) -> Value {
    let request = copy
        .request
        .with_idempotency_token(&copy_token(&opts.run_id, id, 0));
    let mut entry = json!({
        "params": items::copy_call(&request).params,
        "minutes": copy_minutes(copy.estimated_seconds),
    });
    if shape.copy_assume {
        entry["credentials"] = json!(format!(
            "arn:aws:iam::{}:role/{}",
            copy.scope.account, opts.task_role_name
        ));
    }
    entry
}

/// The expected minutes of a copy of `seconds` (at least one), as the
/// machine's wait tables index them.
pub fn copy_minutes(seconds: f64) -> u64 {
    ((seconds.max(0.0) / 60.0).round() as u64).max(1)
}

/// A key of `verify.keys` as DynamoDB JSON, typed by `schema` when known.
fn typed_key(written: &BTreeMap<String, String>, schema: Option<&Vec<KeyAttribute>>) -> Value {
    let kind = |name: &str| {
        schema
            .and_then(|s| s.iter().find(|a| a.name == name))
            .map_or("S", |a| a.kind.as_str())
            .to_owned()
    };
    Value::Object(
        written
            .iter()
            .map(|(k, v)| (k.clone(), json!({ kind(k): v })))
            .collect(),
    )
}

/// Exports `plan`, resolved into `specs` (in plan order), as a Step
/// Functions state machine. `Err` names a restore that cannot start (the
/// live checks blocked it).
pub fn step_functions(
    plan: &Plan,
    specs: &[RestoreSpec],
    opts: &Options,
) -> Result<Export, String> {
    if let Some(s) = specs.iter().find(|s| s.blocked.is_some()) {
        return Err(format!(
            "restore `{}` is blocked by the live checks: {}",
            s.id,
            s.blocked.as_deref().unwrap_or_default()
        ));
    }
    if let Some(s) = specs
        .iter()
        .find(|s| s.expect.data.as_ref().is_some_and(|v| v.command.is_some()))
    {
        return Err(format!(
            "restore `{}` has `after_restore.verify.command`, which only the local engine runs; \
             remove it, or run it afterwards with `restoreplan verify RUN`",
            s.id
        ));
    }
    let home = specs
        .first()
        .map(|s| (s.target.account.to_string(), s.target.region.to_string()))
        .unwrap_or_else(|| ("123456789012".to_owned(), "us-east-1".to_owned()));
    // AWS SDK integrations call the state machine's own Region only: every
    // restore's calls (start, describe, settings, checks) are made in its
    // target Region.
    if let Some(s) = specs.iter().find(|s| s.target.region.to_string() != home.1) {
        return Err(format!(
            "restore `{}` targets {}, but the state machine runs in {} (the first restore's Region): \
             Step Functions calls AWS SDK integrations in its own Region only; export one plan per \
             target Region, or run this plan with the local engine (`restoreplan apply --engine local`)",
            s.id, s.target.region, home.1
        ));
    }
    // StartCopyJob must be called where the source vault is.
    if let Some((s, c)) = specs
        .iter()
        .filter_map(|s| Some((s, s.copy.as_ref()?)))
        .find(|(_, c)| c.scope.region.as_str() != home.1)
    {
        return Err(format!(
            "restore `{}` copies its recovery point from {} in {}, but the state machine runs in {}: \
             Step Functions calls AWS SDK integrations (StartCopyJob) in its own Region only, and a \
             copy must be started in the source vault's Region; run this plan with the local engine \
             (`restoreplan apply --engine local`), or copy within one Region",
            s.id, c.request.source_backup_vault_name, c.scope.region, home.1
        ));
    }
    let (entries, shape) = entries(plan, specs, opts);
    let definition = asl::definition(&shape);
    let (policy, task_policies) = iam::policies(specs, &shape, opts, &home);
    let template = iam::template(&definition, &policy, &task_policies, opts, &home);
    let seed = entries
        .chunks(25)
        .map(|chunk| {
            json!({ opts.table.clone(): chunk.iter().map(|i| json!({"PutRequest": {"Item": i}})).collect::<Vec<_>>() })
        })
        .collect();
    Ok(Export {
        definition,
        policy,
        task_policies,
        template,
        seed,
        input: json!({"table": opts.table}),
        home,
        lanes: shape.lanes,
        lanes_per_account: shape.bound.clone(),
    })
}

impl Export {
    /// The files of the export, relative path and content, in the order
    /// they are written.
    pub fn files(&self) -> Vec<(String, String)> {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        let mut files = vec![
            (
                "state-machine.asl.json".to_owned(),
                pretty(&self.definition),
            ),
            ("iam-policy.json".to_owned(), pretty(&self.policy)),
        ];
        for (account, p) in &self.task_policies {
            files.push((format!("iam-policy-{account}.json"), pretty(p)));
        }
        files.push(("template.json".to_owned(), pretty(&self.template)));
        files.push(("input.json".to_owned(), pretty(&self.input)));
        for (i, s) in self.seed.iter().enumerate() {
            files.push((format!("seed/{:04}.json", i + 1), pretty(s)));
        }
        files
    }

    /// Writes [`Export::files`] under `dir` (created when missing).
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::new();
        for (name, text) in self.files() {
            let path = dir.join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, text)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// A plan resolved against the live accounts for an export.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The live checks (the export refuses when they did not pass).
    pub report: crate::check::live::LiveReport,
    /// The restores as the engines run them, in plan order.
    pub specs: Vec<RestoreSpec>,
    /// Key schemas of the original tables whose restores check `verify.keys`.
    pub key_schemas: BTreeMap<String, Vec<KeyAttribute>>,
}

/// Runs the live checks of `plan` (as `plan` and `apply` do) and builds
/// the specs the export is made of; reads the key schema of each original
/// table whose restore checks `verify.keys` (a table it cannot read gets
/// string keys).
pub async fn resolve(
    plan: &Plan,
    cloud: &dyn crate::cloud::CloudRead,
    opts: &crate::check::live::LiveOptions,
) -> Resolved {
    let report = crate::check::live::check(plan, cloud, opts).await;
    let specs: Vec<RestoreSpec> = report
        .resolved
        .iter()
        .map(|r| {
            let mut spec = RestoreSpec::from_resolved(r);
            spec.expect.data = plan
                .restores()
                .get(r.index)
                .and_then(|p| p.after_restore.verify.clone());
            spec
        })
        .collect();
    let key_schemas = key_schemas(plan, cloud).await;
    Resolved {
        report,
        specs,
        key_schemas,
    }
}

/// The key schema of each original table whose restore checks
/// `verify.keys`, by restore id (a table it cannot read gets string keys).
pub async fn key_schemas(
    plan: &Plan,
    cloud: &dyn crate::cloud::CloudRead,
) -> BTreeMap<String, Vec<KeyAttribute>> {
    let mut key_schemas = BTreeMap::new();
    for r in plan.restores() {
        let wants_keys = r
            .after_restore
            .verify
            .as_ref()
            .is_some_and(|v| !v.keys.is_empty());
        if wants_keys {
            if let Ok(facts) = cloud.data_facts(&r.source, &r.table).await {
                key_schemas.insert(r.id.clone(), facts.key_schema);
            }
        }
    }
    key_schemas
}

#[cfg(test)]
mod tests;
