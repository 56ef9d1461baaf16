//! `copy: { vault, role }`: copy the chosen recovery point from a vault of
//! the source account and Region into `target.vault` (AWS Backup
//! `StartCopyJob`) before the restore, which then restores the copy.
//!
//! [`RawCopy`] (in `raw`) mirrors the YAML; [`resolve`] merges a restore's `copy` over
//! the defaults' (field by field) and checks the values; [`rules`] checks
//! a resolved restore's copy against where it runs and what it restores.

use super::model::{AccountId, CopyStep, Location, RecoveryPointSelector, Restore};
use super::raw::RawCopy;
use super::rules as codes;
use super::tree::{Node, Segment};
use crate::diag::{Finding, Span};

/// The copy step of one restore: the resolved value (`None` when there is
/// none or it is invalid, reported) and where it was written.
pub(crate) struct Resolved {
    pub step: Option<CopyStep>,
    pub span: Option<Span>,
    /// True when a `copy` was written (valid or not).
    pub written: bool,
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_owned())
}

/// Merges `own` over `defaults` field by field and checks the values; a
/// finding for every problem, at the value's YAML position.
pub(crate) fn resolve(
    root: &Node,
    defaults: Option<&RawCopy>,
    own: Option<&RawCopy>,
    base: &[Segment],
    id: &str,
    findings: &mut Vec<Finding>,
) -> Resolved {
    if defaults.is_none() && own.is_none() {
        return Resolved {
            step: None,
            span: None,
            written: false,
        };
    }
    let own_path: Vec<Segment> = base.iter().cloned().chain([key("copy")]).collect();
    let defaults_path = vec![key("defaults"), key("copy")];
    let span_of = |p: &[Segment]| root.at(p).map(|n| n.span);
    let block_span = own
        .and_then(|_| span_of(&own_path))
        .or_else(|| defaults.and_then(|_| span_of(&defaults_path)));
    // Each field from the restore's block, else from the defaults'.
    let field = |get: fn(&RawCopy) -> Option<&String>, name: &str| {
        if let Some(v) = own.and_then(get) {
            let mut p = own_path.clone();
            p.push(key(name));
            return Some((v.clone(), span_of(&p)));
        }
        defaults.and_then(get).map(|v| {
            let mut p = defaults_path.clone();
            p.push(key(name));
            (v.clone(), span_of(&p))
        })
    };
    let vault = field(|c| c.vault.as_ref(), "vault");
    let role = field(|c| c.role.as_ref(), "role");
    let mut ok = true;
    let mut invalid = |msg: String, span: Option<Span>, label: &str, help: &str| {
        ok = false;
        findings.push(
            Finding::error(codes::COPY_INVALID, msg)
                .restore(id)
                .at(span)
                .label(label.to_owned())
                .help(help.to_owned()),
        );
    };
    match &vault {
        None => invalid(
            format!("restore `{id}` has `copy` without `vault`"),
            block_span,
            "no `vault`",
            "set `copy.vault` to the vault holding the original's recovery points in the source account and Region",
        ),
        Some((v, span)) if !super::ids::valid_vault(v) => invalid(
            format!("`{v}` is not a valid AWS Backup vault name"),
            *span,
            "vault names are 2–50 characters of A-Z a-z 0-9 - _",
            "write the source vault's name (not its ARN), e.g. `payments-prod`",
        ),
        Some(_) => {}
    }
    match &role {
        None => invalid(
            format!("restore `{id}` has `copy` without `role`"),
            block_span,
            "no `role`",
            "set `copy.role` to the IAM role AWS Backup assumes for the copy in the source account, e.g. arn:aws:iam::ACCOUNT:role/service-role/AWSBackupDefaultServiceRole",
        ),
        Some((r, span)) if !super::ids::valid_role_arn(r) => invalid(
            format!("`{r}` is not an IAM role ARN"),
            *span,
            "expected arn:aws:iam::ACCOUNT:role/NAME",
            "write the ARN of the role AWS Backup assumes for the copy, in the source account",
        ),
        Some(_) => {}
    }
    Resolved {
        step: match (ok, vault, role) {
            (true, Some((vault, _)), Some((role, _))) => Some(CopyStep { vault, role }),
            _ => None,
        },
        span: block_span,
        written: true,
    }
}

