//! Live validation and resolution of a sealed plan against a [`CloudRead`].
//!
//! For every restore: the identity of each account involved, the recovery
//! point (`latest` resolved, status, type, age against the RPO, location),
//! the KMS key (visible, enabled, symmetric, usable in the target Region —
//! the replica ARN is chosen —, multi-Region for cross-Region restores that
//! keep the original key, customer-managed and shared for cross-account
//! ones), point-in-time windows, and the absence of the target table. The
//! result is a [`ResolvedRestore`] per restore plus every finding. Lookups
//! run concurrently; pass a [`crate::cloud::cache::Cached`] so each key and
//! recovery point is asked for once.
//!
//! This module is the pipeline (identities first, then every restore at
//! once, findings in plan order); [`resolve`] finds what each restore will
//! use (recovery point, key replica, the request and the changes after it),
//! and [`rules`] holds the checks that turn those facts into findings.
//! Presentation lives elsewhere: [`crate::diag::coalesce`] merges findings
//! for people, [`crate::text::duration_text`] writes durations.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

mod copy;
mod resolve;
mod rules;

use crate::check::policy;
use crate::check::request::build_request;
use crate::check::resolved::{Disposition, ResolvedRestore};
use crate::cloud::RestoreRequest;
use crate::cloud::{
    CloudError, CloudRead, ErrorKind, Identity, KeyFacts, KeyManager, KeyOperation, PitrFacts,
    ProbeOutcome, RecoveryPoint, RecoveryPointOrigin, Scope, TableChange, TableEncryption,
    TableFacts, arn_account, arn_region,
};
use crate::diag::Finding;
use crate::duration::DurationModel;
use crate::plan::model::{
    AccountId, Encryption, Location, Plan, RecoveryPointSelector, Region, Restore,
};
use crate::text::duration_text;

/// Rule codes of the live checks.
pub mod codes {
    /// No usable credentials for an account.
    pub const CREDENTIALS: &str = "restoreplan::aws::credentials";
    /// AWS (or the endpoint given) could not be reached for an account:
    /// connection refused, DNS, timeout, TLS.
    pub const UNREACHABLE: &str = "restoreplan::aws::unreachable";
    /// The credentials for an account are of another account.
    pub const WRONG_ACCOUNT: &str = "restoreplan::aws::wrong_account";
    /// An AWS call failed in a way that is not a finding about the plan.
    pub const CALL_FAILED: &str = "restoreplan::aws::call_failed";
    /// The key does not exist or is not visible to the target account.
    pub const KEY_NOT_FOUND: &str = "restoreplan::kms::key_not_found";
    /// The key is not `Enabled`.
    pub const KEY_NOT_ENABLED: &str = "restoreplan::kms::key_not_enabled";
    /// The key is not a symmetric encryption key.
    pub const KEY_NOT_SYMMETRIC: &str = "restoreplan::kms::key_not_symmetric";
    /// A key of another Region that is not multi-Region.
    pub const NOT_MULTI_REGION: &str = "restoreplan::kms::not_multi_region";
    /// A multi-Region key without a replica in the target Region.
    pub const NO_REPLICA: &str = "restoreplan::kms::no_replica";
    /// `customer-managed` names an AWS-managed key.
    pub const NOT_CUSTOMER_MANAGED: &str = "restoreplan::kms::not_customer_managed";
    /// A key of another account whose policy does not share it with the target account.
    pub const NOT_SHARED: &str = "restoreplan::kms::not_shared";
    /// AWS-owned and AWS-managed keys can never be shared across accounts.
    pub const NOT_SHAREABLE: &str = "restoreplan::kms::not_shareable";
    /// The recovery point or backup does not exist.
    pub const RP_NOT_FOUND: &str = "restoreplan::recovery_point::not_found";
    /// `latest` found no usable recovery point.
    pub const RP_NONE: &str = "restoreplan::recovery_point::none_available";
    /// The recovery point is not `COMPLETED`.
    pub const RP_NOT_COMPLETED: &str = "restoreplan::recovery_point::not_completed";
    /// The recovery point is not of a DynamoDB table.
    pub const RP_NOT_DYNAMODB: &str = "restoreplan::recovery_point::not_dynamodb";
    /// The recovery point is of another table than the restore's.
    pub const RP_OTHER_TABLE: &str = "restoreplan::recovery_point::other_table";
    /// The recovery point is older than `objectives.rpo`.
    pub const RP_TOO_OLD: &str = "restoreplan::recovery_point::too_old";
    /// The recovery point is not where the restore runs.
    pub const RP_WRONG_LOCATION: &str = "restoreplan::recovery_point::wrong_location";
    /// A recovery point ARN needs `target.vault` to be described.
    pub const VAULT_REQUIRED: &str = "restoreplan::recovery_point::vault_required";
    /// Point-in-time recovery is off on the original table.
    pub const PITR_NOT_ENABLED: &str = "restoreplan::pitr::not_enabled";
    /// The requested time is outside the restorable window.
    pub const PITR_OUTSIDE_WINDOW: &str = "restoreplan::pitr::outside_window";
    /// The target table already exists.
    pub const TARGET_EXISTS: &str = "restoreplan::target::exists";
    /// The original table could not be read, so a setting could not be copied.
    pub const SOURCE_UNREADABLE: &str = "restoreplan::source::unreadable";
    /// `indexes` names an index the recovery point (or original table) lacks.
    pub const UNKNOWN_INDEX: &str = "restoreplan::plan::unknown_index";
    /// A `verify.keys` entry does not fit the table's key schema.
    pub const VERIFY_KEY_SCHEMA: &str = "restoreplan::verify::key_schema";
    /// Provisioned billing without `throughput` where the original is on-demand.
    pub const CAPACITY_NEEDS_THROUGHPUT: &str = crate::plan::rules::LIVE_CAPACITY_NEEDS_THROUGHPUT;
    /// `throughput` or `on_demand_throughput` against the original's billing mode.
    pub const CAPACITY_ORIGINAL_MODE: &str = crate::plan::rules::LIVE_CAPACITY_ORIGINAL_MODE;
    pub const CAPACITY_INDEX_NEEDS_THROUGHPUT: &str =
        crate::plan::rules::LIVE_INDEX_NEEDS_THROUGHPUT;
}

