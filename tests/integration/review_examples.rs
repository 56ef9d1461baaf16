//! `restoreplan plan` on the same-account rehearsal and the e-commerce game
//! day examples, each seeded through AWS APIs in fresh accounts of the
//! emulator: snapshots of the human, JSON and Markdown renderers. The DR
//! example has its own in `review.rs`.

use std::path::Path;
use std::sync::OnceLock;

use futures::future::join_all;

use crate::review::example;
use crate::support::aws::Aws;
use crate::support::emulator::{Emulator, shared};
use crate::support::snapshot;
use crate::test::{Output, Test};

/// An example plan, its account ids replaced by fresh ones, seeded.
struct Seeded {
    /// Fresh account ids with the names the snapshots show instead.
    accounts: Vec<(String, &'static str)>,
    dir: tempfile::TempDir,
}

impl Seeded {
    /// Writes `text` as the plan file of a new seeded example.
    fn new(accounts: Vec<(String, &'static str)>, text: &str) -> Seeded {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("plan.yaml"), text).expect("write the plan");
        Seeded { accounts, dir }
    }

    fn ids(&self) -> Vec<&str> {
        self.accounts.iter().map(|(id, _)| id.as_str()).collect()
    }

    fn settings(&self) -> insta::Settings {
        let names: Vec<(&str, &str)> = self
            .accounts
            .iter()
            .map(|(id, name)| (id.as_str(), *name))
            .collect();
        snapshot::settings(&names)
    }

    /// `restoreplan plan` on the example with `args`, expecting `status`.
    /// `{date}` is pinned so that dated table names do not change.
    fn plan(&self, args: &[&str], status: i32) -> Output {
        Test::new()
            .args(["plan", "plan.yaml", "--date", "2026-11-20"])
            .args(args.iter().copied())
            .current_dir(self.dir.path())
            .emulator(shared())
            .roles(&self.ids())
            .status(status)
            .run()
    }
}

/// Runs `seed` to completion on a runtime of its own: the tests' runtimes
/// come and go, the seeded example stays for every test that reads it.
fn seed_once<F, T>(seed: impl FnOnce() -> F + Send + 'static) -> T
where
    F: std::future::Future<Output = T>,
    T: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .expect("a runtime")
            .block_on(seed())
    })
    .join()
    .expect("seeding finished")
}

/// The output validates against the committed schema of `plan --format json`.
fn assert_schema_valid(json: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan-output.schema.json"),
        )
        .expect("schema committed"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The ids of the restores with `action` in `plan --format json` output.
fn restores_with(json: &serde_json::Value, action: &str) -> Vec<String> {
    json["restores"]
        .as_array()
        .expect("restores")
        .iter()
        .filter(|r| r["action"] == action)
        .map(|r| r["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

const REHEARSAL_ACCOUNT: &str = "210987654321";
const REHEARSAL_REGION: &str = "eu-west-1";

/// Seeds `rehearsal-same-account.yaml`: DynamoDB on-demand backups
/// (`CreateBackup`) of the three tables restored from `latest` (no vault),
/// `order-items` with the `by-sku` index the plan keeps, and point-in-time
/// recovery on `payments` and `idempotency-keys` (whose TTL the plan
/// re-applies).
async fn seed_rehearsal(em: &Emulator, account: &str) {
    let a = Aws::new(em, account, REHEARSAL_REGION).await;
    let a = &a;
    let backed_up = ["customers", "orders", "order-items"].map(|table| async move {
        let indexed = if table == "order-items" {
            "sku"
        } else {
            "user"
        };
        a.table_indexed(table, None, 3, indexed).await;
        a.on_demand_backup(table).await;
    });
    let pitr = ["payments", "idempotency-keys"].map(|table| async move {
        a.table(table, None, 2).await;
        a.enable_pitr(table).await;
        if table == "idempotency-keys" {
            a.enable_ttl(table, "expires_at").await;
        }
    });
    futures::join!(join_all(backed_up), join_all(pitr));
}

fn rehearsal() -> &'static Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let em = shared();
        let account = em.fresh_account();
        let seeded = account.clone();
        seed_once(move || async move { seed_rehearsal(em, &seeded).await });
        let text = example("rehearsal-same-account.yaml").replace(REHEARSAL_ACCOUNT, &account);
        Seeded::new(vec![(account, "ACCOUNT")], &text)
    })
}

#[test]
fn plan_renders_the_rehearsal_example_as_text_json_and_markdown() {
    let seeded = rehearsal();
    // `idempotency-keys` is blocked on purpose: the plan restores it to
    // 2026-11-19T23:00:00Z, before point-in-time recovery was turned on
    // (while seeding), so that time is outside its restorable window.
    let human = seeded.plan(&[], 1);
    let json = seeded.plan(&["--format", "json"], 1);
    let markdown = seeded.plan(&["--format", "markdown"], 1);

    let output: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON output");
    assert_schema_valid(&output);
    assert_eq!(restores_with(&output, "blocked"), ["idempotency-keys"]);
    assert_eq!(
        restores_with(&output, "restore"),
        ["customers", "orders", "order-items", "payments-pitr"]
    );
    for (id, kind) in [
        ("customers", "dynamodb-backup"),
        ("payments-pitr", "point-in-time"),
    ] {
        let restore = output["restores"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["id"] == id))
            .expect("the restore is shown");
        assert_eq!(restore["recovery_point"]["kind"], kind, "{restore:#}");
    }
    assert!(
        human.stdout.contains("customers-rehearsal-20261120"),
        "{}",
        human.stdout
    );

    seeded.settings().bind(|| {
        insta::assert_snapshot!("plan_rehearsal_human", human.stdout);
        insta::assert_snapshot!("plan_rehearsal_json", json.stdout);
        insta::assert_snapshot!("plan_rehearsal_markdown", markdown.stdout);
    });
}
