//! Snapshots of every renderer on a hand-built dry run.

use super::Style;
use crate::diff::audit::audit;
use crate::diff::plans::diff_plans;
use crate::diff::{DryRun, build, fixtures};
use crate::plan::model::{Encryption, Plan};

/// The expected outputs live with the other snapshots under
/// `tests/snapshots/report/`: they show the requests exactly as sent, and
/// the source tree holds code only.
macro_rules! assert_snapshot {
    ($value:expr) => {
        insta::with_settings!({ snapshot_path => "../../tests/snapshots/report" }, {
            insta::assert_snapshot!($value)
        })
    };
}

fn dry() -> DryRun {
    let plan = fixtures::plan();
    build(&plan, &fixtures::report(&plan), &fixtures::sources())
}

fn edited() -> Plan {
    let old = fixtures::plan();
    let mut rs = old.restores().to_vec();
    rs.remove(2);
    rs[1].depends_on = Vec::new();
    rs[1].encryption = Encryption::DynamodbManaged;
    rs[0]
        .after_restore
        .tags
        .insert("owner".to_owned(), "sre".to_owned());
    rs.push(fixtures::restore("sessions", "sessions"));
    let mut h = fixtures::header(20);
    h.objectives.rto = Some(std::time::Duration::from_secs(2 * 3600));
    Plan::seal(h, rs).unwrap_or_else(|f| panic!("{f:?}"))
}

#[test]
fn text_dry_run() {
    assert_snapshot!(super::text::dry_run(&dry(), Style::default()));
}

#[test]
fn text_colour_is_optional() {
    let plain = super::text::dry_run(&dry(), Style { color: false });
    let coloured = super::text::dry_run(&dry(), Style { color: true });
    assert!(!plain.contains('\u{1b}'));
    assert!(coloured.contains("\u{1b}["));
}

#[test]
fn markdown_dry_run() {
    assert_snapshot!(super::markdown::dry_run(&dry()));
}

#[test]
fn markdown_leaves_details_out_when_too_long() {
    let mut d = dry();
    let one = d.restores[0].clone();
    for i in 0..400 {
        let mut r = one.clone();
        r.id = format!("table-{i}");
        d.restores.push(r);
    }
    let md = super::markdown::dry_run(&d);
    assert!(md.len() <= super::markdown::COMMENT_LIMIT, "{}", md.len());
    assert!(md.contains("Per-restore details are left out"));
    assert!(md.contains("more restores: see `restoreplan plan --format json`"));
    assert!(md.contains("`table-0`"));
    assert!(!md.contains("<details>"));
}

#[test]
fn markdown_keeps_the_restores_that_need_attention_when_too_long() {
    let mut d = dry();
    let mut clean = d.restores[0].clone();
    clean.findings.clear();
    for i in 0..60 {
        let mut r = clean.clone();
        r.id = format!("table-{i}");
        d.restores.push(r);
    }
    let md = super::markdown::dry_run(&d);
    assert!(md.len() <= super::markdown::COMMENT_LIMIT, "{}", md.len());
    // Every restore still has its row.
    assert!(md.contains("| `table-59` |"), "{md}");
    // The blocked restores keep their details and findings; clean ones do not.
    assert!(md.contains("<summary>⛔ <code>ledger</code>"), "{md}");
    assert!(md.contains("- ⛔ blocked: restore `ledger`"), "{md}");
    assert!(!md.contains("<code>table-0</code>"), "{md}");
    assert!(
        md.contains("restores without findings are left out"),
        "{md}"
    );
}

#[test]
fn markdown_still_names_the_findings_when_even_those_do_not_fit() {
    let mut d = dry();
    let blocked = d
        .restores
        .iter()
        .find(|r| r.action == crate::diff::model::Action::Blocked)
        .cloned()
        .unwrap_or_else(|| panic!("the fixture has a blocked restore"));
    for i in 0..400 {
        let mut r = blocked.clone();
        r.id = format!("table-{i}");
        d.restores.push(r);
    }
    let md = super::markdown::dry_run(&d);
    assert!(md.len() <= super::markdown::COMMENT_LIMIT, "{}", md.len());
    assert!(!md.contains("<details>"));
    assert!(md.contains("**Findings:**"), "{md}");
    assert!(md.contains("- ⛔ restore `ledger`"), "{md}");
    assert!(md.contains("more\n"), "{md}");
}

