//! Command-line options that choose the identity used for each AWS account.

use std::collections::BTreeMap;

use crate::aws::{AccountAccess, AwsCloud, AwsOptions};
use crate::cloud::cache::Cached;

/// Credentials per account, shared by every command that talks to AWS.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Use a named profile for one account: `--profile 111122223333=prod-readonly`
    /// (repeatable). Accounts not named use the ambient credentials.
    #[arg(long = "profile", value_name = "ACCOUNT=PROFILE", value_parser = parse_pair)]
    pub profiles: Vec<(String, String)>,
    /// Assume a role for one account: `--role 444455556666=arn:aws:iam::444455556666:role/restoreplan`
    /// (repeatable; with that account's profile, or the ambient credentials).
    #[arg(long = "role", value_name = "ACCOUNT=ROLE_ARN", value_parser = parse_pair)]
    pub roles: Vec<(String, String)>,
    /// Send every AWS call to this endpoint (a local emulator). `AWS_ENDPOINT_URL` works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
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
            default: AccountAccess::default(),
            endpoint: self.endpoint_url.clone(),
        }
    }
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (account, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not ACCOUNT=VALUE"))?;
    if crate::plan::model::AccountId::parse(account).is_none() {
        return Err(format!("`{account}` is not a 12-digit account id"));
    }
    if value.is_empty() {
        return Err(format!("`{s}` has nothing after `=`"));
    }
    Ok((account.to_owned(), value.to_owned()))
}

impl AwsArgs {
    /// A read-only view of AWS for one run: the SDK adapter behind the
    /// per-run cache, to be used only as a [`crate::cloud::CloudRead`].
    pub fn read_only(&self) -> Cached<AwsCloud> {
        Cached::new(AwsCloud::new(self.options()))
    }

    /// [`AwsArgs::read_only`] with every request spaced to at most
    /// `per_second` (`apply --max-requests-per-second`).
    pub fn read_only_paced(&self, per_second: f64) -> Cached<AwsCloud> {
        Cached::new(AwsCloud::new(self.options()).paced(Some(per_second)))
    }
}

/// Runs one future to completion on a fresh runtime (the commands are
/// synchronous; only their AWS calls are concurrent).
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, String> {
    runtime()
        .map(|rt| rt.block_on(future))
        .map_err(|e| format!("failed to start the async runtime: {e}"))
}

/// A runtime for the commands that call AWS.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_an_account_and_a_value() {
        assert_eq!(
            parse_pair("111122223333=prod"),
            Ok(("111122223333".into(), "prod".into()))
        );
        assert!(parse_pair("1111=prod").is_err());
        assert!(parse_pair("111122223333").is_err());
        assert!(parse_pair("111122223333=").is_err());
    }

    #[test]
    fn a_profile_and_a_role_for_one_account_combine() {
        let args = AwsArgs {
            profiles: vec![("111122223333".into(), "p".into())],
            roles: vec![(
                "111122223333".into(),
                "arn:aws:iam::111122223333:role/r".into(),
            )],
            endpoint_url: None,
        };
        let o = args.options();
        let a = &o.accounts["111122223333"];
        assert_eq!(a.profile.as_deref(), Some("p"));
        assert_eq!(
            a.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/r")
        );
    }
}
