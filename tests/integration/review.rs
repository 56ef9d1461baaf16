//! The dry run, the audit and the plan diff against a seeded emulator,
//! through the real binary: snapshots of every renderer on the example
//! plans, the proof that the dry-run commands never change anything, and
//! the refusal of a saved plan that went stale.

use std::path::Path;
use std::sync::OnceLock;

use restoreplan::aws::{AccountAccess, AwsCloud, AwsOptions};
use restoreplan::check::live;
use restoreplan::cli::CompileArgs;
use restoreplan::cloud::cache::Cached;
use restoreplan::diff::DryRun;
use restoreplan::diff::stale::{DriftKind, against_live};

use crate::support::aws::Aws;
use crate::support::emulator::{Emulator, shared};
use crate::support::snapshot::{self, regex_escape};
use crate::test::{Output, Test};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const EXAMPLE_KEY: &str =
    "arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab";

/// The DR example seeded in two fresh accounts.
struct Dr {
    src: String,
    dst: String,
    dir: tempfile::TempDir,
    /// Emulator time (seconds) when seeding ended.
    seeded_at: f64,
}

impl Dr {
    fn plan(&self) -> String {
        self.dir
            .path()
            .join("payments-dr.yaml")
            .to_string_lossy()
            .into_owned()
    }

    fn accounts(&self) -> [&str; 2] {
        [&self.src, &self.dst]
    }
}

pub(crate) fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("plans/examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Seeds `dr-cross-account-cross-region.yaml` through AWS APIs: five tables
/// in the source account, backed up and copied into the DR vault of the
/// target account and Region, a multi-Region key in the target, and settings
/// on the originals (tags, a stream, TTL, PITR) that restores do not carry
/// over.
async fn seed_dr(em: &Emulator, src: &str, dst: &str) -> String {
    use aws_sdk_dynamodb::types::{
        PointInTimeRecoverySpecification, StreamSpecification, StreamViewType, Tag,
        TimeToLiveSpecification,
    };
    let s = Aws::new(em, src, EAST).await;
    let d = Aws::new(em, dst, WEST).await;
    s.vault("prod").await;
    d.vault("payments-dr").await;
    let key = d.key(true).await;
    for (table, items) in [
        ("accounts", 4),
        ("ledger", 6),
        ("transfers", 3),
        ("cards", 2),
        ("fraud-signals", 5),
    ] {
        let arn = s.table(table, None, items).await;
        let rp = s.backup("prod", &arn).await;
        s.copy("prod", &rp, &d.vault_arn("payments-dr")).await;
    }
    s.ddb
        .tag_resource()
        .resource_arn(format!("arn:aws:dynamodb:{EAST}:{src}:table/accounts"))
        .tags(
            Tag::builder()
                .key("team")
                .value("payments")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    s.ddb
        .update_continuous_backups()
        .table_name("accounts")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("pitr spec"),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    s.ddb
        .update_table()
        .table_name("ledger")
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("stream spec"),
        )
        .send()
        .await
        .expect("UpdateTable stream");
    s.ddb
        .update_time_to_live()
        .table_name("fraud-signals")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .expect("ttl spec"),
        )
        .send()
        .await
        .expect("UpdateTimeToLive");
    key
}

/// The shared emulator's time in seconds, as its request log records it.
pub(crate) fn now_secs() -> f64 {
    shared().now_secs()
}

/// The DR example, seeded once for every test that only reads it.
fn dr() -> &'static Dr {
    static DR: OnceLock<Dr> = OnceLock::new();
    DR.get_or_init(|| {
        let em = shared();
        let (src, dst) = (em.fresh_account(), em.fresh_account());
        let (s, t) = (src.clone(), dst.clone());
        // Seed on a runtime of its own: the tests' runtimes come and go.
        let key = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .expect("a runtime")
                .block_on(seed_dr(em, &s, &t))
        })
        .join()
        .expect("seeding finished");
        let text = example("dr-cross-account-cross-region.yaml")
            .replace(EXAMPLE_KEY, &key)
            .replace("111122223333", &src)
            .replace("444455556666", &dst);
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("payments-dr.yaml"), text).expect("write the plan");
        Dr {
            src,
            dst,
            dir,
            seeded_at: now_secs(),
        }
    })
}

/// Snapshot settings: the fresh accounts become `[SOURCE]` and `[TARGET]`.
fn settings(dr: &Dr) -> insta::Settings {
    snapshot::settings(&[(&dr.src, "SOURCE"), (&dr.dst, "TARGET")])
}

fn plan_cmd(dr: &Dr, args: &[&str], status: i32) -> Output {
    Test::new()
        .args(["plan".to_owned(), dr.plan()])
        .args(args.iter().copied())
        .current_dir(dr.dir.path())
        .emulator(shared())
        .roles(&dr.accounts())
        .status(status)
        .run()
}

