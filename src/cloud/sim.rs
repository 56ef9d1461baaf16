//! [`SimCloud`]: an in-memory DynamoDB + AWS Backup that restores in
//! virtual time, with fault injection and a record of every restore.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::{Duration, Instant};

use crate::clock::{Clock, TokioClock};
use crate::cloud::{
    CloudError, CloudRead, CloudResult, CloudWrite, ErrorKind, Identity, IndexDef, ItemTally,
    JobStatus, KeyFacts, KeyOperation, PitrFacts, ProbeOutcome, RecoveryPoint, RestoreJob,
    RestoreRequest, Scope, SseRequest, StartedRestore, TableChange, TableEncryption, TableFacts,
    TtlFacts,
};
use crate::plan::model::{AccountId, Execution};

use crate::duration::DurationModel;

/// Faults the simulated cloud injects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Probability that a call is throttled.
    pub throttle: f64,
    /// Probability that a call fails with a 5xx before taking effect.
    pub server_error: f64,
    /// Probability that a mutating call takes effect but its answer is lost (a 5xx).
    pub lost_response: f64,
    /// Target tables whose restore fails when it would have finished.
    pub failing_tables: BTreeSet<String>,
}

/// One restore the simulated cloud ran.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreRecord {
    /// Target account.
    pub account: String,
    /// Target table.
    pub table: String,
    /// Job id (AWS Backup) or table ARN.
    pub handle: String,
    /// Virtual seconds since the cloud was created when it started.
    pub start: f64,
    /// Virtual seconds when it ended.
    pub end: f64,
    /// True when it failed.
    pub failed: bool,
}

/// What the simulated cloud observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimStats {
    /// Calls per operation (including those answered with an injected fault).
    pub calls: BTreeMap<&'static str, u64>,
    /// Highest number of restores in progress at once, per target account.
    pub max_in_flight: BTreeMap<String, u32>,
    /// Every restore started, in start order.
    pub restores: Vec<RestoreRecord>,
    /// Restore requests refused with `LimitExceeded`.
    pub limit_refusals: u64,
    /// Calls refused by the outage ([`SimCloud::with_outage`]).
    pub outage_refusals: u64,
}

impl SimStats {
    /// Calls of one operation.
    pub fn count(&self, op: &str) -> u64 {
        self.calls.get(op).copied().unwrap_or(0)
    }

    /// Polling calls (`DescribeRestoreJob` and `DescribeTable`).
    pub fn polls(&self) -> u64 {
        self.count("DescribeRestoreJob") + self.count("DescribeTable")
    }
}

/// A table id no other simulated table has had.
fn new_table_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "sim-table-{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

#[derive(Debug, Clone)]
struct SimTable {
    arn: String,
    /// A new id for every table created, like DynamoDB's `TableId`.
    id: String,
    ready_at: Instant,
    /// The restore fails at `ready_at` and the table disappears.
    fails: bool,
    encryption: TableEncryption,
    indexes: Vec<IndexDef>,
    item_count: Option<u64>,
    size_bytes: u64,
    stream: Option<String>,
    deletion_protection: bool,
    pitr: bool,
    ttl: Option<String>,
    tags: BTreeMap<String, String>,
    origin: crate::cloud::TableOrigin,
    /// Settings beyond the table's own (Kinesis, insights, scaling,
    /// policy, alarms), as applied.
    extras: Vec<TableChange>,
    capacity: crate::cloud::TableCapacity,
}

#[derive(Debug, Clone)]
struct SimJob {
    key: String,
    table: String,
    created: Instant,
    end: Instant,
    fails: Option<String>,
}

#[derive(Debug, Clone)]
struct SimCopy {
    created: Instant,
    end: Instant,
    destination_vault_arn: String,
    destination_arn: String,
}

struct State {
    /// Copy jobs by id, their idempotency tokens, and the copies' recovery
    /// points (ARN to the vault holding it).
    copies: HashMap<String, SimCopy>,
    copy_tokens: HashMap<String, String>,
    copied_points: HashMap<String, String>,
    rng: StdRng,
    tables: HashMap<String, SimTable>,
    jobs: HashMap<String, SimJob>,
    tokens: HashMap<String, String>,
    running: HashMap<String, BinaryHeap<Reverse<Instant>>>,
    stats: SimStats,
    next_job: u64,
}

/// A simulated cloud in virtual time (run it under a paused tokio clock).
pub struct SimCloud {
    model: DurationModel,
    seed: u64,
    faults: Faults,
    sizes: HashMap<String, u64>,
    items: HashMap<String, u64>,
    account_limit: u32,
    clock: TokioClock,
    origin: Instant,
    outage: Option<(f64, f64)>,
    /// Recovery point ARN a copy step copies to the restore's target table
    /// name, which keys sizes and duration jitter.
    copy_names: HashMap<String, String>,
    state: Mutex<State>,
}

