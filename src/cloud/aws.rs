//! The real AWS SDK adapter behind [`CloudRead`] and [`CloudWrite`].
//!
//! Owns credentials per account (ambient, a named profile, or a role to
//! assume), one set of SDK clients per account and Region, and the mapping
//! of SDK types and errors to the domain types of [`crate::cloud`]. The
//! standard credential chain and `AWS_ENDPOINT_URL` are honoured, so the
//! same binary talks to AWS or to the local emulator. Nothing outside this
//! file sees an SDK type.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_backup as backup;
use aws_sdk_dynamodb as ddb;
use aws_sdk_kms as kms;
use aws_sdk_sts as sts;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::cloud::{
    CloudError, CloudRead, CloudResult, CloudWrite, ErrorKind, Identity, IndexDef, ItemTally,
    JobStatus, KeyFacts, KeyManager, KeyOperation, MultiRegion, MultiRegionRole, PitrFacts,
    ProbeOutcome, RecoveryPoint, RecoveryPointOrigin, RestoreJob, RestoreRequest, Scope,
    SseRequest, StartedRestore, TableChange, TableEncryption, TableFacts, TtlFacts,
};
use crate::plan::capacity::{BillingMode, OnDemandThroughput, TableClass, Throughput};
use crate::plan::model::AccountId;

/// How to obtain credentials for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountAccess {
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// A role to assume (with the profile's or the ambient credentials).
    pub role_arn: Option<String>,
}

impl AccountAccess {
    fn describe(&self) -> String {
        match (&self.profile, &self.role_arn) {
            (None, None) => "ambient credentials".to_owned(),
            (Some(p), None) => format!("profile {p}"),
            (None, Some(r)) => format!("role {r} assumed with ambient credentials"),
            (Some(p), Some(r)) => format!("role {r} assumed with profile {p}"),
        }
    }
}

/// Credentials per account; accounts not listed use `default`.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Access for specific accounts.
    pub accounts: BTreeMap<String, AccountAccess>,
    /// Access for every other account.
    pub default: AccountAccess,
    /// An endpoint for every service (the local emulator); `None` keeps the
    /// standard resolution, which also honours `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
}

pub use crate::cloud::wire::{NOT_APPLICABLE, is_network_code, start_restore_job_metadata};

#[path = "aws_settings.rs"]
mod settings;

struct Clients {
    // The settings beyond the table (see `settings`).
    autoscaling: aws_sdk_applicationautoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    kms: kms::Client,
    backup: backup::Client,
    dynamodb: ddb::Client,
    sts: sts::Client,
    source: String,
    /// The endpoint override (the emulator), if any.
    endpoint: Option<String>,
    region: String,
}

impl Clients {
    /// [`fail`], and for a network failure, where the call was going.
    fn fail<E, R>(&self, operation: &str, err: SdkError<E, R>) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + HasStatus + 'static,
    {
        let mut e = fail(operation, &self.source, err);
        if is_network_code(&e.code) {
            let to = match &self.endpoint {
                Some(url) => url.clone(),
                None => format!(
                    "https://{}.{}.amazonaws.com",
                    service_of(operation),
                    self.region
                ),
            };
            e.message = format!("could not reach {to}: {}", e.message);
        }
        e
    }
}

type ClientCell = Arc<OnceCell<Arc<Clients>>>;

/// [`CloudRead`] and [`CloudWrite`] over the AWS SDK for Rust.
pub struct AwsCloud {
    options: AwsOptions,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    accounts: Mutex<HashMap<String, Arc<OnceCell<SdkConfig>>>>,
    clients: Mutex<HashMap<(String, String), ClientCell>>,
    /// `GetCallerIdentity` per account, once it answered.
    callers: Mutex<HashMap<String, Arc<OnceCell<Identity>>>>,
}

