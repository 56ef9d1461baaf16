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

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use super::policy;
use super::request::build_request;
use super::resolved::{Disposition, ResolvedRestore};
use crate::cloud::RestoreRequest;
use crate::cloud::{
    CloudError, CloudRead, ErrorKind, Identity, KeyFacts, KeyManager, KeyOperation, PitrFacts,
    ProbeOutcome, RecoveryPoint, RecoveryPointOrigin, Scope, TableChange, TableEncryption,
    TableFacts, arn_account, arn_region,
};
use crate::diag::{Finding, Severity};
use crate::estimate::DurationModel;
use crate::plan::model::{
    AccountId, Encryption, Location, Plan, RecoveryPointSelector, Region, Restore, TtlSetting,
};

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
}

/// Options for a live check.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// "Now", for recovery point ages.
    pub now: DateTime<Utc>,
    /// Restores resolved at once.
    pub parallelism: usize,
    /// Seed and time of `random_within` picks; `None` draws afresh at `now`.
    pub draw: Option<super::random::RandomDraw>,
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
    pub draw: Option<super::random::RandomDraw>,
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
                    let code = if crate::cloud::aws::is_network_code(&e.code) {
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
        .unwrap_or_else(|| super::random::RandomDraw::fresh(opts.now));
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
    draw: &'a super::random::RandomDraw,
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

fn age_text(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds().max(0) as u64;
    crate::check::live::human_duration(Duration::from_secs(secs))
}

/// `3d 4h`, `2h 5m`, `42m`, `17s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

impl Ctx<'_> {
    async fn resolve(&self, index: usize, r: &Restore) -> (ResolvedRestore, Vec<Finding>) {
        let mut out = Out {
            restore: r,
            findings: Vec::new(),
        };
        let target = r.target.location.clone();
        let source = r.source.clone();
        let mut accounts = vec![&source.account];
        if target.account != source.account {
            accounts.push(&target.account);
        }
        let mut no_credentials = false;
        for account in accounts {
            if let Some((code, e)) = self.broken.get(account.as_str()) {
                no_credentials = true;
                let finding = if *code == codes::UNREACHABLE {
                    Finding::error(
                        codes::UNREACHABLE,
                        format!(
                            "AWS could not be reached for account {account} (restore `{}`)",
                            r.id
                        ),
                    )
                    .help(
                        "check the network, the proxy settings and `--endpoint-url` (or \
                         AWS_ENDPOINT_URL); the evidence says what failed and where",
                    )
                } else if *code == codes::WRONG_ACCOUNT {
                    Finding::error(
                        codes::WRONG_ACCOUNT,
                        format!(
                            "{} (restore `{}`); nothing was asked of {account}",
                            e.split(" (").next().unwrap_or(e),
                            r.id
                        ),
                    )
                    .help(format!(
                        "pass `--role {account}=arn:aws:iam::{account}:role/NAME` or `--profile {account}=PROFILE` with credentials of {account}"
                    ))
                } else {
                    Finding::error(
                        codes::CREDENTIALS,
                        format!(
                            "no usable credentials for account {account} (restore `{}`)",
                            r.id
                        ),
                    )
                    .help(format!(
                        "configure credentials for {account}: ambient credentials, `--profile {account}=NAME` or `--role {account}=ROLE_ARN`"
                    ))
                };
                out.push(finding.evidence(e.clone()));
            }
        }

        if no_credentials {
            // Every lookup for this restore would fail the same way; the
            // finding above says why, once.
            let resolved = ResolvedRestore {
                index,
                id: r.id.clone(),
                target,
                target_name: r.target_name.clone(),
                recovery_point: None,
                pitr: None,
                source_table: None,
                key: None,
                estimated_seconds: estimate_seconds(None, &build_request(r, None, None, None)),
                request: build_request(r, None, None, None),
                changes: Vec::new(),
                disposition: Disposition::Ready,
            };
            return (resolved, out.findings);
        }

        // The original table, when readable: its key, indexes and settings.
        let source_table: Option<TableFacts> = match self
            .cloud
            .describe_table(&source, &r.table)
            .await
            .unwrap_or_default()
        {
            Some(t) => Some(self.classify_key(&source, t).await),
            None => None,
        };

        let (recovery_point, pitr) = self.recovery_point(r, &mut out).await;

        let key = self
            .key(r, source_table.as_ref(), recovery_point.as_ref(), &mut out)
            .await;

        // Never overwrite: the target table must not exist.
        match self.cloud.describe_table(&target, &r.target_name).await {
            Ok(Some(t)) => out.push(
                Finding::error(
                    codes::TARGET_EXISTS,
                    format!(
                        "restore `{}` would overwrite table `{}` in {target}",
                        r.id, r.target_name
                    ),
                )
                .at(r.spans.name)
                .label("this table already exists")
                .evidence(format!(
                    "DescribeTable {} in {target}: {} (status {})",
                    r.target_name, t.arn, t.status
                ))
                .help(
                    "choose another target `name` (e.g. \"{table}-{date}\"), or delete the existing table yourself; restoreplan never overwrites a table",
                ),
            ),
            Ok(None) => {}
            Err(e) => out.call_failed("check that the target table is absent", &e),
        }

        unknown_indexes(r, recovery_point.as_ref(), source_table.as_ref(), &mut out);
        let changes = self
            .changes(r, &source, source_table.as_ref(), &mut out)
            .await;
        let effective = self
            .effective_encryption(
                r,
                key.as_ref(),
                source_table.as_ref(),
                recovery_point.as_ref(),
            )
            .await;
        let mut as_sent = r.clone();
        as_sent.encryption = effective;
        let request = build_request(
            &as_sent,
            recovery_point.as_ref(),
            key.as_ref().map(|k| k.arn.as_str()),
            source_table.as_ref().map(|t| t.indexes.as_slice()),
        );
        let size = recovery_point
            .as_ref()
            .and_then(|rp| rp.size_bytes)
            .or_else(|| source_table.as_ref().and_then(|t| t.size_bytes));
        let estimated_seconds = estimate_seconds(size, &request);
        let resolved = ResolvedRestore {
            index,
            id: r.id.clone(),
            target,
            target_name: r.target_name.clone(),
            recovery_point,
            pitr,
            source_table,
            key,
            request,
            changes,
            estimated_seconds,
            disposition: Disposition::Ready,
        };
        (resolved, out.findings)
    }

    /// `table` with its key classified by who manages it: DynamoDB reports
    /// the AWS-managed key by its ARN, exactly like a customer-managed key,
    /// so only KMS tells them apart. A key that cannot be described stays
    /// customer-managed, as DynamoDB reported it.
    async fn classify_key(&self, scope: &Scope, table: TableFacts) -> TableFacts {
        let TableEncryption::Customer { key_arn } = &table.encryption else {
            return table;
        };
        match self.cloud.describe_key(scope, key_arn).await {
            Ok(k) => table.with_key_manager(k.manager),
            Err(_) => table,
        }
    }

    /// What `same-as-source` means for this restore, once the original key is known.
    async fn effective_encryption(
        &self,
        r: &Restore,
        key: Option<&KeyFacts>,
        source_table: Option<&TableFacts>,
        rp: Option<&RecoveryPoint>,
    ) -> Encryption {
        if r.encryption != Encryption::SameAsSource {
            return r.encryption.clone();
        }
        if let Some(k) = key {
            return Encryption::CustomerManaged {
                key: crate::plan::model::KeyRef {
                    name: None,
                    arn: k.arn.clone(),
                },
            };
        }
        let managed = match source_table.map(|t| &t.encryption) {
            Some(TableEncryption::Managed { .. }) => true,
            Some(_) => false,
            None => match rp.and_then(|rp| rp.encryption_key_arn.as_deref()) {
                Some(arn) => self
                    .cloud
                    .describe_key(&r.source, arn)
                    .await
                    .is_ok_and(|k| k.manager == KeyManager::Aws),
                None => false,
            },
        };
        if managed {
            Encryption::DynamodbManaged
        } else {
            Encryption::DynamodbOwned
        }
    }

    fn rpo_check(&self, r: &Restore, taken: DateTime<Utc>, what: &str, out: &mut Out<'_>) {
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
                        human_duration(rpo)
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

    fn check_point(&self, r: &Restore, rp: &RecoveryPoint, out: &mut Out<'_>) {
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

    async fn recovery_point(
        &self,
        r: &Restore,
        out: &mut Out<'_>,
    ) -> (Option<RecoveryPoint>, Option<PitrFacts>) {
        let target = &r.target.location;
        match &r.recovery_point {
            RecoveryPointSelector::PointInTime { at } => {
                let pitr = match self.cloud.describe_pitr(&r.source, &r.table).await {
                    Ok(p) => p,
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!(
                                    "restore `{}`: original table `{}` not found in {}",
                                    r.id, r.table, r.source
                                ),
                            )
                            .at(r.spans.table)
                            .evidence(e.to_string())
                            .help("point-in-time restores need the original table; check `table` and `source`"),
                        );
                        return (None, None);
                    }
                    Err(e) => {
                        out.call_failed("read the point-in-time recovery window", &e);
                        return (None, None);
                    }
                };
                if !pitr.enabled {
                    out.push(
                        Finding::error(
                            codes::PITR_NOT_ENABLED,
                            format!(
                                "restore `{}`: point-in-time recovery is not enabled on `{}`",
                                r.id, r.table
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!(
                            "DescribeContinuousBackups {} in {}: PointInTimeRecoveryStatus DISABLED",
                            r.table, r.source
                        ))
                        .help("restore from a backup instead (`latest`), or enable PITR on the original table"),
                    );
                    return (None, Some(pitr));
                }
                let when = at.or(pitr.latest).unwrap_or(self.now);
                let outside = pitr.earliest.is_some_and(|e| when < e)
                    || pitr.latest.is_some_and(|l| when > l);
                if at.is_some() && outside {
                    out.push(
                        Finding::error(
                            codes::PITR_OUTSIDE_WINDOW,
                            format!(
                                "restore `{}`: {} is outside the restorable window of `{}`",
                                r.id,
                                when.to_rfc3339(),
                                r.table
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!(
                            "restorable from {} to {}",
                            pitr.earliest
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "?".into()),
                            pitr.latest
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "?".into())
                        ))
                        .help("choose a time inside the window, or `point_in_time: latest`"),
                    );
                }
                self.rpo_check(r, when, "the point in time", out);
                (None, Some(pitr))
            }
            RecoveryPointSelector::BackupArn { arn } => {
                let Some(vault) = &r.target.vault else {
                    out.push(
                        Finding::error(
                            codes::VAULT_REQUIRED,
                            format!(
                                "restore `{}`: a recovery point ARN needs `target.vault` to be looked up",
                                r.id
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .help("set `target.vault` to the vault that holds this recovery point"),
                    );
                    return (None, None);
                };
                self.location_check(r, arn, out);
                match self.cloud.describe_recovery_point(target, vault, arn).await {
                    Ok(rp) => {
                        self.check_point(r, &rp, out);
                        (Some(rp), None)
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!(
                                    "restore `{}`: recovery point not found in vault `{vault}`",
                                    r.id
                                ),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check the ARN and `target.vault`, or use `latest`"),
                        );
                        (None, None)
                    }
                    Err(e) => {
                        out.call_failed("describe the recovery point", &e);
                        (None, None)
                    }
                }
            }
            RecoveryPointSelector::DynamoDbBackupArn { arn } => {
                self.location_check(r, arn, out);
                let scope = Location {
                    account: AccountId::parse(arn_account(arn).unwrap_or_default())
                        .unwrap_or_else(|| target.account.clone()),
                    region: Region::parse(arn_region(arn).unwrap_or_default())
                        .unwrap_or_else(|| target.region.clone()),
                };
                match self.cloud.describe_backup(&scope, arn).await {
                    Ok(rp) => {
                        self.check_point(r, &rp, out);
                        (Some(rp), None)
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!("restore `{}`: DynamoDB backup not found", r.id),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check the backup ARN, or use `latest`"),
                        );
                        (None, None)
                    }
                    Err(e) => {
                        out.call_failed("describe the DynamoDB backup", &e);
                        (None, None)
                    }
                }
            }
            RecoveryPointSelector::Latest
            | RecoveryPointSelector::LatestBefore { .. }
            | RecoveryPointSelector::RandomWithin { .. } => {
                let before = match &r.recovery_point {
                    RecoveryPointSelector::LatestBefore { before } => Some(*before),
                    _ => None,
                };
                let (candidates, place) = match &r.target.vault {
                    Some(vault) => (
                        self.cloud
                            .vault_recovery_points(target, vault, &r.source_table_arn())
                            .await,
                        format!("vault `{vault}` in {target}"),
                    ),
                    None => (
                        self.cloud.table_backups(&r.source, &r.table).await,
                        format!("the DynamoDB backups of `{}` in {}", r.table, r.source),
                    ),
                };
                let candidates = match candidates {
                    Ok(c) => c,
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NONE,
                                format!("restore `{}`: no recovery point in {place}", r.id),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check `target.vault` and that backups of the table are copied there"),
                        );
                        return (None, None);
                    }
                    Err(e) => {
                        out.call_failed("list recovery points", &e);
                        return (None, None);
                    }
                };
                let usable = match &r.recovery_point {
                    RecoveryPointSelector::RandomWithin { window } => {
                        self.draw
                            .pick(self.plan.name(), &r.id, *window, &candidates)
                    }
                    _ => candidates.iter().find(|rp| {
                        rp.status == "COMPLETED"
                            && rp.resource_type.eq_ignore_ascii_case("DynamoDB")
                            && before.is_none_or(|b| rp.created < b)
                    }),
                };
                let within = match &r.recovery_point {
                    RecoveryPointSelector::RandomWithin { window } => format!(
                        " created within {} before {}",
                        human_duration(*window),
                        self.draw.at.to_rfc3339()
                    ),
                    _ => String::new(),
                };
                let Some(rp) = usable else {
                    let seen = if candidates.is_empty() {
                        "none at all".to_owned()
                    } else {
                        candidates
                            .iter()
                            .take(5)
                            .map(|rp| {
                                format!("{} {} {}", rp.arn, rp.status, rp.created.to_rfc3339())
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    out.push(
                        Finding::error(
                            codes::RP_NONE,
                            format!(
                                "restore `{}`: no COMPLETED DynamoDB recovery point of `{}` in {place}{}{within}",
                                r.id,
                                r.table,
                                before.map(|b| format!(" before {}", b.to_rfc3339())).unwrap_or_default()
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!("{} found: {seen}", candidates.len()))
                        .help("back the table up (and copy the backup into the vault), or change the selector"),
                    );
                    return (None, None);
                };
                // DynamoDB backups list without details; describe the chosen one.
                let rp = match rp.origin {
                    RecoveryPointOrigin::DynamoDbBackup => {
                        match self.cloud.describe_backup(&r.source, &rp.arn).await {
                            Ok(d) => d,
                            Err(_) => rp.clone(),
                        }
                    }
                    RecoveryPointOrigin::Vault { .. } => rp.clone(),
                };
                if rp.origin == RecoveryPointOrigin::DynamoDbBackup {
                    self.location_check(r, &rp.arn, out);
                }
                let which = if within.is_empty() {
                    "the newest recovery point"
                } else {
                    "the recovery point drawn"
                };
                self.rpo_check(r, rp.created, which, out);
                (Some(rp), None)
            }
        }
    }

    /// A restore runs where its recovery point is: AWS Backup restores from a
    /// vault in the target account and Region; DynamoDB backups restore in
    /// their own account and Region.
    fn location_check(&self, r: &Restore, arn: &str, out: &mut Out<'_>) {
        let target = &r.target.location;
        let (Some(region), Some(account)) = (arn_region(arn), arn_account(arn)) else {
            return;
        };
        if region != target.region.as_str() || account != target.account.as_str() {
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
                    "DynamoDB backups restore in their own account and Region: copy the backup with AWS Backup into a vault where the restore runs, or restore there"
                } else {
                    "copy the recovery point into a vault in the target account and Region (AWS Backup StartCopyJob) and use that copy"
                }),
            );
        }
    }

    async fn key(
        &self,
        r: &Restore,
        source_table: Option<&TableFacts>,
        rp: Option<&RecoveryPoint>,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        match &r.encryption {
            Encryption::DynamodbOwned | Encryption::DynamodbManaged => None,
            Encryption::CustomerManaged { key } => {
                let facts = self.describe_key_as_target(r, &key.arn, out).await?;
                if facts.manager == KeyManager::Aws {
                    out.push(
                        Finding::error(
                            codes::NOT_CUSTOMER_MANAGED,
                            format!(
                                "restore `{}`: `customer-managed` names an AWS-managed key",
                                r.id
                            ),
                        )
                        .at(r.spans.key)
                        .evidence(format!("DescribeKey {}: KeyManager AWS", facts.arn))
                        .help("use `encryption: { type: dynamodb-managed }` for the AWS-managed key, or name a customer-managed key"),
                    );
                    return None;
                }
                let facts = self.in_target_region(r, facts, false, out).await?;
                if facts.account != target.account.as_str() {
                    self.shared_check(r, &facts, out).await;
                }
                Some(facts)
            }
            Encryption::SameAsSource => {
                let original = source_table
                    .map(|t| match &t.encryption {
                        TableEncryption::Customer { key_arn } => Some(key_arn.clone()),
                        TableEncryption::Managed { key_arn } => Some(
                            key_arn
                                .clone()
                                .unwrap_or_else(|| "alias/aws/dynamodb".into()),
                        ),
                        TableEncryption::Owned => None,
                    })
                    .or_else(|| rp.map(|rp| rp.encryption_key_arn.clone()));
                let Some(original) = original else {
                    out.push(
                        Finding::warning(
                            codes::SOURCE_UNREADABLE,
                            format!(
                                "restore `{}`: could not learn the original table's key; the restore uses the recovery point's default",
                                r.id
                            ),
                        )
                        .at(r.spans.encryption)
                        .help("make the original table readable to the source identity, or name the key with `customer-managed`"),
                    );
                    return None;
                };
                let Some(original) = original else {
                    // The original uses the AWS-owned key, which exists in
                    // every account and Region: the restore uses it too,
                    // wherever it runs.
                    return None;
                };
                // Read the key as its owner where possible.
                let owner = Location {
                    account: AccountId::parse(arn_account(&original).unwrap_or_default())
                        .unwrap_or_else(|| r.source.account.clone()),
                    region: Region::parse(arn_region(&original).unwrap_or_default())
                        .unwrap_or_else(|| r.source.region.clone()),
                };
                let facts = match self.cloud.describe_key(&owner, &original).await {
                    Ok(f) => f,
                    Err(_) => self.describe_key_as_target(r, &original, out).await?,
                };
                if facts.manager == KeyManager::Aws {
                    if r.is_cross_region() || r.is_cross_account() {
                        self.aws_key_cannot_follow(r, "the AWS-managed key", out);
                    }
                    return None;
                }
                let facts = self.in_target_region(r, facts, true, out).await?;
                if r.is_cross_account() || facts.account != target.account.as_str() {
                    self.shared_check(r, &facts, out).await;
                }
                Some(facts)
            }
        }
    }

    /// An AWS-managed key cannot encrypt a table in another account or Region
    /// (each account and Region has its own). `which` names the key as the
    /// message and evidence say it, so merged findings never mix key types.
    fn aws_key_cannot_follow(&self, r: &Restore, which: &str, out: &mut Out<'_>) {
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

    async fn describe_key_as_target(
        &self,
        r: &Restore,
        key: &str,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        // A key ARN of another Region is described in its own Region.
        let scope = Location {
            account: target.account.clone(),
            region: arn_region(key)
                .and_then(Region::parse)
                .unwrap_or_else(|| target.region.clone()),
        };
        match self.cloud.describe_key(&scope, key).await {
            Ok(f) => {
                if f.state != "Enabled" {
                    out.push(
                        Finding::error(
                            codes::KEY_NOT_ENABLED,
                            format!("restore `{}`: key is {}, not Enabled", r.id, f.state),
                        )
                        .at(r.spans.key)
                        .evidence(format!("DescribeKey {}: KeyState {}", f.arn, f.state))
                        .help("enable the key (or cancel its deletion), or choose another key"),
                    );
                    return None;
                }
                if f.spec != "SYMMETRIC_DEFAULT" || f.usage != "ENCRYPT_DECRYPT" {
                    out.push(
                        Finding::error(
                            codes::KEY_NOT_SYMMETRIC,
                            format!(
                                "restore `{}`: key is {} for {}, DynamoDB needs a symmetric encryption key",
                                r.id, f.spec, f.usage
                            ),
                        )
                        .at(r.spans.key)
                        .evidence(format!(
                            "DescribeKey {}: KeySpec {}, KeyUsage {}",
                            f.arn, f.spec, f.usage
                        ))
                        .help("choose a SYMMETRIC_DEFAULT key with usage ENCRYPT_DECRYPT"),
                    );
                    return None;
                }
                Some(f)
            }
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::AccessDenied) => {
                out.push(
                    Finding::error(
                        codes::KEY_NOT_FOUND,
                        format!(
                            "restore `{}`: key not found or not visible to account {}",
                            r.id, target.account
                        ),
                    )
                    .at(r.spans.key)
                    .label("KMS does not know this key here")
                    .evidence(e.to_string())
                    .help("check the key ARN and Region; a key of another account must allow the target account in its key policy"),
                );
                None
            }
            Err(e) => {
                out.call_failed("describe the KMS key", &e);
                None
            }
        }
    }

    /// The key to use in the target Region: the key itself, or its replica.
    async fn in_target_region(
        &self,
        r: &Restore,
        facts: KeyFacts,
        original: bool,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        if facts.region == target.region.as_str() {
            return Some(facts);
        }
        let whose = if original {
            "the original table's key"
        } else {
            "the key"
        };
        let Some(mr) = &facts.multi_region else {
            out.push(
                Finding::error(
                    codes::NOT_MULTI_REGION,
                    format!(
                        "restore `{}`: {whose} is in {} and is not multi-Region, so it cannot encrypt a table in {}",
                        r.id, facts.region, target.region
                    ),
                )
                .at(if original { r.spans.encryption } else { r.spans.key })
                .evidence(format!("DescribeKey {}: MultiRegion false", facts.arn))
                .help(format!(
                    "use a multi-Region key with a replica in {} (kms ReplicateKey), or a key created in {}",
                    target.region, target.region
                )),
            );
            return None;
        };
        let Some(replica) = mr.arn_in(&target.region).map(str::to_owned) else {
            out.push(
                Finding::error(
                    codes::NO_REPLICA,
                    format!(
                        "restore `{}`: {whose} is multi-Region but has no replica in {}",
                        r.id, target.region
                    ),
                )
                .at(if original { r.spans.encryption } else { r.spans.key })
                .evidence(format!(
                    "DescribeKey {}: primary {}, replicas [{}]",
                    facts.arn,
                    mr.primary_arn,
                    mr.replica_arns.join(", ")
                ))
                .help(format!(
                    "replicate the key into {}: aws kms replicate-key --key-id {} --replica-region {}",
                    target.region, mr.primary_arn, target.region
                )),
            );
            return None;
        };
        // Check the replica itself: it has its own state.
        self.describe_key_as_target(r, &replica, out).await
    }

    async fn shared_check(&self, r: &Restore, key: &KeyFacts, out: &mut Out<'_>) {
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

    async fn changes(
        &self,
        r: &Restore,
        source: &Scope,
        source_table: Option<&TableFacts>,
        out: &mut Out<'_>,
    ) -> Vec<TableChange> {
        let a = &r.after_restore;
        let mut copied_ttl = None;
        if let Some(TtlSetting::Copy) = &a.ttl {
            let ttl = if source_table.is_some() {
                self.cloud.describe_ttl(source, &r.table).await.ok()
            } else {
                None
            };
            match ttl {
                Some(t) if t.status == "ENABLED" || t.status == "ENABLING" => {
                    copied_ttl = t.attribute;
                }
                Some(_) => {}
                None => out.push(
                    Finding::warning(
                        codes::SOURCE_UNREADABLE,
                        format!(
                            "restore `{}`: `ttl: copy` cannot read the original table's TTL; TTL will stay off",
                            r.id
                        ),
                    )
                    .help("name the attribute (`ttl: { attribute: NAME }`) or make the original table readable"),
                ),
            }
        }
        super::changes::planned(self.plan.name(), a, copied_ttl.as_deref())
    }
}