impl std::fmt::Debug for SimCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCloud")
            .field("model", &self.model)
            .finish()
    }
}

fn key(scope: &Scope, name: &str) -> String {
    format!("{}/{}/{}", scope.account, scope.region, name)
}

fn table_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:dynamodb:{}:{}:table/{}",
        scope.region, scope.account, name
    )
}

impl SimCloud {
    /// A simulated cloud whose restores follow `model`; `seed` drives the
    /// duration jitter and the injected faults. `clock` dates the jobs.
    pub fn new(model: DurationModel, seed: u64, clock: TokioClock) -> Self {
        Self {
            model,
            seed,
            faults: Faults::default(),
            sizes: HashMap::new(),
            items: HashMap::new(),
            account_limit: Execution::PER_ACCOUNT_RESTORE_LIMIT,
            clock,
            origin: Instant::now(),
            outage: None,
            copy_names: HashMap::new(),
            state: Mutex::new(State {
                copies: HashMap::new(),
                copy_tokens: HashMap::new(),
                copied_points: HashMap::new(),
                rng: StdRng::seed_from_u64(seed ^ 0x5eed),
                tables: HashMap::new(),
                jobs: HashMap::new(),
                tokens: HashMap::new(),
                running: HashMap::new(),
                stats: SimStats::default(),
                next_job: 1,
            }),
        }
    }

    /// Injects these faults from now on.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Makes the endpoint unreachable from `from` to `until` virtual seconds
    /// after the cloud was created: every call fails as a refused
    /// connection, and nothing it would have done happens.
    pub fn with_outage(mut self, from: f64, until: f64) -> Self {
        self.outage = Some((from, until));
        self
    }

    /// Tells the cloud which restore each copied recovery point is for, as
    /// `(recovery point ARN, target table name)`, so a copy takes as long as
    /// the model says for that table's size.
    pub fn with_copies(mut self, copies: impl IntoIterator<Item = (String, String)>) -> Self {
        self.copy_names.extend(copies);
        self
    }

    /// Sizes of the restored tables in bytes, by target table name.
    pub fn with_sizes(mut self, sizes: HashMap<String, u64>) -> Self {
        self.sizes = sizes;
        self
    }

    /// Creates a table outside any run (already ACTIVE), e.g. to test that
    /// restores never overwrite one.
    pub fn create_table(&self, scope: &Scope, name: &str) {
        let now = Instant::now();
        let mut st = self.lock();
        st.tables.insert(
            key(scope, name),
            SimTable {
                arn: table_arn(scope, name),
                id: new_table_id(),
                ready_at: now,
                fails: false,
                encryption: TableEncryption::Owned,
                indexes: Vec::new(),
                item_count: Some(0),
                size_bytes: 0,
                stream: None,
                deletion_protection: false,
                pitr: false,
                ttl: None,
                tags: BTreeMap::new(),
                origin: Default::default(),
                extras: Vec::new(),
                capacity: Default::default(),
            },
        );
    }

    /// Item counts of restored tables, by target table name (for tests of
    /// the item-count check; otherwise a Scan reports the count as not
    /// modelled).
    pub fn with_item_counts(mut self, items: HashMap<String, u64>) -> Self {
        self.items = items;
        self
    }

