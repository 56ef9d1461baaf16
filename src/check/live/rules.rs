//! The live rules: each turns facts read from the cloud into findings
//! (recovery point age and location, keys AWS cannot carry across, sharing,
//! unknown index names).

use super::*;

fn age_text(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds().max(0) as u64;
    duration_text(Duration::from_secs(secs))
}

impl Ctx<'_> {
    pub(super) fn rpo_check(
        &self,
        r: &Restore,
        taken: DateTime<Utc>,
        what: &str,
        out: &mut Out<'_>,
    ) {
        let Some(rpo) = self.plan.header().objectives.rpo else {
            return;
        };
        let age = self.now - taken;
        if age.num_seconds() > rpo.as_secs() as i64 {
            out.push(
                Finding::error(
                    codes::RP_TOO_OLD,
                    format!(
                        "restore `{}`: {what} is {} old, older than the RPO of {}",
                        r.id,
                        age_text(age),
                        duration_text(rpo)
                    ),
                )
                .at(r.spans.recovery_point)
                .label("too old for objectives.rpo")
                .evidence(format!("taken at {}", taken.to_rfc3339()))
                .help(
                    "take a fresh backup or copy one into the vault, or raise `objectives.rpo` if this age is acceptable",
                ),
            );
        }
    }

    pub(super) fn check_point(&self, r: &Restore, rp: &RecoveryPoint, out: &mut Out<'_>) {
        if rp.status != "COMPLETED" {
            out.push(
                Finding::error(
                    codes::RP_NOT_COMPLETED,
                    format!(
                        "restore `{}`: recovery point is {}, not COMPLETED",
                        r.id, rp.status
                    ),
                )
                .at(r.spans.recovery_point)
                .evidence(format!("{} status {}", rp.arn, rp.status))
                .help("choose a COMPLETED recovery point, or use `latest`"),
            );
        }
        if !rp.resource_type.eq_ignore_ascii_case("DynamoDB") {
            out.push(
                Finding::error(
                    codes::RP_NOT_DYNAMODB,
                    format!(
                        "restore `{}`: recovery point is of a {} resource, not a DynamoDB table",
                        r.id, rp.resource_type
                    ),
                )
                .at(r.spans.recovery_point)
                .evidence(format!("{} resource {}", rp.arn, rp.resource_arn))
                .help("choose a recovery point of a DynamoDB table"),
            );
        } else if !rp.resource_arn.is_empty() && rp.resource_arn != r.source_table_arn() {
            out.push(
                Finding::warning(
                    codes::RP_OTHER_TABLE,
                    format!(
                        "restore `{}`: recovery point is of another table than `{}`",
                        r.id, r.table
                    ),
                )
                .at(r.spans.recovery_point)
                .evidence(format!(
                    "{} was taken of {}, the plan says {}",
                    rp.arn,
                    rp.resource_arn,
                    r.source_table_arn()
                ))
                .help("check `table`, `source` and the recovery point ARN"),
            );
        }
        self.rpo_check(r, rp.created, "the recovery point", out);
    }

    /// A restore runs where its recovery point is: AWS Backup restores from a
    /// vault in the target account and Region; DynamoDB backups restore in
    /// their own account and Region.
    pub(super) fn location_check(&self, r: &Restore, arn: &str, out: &mut Out<'_>) {
        let target = &r.target.location;
        let (Some(region), Some(account)) = (arn_region(arn), arn_account(arn)) else {
            return;
        };
        // A DynamoDB backup restores into another Region of its own account.
        let dynamodb_backup = arn.starts_with("arn:aws:dynamodb:");
        let elsewhere = account != target.account.as_str()
            || (region != target.region.as_str() && !dynamodb_backup);
        if elsewhere {
            out.push(
                Finding::error(
                    codes::RP_WRONG_LOCATION,
                    format!(
                        "restore `{}`: the recovery point is in {account}/{region} but the restore runs in {target}",
                        r.id
                    ),
                )
                .at(r.spans.recovery_point)
                .evidence(arn.to_owned())
                .help(if arn.starts_with("arn:aws:dynamodb:") {
                    "DynamoDB backups restore only in their own account: add a `copy:` step (the backup must be an advanced DynamoDB backup, managed by AWS Backup) and restore the copy, or restore in the backup's account"
                } else {
                    "add a `copy:` step to copy the recovery point into a vault in the target account and Region (AWS Backup StartCopyJob), or restore where it is"
                }),
            );
        }
    }

    /// An AWS-managed key cannot encrypt a table in another account or Region
    /// (each account and Region has its own). `which` names the key as the
    /// message and evidence say it, so merged findings never mix key types.
    pub(super) fn aws_key_cannot_follow(&self, r: &Restore, which: &str, out: &mut Out<'_>) {
        let (code, why) = if r.is_cross_account() {
            (
                codes::NOT_SHAREABLE,
                format!(
                    "{which} belongs to its account; AWS-managed keys can never be shared with another account"
                ),
            )
        } else {
            (
                codes::NOT_MULTI_REGION,
                format!("{which} belongs to its Region; AWS-managed keys are never multi-Region"),
            )
        };
        out.push(
            Finding::error(
                code,
                format!(
                    "restore `{}`: the original table uses {which}, which cannot encrypt a table in {}",
                    r.id, r.target.location
                ),
            )
            .at(r.spans.encryption)
            .label("same-as-source cannot be honoured")
            .evidence(why)
            .help("use `dynamodb-owned`, `dynamodb-managed`, or a `customer-managed` key of the target"),
        );
    }

    pub(super) async fn shared_check(&self, r: &Restore, key: &KeyFacts, out: &mut Out<'_>) {
        let target = &r.target.location;
        let owner = Location {
            account: AccountId::parse(&key.account).unwrap_or_else(|| r.source.account.clone()),
            region: Region::parse(&key.region).unwrap_or_else(|| target.region.clone()),
        };
        if owner.account == target.account {
            return;
        }
        if key.manager == KeyManager::Aws {
            self.aws_key_cannot_follow(r, "an AWS-managed key", out);
            return;
        }
        let fail = |evidence: String| {
            Finding::error(
                codes::NOT_SHARED,
                format!(
                    "restore `{}`: key {} of account {} is not shared with account {}",
                    r.id, key.arn, owner.account, target.account
                ),
            )
            .at(r.spans.key.or(r.spans.encryption))
            .evidence(evidence)
            .help(format!(
                "add a statement to the key policy allowing arn:aws:iam::{}:root kms:Decrypt, kms:Encrypt, kms:GenerateDataKey*, kms:ReEncrypt*, kms:CreateGrant and kms:DescribeKey",
                target.account
            ))
        };
        match self.cloud.key_policy(&owner, &key.arn).await {
            Ok(Some(policy)) => match policy::grants(&policy, target.account.as_str()) {
                Ok(v) if v.missing.is_empty() => {}
                Ok(v) => out.push(fail(format!(
                    "GetKeyPolicy {} (as account {}): not granted to {}: {}",
                    key.arn,
                    owner.account,
                    target.account,
                    v.missing.join(", ")
                ))),
                Err(e) => out.call_failed(
                    "read the key policy",
                    &CloudError::new(ErrorKind::Invalid, "GetKeyPolicy", "MalformedPolicy", e),
                ),
            },
            // The policy is not readable from here: probe with DryRun as the target.
            Ok(None) | Err(_) => {
                let mut denied = Vec::new();
                for op in [
                    KeyOperation::CreateGrant,
                    KeyOperation::Encrypt,
                    KeyOperation::GenerateDataKey,
                ] {
                    match self.cloud.probe_key(target, &key.arn, op).await {
                        Ok(ProbeOutcome::Allowed) => {}
                        Ok(ProbeOutcome::Denied(why)) => denied.push(format!("{op:?}: {why}")),
                        Err(e) => denied.push(format!("{op:?}: {e}")),
                    }
                }
                if !denied.is_empty() {
                    out.push(fail(format!(
                        "key policy not readable as {}; DryRun as {} refused: {}",
                        owner.account,
                        target.account,
                        denied.join("; ")
                    )));
                }
            }
        }
    }
}

