//! Saved plan against a fresh resolution: what `apply --plan-file` refuses on.
//!
//! A saved plan (`plan --out`) records what was reviewed: the recovery
//! points, keys, target tables and exact requests. When `apply` resolves the
//! plan again and any of these differ, the reviewed plan is stale and must
//! not be applied. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::build::build;
use super::model::{Action, DryRun, RestoreView};
use crate::check::live::LiveReport;
use crate::plan::model::Plan;

/// What changed between the saved and the fresh resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// The plan itself changed (another file, or the file was edited).
    Plan,
    /// A restore is in the plan now that was not reviewed.
    RestoreAdded,
    /// A reviewed restore is no longer in the plan.
    RestoreRemoved,
    /// The target table (account, Region or name) changed.
    Target,
    /// Another recovery point (or point in time) was chosen.
    RecoveryPoint,
    /// Another KMS key (or kind of key) will encrypt the table.
    Key,
    /// The request differs in another way (indexes, role, operation).
    Request,
    /// The restore was ready when reviewed and is blocked now, or the reverse.
    Action,

    /// The copy step changed: added, removed, or another `StartCopyJob`
    /// request (source vault, recovery point, destination vault, role).
    Copy,
}

/// One difference between a saved plan and a fresh resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Drift {
    /// The restore, or `None` for the plan as a whole.
    pub restore: Option<String>,
    /// What changed.
    pub kind: DriftKind,
    /// The reviewed value.
    pub saved: String,
    /// The value resolved now.
    pub now: String,
}

/// Differences between a saved dry run and a fresh one of the same plan.
/// Empty means the saved plan still describes exactly what `apply` will do.
pub fn compare(saved: &DryRun, fresh: &DryRun) -> Vec<Drift> {
    let mut out = Vec::new();
    if saved.plan.digest != fresh.plan.digest || saved.plan.name != fresh.plan.name {
        out.push(Drift {
            restore: None,
            kind: DriftKind::Plan,
            saved: format!("plan `{}` ({})", saved.plan.name, short(&saved.plan.digest)),
            now: format!("plan `{}` ({})", fresh.plan.name, short(&fresh.plan.digest)),
        });
    }
    let old: BTreeMap<&str, &RestoreView> =
        saved.restores.iter().map(|r| (r.id.as_str(), r)).collect();
    let new: BTreeMap<&str, &RestoreView> =
        fresh.restores.iter().map(|r| (r.id.as_str(), r)).collect();
    for (id, s) in &old {
        let Some(f) = new.get(id) else {
            out.push(Drift {
                restore: Some((*id).to_owned()),
                kind: DriftKind::RestoreRemoved,
                saved: s.target.arn.clone(),
                now: "not in the plan".to_owned(),
            });
            continue;
        };
        restore_drift(id, s, f, &mut out);
    }
    for (id, f) in &new {
        if !old.contains_key(id) {
            out.push(Drift {
                restore: Some((*id).to_owned()),
                kind: DriftKind::RestoreAdded,
                saved: "not in the reviewed plan".to_owned(),
                now: f.target.arn.clone(),
            });
        }
    }
    out
}

/// [`compare`] against a fresh live report of `plan`, as `apply --plan-file` does.
pub fn against_live(saved: &DryRun, plan: &Plan, fresh: &LiveReport) -> Vec<Drift> {
    // Source settings do not take part in the comparison, so none are read.
    compare(saved, &build(plan, fresh, &BTreeMap::new()))
}

fn short(digest: &str) -> String {
    format!("sha256 {}", digest.get(..12).unwrap_or(digest))
}