impl AwsCloud {
    /// An adapter with the given per-account access. Nothing is loaded until
    /// the first call.
    pub fn new(options: AwsOptions) -> Self {
        Self {
            options,
            http: http_client(),
            accounts: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// Spaces every HTTP request this adapter sends (retries and credential
    /// calls included) to at most `per_second`; `None` leaves them unpaced.
    /// Call before the first request.
    pub fn paced(mut self, per_second: Option<f64>) -> Self {
        if let Some(rate) = per_second.filter(|r| *r > 0.0 && r.is_finite()) {
            self.http = aws_smithy_runtime_api::client::http::SharedHttpClient::new(PacedClient {
                inner: self.http.clone(),
                pacer: Arc::new(Pacer {
                    interval: std::time::Duration::from_secs_f64(1.0 / rate),
                    next: Mutex::new(None),
                }),
            });
        }
        self
    }

    /// The adapter, told who the credentials for some accounts are: what
    /// `GetCallerIdentity` answered an adapter with the same options earlier
    /// in this process (the live checks before `apply`), so it is not asked
    /// again. The identities are still checked before every call.
    pub fn with_identities(self, known: impl IntoIterator<Item = (String, Identity)>) -> Self {
        {
            let mut map = self.callers.lock().unwrap_or_else(|e| e.into_inner());
            for (account, id) in known {
                let cell = OnceCell::new();
                if cell.set(id).is_ok() {
                    map.insert(account, Arc::new(cell));
                }
            }
        }
        self
    }

    fn access(&self, account: &str) -> &AccountAccess {
        self.options
            .accounts
            .get(account)
            .unwrap_or(&self.options.default)
    }

    async fn account_config(&self, account: &str) -> SdkConfig {
        let cell = {
            // A poisoned lock only means another task panicked while
            // inserting; the map itself is still consistent.
            let mut map = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(account.to_owned()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let access = self.access(account).clone();
            let mut loader =
                aws_config::defaults(BehaviorVersion::latest()).http_client(self.http.clone());
            if let Some(p) = &access.profile {
                // The profile's credentials and nothing else: the default
                // chain would prefer `AWS_ACCESS_KEY_ID` and friends, and so
                // act with another identity than the one asked for.
                // A profile that assumes a role or uses SSO calls STS itself,
                // which needs a Region: the profile's, else the environment's.
                use aws_config::meta::region::ProvideRegion;
                let region = match aws_config::profile::ProfileFileRegionProvider::builder()
                    .profile_name(p)
                    .build()
                    .region()
                    .await
                {
                    Some(r) => Some(r),
                    None => {
                        aws_config::default_provider::region::default_provider()
                            .region()
                            .await
                    }
                };
                let provider_config = aws_config::provider_config::ProviderConfig::default()
                    .with_http_client(self.http.clone())
                    .with_region(region.or_else(|| Some(aws_config::Region::new("us-east-1"))));
                let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(p)
                    .build();
                loader = loader.profile_name(p).credentials_provider(provider);
            }
            if let Some(url) = &self.options.endpoint {
                loader = loader.endpoint_url(url);
            }
            // A silent network must fail an attempt (then retried), never
            // hang a run.
            loader = loader.timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .read_timeout(std::time::Duration::from_secs(60))
                    .operation_attempt_timeout(std::time::Duration::from_secs(90))
                    .build(),
            );
            let base = loader.load().await;
            // STS needs a Region even when the environment sets none.
            let base = if base.region().is_none() {
                base.into_builder()
                    .region(aws_config::Region::new("us-east-1"))
                    .build()
            } else {
                base
            };
            match &access.role_arn {
                None => base,
                Some(role) => {
                    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                        .session_name("restoreplan")
                        .configure(&base)
                        .build()
                        .await;
                    base.into_builder()
                        .credentials_provider(
                            aws_credential_types::provider::SharedCredentialsProvider::new(
                                provider,
                            ),
                        )
                        .build()
                }
            }
        })
        .await
        .clone()
    }

    async fn clients(&self, account: &str, region: &str) -> Arc<Clients> {
        let cell = {
            let mut map = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((account.to_owned(), region.to_owned()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            let conf = self.account_config(account).await;
            let region = aws_config::Region::new(region.to_owned());
            Arc::new(Clients {
                autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
                    aws_sdk_applicationautoscaling::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                    aws_sdk_cloudwatch::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                kms: kms::Client::from_conf(
                    kms::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                backup: backup::Client::from_conf(
                    backup::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                dynamodb: ddb::Client::from_conf(
                    ddb::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                sts: sts::Client::from_conf(
                    sts::config::Builder::from(&conf)
                        .region(region.clone())
                        .build(),
                ),
                source: self.access(account).describe(),
                endpoint: conf.endpoint_url().map(str::to_owned),
                region: region.to_string(),
            })
        })
        .await
        .clone()
    }

    /// Who the credentials for `account` are (`GetCallerIdentity`, asked
    /// once per account; a failed call is asked again next time).
    async fn caller(&self, account: &str) -> CloudResult<Identity> {
        let cell = {
            let mut map = self.callers.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(account.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let access = self.access(account);
            if let Some(profile) = &access.profile {
                profile_defined(profile).await.map_err(|message| {
                    let mut e = CloudError::new(
                        ErrorKind::Invalid,
                        "LoadProfile",
                        "ProfileNotFound",
                        message,
                    );
                    e.identity = Some(access.describe());
                    e
                })?;
            }
            // Any Region works for STS; use the account's configured one.
            let conf = self.account_config(account).await;
            let region = conf
                .region()
                .map(|r| r.as_ref().to_owned())
                .unwrap_or_else(|| "us-east-1".to_owned());
            let c = self.clients(account, &region).await;
            let out = c
                .sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| c.fail("GetCallerIdentity", e))?;
            Ok(Identity {
                account: out.account().unwrap_or_default().to_owned(),
                arn: out.arn().unwrap_or_default().to_owned(),
                source: c.source.clone(),
            })
        })
        .await
        .cloned()
    }

    /// The clients for `scope`, once `GetCallerIdentity` has shown that the
    /// credentials are of the scope's account: no other call is ever sent
    /// to an account with credentials of another.
    async fn at(&self, scope: &Scope) -> CloudResult<Arc<Clients>> {
        let id = self.caller(scope.account.as_str()).await?;
        if let Some(message) = crate::cloud::wrong_account(scope.account.as_str(), &id) {
            let mut e = CloudError::new(
                ErrorKind::WrongAccount,
                "GetCallerIdentity",
                "WrongAccount",
                message,
            );
            e.identity = Some(id.source.clone());
            return Err(e);
        }
        Ok(self
            .clients(scope.account.as_str(), scope.region.as_str())
            .await)
    }
}

impl AwsCloud {
    /// An S3 client acting in `scope`'s account and Region, once
    /// `GetCallerIdentity` has shown the credentials are of that account
    /// (the run-state backend). Path-style addressing with an endpoint.
    #[cfg(feature = "s3")]
    pub async fn s3_client(&self, scope: &Scope) -> CloudResult<aws_sdk_s3::Client> {
        self.at(scope).await?;
        let conf = self.account_config(scope.account.as_str()).await;
        Ok(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .region(aws_config::Region::new(scope.region.as_str().to_owned()))
                .force_path_style(self.options.endpoint.is_some())
                .build(),
        ))
    }

    /// A DynamoDB client acting in `scope`'s account and Region, once
    /// `GetCallerIdentity` has shown the credentials are of that account
    /// (the run-state backend).
    pub async fn dynamodb_client(&self, scope: &Scope) -> CloudResult<ddb::Client> {
        Ok(self.at(scope).await?.dynamodb.clone())
    }

    /// A Step Functions client acting in `scope`'s account and Region, once
    /// `GetCallerIdentity` has shown the credentials are of that account
    /// (the Step Functions engine).
    pub async fn sfn_client(&self, scope: &Scope) -> CloudResult<aws_sdk_sfn::Client> {
        self.at(scope).await?;
        let conf = self.account_config(scope.account.as_str()).await;
        Ok(aws_sdk_sfn::Client::from_conf(
            aws_sdk_sfn::config::Builder::from(&conf)
                .region(aws_config::Region::new(scope.region.as_str().to_owned()))
                .build(),
        ))
    }
}

/// `Ok` when `profile` is defined in the shared config or credentials file;
/// otherwise why not, so that a mistyped profile is an error rather than a
/// quiet fallback to other credentials.
async fn profile_defined(profile: &str) -> Result<(), String> {
    #[allow(deprecated)]
    let files = aws_config::profile::profile_file::ProfileFiles::default();
    let set = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &files,
        None,
    )
    .await
    .map_err(|e| format!("could not read the AWS config files for profile `{profile}`: {e}"))?;
    if set.get_profile(profile).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    Err(format!(
        "no profile `{profile}` in the AWS config files ({}, {}){}",
        std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| "~/.aws/config".to_owned()),
        std::env::var("AWS_SHARED_CREDENTIALS_FILE")
            .unwrap_or_else(|_| "~/.aws/credentials".to_owned()),
        if known.is_empty() {
            String::new()
        } else {
            format!("; profiles there: {}", known.join(", "))
        }
    ))
}

/// Turns of at most one request per `interval`.
#[derive(Debug)]
struct Pacer {
    interval: std::time::Duration,
    next: Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    async fn acquire(&self) {
        let now = tokio::time::Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }
}

/// An HTTP client that waits its turn before each request.
#[derive(Debug)]
struct PacedClient {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    pacer: Arc<Pacer>,
}

#[derive(Debug)]
struct PacedConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for PacedConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let inner = self.inner.clone();
        let pacer = self.pacer.clone();
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            pacer.acquire().await;
            inner.call(request).await
        })
    }
}

/// The HTTP client every SDK client uses: rustls with the ring provider
/// (the SDK crates are built without their default, heavier TLS stack).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Maps an SDK error of a client made outside the adapter's own calls
/// (the Step Functions engine's) to a [`CloudError`] naming the operation.
pub fn sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let mut e = fail(operation, "", err);
    e.identity = None;
    e
}

/// Maps an SDK error to a [`CloudError`] naming the operation and identity.
fn fail<E, R>(operation: &str, source: &str, err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let (kind, code, message) = match &err {
        SdkError::DispatchFailure(d) => {
            // The error chain in one line: "no credentials", "connection
            // refused", … rather than the whole debug structure.
            let chain = error_chain(&err);
            match network_failure(&chain, d.is_timeout()) {
                Some((code, what)) => (
                    ErrorKind::Transient,
                    code.to_owned(),
                    format!("{what} ({chain})"),
                ),
                None => (ErrorKind::Transient, "DispatchFailure".to_owned(), chain),
            }
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Transient,
            "Timeout".to_owned(),
            "the request timed out: no answer".to_owned(),
        ),
        SdkError::ResponseError(e) => (
            ErrorKind::Other,
            "ResponseError".to_owned(),
            format!(
                "could not read the response{}: {:?}",
                e.raw()
                    .status()
                    .map(|s| format!(" (HTTP {s})"))
                    .unwrap_or_default(),
                e
            ),
        ),
        SdkError::ServiceError(e) => {
            let code = e.err().code().unwrap_or("Unknown").to_owned();
            let message = match e.err().message() {
                Some(m) if !m.is_empty() => m.to_owned(),
                // Never an empty message: say what came back.
                _ => format!(
                    "an answer without an error message (HTTP {}): {}",
                    e.raw().status().map_or("?".to_owned(), |s| s.to_string()),
                    error_chain(e.err())
                ),
            };
            let status = e.raw().status().unwrap_or(400);
            (classify(&code, status), code, message)
        }
        _ => (ErrorKind::Other, "Other".to_owned(), err.to_string()),
    };
    let mut e = CloudError::new(kind, operation, code, message);
    e.identity = Some(source.to_owned());
    e
}

/// What kind of network failure an error chain describes, as an error
/// code and words for people; `None` when it is not one.
fn network_failure(chain: &str, timeout: bool) -> Option<(&'static str, &'static str)> {
    let lower = chain.to_lowercase();
    Some(
        if timeout || lower.contains("timed out") || lower.contains("timeout") {
            ("ConnectTimeout", "no answer in time (timeout)")
        } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
            ("DnsError", "the host name does not resolve (DNS)")
        } else if lower.contains("connection refused") {
            ("ConnectionRefused", "connection refused")
        } else if lower.contains("tls")
            || lower.contains("certificate")
            || lower.contains("handshake")
            || lower.contains("invalid peer")
        {
            ("TlsError", "the TLS handshake failed")
        } else if lower.contains("connection reset") || lower.contains("broken pipe") {
            ("ConnectionReset", "the connection was reset")
        } else if lower.contains("connect")
            || lower.contains("network")
            || lower.contains("io error")
        {
            ("NetworkError", "network failure")
        } else {
            return None;
        },
    )
}