    /// What the cloud observed so far.
    pub fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }

    /// Tags of a table, if it exists.
    pub fn tags_of(&self, scope: &Scope, name: &str) -> Option<BTreeMap<String, String>> {
        self.lock()
            .tables
            .get(&key(scope, name))
            .map(|t| t.tags.clone())
    }

    /// `(pitr, deletion_protection, ttl attribute, stream)` of a table, if it exists.
    pub fn settings_of(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Option<(bool, bool, Option<String>, Option<String>)> {
        self.lock().tables.get(&key(scope, name)).map(|t| {
            (
                t.pitr,
                t.deletion_protection,
                t.ttl.clone(),
                t.stream.clone(),
            )
        })
    }

    /// Names of every table that exists now.
    pub fn table_names(&self) -> BTreeSet<String> {
        let now = Instant::now();
        let st = self.lock();
        st.tables
            .iter()
            .filter(|(_, t)| !(t.fails && now >= t.ready_at))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn secs(&self, t: Instant) -> f64 {
        t.duration_since(self.origin).as_secs_f64()
    }

    fn date(&self, t: Instant) -> chrono::DateTime<chrono::Utc> {
        let now = Instant::now();
        let back = now.saturating_duration_since(t);
        self.clock.now() - chrono::Duration::from_std(back).unwrap_or_default()
    }

    /// Counts the call and maybe injects a fault that happens before it
    /// takes effect.
    fn enter(&self, st: &mut State, op: &'static str) -> CloudResult<()> {
        *st.stats.calls.entry(op).or_default() += 1;
        if let Some((from, until)) = self.outage {
            let t = self.secs(Instant::now());
            if t >= from && t < until {
                st.stats.outage_refusals += 1;
                return Err(CloudError::new(
                    ErrorKind::Transient,
                    op,
                    "DispatchFailure",
                    "connection refused (simulated outage)",
                ));
            }
        }
        if self.faults.throttle > 0.0 && st.rng.random_bool(self.faults.throttle.min(1.0)) {
            return Err(CloudError::new(
                ErrorKind::Throttled,
                op,
                "ThrottlingException",
                "Rate exceeded (simulated)",
            ));
        }
        if self.faults.server_error > 0.0 && st.rng.random_bool(self.faults.server_error.min(1.0)) {
            return Err(CloudError::new(
                ErrorKind::Transient,
                op,
                "InternalServerError",
                "internal error (simulated)",
            ));
        }
        Ok(())
    }

    /// Maybe loses the answer of a mutating call that took effect.
    fn lose_answer(&self, st: &mut State, op: &'static str) -> CloudResult<()> {
        if self.faults.lost_response > 0.0 && st.rng.random_bool(self.faults.lost_response.min(1.0))
        {
            return Err(CloudError::new(
                ErrorKind::Transient,
                op,
                "ServiceUnavailable",
                "the request took effect but its answer was lost (simulated)",
            ));
        }
        Ok(())
    }

    fn in_flight(st: &mut State, account: &str, now: Instant) -> u32 {
        let heap = st.running.entry(account.to_owned()).or_default();
        while heap.peek().is_some_and(|Reverse(end)| *end <= now) {
            heap.pop();
        }
        heap.len() as u32
    }

    #[allow(clippy::too_many_arguments)] // One call site; a struct would only rename the list.
    fn begin_restore(
        &self,
        st: &mut State,
        scope: &Scope,
        name: &str,
        sse: &SseRequest,
        indexes: Option<&[IndexDef]>,
        native: bool,
        handle: &str,
    ) -> (Instant, bool) {
        let now = Instant::now();
        let bytes = self
            .sizes
            .get(name)
            .copied()
            .unwrap_or(self.model.default_table_bytes);
        let secs = self.model.sample(bytes, native, self.seed, name);
        let end = now + Duration::from_secs_f64(secs.max(0.0));
        let fails = self.faults.failing_tables.contains(name);
        let account = scope.account.to_string();
        st.running
            .entry(account.clone())
            .or_default()
            .push(Reverse(end));
        let current = Self::in_flight(st, &account, now);
        let max = st.stats.max_in_flight.entry(account.clone()).or_default();
        *max = (*max).max(current);
        st.stats.restores.push(RestoreRecord {
            account,
            table: name.to_owned(),
            handle: handle.to_owned(),
            start: self.secs(now),
            end: self.secs(end),
            failed: fails,
        });
        let encryption = match sse {
            SseRequest::Owned => TableEncryption::Owned,
            SseRequest::Managed => TableEncryption::Managed { key_arn: None },
            SseRequest::Customer { key_arn } => TableEncryption::Customer {
                key_arn: key_arn.clone(),
            },
        };
        let indexes = match indexes {
            Some(ix) => ix.to_vec(),
            None => Vec::new(),
        };
        st.tables.insert(
            key(scope, name),
            SimTable {
                arn: table_arn(scope, name),
                id: new_table_id(),
                ready_at: end,
                fails,
                encryption,
                indexes,
                item_count: self.items.get(name).copied(),
                size_bytes: bytes,
                stream: None,
                deletion_protection: false,
                pitr: false,
                ttl: None,
                tags: BTreeMap::new(),
                origin: Default::default(),
                extras: Vec::new(),
                capacity: Default::default(),
            },
        );
        (end, fails)
    }

    /// Drops tables whose restore failed by now.
    fn reap(st: &mut State, k: &str, now: Instant) {
        if st
            .tables
            .get(k)
            .is_some_and(|t| t.fails && now >= t.ready_at)
        {
            st.tables.remove(k);
        }
    }
}

/// Items of a simulated table: its count, or one per KB of its size.
fn sim_items(t: &SimTable) -> u64 {
    t.item_count.unwrap_or(t.size_bytes / 1024).max(1)
}

fn not_modelled(op: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        op,
        "NotModelled",
        "the simulator does not model this call",
    )
}

#[async_trait]
impl CloudRead for SimCloud {
    async fn identity(&self, account: &AccountId) -> CloudResult<Identity> {
        Ok(Identity {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:role/simulated"),
            source: "simulated".to_owned(),
        })
    }

    async fn describe_key(&self, _scope: &Scope, _key: &str) -> CloudResult<KeyFacts> {
        Err(not_modelled("DescribeKey"))
    }