/// Warns about names in `indexes` that the recovery point (or, when it does
/// not list its indexes, the original table) does not have: the restore would
/// silently keep fewer indexes than the plan says.
fn unknown_indexes(
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

/// Merges findings that say the same thing about several restores (the same
/// rule, place and evidence, e.g. one missing key shared by twenty restores)
/// into one that names them all, for human eyes. Order is kept.
pub fn coalesce(findings: &[Finding]) -> Vec<Finding> {
    // The message with its own restore's name taken out: findings merge only
    // when they say exactly the same thing of each restore.
    fn gist(f: &Finding) -> String {
        match &f.restore {
            Some(id) => f
                .message
                .replacen(&format!("restore `{id}`"), "restore `…`", 1),
            None => f.message.clone(),
        }
    }
    let mut out: Vec<(Finding, Vec<String>)> = Vec::new();
    for f in findings {
        let same = out.iter_mut().find(|(g, _)| {
            g.code == f.code
                && g.span == f.span
                && g.evidence == f.evidence
                && g.help == f.help
                && gist(g) == gist(f)
        });
        match (same, &f.restore) {
            (Some((_, ids)), Some(id)) => {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
            (Some(_), None) => {}
            _ => out.push((f.clone(), f.restore.iter().cloned().collect())),
        }
    }
    out.into_iter()
        .map(|(mut f, ids)| {
            if ids.len() > 1 {
                let first = format!("restore `{}`", ids[0]);
                let listed = if ids.len() <= 4 {
                    let quoted: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
                    format!(
                        "restores {} and {}",
                        quoted[..quoted.len() - 1].join(", "),
                        quoted[quoted.len() - 1]
                    )
                } else {
                    format!(
                        "restores `{}`, `{}` and {} more",
                        ids[0],
                        ids[1],
                        ids.len() - 2
                    )
                };
                f.message = f.message.replacen(&first, &listed, 1);
            }
            f
        })
        .collect()
}

/// Counts findings by severity: `(errors, warnings)`.
pub fn tally(findings: &[Finding]) -> (usize, usize) {
    (
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_finding_for_several_restores_is_shown_once() {
        let f = |id: &str| {
            Finding::error(
                codes::KEY_NOT_FOUND,
                format!("restore `{id}`: key not found"),
            )
            .restore(id)
            .evidence("NotFoundException")
        };
        let other = Finding::error(codes::TARGET_EXISTS, "restore `c`: exists").restore("c");
        let merged = coalesce(&[f("a"), f("b"), other.clone(), f("d")]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].message,
            "restores `a`, `b` and `d`: key not found"
        );
        assert_eq!(merged[1], other);
        // The same rule, place, evidence and help, but another message: not merged.
        let managed = Finding::error(
            codes::NOT_SHAREABLE,
            "restore `m`: the original table uses the AWS-managed key",
        )
        .restore("m")
        .evidence("NotFoundException");
        let owned = Finding::error(
            codes::NOT_SHAREABLE,
            "restore `o`: the original table uses the AWS-owned key",
        )
        .restore("o")
        .evidence("NotFoundException");
        assert_eq!(coalesce(&[managed.clone(), owned.clone()]).len(), 2);
        let many: Vec<Finding> = (0..6).map(|i| f(&format!("t{i}"))).collect();
        assert_eq!(
            coalesce(&many)[0].message,
            "restores `t0`, `t1` and 4 more: key not found"
        );
    }

    /// One original table whose key DescribeKey reports as `manager`;
    /// nothing else exists.
    struct OneTable {
        manager: KeyManager,
    }

    const KEY: &str = "arn:aws:kms:eu-west-1:210987654321:key/0d1e2f30-4a5b-6c7d-8e9f-a0b1c2d3e4f5";

    fn absent(operation: &str) -> CloudError {
        CloudError::new(ErrorKind::NotFound, operation, "NotFound", "not here")
    }

    #[async_trait::async_trait]
    impl CloudRead for OneTable {
        async fn identity(&self, account: &AccountId) -> crate::cloud::CloudResult<Identity> {
            Ok(Identity {
                account: account.to_string(),
                arn: format!("arn:aws:iam::{account}:role/test"),
                source: "test".into(),
            })
        }
        async fn describe_key(&self, _: &Scope, key: &str) -> crate::cloud::CloudResult<KeyFacts> {
            if key != KEY {
                return Err(absent("DescribeKey"));
            }
            Ok(KeyFacts {
                arn: KEY.into(),
                account: "210987654321".into(),
                region: "eu-west-1".into(),
                state: "Enabled".into(),
                spec: "SYMMETRIC_DEFAULT".into(),
                usage: "ENCRYPT_DECRYPT".into(),
                manager: self.manager,
                multi_region: None,
            })
        }
        async fn key_policy(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<Option<String>> {
            Ok(None)
        }
        async fn probe_key(
            &self,
            _: &Scope,
            _: &str,
            _: KeyOperation,
        ) -> crate::cloud::CloudResult<ProbeOutcome> {
            Ok(ProbeOutcome::Allowed)
        }
        async fn vault_recovery_points(
            &self,
            _: &Scope,
            _: &str,
            _: &str,
        ) -> crate::cloud::CloudResult<Vec<RecoveryPoint>> {
            Ok(Vec::new())
        }
        async fn describe_recovery_point(
            &self,
            _: &Scope,
            _: &str,
            _: &str,
        ) -> crate::cloud::CloudResult<RecoveryPoint> {
            Err(absent("DescribeRecoveryPoint"))
        }
        async fn table_backups(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<Vec<RecoveryPoint>> {
            Ok(Vec::new())
        }
        async fn describe_backup(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<RecoveryPoint> {
            Err(absent("DescribeBackup"))
        }
        async fn describe_table(
            &self,
            _: &Scope,
            name: &str,
        ) -> crate::cloud::CloudResult<Option<TableFacts>> {
            Ok((name == "orders").then(|| TableFacts {
                arn: "arn:aws:dynamodb:eu-west-1:210987654321:table/orders".into(),
                name: "orders".into(),
                status: "ACTIVE".into(),
                item_count: None,
                size_bytes: None,
                encryption: TableEncryption::Customer {
                    key_arn: KEY.into(),
                },
                indexes: Vec::new(),
                stream: None,
                deletion_protection: false,
                restore_in_progress: false,
                origin: Default::default(),
                table_id: None,
            }))
        }
        async fn describe_pitr(&self, _: &Scope, _: &str) -> crate::cloud::CloudResult<PitrFacts> {
            Err(absent("DescribeContinuousBackups"))
        }
        async fn describe_ttl(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<crate::cloud::TtlFacts> {
            Err(absent("DescribeTimeToLive"))
        }
        async fn table_tags(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<BTreeMap<String, String>> {
            Ok(BTreeMap::new())
        }
        async fn describe_restore_job(
            &self,
            _: &Scope,
            _: &str,
        ) -> crate::cloud::CloudResult<crate::cloud::RestoreJob> {
            Err(absent("DescribeRestoreJob"))
        }
    }

    /// The original's encryption as the live check saw it.
    async fn original_encryption(manager: KeyManager) -> Option<TableEncryption> {
        let text = "version: 1\nname: x\nsource: { account: \"210987654321\", region: eu-west-1 }\n\
                    restores:\n  - table: orders\n    name: orders-copy\n";
        let opts = crate::plan::CompileOptions::new(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
        );
        let loaded =
            crate::plan::compile(crate::plan::source::SourceFile::new("p.yaml", text), &opts)
                .unwrap_or_else(|e| panic!("the plan compiles: {e:?}"));
        let report = check(&loaded.plan, &OneTable { manager }, &LiveOptions::default()).await;
        report.resolved[0]
            .source_table
            .as_ref()
            .map(|t| t.encryption.clone())
    }

    #[tokio::test]
    async fn an_original_under_the_aws_managed_key_is_not_taken_for_a_customers_key() {
        // DynamoDB reports both kinds of key by ARN: KMS tells them apart.
        assert_eq!(
            original_encryption(KeyManager::Aws).await,
            Some(TableEncryption::Managed {
                key_arn: Some(KEY.into())
            })
        );
        assert_eq!(
            original_encryption(KeyManager::Customer).await,
            Some(TableEncryption::Customer {
                key_arn: KEY.into()
            })
        );
    }

    #[test]
    fn an_index_the_recovery_point_lacks_is_a_warning_with_a_suggestion() {
        let text = "version: 1\nname: x\nsource: { account: \"210987654321\", region: eu-west-1 }\n\
                    restores:\n  - table: orders\n    name: orders-copy\n    indexes: [by-usr, by-date]\n";
        let opts = crate::plan::CompileOptions::new(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
        );
        let loaded =
            crate::plan::compile(crate::plan::source::SourceFile::new("p.yaml", text), &opts)
                .unwrap_or_else(|e| panic!("the plan compiles: {e:?}"));
        let r = &loaded.plan.restores()[0];
        let ix = |name: &str| crate::cloud::IndexDef {
            name: name.into(),
            key_schema: vec![("user".into(), "HASH".into())],
            projection_type: "ALL".into(),
            non_key_attributes: Vec::new(),
        };
        let mut out = Out {
            restore: r,
            findings: Vec::new(),
        };
        let table = TableFacts {
            arn: String::new(),
            name: "orders".into(),
            status: "ACTIVE".into(),
            item_count: None,
            size_bytes: None,
            encryption: TableEncryption::Owned,
            indexes: vec![ix("by-user"), ix("by-date")],
            stream: None,
            deletion_protection: false,
            restore_in_progress: false,
            table_id: None,
            origin: Default::default(),
        };
        unknown_indexes(r, None, Some(&table), &mut out);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.code, codes::UNKNOWN_INDEX);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.help.as_deref(), Some("did you mean `by-user`?"));
        // Nothing known about the indexes: nothing to say.
        let mut quiet = Out {
            restore: r,
            findings: Vec::new(),
        };
        unknown_indexes(r, None, None, &mut quiet);
        assert!(quiet.findings.is_empty());
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human_duration(Duration::from_secs(17)), "17s");
        assert_eq!(human_duration(Duration::from_secs(42 * 60)), "42m");
        assert_eq!(human_duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(
            human_duration(Duration::from_secs(3 * 86_400 + 4 * 3600)),
            "3d 4h"
        );
    }
}
