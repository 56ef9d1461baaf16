//! The live checks of a copy step (`copy:`): the source vault exists (the
//! recovery point is chosen there, by the usual selector rules), the target
//! vault exists, and across accounts its access policy lets the source
//! account `backup:CopyIntoBackupVault`. Builds the `StartCopyJob` request.

use super::*;
pub(super) use crate::check::request::lookup_view;
use crate::check::request::{build_copy_request, target_vault_arn};
use crate::check::resolved::ResolvedCopy;
use crate::cloud::VaultFacts;
use crate::plan::rules as plan_codes;

/// The action a cross-account copy needs on the destination vault.
const COPY_ACTION: &str = "backup:CopyIntoBackupVault";

impl Ctx<'_> {
    /// Checks the vaults of `r`'s copy step and builds its request for the
    /// chosen point `rp`; `None` when the restore has no copy step.
    pub(super) async fn copy_step(
        &self,
        r: &Restore,
        rp: Option<&RecoveryPoint>,
        out: &mut Out<'_>,
    ) -> Option<ResolvedCopy> {
        let copy = r.copy.as_ref()?;
        let span = r.spans.copy.or(r.spans.entry);
        match self.cloud.describe_vault(&r.source, &copy.vault).await {
            Ok(Some(_)) => {}
            Ok(None) => out.push(
                Finding::error(
                    plan_codes::LIVE_COPY_SOURCE_VAULT,
                    format!(
                        "restore `{}`: the vault `{}` to copy from does not exist in {}",
                        r.id, copy.vault, r.source
                    ),
                )
                .at(span)
                .label("no such vault in the source account and Region")
                .evidence(format!("DescribeBackupVault {} in {}: not found", copy.vault, r.source))
                .help("set `copy.vault` to the vault holding the original's recovery points in the source account and Region"),
            ),
            Err(e) => out.call_failed("describe the source vault of the copy", &e),
        }
        let target = &r.target.location;
        let mut vault_arn = None;
        if let Some(name) = &r.target.vault {
            match self.cloud.describe_vault(target, name).await {
                Ok(Some(v)) => {
                    self.admits(r, &v, out);
                    vault_arn = Some(v.arn);
                }
                Ok(None) => out.push(
                    Finding::error(
                        plan_codes::LIVE_COPY_TARGET_VAULT,
                        format!(
                            "restore `{}`: the vault `{name}` to copy into does not exist in {target}",
                            r.id
                        ),
                    )
                    .at(span)
                    .label("the copy's destination vault is missing")
                    .evidence(format!("DescribeBackupVault {name} in {target}: not found"))
                    .help(format!(
                        "create vault `{name}` in {target} (aws backup create-backup-vault --backup-vault-name {name}) with an access policy that allows {} `{COPY_ACTION}`, or set `target.vault` to an existing one",
                        r.source.account
                    )),
                ),
                Err(e) => out.call_failed("describe the target vault", &e),
            }
        }
        let vault_arn = vault_arn.or_else(|| {
            r.target
                .vault
                .as_deref()
                .map(|name| target_vault_arn(r, name))
        });
        let request = build_copy_request(r, rp, vault_arn.as_deref())?;
        let model = DurationModel::default();
        let bytes = rp
            .and_then(|rp| rp.size_bytes)
            .unwrap_or(model.default_table_bytes);
        Some(ResolvedCopy {
            scope: r.source.clone(),
            request,
            estimated_seconds: model.copy_estimate(bytes),
        })
    }

    /// Across accounts, the target vault's access policy must let the
    /// source account copy into it.
    fn admits(&self, r: &Restore, vault: &VaultFacts, out: &mut Out<'_>) {
        if !r.is_cross_account() {
            return;
        }
        let source = r.source.account.as_str();
        let span = r.spans.copy.or(r.spans.entry);
        let refuse = |why: String, evidence: String| {
            Finding::error(
                plan_codes::LIVE_COPY_NOT_ADMITTED,
                format!(
                    "restore `{}`: the access policy of vault `{}` in {} does not let account {source} copy into it ({why})",
                    r.id, vault.name, r.target.location
                ),
            )
            .at(span)
            .label(format!("account {source} may not `{COPY_ACTION}` here"))
            .evidence(evidence)
            .help(format!(
                "add to the access policy of vault `{}` a statement {{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"arn:aws:iam::{source}:root\"}}, \"Action\": \"{COPY_ACTION}\", \"Resource\": \"*\"}} (aws backup put-backup-vault-access-policy), and remove any Deny of it",
                vault.name
            ))
        };
        let Some(policy) = &vault.access_policy else {
            out.push(refuse(
                "it has no access policy".to_owned(),
                format!("GetBackupVaultAccessPolicy {}: none", vault.name),
            ));
            return;
        };
        match crate::check::policy::allows(policy, COPY_ACTION, source) {
            Ok(v) if v.allowed => {}
            Ok(v) => {
                let why = if v.denied {
                    format!("a Deny statement names {COPY_ACTION}")
                } else {
                    format!("no Allow statement grants {COPY_ACTION} to {source}")
                };
                out.push(refuse(why, format!("access policy: {}", compact(policy))));
            }
            Err(e) => out.push(refuse(e, format!("access policy: {}", compact(policy)))),
        }
    }
}

/// A policy document on one line, for evidence.
fn compact(policy: &str) -> String {
    serde_json::from_str::<serde_json::Value>(policy)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| policy.to_owned())
}