/// Options for a live check.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// "Now", for recovery point ages.
    pub now: DateTime<Utc>,
    /// Restores resolved at once.
    pub parallelism: usize,
    /// Seed and time of `random_within` picks; `None` draws afresh at `now`.
    pub draw: Option<crate::check::random::RandomDraw>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            now: crate::clock::now(),
            parallelism: 16,
            draw: None,
        }
    }
}

/// The identity used for one account, or why none could be had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountIdentity {
    /// The account.
    pub account: String,
    /// The identity, or the error.
    pub identity: Result<Identity, String>,
}

/// The outcome of a live check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveReport {
    /// One per restore, in plan order.
    pub resolved: Vec<ResolvedRestore>,
    /// Every finding, ordered by restore.
    pub findings: Vec<Finding>,
    /// Identities per account.
    pub identities: Vec<AccountIdentity>,
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
    /// The draw behind `random_within` picks (`None` when no restore has one).
    pub draw: Option<crate::check::random::RandomDraw>,
}

impl LiveReport {
    /// True when no finding is an error.
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }
}

/// Estimated duration in seconds of `request` restoring `size_bytes`, by the
/// default [`DurationModel`] (the one `simulate` uses), so `plan` and
/// `simulate` predict the same; an unknown size counts as the model's
/// default table size.
pub fn estimate_seconds(size_bytes: Option<u64>, request: &RestoreRequest) -> f64 {
    let model = DurationModel::default();
    let native = !matches!(request, RestoreRequest::StartRestoreJob { .. });
    model.estimate(size_bytes.unwrap_or(model.default_table_bytes), native)
}

