//! Identity per account, teardown that keeps protections it did not raise,
//! and truthful run reports: the real binary against an emulator of its own,
//! so that its request log shows every call any of these commands sent.
//!
//! Credentials of the wrong account are made the way they happen: a role of
//! another account passed for the target (`--role A=…:role of B`), or the
//! ambient static keys, which the emulator maps to 123456789012.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::apply::World;
use crate::support::emulator::Emulator;
use crate::test::{Output, Test};

/// Restores take `600 s × SCALE` (1.2 s).
const SCALE: &str = "0.002";

/// The account the emulator gives static keys (the ambient credentials).
const AMBIENT: &str = "123456789012";

fn em() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", SCALE]))
}

/// How many requests the emulator has logged so far: calls made later
/// have a higher index (the log is in arrival order).
fn log_len() -> usize {
    em().control("/_restoreplan/requests")["requests"]
        .as_array()
        .map_or(0, Vec::len)
}

/// `--role ACCOUNT=…` with the test role of `as_account`.
fn role(account: &str, as_account: &str) -> Vec<String> {
    vec![
        "--role".to_owned(),
        format!("{account}={}", Emulator::role(as_account)),
    ]
}

/// Runs the binary in `w`'s directory with exactly the credential flags
/// given (no role by default: the ambient keys act in 123456789012).
fn run_as(w: &World, args: &[&str], creds: &[String], status: i32) -> Output {
    Test::new()
        .args(args.iter().copied())
        .args(creds.iter().cloned())
        .current_dir(w.dir.path())
        .emulator(w.em)
        .env("RESTOREPLAN_TIME_SCALE", SCALE)
        .status(status)
        .run()
}

/// Operations the emulator logged in `account` since log index `since`.
fn calls_in(account: &str, since: usize) -> Vec<String> {
    let log = em().control("/_restoreplan/requests");
    log["requests"]
        .as_array()
        .expect("a request log")
        .iter()
        .skip(since)
        .filter(|r| r["account"] == account)
        .filter_map(|r| r["operation"].as_str().map(str::to_owned))
        .collect()
}

/// Calls other than obtaining or checking credentials.
fn beyond_sts(calls: &[String]) -> Vec<&String> {
    calls
        .iter()
        .filter(|op| !matches!(op.as_str(), "AssumeRole" | "GetCallerIdentity"))
        .collect()
}

/// A fresh account with tables `tables` backed up into its vault `dr`,
/// and `plan.yaml` restoring each into `{table}-dr`; `protect` marks the
/// restores whose plan turns deletion protection on.
async fn world(name: &str, tables: &[&str], protect: &[&str], concurrency: u32) -> World {
    let w = World::new(em(), SCALE).await;
    for t in tables {
        w.source(t, 0).await;
    }
    let mut plan = w.header(name, concurrency, None);
    for t in tables {
        plan.push_str(&format!("  - table: {t}\n"));
        if protect.contains(t) {
            plan.push_str("    after_restore:\n      deletion_protection: true\n");
        }
    }
    w.write("plan.yaml", &plan);
    w
}

/// The run id of the only run in `w`'s directory.
fn only_run(w: &World) -> String {
    let out = w.local(&["runs", "--json"], 0);
    let v: Value = serde_json::from_str(&out.stdout).expect("runs --json");
    v["runs"][0]["run_id"].as_str().expect("a run").to_owned()
}