/// The account of an ARN (`arn:aws:SERVICE:REGION:ACCOUNT:…`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|s| !s.is_empty())
}

/// The Region of an ARN.
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|s| !s.is_empty())
}

/// Rules on a resolved restore with a copy step: where its recovery point
/// is, what it copies and where the copy goes.
pub(crate) fn rules(r: &Restore, findings: &mut Vec<Finding>) {
    let Some(copy) = &r.copy else {
        return;
    };
    let id = r.id.as_str();
    let span = r.spans.copy.or(r.spans.entry);
    let rp_span = r.spans.recovery_point.or(span);
    if r.target.vault.is_none() {
        findings.push(
            Finding::error(
                codes::COPY_TARGET_VAULT,
                format!("restore `{id}` copies its recovery point but names no `target.vault` to copy it into"),
            )
            .restore(id)
            .at(span)
            .label("the copy needs a destination vault")
            .help(format!(
                "set `target.vault` to the vault in {} that receives the copy (e.g. `payments-dr`)",
                r.target.location
            )),
        );
    }
    if let Some(account) = arn_account(&copy.role)
        && account != r.source.account.as_str()
    {
        findings.push(
            Finding::error(
                codes::COPY_INVALID,
                format!(
                    "restore `{id}`: `copy.role` is a role of account {account}, but the copy runs in the source account {}",
                    r.source.account
                ),
            )
            .restore(id)
            .at(span)
            .label("StartCopyJob runs in the source account")
            .help(format!(
                "name a role of account {} that AWS Backup may assume, e.g. arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                r.source.account, r.source.account
            )),
        );
    }
    match &r.recovery_point {
        RecoveryPointSelector::PointInTime { .. } => findings.push(
            Finding::error(
                codes::COPY_POINT_IN_TIME,
                format!("restore `{id}` copies a point-in-time restore, which has no recovery point to copy"),
            )
            .restore(id)
            .at(rp_span)
            .label("point in time: nothing to copy")
            .help("choose a backup (`latest`, `{latest_before: TIME}`, an ARN), or drop `copy` and restore in the source account"),
        ),
        RecoveryPointSelector::BackupArn { arn } | RecoveryPointSelector::DynamoDbBackupArn { arn } => {
            let at = match (arn_account(arn).and_then(AccountId::parse), arn_region(arn).and_then(crate::plan::model::Region::parse)) {
                (Some(account), Some(region)) => Some(Location { account, region }),
                _ => None,
            };
            if let Some(at) = at
                && at != r.source
            {
                findings.push(
                    Finding::error(
                        codes::RECOVERY_POINT_ARN_LOCATION,
                        format!(
                            "restore `{id}` copies from vault `{}` in {}, but its recovery point is in {at}",
                            copy.vault, r.source
                        ),
                    )
                    .restore(id)
                    .at(rp_span)
                    .label(format!("this recovery point lives in {at}"))
                    .help(format!(
                        "a copy starts where the recovery point is: name a recovery point of {}, or set this restore's `source` to {at}",
                        r.source
                    )),
                );
            }
            if matches!(r.recovery_point, RecoveryPointSelector::DynamoDbBackupArn { .. })
                && r.is_cross_account()
            {
                findings.push(
                    Finding::error(
                        codes::COPY_DYNAMODB_BACKUP,
                        format!(
                            "restore `{id}` copies a DynamoDB-managed backup from account {} into account {}; only advanced DynamoDB backups can be copied to another account",
                            r.source.account, r.target.location.account
                        ),
                    )
                    .restore(id)
                    .at(rp_span)
                    .label("a DynamoDB backup (arn:aws:dynamodb:…/backup/…) stays in its account")
                    .help("enable advanced DynamoDB backup (AWS Backup advanced features for DynamoDB: UpdateRegionSettings ResourceTypeManagementPreference DynamoDB=true) in the source account, back the table up again with AWS Backup, and restore that recovery point (arn:aws:backup:…:recovery-point:…) or `latest`"),
                );
            }
        }
        RecoveryPointSelector::Latest
        | RecoveryPointSelector::LatestBefore { .. }
        | RecoveryPointSelector::RandomWithin { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let arn = "arn:aws:dynamodb:us-east-1:111122223333:table/t/backup/01";
        assert_eq!(arn_account(arn), Some("111122223333"));
        assert_eq!(arn_region(arn), Some("us-east-1"));
    }
}