/// Checks and resolves every restore of `plan` against `cloud`.
pub async fn check(plan: &Plan, cloud: &dyn CloudRead, opts: &LiveOptions) -> LiveReport {
    let mut accounts: Vec<AccountId> = plan
        .restores()
        .iter()
        .flat_map(|r| [r.source.account.clone(), r.target.location.account.clone()])
        .collect();
    accounts.sort();
    accounts.dedup();
    // Who acts in each account comes first: no other call is made to an
    // account whose credentials are of another.
    let checked: Vec<(AccountIdentity, Option<&'static str>)> = stream::iter(accounts)
        .map(|a| async move {
            let (identity, code) = match cloud.identity(&a).await {
                Ok(id) => match crate::cloud::wrong_account(a.as_str(), &id) {
                    None => (Ok(id), None),
                    Some(why) => (Err(why), Some(codes::WRONG_ACCOUNT)),
                },
                Err(e) => {
                    let code = if crate::cloud::wire::is_network_code(&e.code) {
                        codes::UNREACHABLE
                    } else {
                        codes::CREDENTIALS
                    };
                    (Err(e.to_string()), Some(code))
                }
            };
            (
                AccountIdentity {
                    account: a.to_string(),
                    identity,
                },
                code,
            )
        })
        .buffered(8)
        .collect()
        .await;
    let broken: BTreeMap<String, (&'static str, String)> = checked
        .iter()
        .filter_map(|(i, code)| {
            let e = i.identity.as_ref().err()?;
            Some((i.account.clone(), ((*code)?, e.clone())))
        })
        .collect();
    let identities: Vec<AccountIdentity> = checked.into_iter().map(|(i, _)| i).collect();

    let draw = opts
        .draw
        .clone()
        .unwrap_or_else(|| crate::check::random::RandomDraw::fresh(opts.now));
    let ctx = Ctx {
        plan,
        cloud,
        now: opts.now,
        broken: &broken,
        draw: &draw,
    };
    let mut resolved: Vec<(ResolvedRestore, Vec<Finding>)> =
        stream::iter(plan.restores().iter().enumerate())
            .map(|(i, r)| ctx.resolve(i, r))
            .buffered(opts.parallelism.max(1))
            .collect()
            .await;
    let mut findings = Vec::new();
    for (r, f) in &mut resolved {
        let errors: Vec<Finding> = f.iter().filter(|f| f.is_error()).cloned().collect();
        if !errors.is_empty() {
            r.disposition = Disposition::Blocked { reasons: errors };
        }
        findings.append(f);
    }
    LiveReport {
        resolved: resolved.into_iter().map(|(r, _)| r).collect(),
        findings,
        identities,
        checked_at: opts.now,
        draw: plan
            .restores()
            .iter()
            .any(|r| matches!(r.recovery_point, RecoveryPointSelector::RandomWithin { .. }))
            .then_some(draw),
    }
}

struct Ctx<'a> {
    plan: &'a Plan,
    cloud: &'a dyn CloudRead,
    now: DateTime<Utc>,
    broken: &'a BTreeMap<String, (&'static str, String)>,
    draw: &'a crate::check::random::RandomDraw,
}

/// Findings for one restore, with its id and spans filled in.
struct Out<'a> {
    restore: &'a Restore,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn push(&mut self, f: Finding) {
        let f = if f.restore.is_none() {
            f.restore(&self.restore.id)
        } else {
            f
        };
        // A credentials problem is about an account, not a line of the
        // plan: without a span it is shown once for all its restores.
        let f = if f.span.is_none()
            && f.code != codes::CREDENTIALS
            && f.code != codes::WRONG_ACCOUNT
            && f.code != codes::UNREACHABLE
        {
            f.at(self.restore.spans.entry)
        } else {
            f
        };
        self.findings.push(f);
    }

    fn call_failed(&mut self, what: &str, e: &CloudError) {
        self.push(
            Finding::error(
                codes::CALL_FAILED,
                format!("could not {what} for restore `{}`", self.restore.id),
            )
            .evidence(e.to_string())
            .help(match e.kind {
                ErrorKind::AccessDenied => {
                    "grant the identity shown read access, or name a role for this account with `--role ACCOUNT=ARN`"
                }
                ErrorKind::Throttled | ErrorKind::Transient => "try again; AWS did not answer this time",
                _ => "check the identity and the endpoint shown, then try again",
            }),
        );
    }
}

#[cfg(test)]
mod tests;