#[tokio::test]
async fn validate_live_with_another_accounts_credentials_is_refused_naming_both() {
    let w = world("who-validate", &["orders"], &[], 2).await;
    let other = em().fresh_account();
    let since = log_len();
    let out = run_as(
        &w,
        &["validate", "--live", "plan.yaml"],
        &role(&w.acct, &other),
        1,
    );
    let e = &out.stderr;
    assert!(
        e.contains(&format!("credentials for {} are of {other}", w.acct)),
        "{e}"
    );
    assert!(e.contains("restoreplan::aws::wrong_account"), "{e}");
    assert!(e.contains(&format!("--role {}=", w.acct)), "{e}");
    // Not a misleading "no recovery point" found with the wrong identity.
    assert!(!e.contains("recovery_point::"), "{e}");
    let sent = calls_in(&other, since);
    assert!(sent.contains(&"GetCallerIdentity".to_owned()), "{sent:?}");
    assert!(beyond_sts(&sent).is_empty(), "{sent:?}");

    // The JSON output says the same, per account.
    let json = run_as(
        &w,
        &["validate", "--live", "--format", "json", "plan.yaml"],
        &role(&w.acct, &other),
        1,
    );
    let doc: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["valid"], false);
    assert!(
        doc["files"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "restoreplan::aws::wrong_account"),
        "{doc:#}"
    );
}

#[tokio::test]
async fn a_source_account_with_another_accounts_credentials_is_refused_by_validate_and_apply() {
    let w = world("who-source", &["ledger"], &[], 2).await;
    let source = "999988887777";
    let plan = std::fs::read_to_string(w.dir.path().join("plan.yaml")).expect("the plan");
    let plan = plan.replacen(
        &format!("source: {{ account: \"{}\"", w.acct),
        &format!("source: {{ account: \"{source}\""),
        1,
    );
    w.write("plan.yaml", &plan);
    let since = log_len();
    // The target has its own role; the source gets the ambient keys, which
    // are of 123456789012.
    let creds = role(&w.acct, &w.acct);
    let v = run_as(&w, &["validate", "--live", "plan.yaml"], &creds, 1);
    let wanted = format!("credentials for {source} are of {AMBIENT}");
    assert!(v.stderr.contains(&wanted), "{}", v.stderr);

    let a = run_as(&w, &["apply", "plan.yaml", "--yes"], &creds, 1);
    assert!(a.stderr.contains(&wanted), "{}", a.stderr);
    assert!(a.stderr.contains("nothing was started"), "{}", a.stderr);
    for account in [AMBIENT, source, w.acct.as_str()] {
        let sent = calls_in(account, since);
        assert!(beyond_sts(&sent).is_empty(), "calls in {account}: {sent:?}");
    }
    assert!(w.restores().is_empty());
}

#[tokio::test]
async fn apply_as_the_wrong_account_starts_nothing() {
    let w = world("who-apply", &["accounts", "cards"], &[], 2).await;
    let other = em().fresh_account();
    let since = log_len();
    let out = run_as(
        &w,
        &["apply", "plan.yaml", "--yes", "--format", "json"],
        &role(&w.acct, &other),
        1,
    );
    assert!(
        out.stderr
            .contains(&format!("credentials for {} are of {other}", w.acct)),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was started"), "{}", out.stderr);
    assert!(beyond_sts(&calls_in(&other, since)).is_empty());
    assert!(beyond_sts(&calls_in(&w.acct, since)).is_empty());
    assert!(w.restores().is_empty());
    // No run was recorded.
    let runs: Value =
        serde_json::from_str(&w.local(&["runs", "--json"], 0).stdout).expect("runs --json");
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(0), "{runs:#}");

    // A run started with the right credentials cannot be resumed with the
    // wrong ones.
    w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = only_run(&w);
    let journal = std::fs::read_to_string(
        w.dir
            .path()
            .join(".restoreplan/runs")
            .join(&run)
            .join("journal.jsonl"),
    )
    .expect("the journal");
    let identity: Value = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["record"] == "identity")
        .expect("an identity record");
    assert_eq!(identity["account"], w.acct.as_str());
    assert!(
        identity["arn"]
            .as_str()
            .is_some_and(|a| a.contains(&format!(":{}:", w.acct))),
        "{identity}"
    );
}