#[test]
fn json_dry_run() {
    assert_snapshot!(super::json::dry_run(&dry()));
}

#[test]
fn json_output_validates_against_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&super::json::plan_output_schema()).unwrap_or_default();
    let output: serde_json::Value =
        serde_json::from_str(&super::json::dry_run(&dry())).unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(&output)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn text_plan_diff() {
    let d = diff_plans(&fixtures::plan(), &edited());
    assert_snapshot!(super::text::plan_diff(
        &d,
        "old.yaml",
        "new.yaml",
        Style::default()
    ));
}

#[test]
fn markdown_plan_diff() {
    let d = diff_plans(&fixtures::plan(), &edited());
    assert_snapshot!(super::markdown::plan_diff(&d, "old.yaml", "new.yaml"));
}

#[test]
fn text_audit() {
    let a = audit(&dry(), fixtures::now());
    assert_snapshot!(super::text::audit(&a, Style::default()));
}

#[test]
fn markdown_audit() {
    let a = audit(&dry(), fixtures::now());
    assert_snapshot!(super::markdown::audit(&a));
}

#[test]
fn html_audit() {
    let a = audit(&dry(), fixtures::now());
    let html = super::html::audit(&a);
    // Self-contained: nothing is fetched from anywhere.
    for needle in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(needle), "the report references `{needle}`");
    }
    assert_snapshot!(html);
}

/// The dry run of the fixture plan with `accounts` copied first from the
/// source account's vault `payments-prod`.
fn copied() -> DryRun {
    use crate::check::request::build_copy_request;
    use crate::check::resolved::{COPY_PLACEHOLDER, ResolvedCopy};
    let plan = fixtures::plan();
    let mut rs = plan.restores().to_vec();
    rs[0].copy = Some(crate::plan::model::CopyStep {
        vault: "payments-prod".to_owned(),
        role: "arn:aws:iam::111122223333:role/service-role/AWSBackupDefaultServiceRole".to_owned(),
    });
    let plan = Plan::seal(plan.header().clone(), rs).unwrap_or_else(|f| panic!("{f:?}"));
    let mut report = fixtures::report(&plan);
    let restore = &plan.restores()[0];
    let r = &mut report.resolved[0];
    // The point is chosen in the source account's vault.
    if let Some(rp) = &mut r.recovery_point {
        rp.arn = "arn:aws:backup:us-east-1:111122223333:recovery-point:0b5c8e4a-aaaa-bbbb-cccc-00000000000a"
            .to_owned();
        rp.origin = crate::cloud::RecoveryPointOrigin::Vault {
            vault: "payments-prod".to_owned(),
        };
    }
    r.copy = Some(ResolvedCopy {
        scope: restore.source.clone(),
        request: build_copy_request(restore, r.recovery_point.as_ref(), None)
            .unwrap_or_else(|| panic!("a copy request")),
        estimated_seconds: 512.0,
    });
    r.request = r.request.with_recovery_point(COPY_PLACEHOLDER);
    build(&plan, &report, &fixtures::sources())
}

#[test]
fn text_dry_run_with_a_copy_step() {
    assert_snapshot!(super::text::dry_run(&copied(), Style::default()));
}

#[test]
fn markdown_dry_run_with_a_copy_step() {
    assert_snapshot!(super::markdown::dry_run(&copied()));
}

#[test]
fn json_dry_run_with_a_copy_step() {
    let json = super::json::dry_run(&copied());
    let schema: serde_json::Value =
        serde_json::from_str(&super::json::plan_output_schema()).unwrap_or_default();
    let output: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    assert!(validator.iter_errors(&output).next().is_none());
    assert_snapshot!(json);
}