    async fn key_policy(&self, _scope: &Scope, _key_arn: &str) -> CloudResult<Option<String>> {
        Ok(None)
    }

    async fn probe_key(
        &self,
        _scope: &Scope,
        _key_arn: &str,
        _operation: KeyOperation,
    ) -> CloudResult<ProbeOutcome> {
        Ok(ProbeOutcome::Allowed)
    }

    async fn vault_recovery_points(
        &self,
        _scope: &Scope,
        _vault: &str,
        _resource_arn: &str,
    ) -> CloudResult<Vec<RecoveryPoint>> {
        Err(not_modelled("ListRecoveryPointsByBackupVault"))
    }

    async fn describe_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<RecoveryPoint> {
        // Only the copies its copy jobs made are modelled.
        let mut st = self.lock();
        self.enter(&mut st, "DescribeRecoveryPoint")?;
        let want = format!(
            "arn:aws:backup:{}:{}:backup-vault:{vault}",
            scope.region, scope.account
        );
        match st.copied_points.get(arn) {
            Some(v) if *v == want => Ok(RecoveryPoint {
                arn: arn.to_owned(),
                origin: crate::cloud::RecoveryPointOrigin::Vault {
                    vault: vault.to_owned(),
                },
                resource_arn: String::new(),
                resource_type: "DynamoDB".to_owned(),
                status: "COMPLETED".to_owned(),
                created: self.clock.now(),
                size_bytes: None,
                item_count: None,
                encryption_key_arn: None,
                indexes: None,
                capacity: None,
            }),
            _ => Err(CloudError::new(
                ErrorKind::NotFound,
                "DescribeRecoveryPoint",
                "ResourceNotFoundException",
                format!("recovery point {arn} not found in vault {vault}"),
            )),
        }
    }

    async fn table_backups(&self, _scope: &Scope, _table: &str) -> CloudResult<Vec<RecoveryPoint>> {
        Err(not_modelled("ListBackups"))
    }

    async fn describe_backup(&self, _scope: &Scope, _arn: &str) -> CloudResult<RecoveryPoint> {
        Err(not_modelled("DescribeBackup"))
    }

    async fn count_items(
        &self,
        scope: &Scope,
        name: &str,
        _max_pages: u32,
    ) -> CloudResult<ItemTally> {
        let now = Instant::now();
        let mut st = self.lock();
        self.enter(&mut st, "Scan")?;
        let k = key(scope, name);
        Self::reap(&mut st, &k, now);
        match st.tables.get(&k) {
            Some(t) if now >= t.ready_at => match t.item_count {
                Some(counted) => Ok(ItemTally {
                    counted,
                    complete: true,
                    pages: 1,
                }),
                // No items modelled for this table: nothing to count.
                None => Err(not_modelled("Scan")),
            },
            Some(_) => Err(CloudError::new(
                ErrorKind::Conflict,
                "Scan",
                "ResourceInUseException",
                "the table is being created (simulated)",
            )),
            None => Err(CloudError::new(
                ErrorKind::NotFound,
                "Scan",
                "ResourceNotFoundException",
                "no such table (simulated)",
            )),
        }
    }

    async fn describe_table(&self, scope: &Scope, name: &str) -> CloudResult<Option<TableFacts>> {
        let now = Instant::now();
        let mut st = self.lock();
        self.enter(&mut st, "DescribeTable")?;
        let k = key(scope, name);
        Self::reap(&mut st, &k, now);
        Ok(st.tables.get(&k).map(|t| {
            let active = now >= t.ready_at;
            TableFacts {
                arn: t.arn.clone(),
                name: name.to_owned(),
                status: if active { "ACTIVE" } else { "CREATING" }.to_owned(),
                item_count: t.item_count,
                size_bytes: Some(t.size_bytes),
                encryption: t.encryption.clone(),
                indexes: t.indexes.clone(),
                stream: t.stream.clone(),
                deletion_protection: t.deletion_protection,
                restore_in_progress: !active,
                origin: t.origin.clone(),
                table_id: Some(t.id.clone()),
                capacity: t.capacity.clone(),
            }
        }))
    }

