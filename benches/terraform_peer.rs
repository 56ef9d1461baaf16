//! Side by side with a real peer: Terraform (hashicorp/aws provider) and
//! `restoreplan apply` restoring the same 50 tables by point-in-time restore
//! against the local emulator, with the same restore durations.
//!
//! The benchmark starts its own emulator, seeds 50 source tables with
//! point-in-time recovery through the DynamoDB API, runs
//! `terraform apply -auto-approve` on 50 `aws_dynamodb_table` resources with
//! `restore_source_name` and `restore_to_latest_time`, resets and reseeds the
//! emulator, then runs `restoreplan apply --yes` (the release binary) on the
//! equivalent plan. Both get the same dependencies (four chains of four
//! tables, 34 independent tables) and the same cap on restores in flight
//! (`-parallelism` and `execution.concurrency`). Every figure comes from the
//! emulator: wall time of each process, restore span, peak and mean restores
//! in flight, how late each tool noticed a table ACTIVE, and API calls by
//! operation (from the request log).
//!
//! Run: `cargo bench --bench terraform_peer [-- --time-scale F --tables N --concurrency N --keep]`
//!
//! Needs `terraform` on `PATH` (or `TERRAFORM=/path`) and the provider in a
//! filesystem mirror (`TF_PROVIDER_MIRROR`, default `/opt/tf-plugins`); skips
//! with a message when either is missing.

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

#[path = "../tests/integration/support/emulator.rs"]
#[allow(dead_code)]
mod emulator;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    ScalarAttributeType, Tag,
};

/// The account static keys act in, in the emulator.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// The emulator's duration model, set to the estimate `apply` uses for a
/// point-in-time restore (`restoreplan::duration::DurationModel`'s defaults:
/// 10 minutes plus 25 MiB/s), i.e. a calibrated model.
const BASE_SECONDS: f64 = 600.0;
const BYTES_PER_SECOND: f64 = 25.0 * 1024.0 * 1024.0;
/// The modeled tag the emulator reads a table's size from.
const SIZE_TAG: &str = "restoreplan-emulator:size-bytes";