#[tokio::test]
async fn an_unknown_profile_is_an_error_not_a_fallback() {
    let w = world("who-profile", &["users"], &[], 2).await;
    let since = log_len();
    let nope = vec!["--profile".to_owned(), format!("{}=nope", w.acct)];
    let v = run_as(&w, &["validate", "--live", "plan.yaml"], &nope, 1);
    assert!(v.stderr.contains("no profile `nope`"), "{}", v.stderr);
    let a = run_as(&w, &["apply", "plan.yaml", "--yes"], &nope, 1);
    assert!(a.stderr.contains("no profile `nope`"), "{}", a.stderr);
    // The ambient keys were not used instead.
    assert!(beyond_sts(&calls_in(AMBIENT, since)).is_empty());
    assert!(calls_in(&w.acct, since).is_empty());
    assert!(w.restores().is_empty());

    // A profile that exists is used, and its credentials only.
    let config = w.dir.path().join("aws-config");
    std::fs::write(
        &config,
        "[profile dr]\naws_access_key_id = fromprofile\naws_secret_access_key = x\nregion = us-east-1\n",
    )
    .expect("write the config file");
    let mut creds = vec!["--profile".to_owned(), format!("{}=dr", w.acct)];
    creds.extend(role(&w.acct, &w.acct));
    let ok = Test::new()
        .args(["validate", "--live", "plan.yaml"])
        .args(creds)
        .current_dir(w.dir.path())
        .emulator(w.em)
        .env("AWS_CONFIG_FILE", config.display().to_string())
        .run();
    assert!(
        ok.stderr.contains(&format!(
            "role {} assumed with profile dr",
            Emulator::role(&w.acct)
        )),
        "{}",
        ok.stderr
    );

    // A profile that assumes the role itself works the same.
    std::fs::write(
        &config,
        format!(
            "[profile base]\naws_access_key_id = fromprofile\naws_secret_access_key = x\nregion = us-east-1\n\
             [profile dr]\nrole_arn = {}\nsource_profile = base\nregion = us-east-1\n",
            Emulator::role(&w.acct)
        ),
    )
    .expect("write the config file");
    let ok = Test::new()
        .args(["validate", "--live", "plan.yaml", "--profile"])
        .args([format!("{}=dr", w.acct)])
        .current_dir(w.dir.path())
        .emulator(w.em)
        .env("AWS_CONFIG_FILE", config.display().to_string())
        .run();
    assert!(
        ok.stderr.contains(&format!(
            "account {}: arn:aws:sts::{}:assumed-role/",
            w.acct, w.acct
        )),
        "{}",
        ok.stderr
    );
}

#[tokio::test]
async fn simulate_live_with_another_accounts_credentials_stops() {
    let w = world("who-simulate", &["orders"], &[], 2).await;
    let other = em().fresh_account();
    let since = log_len();
    let out = run_as(
        &w,
        &["simulate", "plan.yaml", "--live"],
        &role(&w.acct, &other),
        2,
    );
    assert!(
        out.stderr
            .contains(&format!("credentials for {} are of {other}", w.acct)),
        "{}",
        out.stderr
    );
    assert!(beyond_sts(&calls_in(&other, since)).is_empty());
}

#[tokio::test]
async fn audit_never_passes_an_identity_of_another_account() {
    let w = world("who-audit", &["orders"], &[], 2).await;
    let other = em().fresh_account();
    let since = log_len();
    let out = run_as(
        &w,
        &["audit", "plan.yaml", "--out", "audit.json"],
        &role(&w.acct, &other),
        1,
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(w.dir.path().join("audit.json")).expect("audit.json"),
    )
    .expect("JSON");
    let check = format!("identity for account {}", w.acct);
    let id = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == check.as_str())
        .unwrap_or_else(|| panic!("no `{check}` in {report:#}"));
    assert_eq!(id["status"], "fail", "{id:#}");
    assert!(
        id["evidence"][0]
            .as_str()
            .is_some_and(|e| e.contains(&format!("credentials for {} are of {other}", w.acct))),
        "{id:#}"
    );
    assert!(
        !out.stdout.contains(&format!("pass  plan: {check}")),
        "{}",
        out.stdout
    );
    assert!(beyond_sts(&calls_in(&other, since)).is_empty());
}

