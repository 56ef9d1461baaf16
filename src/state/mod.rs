//! Run-state backends: where run journals and run locks live.
//!
//! - `local`: `.restoreplan/runs/` on this machine (the default).
//! - `s3`: a bucket and prefix in one account and Region, shared by every
//!   machine with access. Journal records and lock holders are objects
//!   written with S3's conditional writes (`If-None-Match: *` to create,
//!   `If-Match` to replace or delete), see [`crate::exec::objects`].
//!
//! The S3 client acts with the credentials the command has for the
//! backend's account, after the same identity check as every live call.

pub mod s3;

use crate::plan::model::{AccountId, Region};

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
}