#[test]
fn plan_renders_the_dr_example_as_text_json_and_markdown() {
    let dr = dr();
    let saved = dr.dir.path().join("saved-plan.json");
    // `cards` has no recovery point before its cut-off and
    // `settlement-batches` names one that does not exist: both are blocked.
    let human = plan_cmd(dr, &["--out", saved.to_str().expect("utf-8 path")], 1);
    assert!(
        human.stdout.contains("+ restore accounts"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("! blocked cards"), "{}", human.stdout);
    let json = plan_cmd(dr, &["--format", "json"], 1);
    let markdown = plan_cmd(dr, &["--format", "markdown"], 1);

    // The saved plan is the JSON output, and reads back.
    let saved_text = std::fs::read_to_string(&saved).expect("saved plan written");
    let dry = DryRun::from_json(&saved_text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dry.summary.blocked, 2);
    assert_eq!(dry.summary.to_restore, 4);

    // The output validates against the committed schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan-output.schema.json"),
        )
        .expect("schema committed"),
    )
    .expect("schema is JSON");
    let output: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON output");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&output)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    settings(dr).bind(|| {
        insta::assert_snapshot!("plan_dr_human", human.stdout);
        insta::assert_snapshot!("plan_dr_json", json.stdout);
        insta::assert_snapshot!("plan_dr_markdown", markdown.stdout);
    });
}

#[test]
fn audit_writes_markdown_json_and_self_contained_html() {
    let dr = dr();
    let em = shared();
    let dir = dr.dir.path();
    // A failed check exits 1.
    let run = Test::new()
        .args(["audit".to_owned(), dr.plan()])
        .args([
            "--out",
            "audit.md",
            "--out",
            "audit.json",
            "--out",
            "audit.html",
        ])
        .current_dir(dir)
        .emulator(em)
        .roles(&dr.accounts())
        .status(1)
        .run();
    let md = std::fs::read_to_string(dir.join("audit.md")).expect("audit.md");
    let html = std::fs::read_to_string(dir.join("audit.html")).expect("audit.html");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("audit.json")).expect("json"))
            .expect("audit.json is JSON");
    assert_eq!(json["passed"], false);
    assert!(json["summary"]["failed"].as_u64().is_some_and(|n| n >= 2));
    for needle in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(needle), "the HTML references `{needle}`");
    }
    settings(dr).bind(|| {
        insta::assert_snapshot!("audit_dr_stdout", run.stdout);
        insta::assert_snapshot!("audit_dr_markdown", md);
        insta::assert_snapshot!("audit_dr_html", html);
    });
}

/// Operations that change nothing: describe, list and get calls, and the
/// STS calls that obtain credentials.
fn read_only(operation: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| operation.starts_with(p))
        || matches!(operation, "AssumeRole" | "GetCallerIdentity")
}