/// The service an operation belongs to, for naming its endpoint.
fn service_of(operation: &str) -> &'static str {
    match operation {
        "GetCallerIdentity" | "AssumeRole" => "sts",
        "DescribeScalableTargets"
        | "DescribeScalingPolicies"
        | "RegisterScalableTarget"
        | "PutScalingPolicy"
        | "DeregisterScalableTarget" => "application-autoscaling",
        "DescribeAlarms" | "PutMetricAlarm" | "DeleteAlarms" | "ListTagsForResource" => {
            "monitoring"
        }
        "DescribeKey" | "GetKeyPolicy" | "CreateGrant" | "Encrypt" | "GenerateDataKey"
        | "Decrypt" | "ReEncrypt" | "ListAliases" | "ListResourceTags" => "kms",
        op if op.contains("RecoveryPoint")
            || op.contains("BackupVault")
            || op.contains("RestoreJob")
            || op.contains("BackupJob") =>
        {
            "backup"
        }
        _ => "dynamodb",
    }
}

/// An error and its sources as one line, each cause once.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Lets [`fail`] read the HTTP status of any SDK response type.
pub trait HasStatus {
    /// The HTTP status, when there was a response.
    fn status(&self) -> Option<u16>;
}

impl HasStatus for aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    fn status(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

fn classify(code: &str, status: u16) -> ErrorKind {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ProvisionedThroughputExceededException"
        | "RequestThrottled"
        | "SlowDown" => ErrorKind::Throttled,
        "LimitExceededException" => ErrorKind::LimitExceeded,
        "NotFoundException"
        | "ResourceNotFoundException"
        | "TableNotFoundException"
        | "BackupNotFoundException"
        | "SourceTableNotFoundException"
        | "PointInTimeRecoveryUnavailableException" => ErrorKind::NotFound,
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            ErrorKind::AccessDenied
        }
        "ResourceInUseException"
        | "TableAlreadyExistsException"
        | "TableInUseException"
        | "AlreadyExistsException"
        | "ConflictException"
        | "BackupInUseException" => ErrorKind::Conflict,
        "ValidationException"
        | "InvalidParameterValueException"
        | "InvalidRequestException"
        | "MissingParameterValueException"
        | "InvalidRestoreTimeException"
        | "KMSInvalidStateException"
        | "DisabledException"
        | "InvalidArnException" => ErrorKind::Invalid,
        // Credentials that expired mid-run: the providers refresh them, so
        // the next attempt signs with new ones.
        "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired"
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalServerException"
        | "ServiceException" => ErrorKind::Transient,
        _ if status >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn smithy_time(t: &DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

fn to_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn key_facts(m: &kms::types::KeyMetadata) -> KeyFacts {
    let arn = m.arn().unwrap_or(m.key_id()).to_owned();
    let multi_region = if m.multi_region() == Some(true) {
        m.multi_region_configuration().map(|c| MultiRegion {
            role: match c.multi_region_key_type() {
                Some(kms::types::MultiRegionKeyType::Replica) => MultiRegionRole::Replica,
                _ => MultiRegionRole::Primary,
            },
            primary_arn: c
                .primary_key()
                .and_then(|k| k.arn())
                .unwrap_or(&arn)
                .to_owned(),
            replica_arns: c
                .replica_keys()
                .iter()
                .filter_map(|k| k.arn().map(str::to_owned))
                .collect(),
        })
    } else {
        None
    };
    KeyFacts {
        account: m
            .aws_account_id()
            .map(str::to_owned)
            .or_else(|| crate::cloud::arn_account(&arn).map(str::to_owned))
            .unwrap_or_default(),
        region: crate::cloud::arn_region(&arn)
            .unwrap_or_default()
            .to_owned(),
        state: m
            .key_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "Unknown".to_owned()),
        spec: m
            .key_spec()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "Unknown".to_owned()),
        usage: m
            .key_usage()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "Unknown".to_owned()),
        manager: match m.key_manager() {
            Some(kms::types::KeyManagerType::Aws) => KeyManager::Aws,
            _ => KeyManager::Customer,
        },
        multi_region,
        arn,
    }
}

fn index_def(
    name: Option<&str>,
    key_schema: &[ddb::types::KeySchemaElement],
    projection: Option<&ddb::types::Projection>,
) -> IndexDef {
    IndexDef {
        name: name.unwrap_or_default().to_owned(),
        key_schema: key_schema
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect(),
        projection_type: projection
            .and_then(|p| p.projection_type())
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "ALL".to_owned()),
        non_key_attributes: projection
            .map(|p| p.non_key_attributes().to_vec())
            .unwrap_or_default(),
    }
}

fn encryption(sse: Option<&ddb::types::SseDescription>) -> TableEncryption {
    match sse {
        Some(d)
            if d.status() == Some(&ddb::types::SseStatus::Enabled)
                || d.status() == Some(&ddb::types::SseStatus::Updating) =>
        {
            match d.kms_master_key_arn() {
                Some(arn) => TableEncryption::Customer {
                    key_arn: arn.to_owned(),
                },
                None => TableEncryption::Managed { key_arn: None },
            }
        }
        _ => TableEncryption::Owned,
    }
}

fn sse_spec(sse: &SseRequest) -> ddb::types::SseSpecification {
    match sse {
        SseRequest::Owned => ddb::types::SseSpecification::builder()
            .enabled(false)
            .build(),
        SseRequest::Managed => ddb::types::SseSpecification::builder()
            .enabled(true)
            .sse_type(ddb::types::SseType::Kms)
            .build(),
        SseRequest::Customer { key_arn } => ddb::types::SseSpecification::builder()
            .enabled(true)
            .sse_type(ddb::types::SseType::Kms)
            .kms_master_key_id(key_arn)
            .build(),
    }
}

fn gsi_override(
    operation: &str,
    indexes: &[IndexDef],
    capacity: Option<&crate::cloud::CapacityOverride>,
) -> CloudResult<Vec<ddb::types::GlobalSecondaryIndex>> {
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        CloudError::new(
            ErrorKind::Invalid,
            operation,
            "InvalidIndex",
            format!("could not build the index override: {e}"),
        )
    };
    indexes
        .iter()
        .map(|ix| {
            let keys = ix
                .key_schema
                .iter()
                .map(|(a, t)| {
                    ddb::types::KeySchemaElement::builder()
                        .attribute_name(a)
                        .key_type(ddb::types::KeyType::from(t.as_str()))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            let mut projection = ddb::types::Projection::builder().projection_type(
                ddb::types::ProjectionType::from(ix.projection_type.as_str()),
            );
            for a in &ix.non_key_attributes {
                projection = projection.non_key_attributes(a);
            }
            let own = capacity.and_then(|c| c.indexes.get(&ix.name));
            ddb::types::GlobalSecondaryIndex::builder()
                .index_name(&ix.name)
                .set_key_schema(Some(keys))
                .projection(projection.build())
                .set_provisioned_throughput(
                    own.and_then(|c| c.throughput.as_ref())
                        .map(|t| provisioned_spec(operation, t))
                        .transpose()?,
                )
                .set_on_demand_throughput(
                    own.and_then(|c| c.on_demand.as_ref()).map(on_demand_spec),
                )
                .build()
                .map_err(invalid)
        })
        .collect()
}

/// Capacity and class of a described table.
fn table_capacity(t: &ddb::types::TableDescription) -> crate::cloud::TableCapacity {
    let mode = BillingMode::from_aws(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
    );
    let provisioned = |p: Option<&ddb::types::ProvisionedThroughputDescription>| {
        p.and_then(|p| {
            Some(Throughput {
                read: u64::try_from(p.read_capacity_units()?).ok()?,
                write: u64::try_from(p.write_capacity_units()?).ok()?,
            })
        })
        .filter(|_| mode == BillingMode::Provisioned)
    };
    crate::cloud::TableCapacity {
        billing_mode: Some(mode),
        throughput: provisioned(t.provisioned_throughput()),
        on_demand: on_demand_of(t.on_demand_throughput()),
        table_class: Some(TableClass::from_aws(
            t.table_class_summary()
                .and_then(|c| c.table_class())
                .map(|c| c.as_str()),
        )),
        indexes: t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                (
                    g.index_name().unwrap_or_default().to_owned(),
                    crate::cloud::IndexCapacity {
                        throughput: provisioned(g.provisioned_throughput()),
                        on_demand: on_demand_of(g.on_demand_throughput()),
                    },
                )
            })
            .collect(),
    }
}