struct Options {
    tables: usize,
    concurrency: usize,
    time_scale: f64,
    keep: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        tables: 50,
        concurrency: 10,
        time_scale: 0.005,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--bench" => {}
            "--keep" => o.keep = true,
            "--tables" => {
                o.tables = value("--tables")?
                    .parse()
                    .map_err(|e| format!("--tables: {e}"))?
            }
            "--concurrency" => {
                o.concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--time-scale" => {
                o.time_scale = value("--time-scale")?
                    .parse()
                    .map_err(|e| format!("--time-scale: {e}"))?
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !(1..=50).contains(&o.tables) || !(1..=50).contains(&o.concurrency) {
        return Err("--tables and --concurrency must be between 1 and 50".into());
    }
    if !(o.time_scale > 0.0 && o.time_scale <= 1.0) {
        return Err("--time-scale must be in (0, 1]".into());
    }
    Ok(o)
}

/// One source table and its restore.
struct Table {
    name: String,
    size_bytes: u64,
    deps: Vec<usize>,
}

impl Table {
    fn target(&self) -> String {
        format!("{}-restored", self.name)
    }
    fn modeled_seconds(&self) -> f64 {
        BASE_SECONDS + self.size_bytes as f64 / BYTES_PER_SECOND
    }
}

/// Four chains of four larger tables (indexes 0–3, 10–13, 20–23, 30–33;
/// each depends on the one before) and independent smaller tables, so the
/// order in which ready restores start matters.
fn workload(n: usize) -> Vec<Table> {
    (0..n)
        .map(|i| {
            let in_chain = i < 40 && i % 10 < 4;
            let gib = if in_chain {
                24 + (i * 7) % 16
            } else {
                (i * 13) % 24
            };
            Table {
                name: format!("peer-{i:02}"),
                size_bytes: (gib as u64) << 30,
                deps: if in_chain && i % 10 > 0 {
                    vec![i - 1]
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

fn terraform_config(tables: &[Table], endpoint: &str) -> String {
    let mut s = format!(
        r#"terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
    dynamodb = "{endpoint}"
    sts      = "{endpoint}"
  }}
}}
"#
    );
    for t in tables {
        let label = t.name.replace('-', "_");
        let _ = write!(
            s,
            r#"
resource "aws_dynamodb_table" "{label}" {{
  name                   = "{target}"
  billing_mode           = "PAY_PER_REQUEST"
  hash_key               = "pk"
  restore_source_name    = "{source}"
  restore_to_latest_time = true
  attribute {{
    name = "pk"
    type = "S"
  }}
  point_in_time_recovery {{
    enabled = true
  }}
"#,
            target = t.target(),
            source = t.name,
        );
        if !t.deps.is_empty() {
            let deps: Vec<String> = t
                .deps
                .iter()
                .map(|&d| format!("aws_dynamodb_table.{}", tables[d].name.replace('-', "_")))
                .collect();
            let _ = writeln!(s, "  depends_on = [{}]", deps.join(", "));
        }
        s.push_str("}\n");
    }
    s
}

fn restoreplan_plan(tables: &[Table], concurrency: usize) -> String {
    let mut s = format!(
        "version: 1\nname: terraform-peer\n\
         source: {{ account: \"{ACCOUNT}\", region: {REGION} }}\n\
         target: {{ account: \"{ACCOUNT}\", region: {REGION} }}\n\
         defaults:\n  recovery_point: {{ point_in_time: latest }}\n  name: \"{{table}}-restored\"\n\
         \x20 after_restore: {{ point_in_time_recovery: true }}\n\
         execution: {{ concurrency: {concurrency} }}\nrestores:\n"
    );
    for t in tables {
        let _ = writeln!(s, "  - table: {}", t.name);
        if !t.deps.is_empty() {
            let deps: Vec<&str> = t.deps.iter().map(|&d| tables[d].name.as_str()).collect();
            let _ = writeln!(s, "    depends_on: [{}]", deps.join(", "));
        }
    }
    s
}

/// Creates the source tables (hash key `pk`, on-demand, modeled size) and
/// turns point-in-time recovery on, through the DynamoDB API.
async fn seed(endpoint: &str, tables: &[Table]) -> Result<(), String> {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .http_client(restoreplan::aws::http_client())
        .load()
        .await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let err = |what: &str, e: &dyn std::fmt::Debug| format!("{what}: {e:?}");
    for t in tables {
        let attr = AttributeDefinition::builder()
            .attribute_name("pk")
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| err("attribute", &e))?;
        let key = KeySchemaElement::builder()
            .attribute_name("pk")
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| err("key schema", &e))?;
        let tag = Tag::builder()
            .key(SIZE_TAG)
            .value(t.size_bytes.to_string())
            .build()
            .map_err(|e| err("tag", &e))?;
        ddb.create_table()
            .table_name(&t.name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr)
            .key_schema(key)
            .tags(tag)
            .send()
            .await
            .map_err(|e| err("CreateTable", &e))?;
        ddb.update_continuous_backups()
            .table_name(&t.name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| err("PITR specification", &e))?,
            )
            .send()
            .await
            .map_err(|e| err("UpdateContinuousBackups", &e))?;
    }
    Ok(())
}

/// One request of the emulator's log.
struct Request {
    time: f64,
    operation: String,
    table: Option<String>,
    status: u64,
    error_code: Option<String>,
}

/// One restore of the emulator's restore log.
struct Restore {
    target: String,
    created: f64,
    finished: f64,
    modeled: f64,
    completed: bool,
}

/// What one tool's run left in the emulator.
struct Run {
    tool: &'static str,
    wall: f64,
    /// When the process started and ended (epoch seconds, the emulator's clock).
    started: f64,
    ended: f64,
    requests: Vec<Request>,
    restores: Vec<Restore>,
    peak: u64,
}

fn collect(em: &emulator::Emulator, tool: &'static str, timed: Timed, keep: Option<&Path>) -> Run {
    let log = em.control("/_restoreplan/requests");
    let requests = log["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| Request {
                    time: r["time"].as_f64().unwrap_or(0.0),
                    operation: r["operation"].as_str().unwrap_or("?").to_owned(),
                    table: r["table"].as_str().map(str::to_owned),
                    status: r["status"].as_u64().unwrap_or(0),
                    error_code: r["error_code"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    let restores_log = em.control("/_restoreplan/restores");
    let restores = restores_log["restores"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| Restore {
                    target: r["target_table"].as_str().unwrap_or("?").to_owned(),
                    created: r["created"].as_f64().unwrap_or(0.0),
                    finished: r["finished"]
                        .as_f64()
                        .or_else(|| r["expected_finish"].as_f64())
                        .unwrap_or(0.0),
                    modeled: r["modeled_seconds"].as_f64().unwrap_or(0.0),
                    completed: r["status"].as_str() == Some("COMPLETED"),
                })
                .collect()
        })
        .unwrap_or_default();
    let peak = restores_log["max_concurrent"][ACCOUNT]
        .as_u64()
        .unwrap_or(0);
    if let Some(dir) = keep {
        for (name, value) in [("requests", &log), ("restores", &restores_log)] {
            let path = dir.join(format!("{tool}-{name}.json"));
            if let Err(e) = std::fs::write(&path, value.to_string()) {
                eprintln!("terraform_peer: {}: {e}", path.display());
            }
        }
    }
    Run {
        tool,
        wall: timed.wall,
        started: timed.started,
        ended: timed.ended,
        requests,
        restores,
        peak,
    }
}

/// Per-run figures derived from the emulator's logs.
struct Figures {
    /// Process start to the first restore request.
    startup: f64,
    span: f64,
    /// Last restore finished to process exit.
    tail: f64,
    mean_in_flight: f64,
    lag_mean: f64,
    lag_max: f64,
    polls_per_restore: f64,
    calls: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
    completed: usize,
}

fn figures(run: &Run) -> Figures {
    let first = run
        .restores
        .iter()
        .map(|r| r.created)
        .fold(f64::INFINITY, f64::min);
    let last = run
        .restores
        .iter()
        .map(|r| r.finished)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = (last - first).max(0.0);
    let busy: f64 = run.restores.iter().map(|r| r.finished - r.created).sum();
    let mut lags = Vec::new();
    let mut polls = 0usize;
    for r in &run.restores {
        let about: Vec<&Request> = run
            .requests
            .iter()
            .filter(|q| q.table.as_deref() == Some(r.target.as_str()))
            .collect();
        // The tool noticed the table ACTIVE when it first did anything but
        // DescribeTable to it after the restore finished (Terraform:
        // UpdateContinuousBackups; restoreplan: TagResource).
        let noticed = about
            .iter()
            .find(|q| q.time >= r.finished && q.operation != "DescribeTable")
            .or_else(|| about.iter().find(|q| q.time >= r.finished))
            .map(|q| q.time);
        if let Some(t) = noticed {
            lags.push(t - r.finished);
            polls += about
                .iter()
                .filter(|q| {
                    q.operation == "DescribeTable" && q.time >= r.created - 1e-3 && q.time <= t
                })
                .count();
        }
    }
    let mut calls = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for q in &run.requests {
        *calls.entry(q.operation.clone()).or_insert(0) += 1;
        if q.status >= 400 {
            let code = q.error_code.clone().unwrap_or_else(|| q.status.to_string());
            *errors.entry(format!("{} {code}", q.operation)).or_insert(0) += 1;
        }
    }
    let n = run.restores.len().max(1) as f64;
    Figures {
        startup: first - run.started,
        span,
        tail: run.ended - last,
        mean_in_flight: if span > 0.0 { busy / span } else { 0.0 },
        lag_mean: lags.iter().sum::<f64>() / lags.len().max(1) as f64,
        lag_max: lags.iter().copied().fold(0.0, f64::max),
        polls_per_restore: polls as f64 / n,
        calls,
        errors,
        completed: run.restores.iter().filter(|r| r.completed).count(),
    }
}

/// The shortest any schedule could take with these durations: the longest
/// dependency chain, or the total work spread over the cap.
fn lower_bound(tables: &[Table], durations: &[f64], cap: usize) -> f64 {
    let mut finish = vec![0.0f64; tables.len()];
    for (i, t) in tables.iter().enumerate() {
        // Dependencies always point to earlier tables.
        let ready = t.deps.iter().map(|&d| finish[d]).fold(0.0, f64::max);
        finish[i] = ready + durations[i];
    }
    let chain = finish.iter().copied().fold(0.0, f64::max);
    chain.max(durations.iter().sum::<f64>() / cap as f64)
}

/// Polls a fixed-interval poller makes on a restore of `d` seconds: one
/// every `interval` from the start, until the first at or after the end.
fn fixed_polls(d: f64, interval: f64) -> f64 {
    (d / interval).ceil().max(1.0)
}

/// Polls the provider's waiter makes on a restore of `d` seconds: at once,
/// then after 0.2 s, doubling to at most 10 s (the plugin SDK's
/// `StateChangeConf` without a poll interval), until the first at or after
/// the end.
fn terraform_polls(d: f64) -> f64 {
    let (mut t, mut wait, mut n) = (0.0, 0.1, 1.0);
    while t < d {
        wait = f64::min(wait * 2.0, 10.0);
        t += wait;
        n += 1.0;
    }
    n
}

fn skip(reason: &str) -> ! {
    println!("terraform_peer: skipped: {reason}");
    std::process::exit(0);
}

fn find_terraform() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TERRAFORM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
}