#[test]
fn plan_validate_live_and_audit_make_no_mutating_calls() {
    let dr = dr();
    let em = shared();
    let start = dr.seeded_at.max(now_secs());
    let dir = dr.dir.path();
    // Each runs its live checks and finds the blocked restores (exit 1).
    plan_cmd(dr, &[], 1);
    Test::new()
        .args(["validate".to_owned(), "--live".to_owned(), dr.plan()])
        .current_dir(dir)
        .emulator(em)
        .roles(&dr.accounts())
        .status(1)
        .run();
    Test::new()
        .args(["audit".to_owned(), dr.plan()])
        .args(["--out", "mutation-check.html"])
        .current_dir(dir)
        .emulator(em)
        .roles(&dr.accounts())
        .status(1)
        .run();
    let log = em.control("/_restoreplan/requests");
    let calls: Vec<(String, String)> = log["requests"]
        .as_array()
        .expect("a request log")
        .iter()
        .filter(|e| e["time"].as_f64().is_some_and(|t| t >= start))
        .filter(|e| {
            e["account"]
                .as_str()
                .is_some_and(|a| a == dr.src || a == dr.dst)
        })
        .map(|e| {
            (
                e["service"].as_str().unwrap_or("?").to_owned(),
                e["operation"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    // The commands did talk to AWS: key, vault and table lookups in both accounts.
    for op in [
        "DescribeKey",
        "ListRecoveryPointsByBackupVault",
        "DescribeTable",
    ] {
        assert!(
            calls.iter().any(|(_, o)| o == op),
            "expected {op} in {calls:?}"
        );
    }
    let mutating: Vec<&(String, String)> = calls.iter().filter(|(_, o)| !read_only(o)).collect();
    assert!(mutating.is_empty(), "mutating calls: {mutating:?}");
}

fn cloud(em: &Emulator, accounts: &[&str]) -> Cached<AwsCloud> {
    Cached::new(AwsCloud::new(AwsOptions {
        accounts: accounts
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    AccountAccess {
                        profile: None,
                        role_arn: Some(Emulator::role(a)),
                    },
                )
            })
            .collect(),
        default: AccountAccess::default(),
        endpoint: Some(em.endpoint.clone()),
    }))
}

#[tokio::test]
async fn a_saved_plan_is_refused_once_a_newer_recovery_point_arrives() {
    let em = shared();
    let (src, dst) = (em.fresh_account(), em.fresh_account());
    let s = Aws::new(em, &src, EAST).await;
    let d = Aws::new(em, &dst, WEST).await;
    s.vault("prod").await;
    d.vault("dr").await;
    let arn = s.table("orders", None, 2).await;
    let rp = s.backup("prod", &arn).await;
    s.copy("prod", &rp, &d.vault_arn("dr")).await;
    let text = format!(
        "version: 1\nname: stale-check\nsource: {{ account: \"{src}\", region: {EAST} }}\n\
         target: {{ account: \"{dst}\", region: {WEST}, vault: dr, role: \"arn:aws:iam::{dst}:role/service-role/AWSBackupDefaultServiceRole\" }}\n\
         restores:\n  - table: orders\n"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("plan.yaml");
    std::fs::write(&path, text).expect("write the plan");
    let compile = CompileArgs { date: None };
    let loaded = restoreplan::plan::load_file(&path, &compile.options())
        .unwrap_or_else(|e| panic!("the plan loads: {e:?}"));
    let plan = &loaded.plan;

    // Review: the dry run is saved as `plan --out` would save it.
    let saved =
        restoreplan::diff::dry_run(plan, &cloud(em, &[&src, &dst]), &em.live_options()).await;
    assert!(
        saved.is_ready(),
        "{:#?}",
        saved.all_findings().collect::<Vec<_>>()
    );
    let saved = DryRun::from_json(&restoreplan::report::json::dry_run(&saved))
        .unwrap_or_else(|e| panic!("{e}"));

    // Nothing changed: the saved plan still holds.
    let fresh = live::check(plan, &cloud(em, &[&src, &dst]), &em.live_options()).await;
    assert_eq!(against_live(&saved, plan, &fresh), vec![]);

    // A newer copy arrives in the DR vault: `latest` now means something else.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let newer = s.backup("prod", &arn).await;
    let newer_copy = s.copy("prod", &newer, &d.vault_arn("dr")).await;
    let fresh = live::check(plan, &cloud(em, &[&src, &dst]), &em.live_options()).await;
    let drift = against_live(&saved, plan, &fresh);
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0].kind, DriftKind::RecoveryPoint);
    assert_eq!(drift[0].restore.as_deref(), Some("orders"));
    assert_eq!(drift[0].now, newer_copy);
    let message = restoreplan::diff::stale::render(&saved, &drift);
    assert!(message.contains("~ orders: recovery point"), "{message}");
    assert!(message.contains(&format!("+ {newer_copy}")), "{message}");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&dst), "[TARGET]");
    settings.add_filter(r"recovery-point:[0-9A-Za-z-]+", "recovery-point:[ID]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("stale_plan_refusal", message));
}

#[test]
fn diff_shows_what_changed_between_two_versions_of_an_example() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let old = example("dr-cross-account-cross-region.yaml");
    let new = old
        .replace("rto: 4h", "rto: 2h")
        .replace(
            "    depends_on: [accounts, ledger]\n",
            "    depends_on: [accounts]\n",
        )
        .replace(
            "  - table: fraud-signals\n    encryption: { type: dynamodb-owned }",
            "  - table: fraud-signals\n    encryption: { type: dynamodb-managed }",
        )
        .replace(
            "  - table: cards\n",
            "  - table: chargebacks\n    depends_on: [cards]\n  - table: cards\n",
        );
    assert_ne!(old, new, "the edits apply");
    std::fs::write(dir.path().join("old.yaml"), &old).expect("write");
    std::fs::write(dir.path().join("new.yaml"), &new).expect("write");
    let text = Test::new()
        .args(["diff", "old.yaml", "new.yaml"])
        .current_dir(dir.path())
        .run();
    // `--exit-code` reports the difference.
    let md = Test::new()
        .args([
            "diff",
            "old.yaml",
            "new.yaml",
            "--format",
            "markdown",
            "--exit-code",
        ])
        .current_dir(dir.path())
        .status(1)
        .run();
    let same = Test::new()
        .args(["diff", "old.yaml", "old.yaml", "--exit-code"])
        .current_dir(dir.path())
        .run();
    assert!(same.stdout.contains("No changes"));
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| {
        insta::assert_snapshot!("diff_dr_human", text.stdout);
        insta::assert_snapshot!("diff_dr_markdown", md.stdout);
    });
}