/// Capacity of the table a DynamoDB backup was taken of, as `DescribeBackup`
/// reports it (`SourceTableDetails`, and each GSI's in
/// `SourceTableFeatureDetails`). The class is not part of it.
fn backup_capacity(
    s: &ddb::types::SourceTableDetails,
    features: Option<&ddb::types::SourceTableFeatureDetails>,
) -> crate::cloud::TableCapacity {
    let mode = BillingMode::from_aws(s.billing_mode().map(|m| m.as_str()));
    let provisioned = |p: Option<&ddb::types::ProvisionedThroughput>| {
        p.and_then(|p| {
            Some(Throughput {
                read: u64::try_from(p.read_capacity_units()).ok()?,
                write: u64::try_from(p.write_capacity_units()).ok()?,
            })
        })
        .filter(|t| mode == BillingMode::Provisioned && t.read > 0 && t.write > 0)
    };
    crate::cloud::TableCapacity {
        billing_mode: Some(mode),
        throughput: provisioned(s.provisioned_throughput()),
        on_demand: on_demand_of(s.on_demand_throughput()),
        table_class: None,
        indexes: features
            .map(|f| f.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .map(|g| {
                (
                    g.index_name().unwrap_or_default().to_owned(),
                    crate::cloud::IndexCapacity {
                        throughput: provisioned(g.provisioned_throughput()),
                        on_demand: on_demand_of(g.on_demand_throughput()),
                    },
                )
            })
            .collect(),
    }
}

/// An on-demand maximum as DynamoDB reports it; `None` when no side is set.
fn on_demand_of(o: Option<&ddb::types::OnDemandThroughput>) -> Option<OnDemandThroughput> {
    let o = o?;
    let side = |v: Option<i64>| v.filter(|v| *v > 0);
    let (r, w) = (
        side(o.max_read_request_units()),
        side(o.max_write_request_units()),
    );
    (r.is_some() || w.is_some()).then_some(OnDemandThroughput {
        max_read: r,
        max_write: w,
    })
}

fn provisioned_spec(
    operation: &str,
    t: &Throughput,
) -> CloudResult<ddb::types::ProvisionedThroughput> {
    let units = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    ddb::types::ProvisionedThroughput::builder()
        .read_capacity_units(units(t.read))
        .write_capacity_units(units(t.write))
        .build()
        .map_err(|e| {
            CloudError::new(
                ErrorKind::Invalid,
                operation,
                "InvalidRequest",
                e.to_string(),
            )
        })
}

fn on_demand_spec(t: &OnDemandThroughput) -> ddb::types::OnDemandThroughput {
    ddb::types::OnDemandThroughput::builder()
        .set_max_read_request_units(t.max_read)
        .set_max_write_request_units(t.max_write)
        .build()
}

/// The `GlobalSecondaryIndexUpdates` that give each index its capacity.
fn index_capacity_updates(
    indexes: &BTreeMap<String, crate::cloud::IndexCapacity>,
) -> CloudResult<Vec<ddb::types::GlobalSecondaryIndexUpdate>> {
    indexes
        .iter()
        .filter(|(_, c)| c.throughput.is_some() || c.on_demand.is_some())
        .map(|(name, c)| {
            let action = ddb::types::UpdateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .set_provisioned_throughput(
                    c.throughput
                        .as_ref()
                        .map(|t| provisioned_spec("UpdateTable", t))
                        .transpose()?,
                )
                .set_on_demand_throughput(c.on_demand.as_ref().map(on_demand_spec))
                .build()
                .map_err(|e| {
                    CloudError::new(
                        ErrorKind::Invalid,
                        "UpdateTable",
                        "InvalidRequest",
                        e.to_string(),
                    )
                })?;
            Ok(ddb::types::GlobalSecondaryIndexUpdate::builder()
                .update(action)
                .build())
        })
        .collect()
}

fn job_status(s: Option<&backup::types::RestoreJobStatus>) -> JobStatus {
    match s {
        Some(backup::types::RestoreJobStatus::Pending) | None => JobStatus::Pending,
        Some(backup::types::RestoreJobStatus::Running) => JobStatus::Running,
        Some(backup::types::RestoreJobStatus::Completed) => JobStatus::Completed,
        Some(backup::types::RestoreJobStatus::Aborted) => JobStatus::Aborted,
        Some(_) => JobStatus::Failed,
    }
}

#[async_trait]
impl CloudRead for AwsCloud {
    async fn identity(&self, account: &AccountId) -> CloudResult<Identity> {
        self.caller(account.as_str()).await
    }

    async fn describe_key(&self, scope: &Scope, key: &str) -> CloudResult<KeyFacts> {
        let c = self.at(scope).await?;
        let out = c
            .kms
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| c.fail("DescribeKey", e))?;
        out.key_metadata().map(key_facts).ok_or_else(|| {
            CloudError::new(
                ErrorKind::Other,
                "DescribeKey",
                "MissingKeyMetadata",
                "KMS answered without key metadata",
            )
        })
    }

    async fn key_policy(&self, scope: &Scope, key_arn: &str) -> CloudResult<Option<String>> {
        let c = self.at(scope).await?;
        match c
            .kms
            .get_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .send()
            .await
        {
            Ok(out) => Ok(out.policy().map(str::to_owned)),
            Err(e) => {
                let e = c.fail("GetKeyPolicy", e);
                if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::NotFound) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn probe_key(
        &self,
        scope: &Scope,
        key_arn: &str,
        operation: KeyOperation,
    ) -> CloudResult<ProbeOutcome> {
        let c = self.at(scope).await?;
        let name = match operation {
            KeyOperation::CreateGrant => "CreateGrant",
            KeyOperation::Encrypt => "Encrypt",
            KeyOperation::GenerateDataKey => "GenerateDataKey",
            KeyOperation::Decrypt => "Decrypt",
            KeyOperation::ReEncrypt => "ReEncrypt",
        };
        let result: Result<(), CloudError> = match operation {
            KeyOperation::CreateGrant => {
                let me = c
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| c.fail("GetCallerIdentity", e))?;
                c.kms
                    .create_grant()
                    .key_id(key_arn)
                    .grantee_principal(me.arn().unwrap_or_default())
                    .operations(kms::types::GrantOperation::Decrypt)
                    .dry_run(true)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| c.fail(name, e))
            }
            KeyOperation::Encrypt => c
                .kms
                .encrypt()
                .key_id(key_arn)
                .plaintext(aws_smithy_types::Blob::new(b"restoreplan".to_vec()))
                .dry_run(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| c.fail(name, e)),
            KeyOperation::GenerateDataKey => c
                .kms
                .generate_data_key()
                .key_id(key_arn)
                .key_spec(kms::types::DataKeySpec::Aes256)
                .dry_run(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| c.fail(name, e)),
            KeyOperation::Decrypt | KeyOperation::ReEncrypt => {
                // Both need a ciphertext made with the key; probing them would
                // need an Encrypt first, which is not side-effect free. The
                // key policy answers for them instead.
                return Ok(ProbeOutcome::Denied(format!(
                    "{name} cannot be probed without a ciphertext; read the key policy instead"
                )));
            }
        };
        match result {
            // A dry run that succeeds still answers with an error.
            Err(e) if e.code == "DryRunOperationException" || e.code == "DryRunOperation" => {
                Ok(ProbeOutcome::Allowed)
            }
            Ok(()) => Ok(ProbeOutcome::Allowed),
            Err(e) if e.is_retryable() => Err(e),
            Err(e) => Ok(ProbeOutcome::Denied(format!("{}: {}", e.code, e.message))),
        }
    }

    async fn vault_recovery_points(
        &self,
        scope: &Scope,
        vault: &str,
        resource_arn: &str,
    ) -> CloudResult<Vec<RecoveryPoint>> {
        let c = self.at(scope).await?;
        let mut out = Vec::new();
        let mut pages = c
            .backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault)
            .by_resource_arn(resource_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| c.fail("ListRecoveryPointsByBackupVault", e))?;
            for rp in page.recovery_points() {
                let Some(created) = time(rp.creation_date()) else {
                    continue;
                };
                out.push(RecoveryPoint {
                    arn: rp.recovery_point_arn().unwrap_or_default().to_owned(),
                    origin: RecoveryPointOrigin::Vault {
                        vault: rp.backup_vault_name().unwrap_or(vault).to_owned(),
                    },
                    resource_arn: rp.resource_arn().unwrap_or_default().to_owned(),
                    resource_type: rp.resource_type().unwrap_or_default().to_owned(),
                    status: rp
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    created,
                    size_bytes: to_u64(rp.backup_size_in_bytes()),
                    item_count: None,
                    encryption_key_arn: rp.encryption_key_arn().map(str::to_owned),
                    indexes: None,
                    capacity: None,
                });
            }
        }
        out.sort_by_key(|rp| std::cmp::Reverse(rp.created));
        Ok(out)
    }

    async fn describe_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<RecoveryPoint> {
        let c = self.at(scope).await?;
        let rp = c
            .backup
            .describe_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(arn)
            .send()
            .await
            .map_err(|e| c.fail("DescribeRecoveryPoint", e))?;
        Ok(RecoveryPoint {
            arn: rp.recovery_point_arn().unwrap_or(arn).to_owned(),
            origin: RecoveryPointOrigin::Vault {
                vault: rp.backup_vault_name().unwrap_or(vault).to_owned(),
            },
            resource_arn: rp.resource_arn().unwrap_or_default().to_owned(),
            resource_type: rp.resource_type().unwrap_or_default().to_owned(),
            status: rp
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            created: time(rp.creation_date()).unwrap_or_default(),
            size_bytes: to_u64(rp.backup_size_in_bytes()),
            item_count: None,
            encryption_key_arn: rp.encryption_key_arn().map(str::to_owned),
            indexes: None,
            capacity: None,
        })
    }

    async fn table_backups(&self, scope: &Scope, table: &str) -> CloudResult<Vec<RecoveryPoint>> {
        let c = self.at(scope).await?;
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = c
                .dynamodb
                .list_backups()
                .table_name(table)
                .set_exclusive_start_backup_arn(start.take())
                .send()
                .await
                .map_err(|e| c.fail("ListBackups", e))?;
            for b in page.backup_summaries() {
                let Some(created) = time(b.backup_creation_date_time()) else {
                    continue;
                };
                out.push(RecoveryPoint {
                    arn: b.backup_arn().unwrap_or_default().to_owned(),
                    origin: RecoveryPointOrigin::DynamoDbBackup,
                    resource_arn: b.table_arn().unwrap_or_default().to_owned(),
                    resource_type: "DynamoDB".to_owned(),
                    status: match b.backup_status() {
                        Some(ddb::types::BackupStatus::Available) => "COMPLETED".to_owned(),
                        Some(s) => s.as_str().to_owned(),
                        None => "UNKNOWN".to_owned(),
                    },
                    created,
                    size_bytes: to_u64(b.backup_size_bytes()),
                    item_count: None,
                    encryption_key_arn: None,
                    indexes: None,
                    capacity: None,
                });
            }
            match page.last_evaluated_backup_arn() {
                Some(arn) if !arn.is_empty() => start = Some(arn.to_owned()),
                _ => break,
            }
        }
        out.sort_by_key(|rp| std::cmp::Reverse(rp.created));
        Ok(out)
    }

    async fn describe_backup(&self, scope: &Scope, arn: &str) -> CloudResult<RecoveryPoint> {
        let c = self.at(scope).await?;
        let out = c
            .dynamodb
            .describe_backup()
            .backup_arn(arn)
            .send()
            .await
            .map_err(|e| c.fail("DescribeBackup", e))?;
        let missing = || {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeBackup",
                "BackupNotFoundException",
                format!("no backup description for {arn}"),
            )
        };
        let d = out.backup_description().ok_or_else(missing)?;
        let details = d.backup_details().ok_or_else(missing)?;
        let source = d.source_table_details();
        let features = d.source_table_feature_details();
        Ok(RecoveryPoint {
            arn: details.backup_arn().to_owned(),
            origin: RecoveryPointOrigin::DynamoDbBackup,
            resource_arn: source
                .and_then(|s| s.table_arn())
                .unwrap_or_default()
                .to_owned(),
            resource_type: "DynamoDB".to_owned(),
            status: match details.backup_status() {
                ddb::types::BackupStatus::Available => "COMPLETED".to_owned(),
                s => s.as_str().to_owned(),
            },
            created: time(Some(details.backup_creation_date_time())).unwrap_or_default(),
            size_bytes: to_u64(details.backup_size_bytes()),
            item_count: to_u64(source.and_then(|s| s.item_count())),
            encryption_key_arn: features
                .and_then(|f| f.sse_description())
                .and_then(|s| s.kms_master_key_arn())
                .map(str::to_owned),
            indexes: features.map(|f| {
                f.global_secondary_indexes()
                    .iter()
                    .map(|g| index_def(g.index_name(), g.key_schema(), g.projection()))
                    .collect()
            }),
            capacity: source.map(|s| backup_capacity(s, features)),
        })
    }

    async fn describe_table(&self, scope: &Scope, name: &str) -> CloudResult<Option<TableFacts>> {
        let c = self.at(scope).await?;
        let out = match c.dynamodb.describe_table().table_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = c.fail("DescribeTable", e);
                return if e.kind == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let Some(t) = out.table() else {
            return Ok(None);
        };
        Ok(Some(TableFacts {
            arn: t.table_arn().unwrap_or_default().to_owned(),
            name: t.table_name().unwrap_or(name).to_owned(),
            status: t
                .table_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            item_count: to_u64(t.item_count()),
            size_bytes: to_u64(t.table_size_bytes()),
            encryption: encryption(t.sse_description()),
            indexes: t
                .global_secondary_indexes()
                .iter()
                .map(|g| index_def(g.index_name(), g.key_schema(), g.projection()))
                .collect(),
            stream: t
                .stream_specification()
                .filter(|s| s.stream_enabled())
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str().to_owned()),
            deletion_protection: t.deletion_protection_enabled().unwrap_or(false),
            restore_in_progress: t
                .restore_summary()
                .map(|r| r.restore_in_progress())
                .unwrap_or(false),
            table_id: t.table_id().map(str::to_owned),
            origin: crate::cloud::TableOrigin {
                created_at: time(t.creation_date_time()),
                source_backup: t
                    .restore_summary()
                    .and_then(|r| r.source_backup_arn())
                    .map(str::to_owned),
                source_table: t
                    .restore_summary()
                    .and_then(|r| r.source_table_arn())
                    .map(str::to_owned),
                restore_time: t
                    .restore_summary()
                    .and_then(|r| time(Some(r.restore_date_time()))),
            },
            capacity: table_capacity(t),
        }))
    }

    async fn describe_pitr(&self, scope: &Scope, name: &str) -> CloudResult<PitrFacts> {
        let c = self.at(scope).await?;
        let out = c
            .dynamodb
            .describe_continuous_backups()
            .table_name(name)
            .send()
            .await
            .map_err(|e| c.fail("DescribeContinuousBackups", e))?;
        let d = out
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description());
        Ok(PitrFacts {
            enabled: d.and_then(|d| d.point_in_time_recovery_status())
                == Some(&ddb::types::PointInTimeRecoveryStatus::Enabled),
            earliest: time(d.and_then(|d| d.earliest_restorable_date_time())),
            latest: time(d.and_then(|d| d.latest_restorable_date_time())),
        })
    }

    async fn count_items(
        &self,
        scope: &Scope,
        name: &str,
        max_pages: u32,
    ) -> CloudResult<ItemTally> {
        let c = self.at(scope).await?;
        let mut tally = ItemTally {
            counted: 0,
            complete: false,
            pages: 0,
        };
        let mut start = None;
        while tally.pages < max_pages {
            let out = c
                .dynamodb
                .scan()
                .table_name(name)
                .select(ddb::types::Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| c.fail("Scan", e))?;
            tally.pages += 1;
            tally.counted += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => {
                    tally.complete = true;
                    break;
                }
            }
        }
        Ok(tally)
    }

    async fn data_facts(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<crate::cloud::data::DataFacts> {
        use crate::cloud::data::{DataFacts, KeyAttribute};
        let c = self.at(scope).await?;
        let out = c
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| c.fail("DescribeTable", e))?;
        let Some(t) = out.table() else {
            return Err(CloudError::new(
                ErrorKind::NotFound,
                "DescribeTable",
                "ResourceNotFoundException",
                format!("table `{name}` does not exist"),
            ));
        };
        let kind = |attr: &str| {
            t.attribute_definitions()
                .iter()
                .find(|d| d.attribute_name() == attr)
                .map(|d| d.attribute_type().as_str().to_owned())
                .unwrap_or_else(|| "S".to_owned())
        };
        let mut key_schema: Vec<KeyAttribute> = t
            .key_schema()
            .iter()
            .map(|k| KeyAttribute {
                name: k.attribute_name().to_owned(),
                role: k.key_type().as_str().to_owned(),
                kind: kind(k.attribute_name()),
            })
            .collect();
        key_schema.sort_by_key(|k| k.role != "HASH");
        let on_demand = t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .is_some_and(|m| m.as_str() == "PAY_PER_REQUEST");
        let read_capacity = if on_demand {
            None
        } else {
            t.provisioned_throughput()
                .and_then(|p| p.read_capacity_units())
                .and_then(|r| u64::try_from(r).ok())
                .filter(|r| *r > 0)
        };
        Ok(DataFacts {
            key_schema,
            read_capacity,
            max_read_units: t
                .on_demand_throughput()
                .and_then(|o| o.max_read_request_units())
                .and_then(|r| u64::try_from(r).ok())
                .filter(|r| *r > 0),
            size_bytes: to_u64(t.table_size_bytes()).unwrap_or(0),
            item_count: to_u64(t.item_count()).unwrap_or(0),
        })
    }

    async fn count_page(
        &self,
        scope: &Scope,
        name: &str,
        segment: u32,
        total: u32,
        limit: u32,
        start: Option<crate::cloud::data::ItemKey>,
    ) -> CloudResult<crate::cloud::data::CountPage> {
        let c = self.at(scope).await?;
        let mut req = c
            .dynamodb
            .scan()
            .table_name(name)
            .select(ddb::types::Select::Count)
            .return_consumed_capacity(ddb::types::ReturnConsumedCapacity::Total)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        if total > 1 {
            req = req
                .segment(i32::try_from(segment).unwrap_or(0))
                .total_segments(i32::try_from(total).unwrap_or(1));
        }
        if let Some(k) = start {
            req = req.set_exclusive_start_key(Some(to_attributes(&k)));
        }
        let out = req.send().await.map_err(|e| c.fail("Scan", e))?;
        Ok(crate::cloud::data::CountPage {
            count: u64::try_from(out.count()).unwrap_or(0),
            consumed: out
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0),
            next: out
                .last_evaluated_key()
                .filter(|k| !k.is_empty())
                .map(from_attributes),
        })
    }

    async fn get_item(
        &self,
        scope: &Scope,
        name: &str,
        key: &crate::cloud::data::ItemKey,
    ) -> CloudResult<crate::cloud::data::ItemLookup> {
        let c = self.at(scope).await?;
        let out = c
            .dynamodb
            .get_item()
            .table_name(name)
            .set_key(Some(to_attributes(key)))
            .consistent_read(true)
            .return_consumed_capacity(ddb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| c.fail("GetItem", e))?;
        Ok(crate::cloud::data::ItemLookup {
            found: out.item().is_some_and(|i| !i.is_empty()),
            consumed: out
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0),
        })
    }

    async fn command_access(
        &self,
        scope: &Scope,
    ) -> CloudResult<crate::cloud::data::CommandAccess> {
        use aws_credential_types::provider::ProvideCredentials;
        // The identity is checked first: a command never gets credentials
        // of another account than the one it acts in.
        self.at(scope).await?;
        let conf = self.account_config(scope.account.as_str()).await;
        let fail = |message: String| {
            let mut e =
                CloudError::new(ErrorKind::Other, "GetCredentials", "NoCredentials", message);
            e.identity = Some(self.access(scope.account.as_str()).describe());
            e
        };
        let provider = conf
            .credentials_provider()
            .ok_or_else(|| fail("no credentials are configured for this account".to_owned()))?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| fail(format!("the credentials could not be loaded: {e}")))?;
        Ok(crate::cloud::data::CommandAccess {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: creds.secret_access_key().to_owned(),
            session_token: creds.session_token().map(str::to_owned),
            region: scope.region.as_str().to_owned(),
            endpoint: conf.endpoint_url().map(str::to_owned),
        })
    }

    async fn describe_ttl(&self, scope: &Scope, name: &str) -> CloudResult<TtlFacts> {
        let c = self.at(scope).await?;
        let out = c
            .dynamodb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| c.fail("DescribeTimeToLive", e))?;
        let d = out.time_to_live_description();
        Ok(TtlFacts {
            status: d
                .and_then(|d| d.time_to_live_status())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "DISABLED".to_owned()),
            attribute: d.and_then(|d| d.attribute_name()).map(str::to_owned),
        })
    }

    async fn table_tags(&self, scope: &Scope, arn: &str) -> CloudResult<BTreeMap<String, String>> {
        let c = self.at(scope).await?;
        let mut tags = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            let out = c
                .dynamodb
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| c.fail("ListTagsOfResource", e))?;
            for t in out.tags() {
                tags.insert(t.key().to_owned(), t.value().to_owned());
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(tags)
    }

    async fn scaling(
        &self,
        scope: &Scope,
        resource_ids: &[String],
    ) -> CloudResult<crate::cloud::settings::Scaling> {
        let c = self.at(scope).await?;
        settings::scaling(&c, resource_ids).await
    }

    async fn resource_policy(&self, scope: &Scope, arn: &str) -> CloudResult<Option<String>> {
        let c = self.at(scope).await?;
        settings::resource_policy(&c, arn).await
    }

    async fn contributor_insights(
        &self,
        scope: &Scope,
        name: &str,
        indexes: &[String],
    ) -> CloudResult<Vec<crate::cloud::settings::Insights>> {
        let c = self.at(scope).await?;
        settings::contributor_insights(&c, name, indexes).await
    }

    async fn kinesis_destinations(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Vec<crate::cloud::settings::KinesisDestination>> {
        let c = self.at(scope).await?;
        settings::kinesis_destinations(&c, name).await
    }

    async fn table_alarms(
        &self,
        scope: &Scope,
        table: &str,
    ) -> CloudResult<Vec<crate::cloud::settings::Alarm>> {
        let c = self.at(scope).await?;
        settings::table_alarms(&c, table).await
    }

    async fn alarm_tags(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<BTreeMap<String, String>>> {
        let c = self.at(scope).await?;
        settings::alarm_tags(&c, name).await
    }

    async fn list_tables(&self, scope: &Scope) -> CloudResult<Vec<String>> {
        let c = self.at(scope).await?;
        let mut names = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = c
                .dynamodb
                .list_tables()
                .limit(100)
                .set_exclusive_start_table_name(start.take())
                .send()
                .await
                .map_err(|e| c.fail("ListTables", e))?;
            names.extend(out.table_names().iter().cloned());
            match out.last_evaluated_table_name() {
                Some(t) if !t.is_empty() => start = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(names)
    }

    async fn describe_restore_job(&self, scope: &Scope, id: &str) -> CloudResult<RestoreJob> {
        let c = self.at(scope).await?;
        let out = c
            .backup
            .describe_restore_job()
            .restore_job_id(id)
            .send()
            .await
            .map_err(|e| c.fail("DescribeRestoreJob", e))?;
        Ok(RestoreJob {
            id: out.restore_job_id().unwrap_or(id).to_owned(),
            status: job_status(out.status()),
            status_message: out.status_message().map(str::to_owned),
            percent_done: out
                .percent_done()
                .and_then(|p| p.trim_end_matches('%').trim().parse().ok()),
            expected_completion_minutes: out.expected_completion_time_minutes(),
            created_resource_arn: out.created_resource_arn().map(str::to_owned),
            created: time(out.creation_date()),
            completed: time(out.completion_date()),
        })
    }

    async fn describe_vault(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<crate::cloud::VaultFacts>> {
        let c = self.at(scope).await?;
        let out = match c
            .backup
            .describe_backup_vault()
            .backup_vault_name(name)
            .send()
            .await
            .map_err(|e| c.fail("DescribeBackupVault", e))
        {
            Ok(out) => out,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let policy = match c
            .backup
            .get_backup_vault_access_policy()
            .backup_vault_name(name)
            .send()
            .await
            .map_err(|e| c.fail("GetBackupVaultAccessPolicy", e))
        {
            Ok(p) => p.policy().map(str::to_owned),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Some(crate::cloud::VaultFacts {
            name: out.backup_vault_name().unwrap_or(name).to_owned(),
            arn: out.backup_vault_arn().unwrap_or_default().to_owned(),
            encryption_key_arn: out.encryption_key_arn().map(str::to_owned),
            access_policy: policy,
        }))
    }

    async fn describe_copy_job(
        &self,
        scope: &Scope,
        id: &str,
    ) -> CloudResult<crate::cloud::CopyJob> {
        let c = self.at(scope).await?;
        let out = c
            .backup
            .describe_copy_job()
            .copy_job_id(id)
            .send()
            .await
            .map_err(|e| c.fail("DescribeCopyJob", e))?;
        let Some(job) = out.copy_job() else {
            return Err(CloudError::new(
                ErrorKind::NotFound,
                "DescribeCopyJob",
                "ResourceNotFoundException",
                format!("copy job {id} not found"),
            ));
        };
        use backup::types::CopyJobState as S;
        let status = match job.state() {
            Some(S::Created) | None => JobStatus::Pending,
            Some(S::Running) => JobStatus::Running,
            Some(S::Completed) => JobStatus::Completed,
            Some(_) => JobStatus::Failed,
        };
        Ok(crate::cloud::CopyJob {
            id: job.copy_job_id().unwrap_or(id).to_owned(),
            status,
            status_message: job.status_message().map(str::to_owned),
            destination_recovery_point_arn: job.destination_recovery_point_arn().map(str::to_owned),
            destination_vault_arn: job.destination_backup_vault_arn().map(str::to_owned),
            size_bytes: to_u64(job.backup_size_in_bytes()),
            created: time(job.creation_date()),
            completed: time(job.completion_date()),
        })
    }
}

#[async_trait]
impl CloudWrite for AwsCloud {
    async fn start_copy(
        &self,
        scope: &Scope,
        request: &crate::cloud::CopyRequest,
    ) -> CloudResult<String> {
        let c = self.at(scope).await?;
        let out = c
            .backup
            .start_copy_job()
            .recovery_point_arn(&request.recovery_point_arn)
            .source_backup_vault_name(&request.source_backup_vault_name)
            .destination_backup_vault_arn(&request.destination_backup_vault_arn)
            .iam_role_arn(&request.iam_role_arn)
            .idempotency_token(&request.idempotency_token)
            .send()
            .await
            .map_err(|e| c.fail("StartCopyJob", e))?;
        Ok(out.copy_job_id().unwrap_or_default().to_owned())
    }

    async fn delete_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<()> {
        let c = self.at(scope).await?;
        c.backup
            .delete_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(arn)
            .send()
            .await
            .map_err(|e| c.fail("DeleteRecoveryPoint", e))?;
        Ok(())
    }

    async fn start_restore(
        &self,
        scope: &Scope,
        request: &RestoreRequest,
    ) -> CloudResult<StartedRestore> {
        let c = self.at(scope).await?;
        match request {
            RestoreRequest::StartRestoreJob {
                recovery_point_arn,
                iam_role_arn,
                idempotency_token,
                resource_type,
                target_table_name,
                sse,
                indexes,
            } => {
                let metadata =
                    start_restore_job_metadata(target_table_name, sse, indexes.as_deref());
                let out = c
                    .backup
                    .start_restore_job()
                    .recovery_point_arn(recovery_point_arn)
                    .iam_role_arn(iam_role_arn)
                    .idempotency_token(idempotency_token)
                    .resource_type(resource_type)
                    .set_metadata(Some(metadata.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| c.fail("StartRestoreJob", e))?;
                Ok(StartedRestore::Job {
                    id: out.restore_job_id().unwrap_or_default().to_owned(),
                })
            }
            RestoreRequest::RestoreTableFromBackup {
                backup_arn,
                target_table_name,
                sse,
                indexes,
                capacity,
            } => {
                let op = "RestoreTableFromBackup";
                let gsis = indexes
                    .as_deref()
                    .map(|ix| gsi_override(op, ix, capacity.as_ref()))
                    .transpose()?;
                let out = c
                    .dynamodb
                    .restore_table_from_backup()
                    .backup_arn(backup_arn)
                    .target_table_name(target_table_name)
                    .sse_specification_override(sse_spec(sse))
                    .set_global_secondary_index_override(gsis)
                    .set_billing_mode_override(
                        capacity
                            .as_ref()
                            .map(|c| ddb::types::BillingMode::from(c.billing_mode.aws_name())),
                    )
                    .set_provisioned_throughput_override(
                        capacity
                            .as_ref()
                            .and_then(|c| c.throughput.as_ref())
                            .map(|t| provisioned_spec(op, t))
                            .transpose()?,
                    )
                    .set_on_demand_throughput_override(
                        capacity
                            .as_ref()
                            .and_then(|c| c.on_demand.as_ref())
                            .map(on_demand_spec),
                    )
                    .send()
                    .await
                    .map_err(|e| c.fail("RestoreTableFromBackup", e))?;
                Ok(StartedRestore::Table {
                    arn: out
                        .table_description()
                        .and_then(|t| t.table_arn())
                        .unwrap_or_default()
                        .to_owned(),
                })
            }
            RestoreRequest::RestoreTableToPointInTime {
                source_table_arn,
                target_table_name,
                restore_date_time,
                sse,
                indexes,
                capacity,
            } => {
                let op = "RestoreTableToPointInTime";
                let gsis = indexes
                    .as_deref()
                    .map(|ix| gsi_override(op, ix, capacity.as_ref()))
                    .transpose()?;
                let mut req = c
                    .dynamodb
                    .restore_table_to_point_in_time()
                    .source_table_arn(source_table_arn)
                    .target_table_name(target_table_name)
                    .sse_specification_override(sse_spec(sse))
                    .set_global_secondary_index_override(gsis)
                    .set_billing_mode_override(
                        capacity
                            .as_ref()
                            .map(|c| ddb::types::BillingMode::from(c.billing_mode.aws_name())),
                    )
                    .set_provisioned_throughput_override(
                        capacity
                            .as_ref()
                            .and_then(|c| c.throughput.as_ref())
                            .map(|t| provisioned_spec(op, t))
                            .transpose()?,
                    )
                    .set_on_demand_throughput_override(
                        capacity
                            .as_ref()
                            .and_then(|c| c.on_demand.as_ref())
                            .map(on_demand_spec),
                    );
                req = match restore_date_time {
                    Some(t) => req.restore_date_time(smithy_time(t)),
                    None => req.use_latest_restorable_time(true),
                };
                let out = req
                    .send()
                    .await
                    .map_err(|e| c.fail("RestoreTableToPointInTime", e))?;
                Ok(StartedRestore::Table {
                    arn: out
                        .table_description()
                        .and_then(|t| t.table_arn())
                        .unwrap_or_default()
                        .to_owned(),
                })
            }
        }
    }

    async fn change_table(
        &self,
        scope: &Scope,
        name: &str,
        change: &TableChange,
    ) -> CloudResult<()> {
        let c = self.at(scope).await?;
        let invalid = |op: &str, e: aws_smithy_types::error::operation::BuildError| {
            CloudError::new(ErrorKind::Invalid, op, "InvalidRequest", e.to_string())
        };
        let table_arn = format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            scope.region, scope.account, name
        );
        if settings::apply(&c, &table_arn, name, change).await? {
            return Ok(());
        }
        match change {
            TableChange::PointInTimeRecovery { enabled } => {
                let spec = ddb::types::PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(*enabled)
                    .build()
                    .map_err(|e| invalid("UpdateContinuousBackups", e))?;
                c.dynamodb
                    .update_continuous_backups()
                    .table_name(name)
                    .point_in_time_recovery_specification(spec)
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateContinuousBackups", e))?;
            }
            TableChange::DeletionProtection { enabled } => {
                c.dynamodb
                    .update_table()
                    .table_name(name)
                    .deletion_protection_enabled(*enabled)
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateTable", e))?;
            }
            TableChange::Tags { tags } => {
                let arn = format!(
                    "arn:aws:dynamodb:{}:{}:table/{}",
                    scope.region, scope.account, name
                );
                let tags = tags
                    .iter()
                    .map(|(k, v)| ddb::types::Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid("TagResource", e))?;
                c.dynamodb
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| c.fail("TagResource", e))?;
            }
            TableChange::Ttl { attribute, enabled } => {
                let spec = ddb::types::TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(*enabled)
                    .build()
                    .map_err(|e| invalid("UpdateTimeToLive", e))?;
                c.dynamodb
                    .update_time_to_live()
                    .table_name(name)
                    .time_to_live_specification(spec)
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateTimeToLive", e))?;
            }
            TableChange::Stream { view_type } => {
                let spec = ddb::types::StreamSpecification::builder()
                    .stream_enabled(view_type.is_some())
                    .set_stream_view_type(
                        view_type.as_deref().map(ddb::types::StreamViewType::from),
                    )
                    .build()
                    .map_err(|e| invalid("UpdateTable", e))?;
                c.dynamodb
                    .update_table()
                    .table_name(name)
                    .stream_specification(spec)
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateTable", e))?;
            }
            // Applied by `settings::apply` above.
            TableChange::KinesisDestination { .. }
            | TableChange::ContributorInsights { .. }
            | TableChange::ScalableTarget { .. }
            | TableChange::ScalingPolicy { .. }
            | TableChange::StepScalingPolicy { .. }
            | TableChange::ResourcePolicy { .. }
            | TableChange::Alarm { .. } => {}
            TableChange::Capacity {
                billing_mode,
                throughput,
                on_demand,
                indexes,
            } => {
                let updates = index_capacity_updates(indexes)?;
                c.dynamodb
                    .update_table()
                    .table_name(name)
                    .billing_mode(ddb::types::BillingMode::from(billing_mode.aws_name()))
                    .set_provisioned_throughput(
                        throughput
                            .as_ref()
                            .map(|t| provisioned_spec("UpdateTable", t))
                            .transpose()?,
                    )
                    .set_on_demand_throughput(on_demand.as_ref().map(on_demand_spec))
                    .set_global_secondary_index_updates((!updates.is_empty()).then_some(updates))
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateTable", e))?;
            }
            TableChange::TableClass { class } => {
                c.dynamodb
                    .update_table()
                    .table_name(name)
                    .table_class(ddb::types::TableClass::from(class.aws_name()))
                    .send()
                    .await
                    .map_err(|e| c.fail("UpdateTable", e))?;
            }
        }
        Ok(())
    }

    async fn remove_setting(&self, scope: &Scope, change: &TableChange) -> CloudResult<()> {
        let c = self.at(scope).await?;
        settings::remove(&c, change).await
    }

    async fn put_restore_validation(
        &self,
        scope: &Scope,
        job_id: &str,
        status: crate::cloud::data::ValidationStatus,
        message: &str,
    ) -> CloudResult<()> {
        let c = self.at(scope).await?;
        c.backup
            .put_restore_validation_result()
            .restore_job_id(job_id)
            .validation_status(backup::types::RestoreValidationStatus::from(
                status.as_str(),
            ))
            .validation_status_message(message)
            .send()
            .await
            .map_err(|e| c.fail("PutRestoreValidationResult", e))?;
        Ok(())
    }

    async fn delete_table(&self, scope: &Scope, name: &str) -> CloudResult<()> {
        let c = self.at(scope).await?;
        c.dynamodb
            .delete_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| c.fail("DeleteTable", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable() {
        assert_eq!(classify("ThrottlingException", 400), ErrorKind::Throttled);
        assert_eq!(
            classify("ProvisionedThroughputExceededException", 400),
            ErrorKind::Throttled
        );
        assert_eq!(classify("Whatever", 503), ErrorKind::Transient);
        assert_eq!(
            classify("LimitExceededException", 400),
            ErrorKind::LimitExceeded
        );
        assert_eq!(classify("NotFoundException", 400), ErrorKind::NotFound);
        assert_eq!(classify("Whatever", 400), ErrorKind::Other);
    }

    #[test]
    fn access_descriptions_name_the_credentials() {
        let a = AccountAccess {
            profile: Some("dr".into()),
            role_arn: Some("arn:aws:iam::444455556666:role/x".into()),
        };
        assert_eq!(
            a.describe(),
            "role arn:aws:iam::444455556666:role/x assumed with profile dr"
        );
        assert_eq!(AccountAccess::default().describe(), "ambient credentials");
    }

    #[test]
    fn restore_job_metadata_uses_aws_backups_keys() {
        let owned = start_restore_job_metadata("orders-dr", &SseRequest::Owned, None);
        assert_eq!(owned["targetTableName"], "orders-dr");
        assert_eq!(owned["encryptionType"], "Default");
        assert_eq!(owned["kmsMasterKeyArn"], NOT_APPLICABLE);
        assert!(!owned.contains_key("secondaryIndices"));

        let managed = start_restore_job_metadata("orders-dr", &SseRequest::Managed, None);
        assert_eq!(managed["encryptionType"], "KMS");
        assert!(!managed.contains_key("kmsMasterKeyArn"));

        let key_arn = "arn:aws:kms:us-west-2:444455556666:key/mrk-1";
        let index = IndexDef {
            name: "by-date".into(),
            key_schema: vec![("date".into(), "HASH".into())],
            projection_type: "INCLUDE".into(),
            non_key_attributes: vec!["total".into()],
        };
        let customer = start_restore_job_metadata(
            "orders-dr",
            &SseRequest::Customer {
                key_arn: key_arn.into(),
            },
            Some(&[index]),
        );
        assert_eq!(customer["encryptionType"], "KMS");
        assert_eq!(customer["kmsMasterKeyArn"], key_arn);
        let indexes: serde_json::Value =
            serde_json::from_str(&customer["secondaryIndices"]).unwrap_or_default();
        assert_eq!(
            indexes,
            serde_json::json!([{
                "indexName": "by-date",
                "indexType": "GSI",
                "keySchema": [{"AttributeName": "date", "KeyType": "HASH"}],
                "projectedAttributes": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            }])
        );
        // Dropping every index sends an empty list, not "keep all".
        let none_kept = start_restore_job_metadata("orders-dr", &SseRequest::Owned, Some(&[]));
        assert_eq!(none_kept["secondaryIndices"], "[]");
    }
}

#[cfg(test)]
mod network_tests {
    use super::*;

    #[test]
    fn network_failures_are_named() {
        let kind = |chain: &str| network_failure(chain, false).map(|(code, _)| code);
        assert_eq!(
            kind(
                "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            Some("ConnectionRefused")
        );
        assert_eq!(
            kind(
                "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information"
            ),
            Some("DnsError")
        );
        assert_eq!(
            kind("dispatch failure: timeout: connection timed out"),
            Some("ConnectTimeout")
        );
        assert_eq!(
            kind("dispatch failure: io error: received corrupt message of type InvalidContentType"),
            Some("NetworkError")
        );
        assert_eq!(
            kind("invalid peer certificate: UnknownIssuer"),
            Some("TlsError")
        );
        assert_eq!(
            network_failure("x", true).map(|(c, _)| c),
            Some("ConnectTimeout")
        );
        assert_eq!(kind("an error occurred while loading credentials"), None);
        assert_eq!(service_of("GetCallerIdentity"), "sts");
        assert_eq!(service_of("DescribeRecoveryPoint"), "backup");
    }
}

fn to_attributes(key: &crate::cloud::data::ItemKey) -> HashMap<String, ddb::types::AttributeValue> {
    use crate::cloud::data::KeyValue;
    use ddb::types::AttributeValue as A;
    key.iter()
        .map(|(k, v)| {
            let a = match v {
                KeyValue::S(s) => A::S(s.clone()),
                KeyValue::N(n) => A::N(n.clone()),
                KeyValue::B(b) => A::B(aws_smithy_types::Blob::new(b.clone())),
            };
            (k.clone(), a)
        })
        .collect()
}

fn from_attributes(
    attrs: &HashMap<String, ddb::types::AttributeValue>,
) -> crate::cloud::data::ItemKey {
    use crate::cloud::data::KeyValue;
    use ddb::types::AttributeValue as A;
    attrs
        .iter()
        .filter_map(|(k, v)| {
            let v = match v {
                A::S(s) => KeyValue::S(s.clone()),
                A::N(n) => KeyValue::N(n.clone()),
                A::B(b) => KeyValue::B(b.as_ref().to_vec()),
                _ => return None,
            };
            Some((k.clone(), v))
        })
        .collect()
}
