//! Who a run acts as in each account.
//!
//! Before a process that runs or tears down a run sends anything to an
//! account, `GetCallerIdentity` must show that the credentials for it are of
//! that very account; the identities used are journaled
//! ([`super::journal::Record::Identity`]) so that a later process (a resume,
//! a teardown) can be held to the same accounts.

use std::collections::BTreeMap;

use crate::cloud::{CloudRead, Identity, arn_account, wrong_account};
use crate::plan::model::AccountId;

use super::journal::{Journal, JournalError, Record};

/// The identities checked for a run's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// One per account, in account order.
    pub identities: Vec<(AccountId, Identity)>,
    /// Accounts where the caller differs from the one the journal recorded
    /// (same account, another principal), with the recorded ARN.
    pub changed: Vec<(AccountId, String)>,
}

/// Checks the credentials for every account in `accounts` before any other
/// call to it: each must be of its account, and of the account the journal
/// recorded (`journaled`, caller ARN per account). The error names every
/// account that fails, with both accounts and the fix, one per line.
pub async fn verify(
    cloud: &dyn CloudRead,
    accounts: &[AccountId],
    journaled: &BTreeMap<String, String>,
) -> Result<Verified, String> {
    let mut accounts = accounts.to_vec();
    accounts.sort();
    accounts.dedup();
    let mut problems = Vec::new();
    let mut verified = Verified {
        identities: Vec::new(),
        changed: Vec::new(),
    };
    for account in accounts {
        let judged = match cloud.identity(&account).await {
            Ok(id) => judge(&account, &id, journaled).map(|changed| (id, changed)),
            Err(e) => Err(format!("no usable credentials for {account}: {e}")),
        };
        match judged {
            Ok((id, changed)) => {
                if let Some(recorded) = changed {
                    verified.changed.push((account.clone(), recorded));
                }
                verified.identities.push((account, id));
            }
            Err(why) => problems.push(why),
        }
    }
    if problems.is_empty() {
        Ok(verified)
    } else {
        Err(problems.join("\n"))
    }
}

/// Whether `id` may act for `account` in a run whose journal records
/// `journaled`: `Ok(Some(recorded ARN))` when the caller changed within the
/// account, `Ok(None)` when it is the same (or none was recorded).
fn judge(
    account: &AccountId,
    id: &Identity,
    journaled: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    if let Some(why) = wrong_account(account.as_str(), id) {
        return Err(why);
    }
    match journaled.get(account.as_str()) {
        // restoreplan never journals an identity of another account; say so
        // rather than act on such a journal.
        Some(recorded) if arn_account(recorded).is_some_and(|a| a != account.as_str()) => {
            Err(format!(
                "the run journal records {recorded} for account {account}, an identity of another account; refusing to act on this run"
            ))
        }
        Some(recorded) if recorded != &id.arn => Ok(Some(recorded.clone())),
        _ => Ok(None),
    }
}

/// Journals the identity used for each account that the journal does not
/// already show with the same caller.
pub fn record(
    journal: &Journal,
    verified: &Verified,
    journaled: &BTreeMap<String, String>,
) -> Result<(), JournalError> {
    for (account, id) in &verified.identities {
        if journaled.get(account.as_str()) != Some(&id.arn) {
            journal.append(&Record::Identity {
                account: account.to_string(),
                arn: id.arn.clone(),
                at: crate::clock::now(),
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).unwrap_or_else(|| panic!("{s} is an account id"))
    }

    fn caller(account: &str) -> Identity {
        Identity {
            account: account.to_owned(),
            arn: format!("arn:aws:sts::{account}:assumed-role/ops/me"),
            source: "ambient credentials".to_owned(),
        }
    }

    #[test]
    fn credentials_of_another_account_are_refused_naming_both() {
        let err = judge(
            &acct("444455556666"),
            &caller("111122223333"),
            &BTreeMap::new(),
        )
        .expect_err("another account's credentials");
        assert!(
            err.contains("credentials for 444455556666 are of 111122223333"),
            "{err}"
        );
        assert!(err.contains("--role 444455556666="), "{err}");
    }

    #[test]
    fn the_journaled_caller_may_change_within_the_account_only() {
        let a = acct("111122223333");
        let me = caller("111122223333");
        let recorded = |arn: &str| BTreeMap::from([(a.to_string(), arn.to_owned())]);
        assert_eq!(judge(&a, &me, &recorded(&me.arn)), Ok(None));
        let other = "arn:aws:sts::111122223333:assumed-role/other/x";
        assert_eq!(judge(&a, &me, &recorded(other)), Ok(Some(other.to_owned())));
        let forged = recorded("arn:aws:sts::999988887777:assumed-role/ops/me");
        assert!(judge(&a, &me, &forged).is_err());
    }
}
