//! What `init` reads from the account, and how each table can be restored.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};

use crate::cloud::{CloudRead, Scope, TableEncryption, wrong_account};
use crate::plan::model::{AccountId, Region};
use crate::plan::select::glob_match;

/// What to survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Account of the original tables.
    pub source: Scope,
    /// Where restores run.
    pub target: Scope,
    /// Vault holding recovery points (in the target account and Region).
    pub vault: Option<String>,
    /// Globs a table's name must match (any one); none: every table.
    pub matches: Vec<String>,
    /// Globs taken out.
    pub excludes: Vec<String>,
    /// Tags every selected table carries with these values.
    pub tags: BTreeMap<String, String>,
    /// Tables surveyed at once.
    pub parallelism: usize,
}

/// How a table can be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// From the newest COMPLETED recovery point in the vault.
    Vault,
    /// From its newest DynamoDB backup (same account and Region only).
    Backup,
    /// DynamoDB point-in-time recovery (same account only).
    PointInTime,
    /// Not restorable where the restores run; why.
    None(String),
}

/// One selected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyedTable {
    /// Its name.
    pub name: String,
    /// How it can be restored.
    pub method: Method,
    /// True when a customer-managed key encrypts it.
    pub customer_key: bool,
    /// Its settings a restore does not carry over.
    pub pitr: bool,
    /// TTL enabled.
    pub ttl: bool,
    /// Stream view type, when streams are on.
    pub stream: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Its tags (reserved prefixes left out).
    pub tags: BTreeMap<String, String>,
}

/// The survey's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Tables in the source account and Region.
    pub listed: usize,
    /// The selected tables, by name.
    pub tables: Vec<SurveyedTable>,
}

fn by_name(req: &Request, name: &str) -> bool {
    (req.matches.is_empty() || req.matches.iter().any(|g| glob_match(g, name)))
        && !req.excludes.iter().any(|g| glob_match(g, name))
}

/// Surveys the source account. Every call is a read; the identity of each
/// account is checked first.
pub async fn survey(req: &Request, cloud: &dyn CloudRead) -> Result<Survey, String> {
    let mut accounts = vec![req.source.account.clone()];
    if req.target.account != req.source.account {
        accounts.push(req.target.account.clone());
    }
    for a in &accounts {
        let id = cloud
            .identity(a)
            .await
            .map_err(|e| format!("no usable credentials for account {a}: {e}"))?;
        if let Some(why) = wrong_account(a.as_str(), &id) {
            return Err(format!(
                "{why}; nothing was read (pass `--role {a}=arn:aws:iam::{a}:role/NAME`)"
            ));
        }
    }
    let names = cloud
        .list_tables(&req.source)
        .await
        .map_err(|e| format!("could not list the tables of {}: {e}", req.source))?;
    let listed = names.len();
    let candidates: Vec<String> = names.into_iter().filter(|n| by_name(req, n)).collect();
    let surveyed: Vec<Result<Option<SurveyedTable>, String>> = stream::iter(candidates)
        .map(|name| one(req, cloud, name))
        .buffered(req.parallelism.max(1))
        .collect()
        .await;
    let mut tables = Vec::new();
    for t in surveyed {
        if let Some(t) = t? {
            tables.push(t);
        }
    }
    Ok(Survey { listed, tables })
}

async fn one(
    req: &Request,
    cloud: &dyn CloudRead,
    name: String,
) -> Result<Option<SurveyedTable>, String> {
    let src = &req.source;
    let arn = format!(
        "arn:aws:dynamodb:{}:{}:table/{name}",
        src.region, src.account
    );
    let all_tags = cloud
        .table_tags(src, &arn)
        .await
        .map_err(|e| format!("could not read the tags of `{name}`: {e}"))?;
    if !req.tags.iter().all(|(k, v)| all_tags.get(k) == Some(v)) {
        return Ok(None);
    }
    let Some(facts) = cloud
        .describe_table(src, &name)
        .await
        .map_err(|e| format!("could not describe `{name}`: {e}"))?
    else {
        // Deleted since it was listed.
        return Ok(None);
    };
    let completed = |rps: &[crate::cloud::RecoveryPoint]| {
        rps.iter()
            .any(|rp| rp.status == "COMPLETED" && rp.resource_type.eq_ignore_ascii_case("DynamoDB"))
    };
    let same_account = req.target.account == src.account;
    let same_place = same_account && req.target.region == src.region;
    let mut method = None;
    if let Some(vault) = &req.vault {
        match cloud.vault_recovery_points(&req.target, vault, &arn).await {
            Ok(rps) if completed(&rps) => method = Some(Method::Vault),
            Ok(_) => {}
            Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "could not list the recovery points of `{name}`: {e}"
                ));
            }
        }
    }
    let pitr = cloud
        .describe_pitr(src, &name)
        .await
        .map(|p| p.enabled)
        .unwrap_or(false);
    if method.is_none() && same_place {
        match cloud.table_backups(src, &name).await {
            Ok(b) if completed(&b) => method = Some(Method::Backup),
            _ => {}
        }
    }
    if method.is_none() && same_account && pitr {
        method = Some(Method::PointInTime);
    }
    let method = method.unwrap_or_else(|| {
        Method::None(match (&req.vault, same_place) {
            (Some(v), true) => format!("no COMPLETED recovery point in vault `{v}`, no DynamoDB backup, PITR off"),
            (Some(v), false) => format!("no COMPLETED recovery point in vault `{v}` (DynamoDB backups and PITR do not restore into another account)"),
            (None, true) => "no DynamoDB backup and PITR off".to_owned(),
            (None, false) => "no vault given (`--vault`), and DynamoDB backups and PITR do not restore into another account or Region".to_owned(),
        })
    });
    let ttl = cloud
        .describe_ttl(src, &name)
        .await
        .map(|t| t.status == "ENABLED")
        .unwrap_or(false);
    let tags = all_tags
        .into_iter()
        .filter(|(k, _)| {
            let l = k.to_ascii_lowercase();
            !l.starts_with("aws:") && !l.starts_with("restoreplan:")
        })
        .collect();
    Ok(Some(SurveyedTable {
        name,
        method,
        customer_key: matches!(facts.encryption, TableEncryption::Customer { .. }),
        pitr,
        ttl,
        stream: facts.stream.clone(),
        deletion_protection: facts.deletion_protection,
        tags,
    }))
}

/// `AccountId` and `Region` from text, or why not.
pub fn scope(account: &str, region: &str) -> Result<Scope, String> {
    Ok(Scope {
        account: AccountId::parse(account)
            .ok_or_else(|| format!("`{account}` is not a 12-digit account id"))?,
        region: Region::parse(region).ok_or_else(|| format!("`{region}` is not a Region"))?,
    })
}
