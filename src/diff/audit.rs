//! The dry-run audit: every live check, restore by restore, with its
//! evidence and a pass, warn or fail status. Built from the dry-run model;
//! a check with no finding passed, and its evidence says what was seen.
//! Pure.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{
    Action, DryRun, FindingView, IdentityView, KeyKind, Level, PlanInfo, RecoveryKind, RestoreView,
    SettingOutcome,
};
use crate::text::secs_text as secs;

/// Version of the audit JSON shape.
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// Outcome of one check.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Passed.
    Pass,
    /// Passed with a warning.
    Warn,
    /// Not checked: an earlier check of the restore failed, so there was
    /// nothing to check this against.
    Skip,
    /// Failed: the restore is blocked.
    Fail,
}

/// One check of the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditCheck {
    /// The restore checked, or `None` for plan-wide checks.
    pub restore: Option<String>,
    /// What was checked, e.g. `recovery point`.
    pub check: String,
    /// Pass, warn or fail.
    pub status: CheckStatus,
    /// What AWS said (for a pass: what was seen).
    pub evidence: Vec<String>,
    /// Rule codes of the findings behind a warn or fail.
    pub rules: Vec<String>,
    /// Finding messages behind a warn or fail.
    pub messages: Vec<String>,
    /// How to fix them.
    pub help: Vec<String>,
}

/// Counts of the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditSummary {
    /// Checks run.
    pub checks: usize,
    /// Checks that passed (warnings included).
    pub passed: usize,
    /// Checks that passed with a warning.
    pub warned: usize,
    /// Checks not run because another check of the restore failed.
    pub skipped: usize,
    /// Checks that failed.
    pub failed: usize,
}

/// A self-contained dry-run audit report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditReport {
    /// Version of this JSON shape.
    pub schema_version: u32,
    /// When the report was written.
    pub generated_at: DateTime<Utc>,
    /// When the live checks ran.
    pub checked_at: DateTime<Utc>,
    /// The plan.
    pub plan: PlanInfo,
    /// The identity used for each account.
    pub identities: Vec<IdentityView>,
    /// Every check.
    pub checks: Vec<AuditCheck>,
    /// Counts.
    pub summary: AuditSummary,
    /// True when no check failed.
    pub passed: bool,
    /// The dry run the checks come from.
    pub dry_run: DryRun,
}

/// The check a finding belongs to, by its rule code.
fn category(code: &str) -> &'static str {
    match code {
        "restoreplan::aws::credentials" | "restoreplan::aws::wrong_account" => "credentials",
        "restoreplan::recovery_point::too_old" => "recovery point objective",
        "restoreplan::target::exists" => "target table absent",
        "restoreplan::plan::setting_lost" => "settings carried over",
        "restoreplan::plan::unknown_index" => "indexes",
        "restoreplan::plan::rto_exceeded" => "recovery time objective",
        c if c.starts_with("restoreplan::recovery_point::")
            || c.starts_with("restoreplan::pitr::") =>
        {
            "recovery point"
        }
        c if c.starts_with("restoreplan::kms::") => "encryption key",
        c if c.starts_with("restoreplan::copy::") => "copy step",
        _ => "other",
    }
}

const RESTORE_CHECKS: &[&str] = &[
    "credentials",
    "recovery point",
    "recovery point objective",
    "encryption key",
    "target table absent",
    "indexes",
    "settings carried over",
];

fn check_from(
    restore: Option<&str>,
    name: &str,
    findings: &[&FindingView],
    pass_evidence: Vec<String>,
) -> AuditCheck {
    let status = if findings.iter().any(|f| f.level == Level::Error) {
        CheckStatus::Fail
    } else if findings.iter().any(|f| f.level == Level::Warning) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let mut evidence: Vec<String> = findings.iter().filter_map(|f| f.evidence.clone()).collect();
    if status != CheckStatus::Fail {
        evidence.splice(0..0, pass_evidence);
    }
    AuditCheck {
        restore: restore.map(str::to_owned),
        check: name.to_owned(),
        status,
        evidence,
        rules: findings.iter().map(|f| f.code.clone()).collect(),
        messages: findings.iter().map(|f| f.message.clone()).collect(),
        help: findings.iter().filter_map(|f| f.help.clone()).collect(),
    }
}