#[tokio::test]
async fn teardown_with_the_wrong_credentials_fails_and_deletes_nothing() {
    let w = world("who-teardown", &["alpha", "bravo"], &[], 2).await;
    w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = only_run(&w);
    let before = w.tables().await;
    let other = em().fresh_account();
    let since = log_len();
    for creds in [role(&w.acct, &other), Vec::new()] {
        let out = run_as(&w, &["teardown", &run, "--yes"], &creds, 2);
        let actual = if creds.is_empty() { AMBIENT } else { &other };
        assert!(
            out.stderr
                .contains(&format!("credentials for {} are of {actual}", w.acct)),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was deleted"), "{}", out.stderr);
        assert!(!out.stdout.contains("no table to delete"), "{}", out.stdout);
    }
    assert!(beyond_sts(&calls_in(&other, since)).is_empty());
    assert!(beyond_sts(&calls_in(AMBIENT, since)).is_empty());
    assert_eq!(w.tables().await, before);
    // With the right credentials it goes ahead.
    let out = w.run(&["teardown", &run, "--yes"], 0);
    assert!(out.stdout.contains("deleted alpha-dr"), "{}", out.stdout);
    assert!(out.stdout.contains("deleted bravo-dr"), "{}", out.stdout);
}

#[tokio::test]
async fn teardown_refuses_a_protection_it_did_not_raise_unless_forced() {
    let w = world("who-protect", &["alpha", "bravo", "charlie"], &["alpha"], 3).await;
    w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = only_run(&w);
    // After the rehearsal, someone protects `bravo-dr` (say, it became
    // production after a failover).
    w.aws
        .ddb
        .update_table()
        .table_name("bravo-dr")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable");
    let since = log_len();
    let out = w.run(&["teardown", &run, "--yes"], 1);
    assert!(
        out.stderr
            .contains("REFUSED: will not delete table `bravo-dr`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force-unprotect"), "{}", out.stderr);
    // What it changes is listed with what it deletes.
    assert!(
        out.stdout.contains("alpha-dr in ")
            && out
                .stdout
                .contains("turn deletion protection off (this run turned it on)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("deleted alpha-dr"), "{}", out.stdout);
    assert!(out.stdout.contains("deleted charlie-dr"), "{}", out.stdout);
    let left = w.tables().await;
    assert!(left.contains("bravo-dr"), "{left:?}");
    assert!(!left.contains("alpha-dr") && !left.contains("charlie-dr"));
    // `bravo-dr` was left exactly as it was: no UpdateTable, no DeleteTable.
    let log = em().control("/_restoreplan/requests");
    let touched: Vec<&str> = log["requests"]
        .as_array()
        .expect("a request log")
        .iter()
        .skip(since)
        .filter(|r| r["account"] == w.acct.as_str() && r["table"] == "bravo-dr")
        .filter_map(|r| r["operation"].as_str())
        .filter(|op| matches!(*op, "UpdateTable" | "DeleteTable"))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");

    // Forced, it proceeds and says so.
    let out = w.run(&["teardown", &run, "--yes", "--force-unprotect"], 0);
    assert!(
        out.stdout
            .contains("--force-unprotect: this run did NOT turn it on"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("turning off deletion protection that this run did not turn on"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("deleted bravo-dr"), "{}", out.stdout);
    assert!(!w.tables().await.contains("bravo-dr"));
}

#[tokio::test]
async fn a_failed_run_reports_the_objective_not_met_and_a_refused_retry_writes_nothing() {
    let w = world("who-rto", &["rto-ok", "rto-fails"], &[], 2).await;
    // The emulator fails restores into this (unique) table name.
    em().post(
        "/_restoreplan/config",
        &serde_json::json!({ "fail_tables": ["rto-fails-dr"] }),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--no-progress"], 1);
    // The cause is fixed (a retry below completes).
    em().post(
        "/_restoreplan/config",
        &serde_json::json!({ "fail_tables": [] }),
    );
    let s = &out.stdout;
    assert!(s.contains("recovery time: none"), "{s}");
    assert!(s.contains("objective of 4:00:00 NOT met"), "{s}");
    assert!(!s.contains("objective met"), "{s}");
    let run = only_run(&w);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(
            w.dir
                .path()
                .join(".restoreplan/runs")
                .join(&run)
                .join("report.json"),
        )
        .expect("report.json"),
    )
    .expect("JSON");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["objective_met"], false);
    assert_eq!(report["recovery_seconds"], Value::Null);

    // Retrying the failed restore with another account's credentials is
    // refused before anything is journaled: the journal is byte-identical.
    let path = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(&run)
        .join("journal.jsonl");
    let before = std::fs::read(&path).expect("the journal");
    let other = em().fresh_account();
    let since = log_len();
    for (args, creds) in [
        (
            vec!["apply", "--resume", &run, "--retry-failed", "--yes"],
            role(&w.acct, &other),
        ),
        (
            vec!["apply", "--resume", &run, "--retry", "rto-fails", "--yes"],
            Vec::new(),
        ),
    ] {
        let out = run_as(&w, &args, &creds, 2);
        let actual = if creds.is_empty() { AMBIENT } else { &other };
        assert!(
            out.stderr
                .contains(&format!("credentials for {} are of {actual}", w.acct)),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was started"), "{}", out.stderr);
        assert!(!out.stderr.contains("retrying"), "{}", out.stderr);
        assert_eq!(
            std::fs::read(&path).expect("the journal"),
            before,
            "a refused retry changed the journal"
        );
    }
    for account in [AMBIENT, other.as_str(), w.acct.as_str()] {
        let sent = calls_in(account, since);
        assert!(beyond_sts(&sent).is_empty(), "calls in {account}: {sent:?}");
    }
    // With the right credentials the retry goes ahead and is journaled.
    let out = w.run(
        &[
            "apply",
            "--resume",
            &run,
            "--retry-failed",
            "--yes",
            "--no-progress",
        ],
        0,
    );
    assert!(out.stderr.contains("retrying rto-fails"), "{}", out.stderr);
    let after = std::fs::read_to_string(&path).expect("the journal");
    assert!(
        after
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|r| r["record"] == "retry"),
        "no retry record"
    );
}

/// The environment [`Test`] gives the binary, for a run under `script`.
fn emulator_env(cmd: &mut std::process::Command, w: &World) {
    cmd.current_dir(w.dir.path())
        .env("NO_COLOR", "1")
        .env(
            "RESTOREPLAN_NOW",
            w.em.now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .env("AWS_ENDPOINT_URL", &w.em.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("RESTOREPLAN_TIME_SCALE", SCALE)
        .env_remove("AWS_PROFILE")
        .env_remove("RESTOREPLAN_LOG");
}

#[tokio::test]
async fn the_recovery_time_starts_after_the_confirmation() {
    use std::io::Write;
    let w = world("who-prompt", &["alpha", "bravo"], &[], 2).await;
    // A terminal to answer on: `script` runs the binary on a pseudo-terminal.
    let binary = env!("CARGO_BIN_EXE_restoreplan");
    let role = Emulator::role(&w.acct);
    let line = format!(
        "'{binary}' apply plan.yaml --no-progress --role {}={role}",
        w.acct
    );
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    emulator_env(&mut cmd, &w);
    let mut child = cmd.spawn().expect("script runs");
    // Wait at the prompt for a while, as a person would.
    std::thread::sleep(Duration::from_secs(4));
    let answered = w.em.now();
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"y\n").expect("answer the prompt");
    let out = child.wait_with_output().expect("the run ends");
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("start these restores?"), "{text}");
    let run = only_run(&w);
    let dir = w.dir.path().join(".restoreplan/runs").join(&run);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    let started: chrono::DateTime<chrono::Utc> = report["started_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("started_at");
    // The clock starts at the answer (give or take the pseudo-terminal's
    // delivery), not when the prompt appeared four seconds earlier.
    assert!(
        started >= answered - chrono::TimeDelta::milliseconds(500),
        "started {started}, answered {answered}"
    );
    let recovery = report["recovery_seconds"]
        .as_f64()
        .expect("a recovery time");
    let finished: chrono::DateTime<chrono::Utc> = report["finished_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("finished_at");
    let since_answer = (finished - answered).num_milliseconds() as f64 / 1000.0;
    assert!(
        recovery <= since_answer + 0.5,
        "recovery {recovery} s, {since_answer} s since the answer"
    );
    assert_eq!(report["objective_met"], true);
}

#[tokio::test]
async fn after_ctrl_c_the_report_names_every_restore() {
    let names = ["one", "two", "three", "four"];
    let w = world("who-interrupt", &names, &[], 1).await;
    let child = w
        .command(&["apply", "plan.yaml", "--yes", "--no-progress"])
        .spawn(&w.dir.path().join("apply.log"));
    // Interrupt once the first restore is under way.
    let runs = w.dir.path().join(".restoreplan/runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        // The run's own folder: `.locks/` beside it holds the run lock.
        let started = std::fs::read_dir(&runs).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .find_map(|e| std::fs::read_to_string(e.path().join("journal.jsonl")).ok())
        });
        if started.is_some_and(|j| j.contains("\"record\":\"started\"")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no restore started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals the child this test started, by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut child = child;
    let status = child.wait().expect("the run ends");
    let log = std::fs::read_to_string(w.dir.path().join("apply.log")).expect("the log");
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(log.contains("incomplete: interrupted"), "{log}");
    assert!(!log.contains("objective met"), "{log}");
    let table: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("restore "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(table.len(), names.len(), "{log}");
    for (row, name) in table.iter().zip(names) {
        assert!(
            row.trim_start().starts_with(&format!("{name} ")),
            "a row without its restore's name: {row:?}\n{log}"
        );
    }

    // The interrupted run cannot be resumed with another account's
    // credentials: nothing is sent, exit 2.
    let run = only_run(&w);
    let other = em().fresh_account();
    let since = log_len();
    let refused = run_as(
        &w,
        &["apply", "--resume", &run, "--yes"],
        &role(&w.acct, &other),
        2,
    );
    assert!(
        refused
            .stderr
            .contains(&format!("credentials for {} are of {other}", w.acct)),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("nothing was started"));
    assert!(beyond_sts(&calls_in(&other, since)).is_empty());
    assert!(beyond_sts(&calls_in(&w.acct, since)).is_empty());
    // With the right ones it completes, and says so.
    let done = w.run(&["apply", "--resume", &run, "--yes", "--no-progress"], 0);
    assert!(done.stdout.contains("objective met"), "{}", done.stdout);
}

#[test]
fn validate_json_lists_a_missing_file_as_invalid() {
    let plan = std::fs::read_to_string(
        crate::test::root().join("plans/examples/rehearsal-same-account.yaml"),
    )
    .expect("the example");
    let out = Test::new()
        .write("a.yaml", plan)
        .args(["validate", "--format", "json", "--date", "2026-11-20"])
        .args(["a.yaml", "missing.yaml"])
        .status(2)
        .run();
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["valid"], false, "{doc:#}");
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{doc:#}");
    assert_eq!(files[0]["file"], "a.yaml");
    assert_eq!(files[0]["valid"], true, "{doc:#}");
    assert_eq!(files[1]["file"], "missing.yaml");
    assert_eq!(files[1]["valid"], false);
    assert!(
        files[1]["unreadable"]
            .as_str()
            .is_some_and(|e| e.contains("missing.yaml")),
        "{doc:#}"
    );
}