/// A finished process: wall time and its start and end on the epoch clock.
struct Timed {
    wall: f64,
    started: f64,
    ended: f64,
}

fn epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn run_logged(mut cmd: Command, log: &Path) -> Result<Timed, String> {
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let started = epoch();
    let start = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("could not start {:?}: {e}", cmd.get_program()))?;
    let wall = start.elapsed().as_secs_f64();
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{:?} exited with {status}; the last lines of {}:\n{}",
            cmd.get_program(),
            log.display(),
            tail.join("\n")
        ));
    }
    Ok(Timed {
        wall,
        started,
        ended: epoch(),
    })
}

/// A command without the caller's AWS settings, so only what the benchmark
/// sets reaches the tool.
fn clean(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") || k.to_string_lossy().starts_with("TF_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn main() {
    // The emulator must model what apply estimates, or the comparison
    // measures a mis-estimate rather than the schedulers.
    let model = restoreplan::duration::DurationModel::default();
    assert_eq!(BASE_SECONDS, model.native_overhead_seconds);
    assert_eq!(BYTES_PER_SECOND, model.bytes_per_second);
    // `cargo test --all-targets` runs this binary without `--bench`: it
    // measures nothing then (it would take minutes and needs Terraform).
    if !std::env::args().any(|a| a == "--bench") {
        println!("terraform_peer: run `cargo bench --bench terraform_peer` to measure");
        return;
    }
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("terraform_peer: {e}");
            std::process::exit(2);
        }
    };
    let Some(terraform) = find_terraform() else {
        skip("no `terraform` on PATH, or TERRAFORM does not name a file");
    };
    let mirror = PathBuf::from(
        std::env::var_os("TF_PROVIDER_MIRROR").unwrap_or_else(|| "/opt/tf-plugins".into()),
    );
    if !mirror.join("registry.terraform.io/hashicorp/aws").is_dir() {
        skip(&format!(
            "no hashicorp/aws provider in the filesystem mirror {} (set TF_PROVIDER_MIRROR)",
            mirror.display()
        ));
    }
    if let Err(e) = run(&o, &terraform, &mirror) {
        eprintln!("terraform_peer: {e}");
        std::process::exit(1);
    }
}