    async fn data_facts(&self, scope: &Scope, name: &str) -> CloudResult<super::data::DataFacts> {
        let mut st = self.lock();
        self.enter(&mut st, "DescribeTable")?;
        let t = st.tables.get(&key(scope, name)).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeTable",
                "ResourceNotFoundException",
                format!("table {name} not found (simulated)"),
            )
        })?;
        Ok(super::data::DataFacts {
            key_schema: Vec::new(),
            read_capacity: None,
            max_read_units: None,
            size_bytes: t.size_bytes,
            item_count: sim_items(t),
        })
    }

    /// A page of a simulated table's items, each of the table's average
    /// size, consuming what DynamoDB would (half a unit per started 4 KB).
    async fn count_page(
        &self,
        scope: &Scope,
        name: &str,
        segment: u32,
        total: u32,
        limit: u32,
        start: Option<super::data::ItemKey>,
    ) -> CloudResult<super::data::CountPage> {
        let mut st = self.lock();
        self.enter(&mut st, "Scan")?;
        let t = st.tables.get(&key(scope, name)).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "Scan",
                "ResourceNotFoundException",
                format!("table {name} not found (simulated)"),
            )
        })?;
        let n = sim_items(t);
        let total = u64::from(total.max(1));
        let (lo, hi) = (
            n * u64::from(segment) / total,
            n * (u64::from(segment) + 1) / total,
        );
        let from = start
            .and_then(|k| match k.get("offset") {
                Some(super::data::KeyValue::N(v)) => v.parse::<u64>().ok(),
                _ => None,
            })
            .unwrap_or(lo)
            .clamp(lo, hi);
        let item_bytes = t.size_bytes / n.max(1);
        // DynamoDB answers at most 1 MB of items per page.
        let per_page = ((1u64 << 20) / item_bytes.max(1)).max(1);
        let count = (hi - from).min(u64::from(limit.max(1))).min(per_page);
        let consumed = (count * item_bytes).div_ceil(4096).max(1) as f64 * 0.5;
        let next = (from + count < hi).then(|| {
            super::data::ItemKey::from([(
                "offset".to_owned(),
                super::data::KeyValue::N((from + count).to_string()),
            )])
        });
        Ok(super::data::CountPage {
            count,
            consumed,
            next,
        })
    }

    async fn describe_pitr(&self, scope: &Scope, name: &str) -> CloudResult<PitrFacts> {
        let mut st = self.lock();
        self.enter(&mut st, "DescribeContinuousBackups")?;
        let t = st.tables.get(&key(scope, name)).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeContinuousBackups",
                "TableNotFoundException",
                format!("table {name} not found"),
            )
        })?;
        Ok(PitrFacts {
            enabled: t.pitr,
            earliest: None,
            latest: None,
        })
    }

    async fn describe_ttl(&self, scope: &Scope, name: &str) -> CloudResult<TtlFacts> {
        let mut st = self.lock();
        self.enter(&mut st, "DescribeTimeToLive")?;
        let t = st.tables.get(&key(scope, name)).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeTimeToLive",
                "ResourceNotFoundException",
                format!("table {name} not found"),
            )
        })?;
        Ok(TtlFacts {
            status: if t.ttl.is_some() {
                "ENABLED"
            } else {
                "DISABLED"
            }
            .to_owned(),
            attribute: t.ttl.clone(),
        })
    }

    async fn table_tags(&self, _scope: &Scope, arn: &str) -> CloudResult<BTreeMap<String, String>> {
        let mut st = self.lock();
        self.enter(&mut st, "ListTagsOfResource")?;
        st.tables
            .values()
            .find(|t| t.arn == arn)
            .map(|t| t.tags.clone())
            .ok_or_else(|| {
                CloudError::new(
                    ErrorKind::NotFound,
                    "ListTagsOfResource",
                    "ResourceNotFoundException",
                    format!("{arn} not found"),
                )
            })
    }

    async fn kinesis_destinations(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Vec<crate::cloud::settings::KinesisDestination>> {
        let st = self.lock();
        let t = st.tables.get(&key(scope, name));
        Ok(t.map(|t| &t.extras)
            .into_iter()
            .flatten()
            .filter_map(|c| match c {
                TableChange::KinesisDestination {
                    stream_arn,
                    precision,
                } => Some(crate::cloud::settings::KinesisDestination {
                    stream_arn: stream_arn.clone(),
                    status: "ACTIVE".to_owned(),
                    precision: precision.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn alarm_tags(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<BTreeMap<String, String>>> {
        let prefix = key(scope, "");
        let st = self.lock();
        Ok(st
            .tables
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .flat_map(|(_, t)| &t.extras)
            .find_map(|c| match c {
                TableChange::Alarm { alarm } if alarm.name == name => Some(alarm.tags.clone()),
                _ => None,
            }))
    }

    async fn describe_restore_job(&self, _scope: &Scope, id: &str) -> CloudResult<RestoreJob> {
        let now = Instant::now();
        let mut st = self.lock();
        self.enter(&mut st, "DescribeRestoreJob")?;
        let job = st.jobs.get(id).cloned().ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeRestoreJob",
                "ResourceNotFoundException",
                format!("restore job {id} not found"),
            )
        })?;
        Self::reap(&mut st, &job.key, now);
        let total = job.end.duration_since(job.created).as_secs_f64();
        let done = now >= job.end;
        let status = match (done, &job.fails) {
            (false, _) => JobStatus::Running,
            (true, None) => JobStatus::Completed,
            (true, Some(_)) => JobStatus::Failed,
        };
        let elapsed = now.duration_since(job.created).as_secs_f64();
        Ok(RestoreJob {
            id: id.to_owned(),
            status,
            status_message: if done { job.fails.clone() } else { None },
            percent_done: Some(if done {
                100.0
            } else if total > 0.0 {
                (elapsed / total * 100.0).floor()
            } else {
                0.0
            }),
            // AWS rounds its estimate to whole minutes.
            expected_completion_minutes: Some((total / 60.0).ceil() as i64),
            created_resource_arn: (done && job.fails.is_none()).then(|| {
                st.tables
                    .get(&job.key)
                    .map(|t| t.arn.clone())
                    .unwrap_or_else(|| job.table.clone())
            }),
            created: Some(self.date(job.created)),
            completed: done.then(|| self.date(job.end)),
        })
    }

    async fn describe_vault(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<crate::cloud::VaultFacts>> {
        let mut st = self.lock();
        self.enter(&mut st, "DescribeBackupVault")?;
        // Every vault a plan names exists in the simulated cloud, and
        // admits every account.
        Ok(Some(crate::cloud::VaultFacts {
            name: name.to_owned(),
            arn: format!(
                "arn:aws:backup:{}:{}:backup-vault:{name}",
                scope.region, scope.account
            ),
            encryption_key_arn: None,
            access_policy: Some(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"backup:CopyIntoBackupVault","Resource":"*"}]}"#
                    .to_owned(),
            ),
        }))
    }

    async fn describe_copy_job(
        &self,
        _scope: &Scope,
        id: &str,
    ) -> CloudResult<crate::cloud::CopyJob> {
        let now = Instant::now();
        let mut st = self.lock();
        self.enter(&mut st, "DescribeCopyJob")?;
        let job = st.copies.get(id).cloned().ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeCopyJob",
                "ResourceNotFoundException",
                format!("copy job {id} not found"),
            )
        })?;
        let done = now >= job.end;
        if done {
            st.copied_points.insert(
                job.destination_arn.clone(),
                job.destination_vault_arn.clone(),
            );
        }
        Ok(crate::cloud::CopyJob {
            id: id.to_owned(),
            status: if done {
                JobStatus::Completed
            } else {
                JobStatus::Running
            },
            status_message: None,
            destination_recovery_point_arn: Some(job.destination_arn),
            destination_vault_arn: Some(job.destination_vault_arn),
            size_bytes: None,
            created: Some(self.date(job.created)),
            completed: done.then(|| self.date(job.end)),
        })
    }
}