fn pass_evidence(dry: &DryRun, r: &RestoreView, check: &str) -> Vec<String> {
    let rp = &r.recovery_point;
    match check {
        "credentials" => {
            let mut accounts = vec![r.source.account.as_str(), r.target.account.as_str()];
            accounts.dedup();
            accounts
                .iter()
                .map(|a| match dry.identities.iter().find(|i| i.account == *a) {
                    Some(IdentityView {
                        arn: Some(arn),
                        source,
                        ..
                    }) => format!(
                        "account {a}: {arn} ({})",
                        source.as_deref().unwrap_or("unknown source")
                    ),
                    _ => format!("account {a}: no identity recorded"),
                })
                .collect()
        }
        "recovery point" => match rp.kind {
            RecoveryKind::AwsBackup | RecoveryKind::DynamodbBackup => vec![format!(
                "{} {}{}, taken {}",
                rp.arn.as_deref().unwrap_or("?"),
                rp.status.as_deref().unwrap_or("?"),
                rp.vault
                    .as_deref()
                    .map(|v| format!(" in vault {v}"))
                    .unwrap_or_default(),
                rp.created.map(super::model::time_text).unwrap_or_default()
            )],
            RecoveryKind::PointInTime => vec![format!(
                "point-in-time recovery enabled on {}; restoring to {}",
                r.source.arn,
                rp.created
                    .map(super::model::time_text)
                    .unwrap_or_else(|| "the latest restorable time".to_owned())
            )],
            RecoveryKind::Unresolved => Vec::new(),
        },
        "recovery point objective" => match (rp.age_seconds, dry.plan.rpo_seconds) {
            (Some(age), Some(rpo)) => vec![format!("age {} within RPO {}", secs(age), secs(rpo))],
            (_, None) => vec!["the plan sets no `objectives.rpo`".to_owned()],
            (None, Some(_)) => Vec::new(),
        },
        "encryption key" => {
            let after = &r.encryption.after;
            vec![match after.kind {
                KeyKind::CustomerManaged => format!(
                    "customer-managed key {} is enabled, symmetric and usable in {}",
                    after.key_arn.as_deref().unwrap_or("?"),
                    r.target.region
                ),
                KeyKind::AwsManaged => "AWS-managed key of the target account".to_owned(),
                KeyKind::AwsOwned => "AWS-owned key: nothing to share or replicate".to_owned(),
                KeyKind::Unknown => "key unknown".to_owned(),
            }]
        }
        "target table absent" => vec![format!(
            "no table `{}` in {}/{}",
            r.target.name, r.target.account, r.target.region
        )],
        "indexes" => {
            if r.indexes.is_empty() {
                vec![
                    "the original table has no global secondary indexes, or they are unknown"
                        .to_owned(),
                ]
            } else {
                vec![
                    r.indexes
                        .iter()
                        .map(|i| format!("{} {}", i.name, if i.kept { "kept" } else { "dropped" }))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            }
        }
        "settings carried over" => r
            .settings
            .iter()
            .map(|s| {
                let outcome = match s.outcome {
                    SettingOutcome::Reapplied => "re-applied by the plan",
                    SettingOutcome::Lost => "lost",
                    SettingOutcome::NotNeeded => "nothing to carry over",
                    SettingOutcome::Unknown => "original not read",
                };
                format!(
                    "{}: {} -> {} ({outcome})",
                    s.setting.label(),
                    s.before,
                    s.after
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Builds the audit of a dry run, written at `generated_at`.
pub fn audit(dry: &DryRun, generated_at: DateTime<Utc>) -> AuditReport {
    let mut checks = Vec::new();
    for i in &dry.identities {
        let (status, evidence) = match (&i.arn, &i.error) {
            // An identity of another account never passes for this one.
            (Some(arn), _) if crate::cloud::arn_account(arn) != Some(i.account.as_str()) => (
                CheckStatus::Fail,
                format!(
                    "credentials for {} are of {} ({arn})",
                    i.account,
                    crate::cloud::arn_account(arn).unwrap_or("an unknown account")
                ),
            ),
            (Some(arn), _) => (
                CheckStatus::Pass,
                format!(
                    "{arn} ({})",
                    i.source.as_deref().unwrap_or("unknown source")
                ),
            ),
            (None, e) => (CheckStatus::Fail, e.clone().unwrap_or_default()),
        };
        checks.push(AuditCheck {
            restore: None,
            check: format!("identity for account {}", i.account),
            status,
            evidence: vec![evidence],
            rules: Vec::new(),
            messages: Vec::new(),
            help: Vec::new(),
        });
    }
    let plan_findings: Vec<&FindingView> = dry.findings.iter().collect();
    let rto: Vec<&FindingView> = plan_findings
        .iter()
        .copied()
        .filter(|f| category(&f.code) == "recovery time objective")
        .collect();
    let e = &dry.estimate;
    checks.push(check_from(
        None,
        "recovery time objective",
        &rto,
        vec![match e.rto_seconds {
            Some(o) => format!(
                "predicted {} within the objective of {} (critical path {})",
                secs(e.predicted_rto_seconds),
                secs(o),
                e.critical_path.join(" -> ")
            ),
            None => format!(
                "predicted {}; the plan sets no `objectives.rto`",
                secs(e.predicted_rto_seconds)
            ),
        }],
    ));
    for f in plan_findings
        .iter()
        .filter(|f| category(&f.code) != "recovery time objective")
    {
        checks.push(check_from(None, category(&f.code), &[f], Vec::new()));
    }
    for r in &dry.restores {
        for name in RESTORE_CHECKS {
            let fs: Vec<&FindingView> = r
                .findings
                .iter()
                .filter(|f| category(&f.code) == *name)
                .collect();
            let mut c = check_from(Some(&r.id), name, &fs, pass_evidence(dry, r, name));
            // A blocked restore's unresolved parts were not checked.
            if c.status == CheckStatus::Pass && c.evidence.is_empty() && r.action == Action::Blocked
            {
                c.status = CheckStatus::Skip;
                c.evidence
                    .push("not checked: another check of this restore failed first".to_owned());
            }
            checks.push(c);
        }
        let copy_findings: Vec<&FindingView> = r
            .findings
            .iter()
            .filter(|f| category(&f.code) == "copy step")
            .collect();
        if let Some(c) = &r.copy {
            let p = &c.request.parameters;
            let text = |k: &str| p[k].as_str().unwrap_or("?").to_owned();
            let evidence = vec![format!(
                "StartCopyJob in {}/{}: {} from vault `{}` into {} (about {}); the source vault exists and the target vault admits account {}",
                c.account,
                c.region,
                text("RecoveryPointArn"),
                text("SourceBackupVaultName"),
                text("DestinationBackupVaultArn"),
                secs(c.estimated_seconds),
                c.account
            )];
            checks.push(check_from(
                Some(&r.id),
                "copy step",
                &copy_findings,
                evidence,
            ));
        } else if !copy_findings.is_empty() {
            checks.push(check_from(
                Some(&r.id),
                "copy step",
                &copy_findings,
                Vec::new(),
            ));
        }
        for f in r.findings.iter().filter(|f| category(&f.code) == "other") {
            checks.push(check_from(Some(&r.id), "AWS calls", &[f], Vec::new()));
        }
    }
    let failed = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let skipped = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Skip)
        .count();
    let warned = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .count();
    AuditReport {
        schema_version: AUDIT_SCHEMA_VERSION,
        generated_at,
        checked_at: dry.checked_at,
        plan: dry.plan.clone(),
        identities: dry.identities.clone(),
        summary: AuditSummary {
            checks: checks.len(),
            passed: checks.len() - failed - skipped,
            warned,
            skipped,
            failed,
        },
        passed: failed == 0,
        checks,
        dry_run: dry.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{build, fixtures};

    fn report() -> AuditReport {
        let plan = fixtures::plan();
        let dry = build(&plan, &fixtures::report(&plan), &fixtures::sources());
        audit(&dry, fixtures::now())
    }

    fn check<'a>(a: &'a AuditReport, restore: Option<&str>, name: &str) -> &'a AuditCheck {
        a.checks
            .iter()
            .find(|c| c.restore.as_deref() == restore && c.check == name)
            .unwrap_or_else(|| panic!("no check {name} for {restore:?}"))
    }

    #[test]
    fn failed_checks_fail_the_audit() {
        let a = report();
        assert!(!a.passed);
        assert_eq!(a.summary.failed, 2);
        let rpo = check(&a, Some("ledger"), "recovery point objective");
        assert_eq!(rpo.status, CheckStatus::Fail);
        assert_eq!(rpo.rules, vec!["restoreplan::recovery_point::too_old"]);
        assert!(rpo.evidence[0].starts_with("taken at"));
        let target = check(&a, Some("audit-pitr"), "target table absent");
        assert_eq!(target.status, CheckStatus::Fail);
    }

    #[test]
    fn passed_checks_carry_what_was_seen() {
        let a = report();
        let rp = check(&a, Some("accounts"), "recovery point");
        assert_eq!(rp.status, CheckStatus::Pass);
        assert!(
            rp.evidence[0].contains("COMPLETED in vault payments-dr"),
            "{rp:?}"
        );
        let rpo = check(&a, Some("accounts"), "recovery point objective");
        assert_eq!(rpo.evidence, vec!["age 3h within RPO 1d"]);
        let key = check(&a, Some("accounts"), "encryption key");
        assert!(key.evidence[0].contains(fixtures::KEY));
        let creds = check(&a, Some("accounts"), "credentials");
        assert_eq!(creds.evidence.len(), 2);
        let id = check(&a, None, "identity for account 444455556666");
        assert_eq!(id.status, CheckStatus::Pass);
    }

    #[test]
    fn lost_settings_warn_without_failing() {
        let a = report();
        let s = check(&a, Some("accounts"), "settings carried over");
        assert_eq!(s.status, CheckStatus::Warn);
        assert!(s.messages[0].contains("tags"));
    }

    #[test]
    fn a_clean_dry_run_passes() {
        let plan = fixtures::plan();
        let mut live = fixtures::report(&plan);
        live.findings.clear();
        for r in &mut live.resolved {
            r.disposition = crate::check::resolved::Disposition::Ready;
        }
        let a = audit(&build(&plan, &live, &fixtures::sources()), fixtures::now());
        assert!(
            a.passed,
            "{:?}",
            a.checks
                .iter()
                .filter(|c| c.status == CheckStatus::Fail)
                .collect::<Vec<_>>()
        );
        assert_eq!(a.summary.failed, 0);
        assert!(a.summary.warned > 0);
    }
}
