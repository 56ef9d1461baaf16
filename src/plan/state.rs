//! Where a plan's runs live, as the plan and the command line describe it:
//! the backend, its location, and the URL forms `--state` takes. Pure data
//! and parsing; opening a backend is the job of the `state` module above.

use crate::plan::ids::{AccountId, Region};

/// Where a plan's runs live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StateBackend {
    /// `.restoreplan/runs/` on this machine.
    #[default]
    Local,
    /// An S3 bucket and prefix.
    S3(S3Location),
    /// A DynamoDB table.
    DynamoDb(TableLocation),
}

/// A DynamoDB run-state backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLocation {
    /// Table name.
    pub table: String,
    /// The table's Region.
    pub region: Region,
    /// The table's account.
    pub account: AccountId,
}

impl TableLocation {
    /// `dynamodb://table`.
    pub fn url(&self) -> String {
        format!("dynamodb://{}", self.table)
    }
}

impl StateBackend {
    /// The backend as a URL with its Region and account, as `--state` takes it.
    pub fn url(&self) -> String {
        match self {
            Self::Local => "local".to_owned(),
            Self::S3(l) => format!(
                "{}?region={}&account={}",
                l.url("").trim_end_matches('/'),
                l.region,
                l.account
            ),
            Self::DynamoDb(t) => format!("{}?region={}&account={}", t.url(), t.region, t.account),
        }
    }

    /// The account the backend lives in, if it is remote.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Local => None,
            Self::S3(l) => Some(&l.account),
            Self::DynamoDb(t) => Some(&t.account),
        }
    }
}

/// Why an S3 backend cannot be opened by a build without the `s3` feature
/// (always compiled, so that builds with the feature test its wording too).
pub fn no_s3(l: &S3Location) -> String {
    format!(
        "the run-state backend s3://{}/{} needs the S3 backend, which this build of \
         restoreplan leaves out: use a DynamoDB table (`--state dynamodb://TABLE?region=R&account=A`, \
         or `state: {{ backend: dynamodb, … }}` in the plan), or build restoreplan with \
         `cargo build --release --features s3`",
        l.bucket, l.prefix
    )
}

/// Checks a DynamoDB table name as AWS does (3–255 of `a-z A-Z 0-9 _ - .`).
pub fn valid_table(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// The backend a command uses: `--state`/`RESTOREPLAN_STATE` (`given`)
/// first, else the plan's (`plan`), else local. A URL without `region` or
/// `account` takes them from the plan's backend when that names the same
/// bucket or table, else the Region from `AWS_REGION`/`AWS_DEFAULT_REGION`;
/// the account is then required.
pub fn choose(given: Option<&str>, plan: Option<&StateBackend>) -> Result<StateBackend, String> {
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(url) => parse_url(url, plan),
        None => Ok(plan.cloned().unwrap_or_default()),
    }
}

/// Parses `local`, `s3://bucket/prefix?region=R&account=A` or
/// `dynamodb://table?region=R&account=A` (see [`choose`] for what fills in
/// a missing `region` or `account`).
pub fn parse_url(url: &str, plan: Option<&StateBackend>) -> Result<StateBackend, String> {
    let bad = |why: &str| {
        format!(
            "--state `{url}`: {why}; expected local, s3://BUCKET/PREFIX?region=R&account=ACCOUNT or dynamodb://TABLE?region=R&account=ACCOUNT"
        )
    };
    if url == "local" {
        return Ok(StateBackend::Local);
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut region = None;
    let mut account = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("region", v)) => {
                region =
                    Some(Region::parse(v).ok_or_else(|| bad(&format!("`{v}` is not a Region")))?)
            }
            Some(("account", v)) => {
                account = Some(
                    AccountId::parse(v)
                        .ok_or_else(|| bad(&format!("`{v}` is not a 12-digit account id")))?,
                )
            }
            _ => return Err(bad(&format!("unknown parameter `{pair}`"))),
        }
    }
    let (plan_region, plan_account) = match (scheme, plan) {
        (_, None | Some(StateBackend::Local)) => (None, None),
        ("s3", Some(StateBackend::S3(l))) if path.split('/').next() == Some(l.bucket.as_str()) => {
            (Some(l.region.clone()), Some(l.account.clone()))
        }
        ("dynamodb", Some(StateBackend::DynamoDb(t))) if path == t.table => {
            (Some(t.region.clone()), Some(t.account.clone()))
        }
        _ => (None, None),
    };
    let env_region = || {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| std::env::var(v).ok().and_then(|r| Region::parse(&r)))
    };
    let region = region
        .or(plan_region)
        .or_else(env_region)
        .ok_or_else(|| bad("no Region: add ?region=R"))?;
    let account = account.or(plan_account).ok_or_else(|| {
        bad("no account: add &account=ACCOUNT (the backend's 12-digit account id)")
    })?;
    match scheme {
        "s3" => {
            let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
            if !valid_bucket(bucket) {
                return Err(bad(&format!("`{bucket}` is not a valid bucket name")));
            }
            Ok(StateBackend::S3(S3Location {
                bucket: bucket.to_owned(),
                prefix: normalise_prefix(prefix).map_err(|e| bad(&e))?,
                region,
                account,
            }))
        }
        "dynamodb" => {
            if !valid_table(path) {
                return Err(bad(&format!("`{path}` is not a valid table name")));
            }
            Ok(StateBackend::DynamoDb(TableLocation {
                table: path.to_owned(),
                region,
                account,
            }))
        }
        other => Err(bad(&format!("unknown scheme `{other}`"))),
    }
}