#[async_trait]
impl CloudWrite for SimCloud {
    async fn start_copy(
        &self,
        scope: &Scope,
        request: &crate::cloud::CopyRequest,
    ) -> CloudResult<String> {
        let now = Instant::now();
        let mut st = self.lock();
        self.enter(&mut st, "StartCopyJob")?;
        if let Some(id) = st.copy_tokens.get(&request.idempotency_token) {
            return Ok(id.clone());
        }
        let name = self
            .copy_names
            .get(&request.recovery_point_arn)
            .cloned()
            .unwrap_or_else(|| request.recovery_point_arn.clone());
        let bytes = self
            .sizes
            .get(&name)
            .copied()
            .unwrap_or(self.model.default_table_bytes);
        let secs = self.model.sample_copy(bytes, self.seed, &name);
        let id = format!("sim-copy-{:06}", st.next_job);
        st.next_job += 1;
        let parts: Vec<&str> = request.destination_backup_vault_arn.split(':').collect();
        let (region, account) = match parts.as_slice() {
            [_, _, _, region, account, ..] => (*region, *account),
            _ => (scope.region.as_str(), scope.account.as_str()),
        };
        st.copies.insert(
            id.clone(),
            SimCopy {
                created: now,
                end: now + Duration::from_secs_f64(secs.max(0.0)),
                destination_vault_arn: request.destination_backup_vault_arn.clone(),
                destination_arn: format!("arn:aws:backup:{region}:{account}:recovery-point:{id}"),
            },
        );
        st.copy_tokens
            .insert(request.idempotency_token.clone(), id.clone());
        self.lose_answer(&mut st, "StartCopyJob")?;
        Ok(id)
    }

    async fn delete_recovery_point(
        &self,
        _scope: &Scope,
        _vault: &str,
        arn: &str,
    ) -> CloudResult<()> {
        let mut st = self.lock();
        self.enter(&mut st, "DeleteRecoveryPoint")?;
        match st.copied_points.remove(arn) {
            Some(_) => Ok(()),
            None => Err(CloudError::new(
                ErrorKind::NotFound,
                "DeleteRecoveryPoint",
                "ResourceNotFoundException",
                format!("recovery point {arn} not found"),
            )),
        }
    }

