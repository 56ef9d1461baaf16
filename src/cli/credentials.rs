//! AWS access flags shared by every command that reads (or changes) a live
//! account: `--profile ACCOUNT=NAME` and `--role ACCOUNT=ROLE_ARN`, ambient
//! credentials by default, and the runtime that drives the async cloud.

use std::collections::BTreeMap;
use std::future::Future;

use crate::cloud::aws::{AccountAccess, AwsCloud, AwsOptions};
use crate::cloud::cache::Cached;
use crate::plan::model::AccountId;

/// How to reach AWS for each account of the plan.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CredentialArgs {
    /// Use a named profile for one account: `--profile 444455556666=dr`
    /// (repeatable). Accounts without one use ambient credentials.
    #[arg(long = "profile", value_name = "ACCOUNT=NAME", value_parser = parse_pair)]
    pub profiles: Vec<(String, String)>,
    /// Assume a role for one account: `--role 444455556666=arn:aws:iam::444455556666:role/dr-reader`
    /// (repeatable); combines with that account's `--profile`.
    #[arg(long = "role", value_name = "ACCOUNT=ROLE_ARN", value_parser = parse_pair)]
    pub roles: Vec<(String, String)>,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (account, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not ACCOUNT=VALUE, e.g. 444455556666=dr"))?;
    if AccountId::parse(account).is_none() {
        return Err(format!("`{account}` is not a 12-digit account id"));
    }
    if value.is_empty() {
        return Err(format!("`{s}` has nothing after `=`"));
    }
    Ok((account.to_owned(), value.to_owned()))
}

impl CredentialArgs {
    /// The adapter options these flags describe.
    pub fn options(&self) -> AwsOptions {
        let mut accounts: BTreeMap<String, AccountAccess> = BTreeMap::new();
        for (account, profile) in &self.profiles {
            accounts.entry(account.clone()).or_default().profile = Some(profile.clone());
        }
        for (account, role) in &self.roles {
            accounts.entry(account.clone()).or_default().role_arn = Some(role.clone());
        }
        AwsOptions {
            accounts,
            ..AwsOptions::default()
        }
    }

    /// A read-only view of AWS for the dry-run commands: the adapter
    /// behind the per-run cache, typed as what it is used for.
    pub fn cloud(&self) -> Cached<AwsCloud> {
        Cached::new(AwsCloud::new(self.options()))
    }
}

/// Runs a future to completion on a fresh multi-threaded runtime.
pub fn block_on<F: Future>(f: F) -> Result<F::Output, std::io::Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_an_account_and_a_value() {
        assert_eq!(
            parse_pair("444455556666=dr"),
            Ok(("444455556666".into(), "dr".into()))
        );
        assert!(parse_pair("dr").is_err());
        assert!(parse_pair("4444=dr").is_err());
        assert!(parse_pair("444455556666=").is_err());
    }

    #[test]
    fn profiles_and_roles_combine_per_account() {
        let args = CredentialArgs {
            profiles: vec![("444455556666".into(), "dr".into())],
            roles: vec![
                (
                    "444455556666".into(),
                    "arn:aws:iam::444455556666:role/r".into(),
                ),
                (
                    "111122223333".into(),
                    "arn:aws:iam::111122223333:role/s".into(),
                ),
            ],
        };
        let o = args.options();
        assert_eq!(o.accounts.len(), 2);
        assert_eq!(o.accounts["444455556666"].profile.as_deref(), Some("dr"));
        assert_eq!(
            o.accounts["444455556666"].role_arn.as_deref(),
            Some("arn:aws:iam::444455556666:role/r")
        );
        assert_eq!(o.accounts["111122223333"].profile, None);
        assert_eq!(o.default, AccountAccess::default());
    }
}