fn restore_drift(id: &str, s: &RestoreView, f: &RestoreView, out: &mut Vec<Drift>) {
    let mut found = Vec::new();
    let mut push = |kind, saved: String, now: String| {
        found.push(Drift {
            restore: Some(id.to_owned()),
            kind,
            saved,
            now,
        });
    };
    if s.target != f.target {
        push(
            DriftKind::Target,
            s.target.arn.clone(),
            f.target.arn.clone(),
        );
    }
    let rp = |r: &RestoreView| {
        let p = &r.recovery_point;
        match (&p.arn, &p.created) {
            (Some(arn), _) => arn.clone(),
            (None, Some(t)) => format!("point in time {}", super::model::time_text(*t)),
            (None, None) => "unresolved".to_owned(),
        }
    };
    if rp(s) != rp(f) {
        push(DriftKind::RecoveryPoint, rp(s), rp(f));
    }
    let key = |r: &RestoreView| {
        let k = &r.encryption.after;
        let kind = serde_json::to_value(k.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match &k.key_arn {
            Some(arn) => format!("{kind} {arn}"),
            None => kind,
        }
    };
    if key(s) != key(f) {
        push(DriftKind::Key, key(s), key(f));
    }
    let changed_already = !found.is_empty();
    out.append(&mut found);
    if !changed_already && s.request != f.request {
        let text =
            |r: &RestoreView| serde_json::to_string(&r.request.parameters).unwrap_or_default();
        out.push(Drift {
            restore: Some(id.to_owned()),
            kind: DriftKind::Request,
            saved: format!("{} {}", s.request.operation, text(s)),
            now: format!("{} {}", f.request.operation, text(f)),
        });
    }
    if s.copy.as_ref().map(|c| &c.request) != f.copy.as_ref().map(|c| &c.request)
        || s.copy.as_ref().map(|c| (&c.account, &c.region))
            != f.copy.as_ref().map(|c| (&c.account, &c.region))
    {
        let text = |r: &RestoreView| match &r.copy {
            Some(c) => format!(
                "{} in {}/{} {}",
                c.request.operation,
                c.account,
                c.region,
                serde_json::to_string(&c.request.parameters).unwrap_or_default()
            ),
            None => "no copy step".to_owned(),
        };
        out.push(Drift {
            restore: Some(id.to_owned()),
            kind: DriftKind::Copy,
            saved: text(s),
            now: text(f),
        });
    }
    if s.action != f.action {
        let text = |r: &RestoreView| match r.action {
            Action::Restore => "ready".to_owned(),
            Action::Blocked => format!("blocked: {}", r.blocked_because.join("; ")),
        };
        out.push(Drift {
            restore: Some(id.to_owned()),
            kind: DriftKind::Action,
            saved: text(s),
            now: text(f),
        });
    }
}

/// The differences as a unified-diff-like text, for the refusal message.
pub fn render(saved: &DryRun, drift: &[Drift]) -> String {
    let mut s = format!(
        "the saved plan (checked {}) no longer matches what AWS resolves now:\n",
        super::model::time_text(saved.checked_at)
    );
    for d in drift {
        let what = match d.kind {
            DriftKind::Plan => "plan",
            DriftKind::RestoreAdded => "restore added",
            DriftKind::RestoreRemoved => "restore removed",
            DriftKind::Target => "target table",
            DriftKind::RecoveryPoint => "recovery point",
            DriftKind::Key => "encryption key",
            DriftKind::Request => "request",
            DriftKind::Action => "action",
            DriftKind::Copy => "copy step",
        };
        let _ = match &d.restore {
            Some(id) => writeln!(s, "  ~ {id}: {what}"),
            None => writeln!(s, "  ~ {what}"),
        };
        let _ = writeln!(s, "      - {}", d.saved);
        let _ = writeln!(s, "      + {}", d.now);
    }
    s.push_str("review the new resolution with `restoreplan plan`, save it again with `--out`, then apply that file\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{RestoreRequest, SseRequest};
    use crate::diff::fixtures;

    fn saved() -> DryRun {
        let plan = fixtures::plan();
        build(&plan, &fixtures::report(&plan), &fixtures::sources())
    }

    #[test]
    fn an_unchanged_resolution_matches_its_saved_plan() {
        let plan = fixtures::plan();
        // The saved plan had source settings; the fresh one does not: no drift.
        assert_eq!(
            against_live(&saved(), &plan, &fixtures::report(&plan)),
            vec![]
        );
    }

    #[test]
    fn a_newer_recovery_point_makes_the_plan_stale() {
        let plan = fixtures::plan();
        let mut fresh = fixtures::report(&plan);
        let newer = fixtures::vault_point("accounts", 9, 1);
        let r = &mut fresh.resolved[0];
        r.request = crate::check::request::build_request(
            &plan.restores()[0],
            Some(&newer),
            Some(fixtures::KEY),
            r.source_table.as_ref().map(|t| t.indexes.as_slice()),
        );
        r.recovery_point = Some(newer.clone());
        let drift = against_live(&saved(), &plan, &fresh);
        assert_eq!(drift.len(), 1, "{drift:?}");
        assert_eq!(drift[0].kind, DriftKind::RecoveryPoint);
        assert_eq!(drift[0].restore.as_deref(), Some("accounts"));
        assert_eq!(drift[0].now, newer.arn);
        let text = render(&saved(), &drift);
        assert!(text.contains("~ accounts: recovery point"), "{text}");
        assert!(text.contains(&format!("+ {}", newer.arn)), "{text}");
    }

    #[test]
    fn a_changed_key_makes_the_plan_stale() {
        let plan = fixtures::plan();
        let mut fresh = fixtures::report(&plan);
        let other = "arn:aws:kms:us-west-2:444455556666:key/mrk-ffffffffffffffffffffffffffffffff";
        if let RestoreRequest::StartRestoreJob { sse, .. } = &mut fresh.resolved[0].request {
            *sse = SseRequest::Customer {
                key_arn: other.to_owned(),
            };
        }
        let drift = against_live(&saved(), &plan, &fresh);
        assert_eq!(
            drift.iter().map(|d| d.kind).collect::<Vec<_>>(),
            vec![DriftKind::Key]
        );
        assert!(drift[0].now.ends_with(other));
    }

    #[test]
    fn other_request_changes_are_reported_as_the_request() {
        let plan = fixtures::plan();
        let mut fresh = fixtures::report(&plan);
        if let RestoreRequest::StartRestoreJob { iam_role_arn, .. } = &mut fresh.resolved[0].request
        {
            *iam_role_arn = "arn:aws:iam::444455556666:role/other".to_owned();
        }
        let drift = against_live(&saved(), &plan, &fresh);
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].kind, DriftKind::Request);
        assert!(drift[0].now.contains("role/other"));
    }

    #[test]
    fn a_restore_that_became_blocked_is_drift() {
        let plan = fixtures::plan();
        let mut fresh = fixtures::report(&plan);
        fresh.resolved[0].disposition = crate::check::resolved::Disposition::Blocked {
            reasons: vec![crate::diag::Finding::error(
                "restoreplan::target::exists",
                "restore `accounts` would overwrite table `accounts-dr`",
            )],
        };
        let drift = against_live(&saved(), &plan, &fresh);
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].kind, DriftKind::Action);
        assert_eq!(drift[0].saved, "ready");
        assert!(
            drift[0]
                .now
                .starts_with("blocked: restore `accounts` would overwrite")
        );
    }

    #[test]
    fn an_edited_plan_is_drift_with_added_and_removed_restores() {
        let plan = fixtures::plan();
        let mut rs = plan.restores().to_vec();
        rs[1].depends_on.clear();
        rs.remove(0);
        rs[0].target_name = "ledger-dr".to_owned();
        let mut new_one = fixtures::restore("sessions", "sessions");
        new_one.target_name = "sessions-dr".to_owned();
        rs.push(new_one);
        let edited = Plan::seal(fixtures::header(10), rs).unwrap_or_else(|f| panic!("{f:?}"));
        let fresh = build(
            &edited,
            &{
                let mut r = fixtures::report(&edited);
                // The fixture report resolves by position; rename to match.
                r.resolved.remove(0);
                r.resolved[1].id = "sessions".to_owned();
                r.resolved[1].target_name = "sessions-dr".to_owned();
                r
            },
            &BTreeMap::new(),
        );
        let kinds: Vec<DriftKind> = compare(&saved(), &fresh).iter().map(|d| d.kind).collect();
        assert_eq!(kinds[0], DriftKind::Plan);
        assert!(kinds.contains(&DriftKind::RestoreRemoved), "{kinds:?}");
        assert!(kinds.contains(&DriftKind::RestoreAdded), "{kinds:?}");
    }

    #[test]
    fn a_changed_added_or_removed_copy_step_is_drift() {
        use crate::diff::model::{CopyView, RequestView};
        let copy = |vault: &str, point: &str| CopyView {
            account: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            request: RequestView {
                operation: "StartCopyJob".to_owned(),
                service: "backup".to_owned(),
                parameters: serde_json::json!({
                    "SourceBackupVaultName": vault,
                    "RecoveryPointArn": point,
                    "DestinationBackupVaultArn": "arn:aws:backup:us-west-2:444455556666:backup-vault:payments-dr",
                    "IamRoleArn": "arn:aws:iam::111122223333:role/copy",
                }),
            },
            estimated_seconds: 60,
        };
        let mut reviewed = saved();
        reviewed.restores[0].copy = Some(copy(
            "prod",
            "arn:aws:backup:us-east-1:111122223333:recovery-point:1",
        ));
        assert_eq!(compare(&reviewed, &reviewed.clone()), vec![]);
        // Another point in the source vault: the copy request changed.
        let mut fresh = reviewed.clone();
        fresh.restores[0].copy = Some(copy(
            "prod",
            "arn:aws:backup:us-east-1:111122223333:recovery-point:2",
        ));
        let drift = compare(&reviewed, &fresh);
        assert_eq!(
            drift.iter().map(|d| d.kind).collect::<Vec<_>>(),
            vec![DriftKind::Copy]
        );
        assert!(drift[0].saved.contains("recovery-point:1"), "{drift:?}");
        assert!(drift[0].now.contains("recovery-point:2"), "{drift:?}");
        let text = render(&reviewed, &drift);
        assert!(text.contains("~ accounts: copy step"), "{text}");
        // The copy step removed, or added.
        fresh.restores[0].copy = None;
        let drift = compare(&reviewed, &fresh);
        assert_eq!(
            (drift.len(), drift[0].kind, drift[0].now.as_str()),
            (1, DriftKind::Copy, "no copy step")
        );
        let drift = compare(&fresh, &reviewed);
        assert_eq!((drift.len(), drift[0].saved.as_str()), (1, "no copy step"));
        assert!(
            drift[0]
                .now
                .starts_with("StartCopyJob in 111122223333/us-east-1"),
            "{drift:?}"
        );
    }
}