    async fn start_restore(
        &self,
        scope: &Scope,
        request: &RestoreRequest,
    ) -> CloudResult<StartedRestore> {
        let now = Instant::now();
        let op = match request {
            RestoreRequest::StartRestoreJob { .. } => "StartRestoreJob",
            RestoreRequest::RestoreTableFromBackup { .. } => "RestoreTableFromBackup",
            RestoreRequest::RestoreTableToPointInTime { .. } => "RestoreTableToPointInTime",
        };
        let mut st = self.lock();
        self.enter(&mut st, op)?;
        let account = scope.account.to_string();
        match request {
            RestoreRequest::StartRestoreJob {
                idempotency_token,
                target_table_name,
                sse,
                indexes,
                ..
            } => {
                if let Some(id) = st.tokens.get(idempotency_token) {
                    return Ok(StartedRestore::Job { id: id.clone() });
                }
                let name = target_table_name.clone();
                if Self::in_flight(&mut st, &account, now) >= self.account_limit {
                    st.stats.limit_refusals += 1;
                    return Err(CloudError::new(
                        ErrorKind::LimitExceeded,
                        op,
                        "LimitExceededException",
                        "too many concurrent restores (simulated)",
                    ));
                }
                let id = format!("sim-job-{:06}", st.next_job);
                st.next_job += 1;
                let k = key(scope, &name);
                Self::reap(&mut st, &k, now);
                let exists = st.tables.contains_key(&k);
                let (end, fails) = if exists {
                    (now, true)
                } else {
                    self.begin_restore(&mut st, scope, &name, sse, indexes.as_deref(), false, &id)
                };
                let message = if exists {
                    Some(format!("table {name} already exists"))
                } else {
                    fails.then(|| format!("restore of {name} failed (simulated)"))
                };
                st.jobs.insert(
                    id.clone(),
                    SimJob {
                        key: k,
                        table: table_arn(scope, &name),
                        created: now,
                        end,
                        fails: message,
                    },
                );
                st.tokens.insert(idempotency_token.clone(), id.clone());
                self.lose_answer(&mut st, op)?;
                Ok(StartedRestore::Job { id })
            }
            RestoreRequest::RestoreTableFromBackup {
                target_table_name,
                sse,
                indexes,
                ..
            }
            | RestoreRequest::RestoreTableToPointInTime {
                target_table_name,
                sse,
                indexes,
                ..
            } => {
                let k = key(scope, target_table_name);
                Self::reap(&mut st, &k, now);
                if st.tables.contains_key(&k) {
                    return Err(CloudError::new(
                        ErrorKind::Conflict,
                        op,
                        "TableAlreadyExistsException",
                        format!("table {target_table_name} already exists"),
                    ));
                }
                if Self::in_flight(&mut st, &account, now) >= self.account_limit {
                    st.stats.limit_refusals += 1;
                    return Err(CloudError::new(
                        ErrorKind::LimitExceeded,
                        op,
                        "LimitExceededException",
                        "too many concurrent restores (simulated)",
                    ));
                }
                let arn = table_arn(scope, target_table_name);
                self.begin_restore(
                    &mut st,
                    scope,
                    target_table_name,
                    sse,
                    indexes.as_deref(),
                    true,
                    &arn,
                );
                let created = self.clock.now();
                if let Some(t) = st.tables.get_mut(&k) {
                    t.origin = request.origin_at(created);
                    if let RestoreRequest::RestoreTableFromBackup {
                        capacity: Some(c), ..
                    }
                    | RestoreRequest::RestoreTableToPointInTime {
                        capacity: Some(c), ..
                    } = request
                    {
                        t.capacity.billing_mode = Some(c.billing_mode);
                        t.capacity.throughput = c.throughput;
                        t.capacity.on_demand = c.on_demand;
                        t.capacity.indexes = c.indexes.clone();
                    }
                }
                self.lose_answer(&mut st, op)?;
                Ok(StartedRestore::Table { arn })
            }
        }
    }

