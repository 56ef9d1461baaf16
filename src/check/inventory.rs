//! The live side of `select:`: list the source tables each selector draws
//! from and recompile the plan with them.
//!
//! One paginated `ListTables` per source account and Region, then
//! `ListTagsOfResource` only for the tables a tag selector could still
//! match (by name), at most `parallelism` at once. Every call goes through
//! the caller's cloud, so the per-run cache (`cloud::cache`) answers a
//! second stage of the same run without calling AWS again. The identity of
//! each account is checked before anything is listed in it.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};

use super::live::codes;
use crate::cloud::{CloudRead, Scope, wrong_account};
use crate::diag::Finding;
use crate::plan::model::{AccountId, Region};
use crate::plan::select::{Group, Inventory, selects};
use crate::plan::{CompileOptions, Loaded, Rejected, compile};

/// Lists what `groups` select from. A failed call is an error finding.
pub async fn inventory(
    groups: &[Group],
    cloud: &dyn CloudRead,
    parallelism: usize,
) -> Result<Inventory, Finding> {
    let mut inv = Inventory::default();
    let places: BTreeSet<(String, String)> = groups
        .iter()
        .filter_map(|g| Some((g.account.clone()?, g.region.clone()?)))
        .collect();
    for (account, region) in places {
        let (Some(acct), Some(reg)) = (AccountId::parse(&account), Region::parse(&region)) else {
            // The static rules report a malformed location.
            continue;
        };
        let id = cloud.identity(&acct).await.map_err(|e| {
            Finding::error(
                codes::CREDENTIALS,
                format!("no usable credentials for account {account} to list its tables"),
            )
            .evidence(e.to_string())
            .help("give credentials for the source account (`--role ACCOUNT=ARN` or `--profile ACCOUNT=PROFILE`)")
        })?;
        if let Some(why) = wrong_account(&account, &id) {
            return Err(Finding::error(
                codes::WRONG_ACCOUNT,
                format!("{why}; no table of {account} was listed"),
            )
            .help(format!(
                "pass `--role {account}=arn:aws:iam::{account}:role/NAME` with credentials of {account}"
            )));
        }
        let scope = Scope {
            account: acct,
            region: reg,
        };
        let names = cloud.list_tables(&scope).await.map_err(|e| {
            Finding::error(
                codes::CALL_FAILED,
                format!("could not list the tables of {account}/{region} for `select:`"),
            )
            .evidence(e.to_string())
            .help("grant `dynamodb:ListTables` to the identity shown, then try again")
        })?;
        inv.listed(&account, &region);
        let here: Vec<&Group> = groups
            .iter()
            .filter(|g| {
                g.account.as_deref() == Some(account.as_str())
                    && g.region.as_deref() == Some(region.as_str())
            })
            .collect();
        // Tags are read only where a tag selector matches the name.
        let needs_tags = |name: &str| {
            here.iter().any(|g| {
                g.select.tags.as_ref().is_some_and(|t| !t.is_empty()) && {
                    let mut by_name = g.select.clone();
                    by_name.tags = None;
                    selects(&by_name, name, None)
                }
            })
        };
        let (tagged, plain): (Vec<String>, Vec<String>) =
            names.into_iter().partition(|n| needs_tags(n));
        for n in &plain {
            inv.insert(&account, &region, n, None);
        }
        let scope_ref = &scope;
        type Read = (String, Result<BTreeMap<String, String>, String>);
        let tags: Vec<Read> = stream::iter(tagged)
            .map(|name| async move {
                let arn = format!(
                    "arn:aws:dynamodb:{}:{}:table/{name}",
                    scope_ref.region, scope_ref.account
                );
                let t = cloud
                    .table_tags(scope_ref, &arn)
                    .await
                    .map_err(|e| e.to_string());
                (name, t)
            })
            .buffer_unordered(parallelism.max(1))
            .collect()
            .await;
        for (name, t) in tags {
            match t {
                Ok(t) => inv.insert(&account, &region, &name, Some(t)),
                Err(e) => {
                    return Err(Finding::error(
                        codes::CALL_FAILED,
                        format!("could not read the tags of table `{name}` in {account}/{region} for `select:`"),
                    )
                    .evidence(e)
                    .help("grant `dynamodb:ListTagsOfResource` to the identity shown, then try again"));
                }
            }
        }
    }
    Ok(inv)
}

/// Why [`expand_live`] produced no plan.
#[derive(Debug)]
pub enum ExpandError {
    /// Listing failed (the finding says which call and why).
    Listing(Box<Finding>),
    /// The expanded plan broke a rule (a selector matching nothing, …).
    Rejected(Box<Rejected>),
}

/// `loaded` with every `select:` expanded against the source accounts;
/// unchanged when it has none.
pub async fn expand_live(
    loaded: Loaded,
    opts: &CompileOptions,
    cloud: &dyn CloudRead,
) -> Result<Loaded, ExpandError> {
    if loaded.groups.is_empty() {
        return Ok(loaded);
    }
    let inv = inventory(&loaded.groups, cloud, 16)
        .await
        .map_err(|f| ExpandError::Listing(Box::new(f)))?;
    expand_with(loaded, opts, inv).map_err(|r| ExpandError::Rejected(Box::new(r)))
}

/// `loaded` compiled again with `inventory` (e.g. from a `--sizes` file).
pub fn expand_with(
    loaded: Loaded,
    opts: &CompileOptions,
    inventory: Inventory,
) -> Result<Loaded, Rejected> {
    if loaded.groups.is_empty() {
        return Ok(loaded);
    }
    let mut opts = opts.clone();
    opts.inventory = Some(inventory);
    compile(loaded.source, &opts)
}