/// An S3 run-state backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket (no leading or trailing `/`; may be empty).
    pub prefix: String,
    /// The bucket's Region.
    pub region: Region,
    /// The bucket's account.
    pub account: AccountId,
}

impl S3Location {
    /// `s3://bucket/prefix/` naming `key`.
    pub fn url(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}/{key}", self.bucket)
        } else {
            format!("s3://{}/{}/{key}", self.bucket, self.prefix)
        }
    }

    /// The object key of `key` under the prefix.
    pub fn object_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }
}

/// Checks an S3 bucket name as AWS does (3–63 characters of lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit).
pub fn valid_bucket(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

/// Normalises a key prefix: no leading or trailing `/`, no empty segments,
/// no `.` or `..` segments.
pub fn normalise_prefix(prefix: &str) -> Result<String, String> {
    let parts: Vec<&str> = prefix.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(format!("prefix `{prefix}` has a `.` or `..` segment"));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_and_prefixes() {
        assert!(valid_bucket("team-dr.state"));
        assert!(!valid_bucket("Team"));
        assert!(!valid_bucket("ab"));
        assert!(!valid_bucket("-ab"));
        assert_eq!(normalise_prefix("/a//b/").as_deref(), Ok("a/b"));
        assert_eq!(normalise_prefix("").as_deref(), Ok(""));
        assert!(normalise_prefix("a/../b").is_err());
    }

    #[test]
    fn a_build_without_s3_names_both_ways_out() {
        let StateBackend::S3(l) = parse_url(
            "s3://team-state/dr?region=eu-west-1&account=111122223333",
            None,
        )
        .expect("s3") else {
            panic!("an s3 url")
        };
        let why = no_s3(&l);
        assert!(why.contains("s3://team-state/dr"), "{why}");
        assert!(why.contains("--state dynamodb://"), "{why}");
        assert!(why.contains("--features s3"), "{why}");
    }

    #[test]
    fn state_urls() {
        let s3 = parse_url(
            "s3://team-state/dr/runs?region=eu-west-1&account=111122223333",
            None,
        )
        .expect("s3");
        let StateBackend::S3(l) = &s3 else {
            panic!("{s3:?}")
        };
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str(), l.region.as_str()),
            ("team-state", "dr/runs", "eu-west-1")
        );
        assert_eq!(parse_url(&s3.url(), None).as_ref(), Ok(&s3));
        let ddb = parse_url(
            "dynamodb://dr-state?region=us-east-1&account=111122223333",
            None,
        )
        .expect("dynamodb");
        assert_eq!(parse_url(&ddb.url(), None).as_ref(), Ok(&ddb));
        // The plan's backend fills in what the URL leaves out, for the same bucket only.
        assert_eq!(
            parse_url("s3://team-state/other", Some(&s3)).map(|b| b.account().cloned()),
            Ok(AccountId::parse("111122223333"))
        );
        let e =
            parse_url("s3://another-bucket?region=us-east-1", Some(&s3)).expect_err("no account");
        assert!(e.contains("no account"), "{e}");
        assert!(parse_url("gs://x", None).is_err());
        assert!(parse_url("s3://B?region=us-east-1&account=111122223333", None).is_err());
        assert!(parse_url("s3://b-1?colour=red", None).is_err());
        assert_eq!(parse_url("local", None), Ok(StateBackend::Local));
        // --state wins over the plan; no flag keeps the plan's; neither is local.
        assert_eq!(choose(Some("local"), Some(&s3)), Ok(StateBackend::Local));
        assert_eq!(choose(None, Some(&s3)), Ok(s3.clone()));
        assert_eq!(choose(None, None), Ok(StateBackend::Local));
    }
}