    async fn change_table(
        &self,
        scope: &Scope,
        name: &str,
        change: &TableChange,
    ) -> CloudResult<()> {
        let now = Instant::now();
        let op = change.operation();
        let mut st = self.lock();
        self.enter(&mut st, op)?;
        let k = key(scope, name);
        Self::reap(&mut st, &k, now);
        let Some(t) = st.tables.get_mut(&k) else {
            return Err(CloudError::new(
                ErrorKind::NotFound,
                op,
                "ResourceNotFoundException",
                format!("table {name} not found"),
            ));
        };
        if now < t.ready_at {
            return Err(CloudError::new(
                ErrorKind::Conflict,
                op,
                "ResourceInUseException",
                format!("table {name} is being created"),
            ));
        }
        match change {
            TableChange::PointInTimeRecovery { enabled } => t.pitr = *enabled,
            TableChange::DeletionProtection { enabled } => t.deletion_protection = *enabled,
            TableChange::Tags { tags } => t.tags.extend(tags.clone()),
            TableChange::Ttl { attribute, enabled } => {
                if *enabled && t.ttl.is_some() {
                    return Err(CloudError::new(
                        ErrorKind::Invalid,
                        op,
                        "ValidationException",
                        "TimeToLive is already enabled",
                    ));
                }
                t.ttl = enabled.then(|| attribute.clone());
            }
            TableChange::Stream { view_type } => {
                if t.stream == *view_type {
                    return Err(CloudError::new(
                        ErrorKind::Invalid,
                        op,
                        "ValidationException",
                        "the table already has this stream setting",
                    ));
                }
                t.stream = view_type.clone();
            }
            TableChange::Capacity {
                billing_mode,
                throughput,
                on_demand,
                indexes,
            } => {
                t.capacity.billing_mode = Some(*billing_mode);
                t.capacity.throughput = *throughput;
                t.capacity.on_demand = *on_demand;
                t.capacity.indexes = indexes.clone();
            }
            TableChange::TableClass { class } => t.capacity.table_class = Some(*class),
            TableChange::KinesisDestination { stream_arn, .. } => {
                let on = t.extras.iter().any(|c| {
                    matches!(c, TableChange::KinesisDestination { stream_arn: s, .. } if s == stream_arn)
                });
                if on {
                    return Err(CloudError::new(
                        ErrorKind::Invalid,
                        op,
                        "ValidationException",
                        "the table already streams to this destination",
                    ));
                }
                t.extras.push(change.clone());
            }
            other => {
                t.extras.retain(|c| c != other);
                t.extras.push(other.clone());
            }
        }
        self.lose_answer(&mut st, op)
    }

    async fn delete_table(&self, scope: &Scope, name: &str) -> CloudResult<()> {
        let mut st = self.lock();
        self.enter(&mut st, "DeleteTable")?;
        match st.tables.remove(&key(scope, name)) {
            Some(_) => Ok(()),
            None => Err(CloudError::new(
                ErrorKind::NotFound,
                "DeleteTable",
                "ResourceNotFoundException",
                format!("table {name} not found"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::{Location, Region};

    fn location(account: &str, region: &str) -> Location {
        Location {
            account: AccountId::parse(account).unwrap_or_else(|| panic!("bad account {account}")),
            region: Region::parse(region).unwrap_or_else(|| panic!("bad region {region}")),
        }
    }

    fn pitr_request(name: &str) -> RestoreRequest {
        RestoreRequest::RestoreTableToPointInTime {
            source_table_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/src".to_owned(),
            target_table_name: name.to_owned(),
            restore_date_time: None,
            sse: SseRequest::Owned,
            indexes: None,
            capacity: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn native_restore_becomes_active_after_its_modelled_duration() {
        let model = DurationModel {
            native_overhead_seconds: 100.0,
            jitter: 0.0,
            default_table_bytes: 0,
            ..DurationModel::default()
        };
        let sim = SimCloud::new(model, 1, TokioClock::system());
        let scope = location("111122223333", "us-east-1");
        let started = sim.start_restore(&scope, &pitr_request("t-dr")).await;
        assert!(matches!(started, Ok(StartedRestore::Table { .. })));
        let t = sim.describe_table(&scope, "t-dr").await.ok().flatten();
        assert_eq!(t.map(|t| t.status), Some("CREATING".to_owned()));
        tokio::time::sleep(Duration::from_secs(101)).await;
        let t = sim.describe_table(&scope, "t-dr").await.ok().flatten();
        assert_eq!(t.map(|t| t.status), Some("ACTIVE".to_owned()));
        let again = sim.start_restore(&scope, &pitr_request("t-dr")).await;
        assert_eq!(again.err().map(|e| e.kind), Some(ErrorKind::Conflict));
    }

    #[tokio::test(start_paused = true)]
    async fn the_account_quota_refuses_the_fifty_first_restore() {
        let sim = SimCloud::new(DurationModel::default(), 1, TokioClock::system());
        let scope = location("111122223333", "us-east-1");
        for i in 0..50 {
            let r = sim
                .start_restore(&scope, &pitr_request(&format!("t{i}")))
                .await;
            assert!(r.is_ok());
        }
        let r = sim.start_restore(&scope, &pitr_request("t50")).await;
        assert_eq!(r.err().map(|e| e.kind), Some(ErrorKind::LimitExceeded));
        assert_eq!(sim.stats().max_in_flight.get("111122223333"), Some(&50));
    }
}