fn run(o: &Options, terraform: &Path, mirror: &Path) -> Result<(), String> {
    let tables = workload(o.tables);
    let dir =
        std::env::temp_dir().join(format!("restoreplan-terraform-peer-{}", std::process::id()));
    let tf_dir = dir.join("terraform");
    std::fs::create_dir_all(&tf_dir).map_err(|e| format!("{}: {e}", tf_dir.display()))?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("a tokio runtime: {e}"))?;

    let scale = o.time_scale.to_string();
    let em = emulator::Emulator::start(&[
        "--time-scale",
        &scale,
        "--restore-base-seconds",
        &BASE_SECONDS.to_string(),
        "--restore-bytes-per-second",
        &BYTES_PER_SECOND.to_string(),
    ]);
    let version = String::from_utf8_lossy(
        &Command::new(terraform)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .map_err(|e| format!("terraform version: {e}"))?
            .stdout,
    )
    .lines()
    .next()
    .unwrap_or("")
    .to_owned();
    let chains = tables.iter().filter(|t| !t.deps.is_empty()).count();
    let heads = tables
        .iter()
        .enumerate()
        .filter(|(i, t)| t.deps.is_empty() && tables.iter().any(|u| u.deps.contains(i)))
        .count();
    println!(
        "{} point-in-time restores ({heads} chains, {} dependent restores, {} independent), \
         at most {} in flight, emulator time scale {}",
        tables.len(),
        chains,
        tables.len() - chains - heads,
        o.concurrency,
        o.time_scale
    );
    println!(
        "{version}; provider from {}; restoreplan {}",
        mirror.display(),
        env!("CARGO_PKG_VERSION")
    );

    // Terraform.
    let seeding = Instant::now();
    rt.block_on(seed(&em.endpoint, &tables))?;
    println!(
        "seeded {} source tables with point-in-time recovery in {:.1} s",
        tables.len(),
        seeding.elapsed().as_secs_f64()
    );
    let cli_config = dir.join("terraform.rc");
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .map_err(|e| format!("{}: {e}", cli_config.display()))?;
    std::fs::write(
        tf_dir.join("main.tf"),
        terraform_config(&tables, &em.endpoint),
    )
    .map_err(|e| format!("main.tf: {e}"))?;
    let tf = |args: &[&str]| {
        let mut cmd = clean(terraform);
        cmd.args(args)
            .current_dir(&tf_dir)
            .env("TF_CLI_CONFIG_FILE", &cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        cmd
    };
    let init = run_logged(
        tf(&["init", "-input=false", "-no-color"]),
        &dir.join("terraform-init.log"),
    )?;
    em.delete("/_restoreplan/requests");
    let parallelism = format!("-parallelism={}", o.concurrency);
    let timed = run_logged(
        tf(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &parallelism,
        ]),
        &dir.join("terraform-apply.log"),
    )?;
    let keep = o.keep.then_some(dir.as_path());
    let tf_run = collect(&em, "terraform", timed, keep);
    println!(
        "terraform init {:.1} s (not counted), apply {:.1} s",
        init.wall, tf_run.wall
    );

    // restoreplan, on a fresh emulator state with the same tables.
    em.post("/_restoreplan/reset", &serde_json::json!({}));
    rt.block_on(seed(&em.endpoint, &tables))?;
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, restoreplan_plan(&tables, o.concurrency))
        .map_err(|e| format!("{}: {e}", plan.display()))?;
    em.delete("/_restoreplan/requests");
    let mut cmd = clean(Path::new(env!("CARGO_BIN_EXE_restoreplan")));
    // Waits and the request-rate cap scale with the emulator's clock, so
    // the run behaves as it would against AWS at full length.
    cmd.arg("apply")
        .arg(&plan)
        .args(["--yes", "--no-progress", "--time-scale", &scale])
        .args([
            "--max-requests-per-second",
            &(25.0 / o.time_scale).to_string(),
        ])
        .arg("--runs-dir")
        .arg(dir.join("runs"))
        .args(["--endpoint-url", &em.endpoint])
        // On the emulator's clock, like every test run of the binary.
        .env(
            "RESTOREPLAN_NOW",
            em.now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", REGION);
    let timed = run_logged(cmd, &dir.join("restoreplan-apply.log"))?;
    let rp_run = collect(&em, "restoreplan", timed, keep);
    println!("restoreplan apply {:.1} s", rp_run.wall);

    report(o, &tables, &tf_run, &rp_run)?;
    if o.keep {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn report(o: &Options, tables: &[Table], tf_run: &Run, rp_run: &Run) -> Result<(), String> {
    let s = o.time_scale;
    let tf = figures(tf_run);
    let rp = figures(rp_run);
    for (run, f) in [(tf_run, &tf), (rp_run, &rp)] {
        if f.completed != tables.len() || run.restores.len() != tables.len() {
            return Err(format!(
                "{}: {} restores, {} completed; expected {} of each",
                run.tool,
                run.restores.len(),
                f.completed,
                tables.len()
            ));
        }
    }
    // Durations as the emulator ran them (the same for both tools).
    let durations: Vec<f64> = tables
        .iter()
        .map(|t| {
            rp_run
                .restores
                .iter()
                .find(|r| r.target == t.target())
                .map(|r| r.finished - r.created)
                .unwrap_or(t.modeled_seconds() * s)
        })
        .collect();
    let bound = lower_bound(tables, &durations, o.concurrency);
    let (lo, hi) = durations
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &d| (a.min(d), b.max(d)));
    println!(
        "restore durations {lo:.1}–{hi:.1} s ({:.0}–{:.0} s modeled); lower bound of any schedule {bound:.1} s",
        lo / s,
        hi / s
    );
    println!();
    let row = |label: &str, a: String, b: String| println!("{label:<44} {a:>12} {b:>12}");
    row("", "terraform".into(), "restoreplan".into());
    row(
        "wall time, whole process (s)",
        format!("{:.1}", tf_run.wall),
        format!("{:.1}", rp_run.wall),
    );
    row(
        "  start to first restore (s)",
        format!("{:.1}", tf.startup),
        format!("{:.1}", rp.startup),
    );
    row(
        "  first restore start to last ACTIVE (s)",
        format!("{:.1}", tf.span),
        format!("{:.1}", rp.span),
    );
    row(
        "  last ACTIVE to exit (s)",
        format!("{:.1}", tf.tail),
        format!("{:.1}", rp.tail),
    );
    row(
        "restore span / lower bound",
        format!("{:.2}", tf.span / bound),
        format!("{:.2}", rp.span / bound),
    );
    row(
        "peak restores in flight (emulator)",
        tf_run.peak.to_string(),
        rp_run.peak.to_string(),
    );
    row(
        "mean restores in flight",
        format!("{:.1}", tf.mean_in_flight),
        format!("{:.1}", rp.mean_in_flight),
    );
    row(
        "ACTIVE noticed after, mean / max (s)",
        format!("{:.2} / {:.1}", tf.lag_mean, tf.lag_max),
        format!("{:.2} / {:.1}", rp.lag_mean, rp.lag_max),
    );
    row(
        "DescribeTable polls per restore",
        format!("{:.1}", tf.polls_per_restore),
        format!("{:.1}", rp.polls_per_restore),
    );
    row(
        "API calls",
        tf_run.requests.len().to_string(),
        rp_run.requests.len().to_string(),
    );
    let mut ops: Vec<&String> = tf.calls.keys().chain(rp.calls.keys()).collect();
    ops.sort();
    ops.dedup();
    for op in ops {
        let get = |f: &Figures| f.calls.get(op).copied().unwrap_or(0).to_string();
        row(&format!("  {op}"), get(&tf), get(&rp));
    }
    for (tool, f) in [("terraform", &tf), ("restoreplan", &rp)] {
        for (what, n) in &f.errors {
            println!("{tool}: {n} × {what}");
        }
    }
    println!();
    println!(
        "wall-time ratio terraform / restoreplan: {:.2} (restore span {:.2})",
        tf_run.wall / rp_run.wall,
        tf.span / rp.span
    );
    // Benchmark 4 against the emulator: polls per restore at AWS durations.
    let modeled: Vec<f64> = rp_run.restores.iter().map(|r| r.modeled).collect();
    let n = modeled.len() as f64;
    let fixed: f64 = modeled.iter().map(|&d| fixed_polls(d, 15.0)).sum::<f64>() / n;
    let waiter: f64 = modeled.iter().map(|&d| terraform_polls(d)).sum::<f64>() / n;
    println!();
    println!(
        "polling per restore at AWS durations ({:.0}–{:.0} s):",
        lo / s,
        hi / s
    );
    println!(
        "  restoreplan apply, measured against the emulator  {:>6.1}",
        rp.polls_per_restore
    );
    println!(
        "  fixed 15-second poll, computed from the same durations {:>6.1}  ({:.1}x restoreplan)",
        fixed,
        fixed / rp.polls_per_restore.max(f64::MIN_POSITIVE)
    );
    println!(
        "  the provider's waiter (0.2 s doubling to 10 s), computed {:>6.1}  ({:.1}x restoreplan)",
        waiter,
        waiter / rp.polls_per_restore.max(f64::MIN_POSITIVE)
    );
    Ok(())
}
