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
    /// Fresh account ids (the first ones), then key ids, with the names the
    /// snapshots show instead.
    names: Vec<(String, &'static str)>,
    /// How many of `names` are accounts.
    accounts: usize,
    dir: tempfile::TempDir,
}

impl Seeded {
    /// Writes `text` as the plan file of a new seeded example.
    fn new(names: Vec<(String, &'static str)>, accounts: usize, text: &str) -> Seeded {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("plan.yaml"), text).expect("write the plan");
        Seeded {
            names,
            accounts,
            dir,
        }
    }

    fn ids(&self) -> Vec<&str> {
        self.names[..self.accounts]
            .iter()
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn settings(&self) -> insta::Settings {
        let names: Vec<(&str, &str)> = self
            .names
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

fn text_of(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("?").to_owned()
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
        Seeded::new(vec![(account, "ACCOUNT")], 1, &text)
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

const SHOP_SOURCE: &str = "123456789012";
const SHOP_TARGET: &str = "345678901234";
const SHOP_REGION: &str = "eu-central-1";
const SHOP_ENV_KEY: &str =
    "arn:aws:kms:eu-central-1:345678901234:key/0d1e2f30-4a5b-6c7d-8e9f-a0b1c2d3e4f5";
/// Backed up but never copied into the game-day vault.
const SHOP_UNCOPIED: &str = "notifications-outbox";

/// A restore of the e-commerce example as seeding needs it.
struct ShopTable {
    table: String,
    /// `encryption.type`, or `None` for the default (the environment key).
    encryption: Option<String>,
    /// The TTL attribute the plan re-applies.
    ttl: Option<String>,
    /// The stream the plan re-applies.
    stream: bool,
}

/// The restores of `ecommerce-environment.yaml`, read from the plan itself so
/// the seed follows it.
fn shop_tables(text: &str) -> Vec<ShopTable> {
    let plan: serde_yaml::Value = serde_yaml::from_str(text).expect("the example is YAML");
    plan["restores"]
        .as_sequence()
        .expect("restores")
        .iter()
        .map(|r| ShopTable {
            table: r["table"].as_str().expect("table").to_owned(),
            encryption: r["encryption"]["type"].as_str().map(str::to_owned),
            ttl: r["after_restore"]["ttl"]["attribute"]
                .as_str()
                .map(str::to_owned),
            stream: r["after_restore"]["stream"].is_string(),
        })
        .collect()
}

/// Seeds `ecommerce-environment.yaml`: the 40 tables in the production
/// account under the production equivalents of the plan's mixed encryption
/// (payment data under a PCI key, catalog data under the AWS-managed key,
/// scratch tables under the AWS-owned key, the rest under an environment
/// key), with the TTLs and stream the plan re-applies; each backed up with
/// AWS Backup and copied into the `shop-gameday` vault of the staging
/// account, except [`SHOP_UNCOPIED`]. The staging account holds the
/// environment key and the PCI key behind `alias/shop-pci-staging`.
async fn seed_ecommerce(em: &Emulator, src: &str, dst: &str, tables: Vec<ShopTable>) -> ShopKeys {
    let (s, d) = futures::join!(
        Aws::new(em, src, SHOP_REGION),
        Aws::new(em, dst, SHOP_REGION)
    );
    let (s, d) = (&s, &d);
    let (_, _, env_key, pci_key, src_env, src_pci) = futures::join!(
        s.vault("prod"),
        d.vault("shop-gameday"),
        d.key(false),
        d.key(false),
        s.key(false),
        s.key(false),
    );
    d.alias("alias/shop-pci-staging", &pci_key).await;
    let gameday = d.vault_arn("shop-gameday");
    let keys = ShopKeys {
        env: env_key,
        pci: pci_key,
        prod_env: src_env,
        prod_pci: src_pci,
    };
    let (src_env, src_pci, gameday) = (&keys.prod_env, &keys.prod_pci, &gameday);
    join_all(tables.iter().map(|t| async move {
        let original = match t.encryption.as_deref() {
            Some("dynamodb-owned") => None,
            Some("dynamodb-managed") => Some("alias/aws/dynamodb"),
            Some("customer-managed") => Some(src_pci.as_str()),
            _ => Some(src_env.as_str()),
        };
        let arn = s.table(&t.table, original, 2).await;
        if let Some(attribute) = &t.ttl {
            s.enable_ttl(&t.table, attribute).await;
        }
        if t.stream {
            s.enable_stream(&t.table, aws_sdk_dynamodb::types::StreamViewType::NewImage)
                .await;
        }
        let rp = s.backup("prod", &arn).await;
        if t.table != SHOP_UNCOPIED {
            s.copy("prod", &rp, gameday).await;
        }
    }))
    .await;
    keys
}

/// The key ARNs of the seeded e-commerce example.
struct ShopKeys {
    /// Staging: the environment key.
    env: String,
    /// Staging: the PCI key.
    pci: String,
    /// Production: the environment key of the originals.
    prod_env: String,
    /// Production: the PCI key of the originals.
    prod_pci: String,
}

/// The id part of a key ARN.
fn key_id(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

fn ecommerce() -> &'static Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let em = shared();
        let (src, dst) = (em.fresh_account(), em.fresh_account());
        let text = example("ecommerce-environment.yaml");
        let tables = shop_tables(&text);
        let (s, t) = (src.clone(), dst.clone());
        let keys = seed_once(move || async move { seed_ecommerce(em, &s, &t, tables).await });
        let text = text
            .replace(SHOP_ENV_KEY, &keys.env)
            .replace(SHOP_SOURCE, &src)
            .replace(SHOP_TARGET, &dst);
        let names = vec![
            (src, "SOURCE"),
            (dst, "TARGET"),
            (key_id(&keys.env), "STAGING-ENV-KEY"),
            (key_id(&keys.pci), "STAGING-PCI-KEY"),
            (key_id(&keys.prod_env), "PROD-ENV-KEY"),
            (key_id(&keys.prod_pci), "PROD-PCI-KEY"),
        ];
        Seeded::new(names, 2, &text)
    })
}

/// `plan --format json` in outline: one line per restore with the parts a
/// reviewer checks across 40 tables, and the plan-wide fields. The full
/// output of every restore would make a snapshot nobody reads.
fn json_outline(json: &serde_json::Value) -> serde_json::Value {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let restores: Vec<String> = json["restores"]
        .as_array()
        .expect("restores")
        .iter()
        .map(|r| {
            let rp = &r["recovery_point"];
            let enc = &r["encryption"];
            let findings: Vec<String> = r["findings"]
                .as_array()
                .map(|fs| fs.iter().map(|f| text(&f["code"])).collect())
                .unwrap_or_default();
            format!(
                "{} {}: {} {} (vault {}); {} -> {} {}; {}s; after {}; findings {}",
                text(&r["action"]),
                text(&r["id"]),
                text(&rp["kind"]),
                text(&rp["selector"]),
                text(&rp["vault"]),
                text(&enc["before"]["kind"]),
                text(&enc["after"]["kind"]),
                text(&enc["after"]["key_arn"]),
                text(&r["estimated_seconds"]),
                text(&r["depends_on"]),
                serde_json::json!(findings),
            )
        })
        .collect();
    serde_json::json!({
        "plan": json["plan"],
        "restores": restores,
        "findings": json["findings"],
        "estimate": json["estimate"],
        "summary": json["summary"],
    })
}

#[test]
fn plan_renders_the_ecommerce_example_as_text_json_and_markdown() {
    let seeded = ecommerce();
    // Two restores are blocked on purpose: `audit-log` wants the newest
    // recovery point before 2026-11-20 and every copy was made while
    // seeding, later; `notifications-outbox` was never copied into the
    // game-day vault.
    let human = seeded.plan(&[], 1);
    let json = seeded.plan(&["--format", "json"], 1);
    let markdown = seeded.plan(&["--format", "markdown"], 1);

    let output: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON output");
    assert_schema_valid(&output);
    assert_eq!(
        restores_with(&output, "blocked"),
        ["audit-log", SHOP_UNCOPIED]
    );
    assert_eq!(restores_with(&output, "restore").len(), 38);
    assert_eq!(output["summary"]["restores"], 40);
    // Each kind of key of the plan, against what the originals use.
    let encryption = |id: &str| {
        let r = output["restores"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["id"] == id))
            .expect("the restore is shown");
        (
            text_of(&r["encryption"]["before"]["kind"]),
            text_of(&r["encryption"]["after"]["kind"]),
            r["encryption"]["changed"] == true,
        )
    };
    assert_eq!(
        encryption("catalog-products"),
        ("aws-managed".into(), "aws-managed".into(), false)
    );
    assert_eq!(
        encryption("sessions"),
        ("aws-owned".into(), "aws-owned".into(), false)
    );
    assert_eq!(
        encryption("payments"),
        ("customer-managed".into(), "customer-managed".into(), true)
    );

    seeded.settings().bind(|| {
        insta::assert_snapshot!("plan_ecommerce_human", human.stdout);
        insta::assert_json_snapshot!("plan_ecommerce_json_outline", json_outline(&output));
        insta::assert_snapshot!("plan_ecommerce_markdown", markdown.stdout);
    });
}