/// Warns about names in `indexes` that the recovery point (or, when it does
/// not list its indexes, the original table) does not have: the restore would
/// silently keep fewer indexes than the plan says.
pub(super) fn unknown_indexes(
    r: &Restore,
    rp: Option<&RecoveryPoint>,
    source_table: Option<&TableFacts>,
    out: &mut Out<'_>,
) {
    let Some(wanted) = &r.indexes else {
        return;
    };
    let Some(available) = rp
        .and_then(|rp| rp.indexes.as_deref())
        .or_else(|| source_table.map(|t| t.indexes.as_slice()))
    else {
        return;
    };
    let names: Vec<&str> = available.iter().map(|ix| ix.name.as_str()).collect();
    for w in wanted.iter().filter(|w| !names.contains(&w.as_str())) {
        out.push(
            Finding::warning(
                codes::UNKNOWN_INDEX,
                format!(
                    "restore `{}`: `indexes` names `{w}`, which table `{}` does not have",
                    r.id, r.table
                ),
            )
            .evidence(format!(
                "indexes of the recovery point: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ))
            .help(match crate::graph::closest(w, names.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "remove it from `indexes`".to_owned(),
            }),
        );
    }
}

/// Each `verify.keys` entry must fit the original table's key schema (a
/// restore keeps it): every key attribute, no other, numbers for `N`,
/// base64 for `B`. An error at the entry's line; nothing is said when the
/// original table cannot be read (`schema` is `None`).
pub(super) fn verify_keys_fit(
    r: &Restore,
    schema: Option<&[crate::cloud::data::KeyAttribute]>,
    out: &mut Out<'_>,
) {
    let (Some(v), Some(schema)) = (r.after_restore.verify.as_ref(), schema) else {
        return;
    };
    let described: Vec<String> = schema
        .iter()
        .map(|a| format!("{} ({}, {})", a.name, a.role, a.kind))
        .collect();
    for (k, written) in v.keys.iter().enumerate() {
        let Err(why) = crate::cloud::data::typed_key(written, schema) else {
            continue;
        };
        let shown = crate::cloud::data::show_key(written);
        out.push(
            Finding::error(
                codes::VERIFY_KEY_SCHEMA,
                format!(
                    "restore `{}`: verify.keys entry {shown} does not fit the key of table `{}`: {why}",
                    r.id, r.table
                ),
            )
            .at(r.spans.verify_keys.get(k).copied().flatten().or(r.spans.entry))
            .label("not this table's key")
            .evidence(format!(
                "DescribeTable {}: key schema {}",
                r.table,
                described.join(", ")
            ))
            .help("write exactly the table's key attributes, each a number for an N key and base64 for a B key"),
        );
    }
}
