//! A memoising [`CloudRead`]: each key, recovery point and table is looked
//! up once per run, however many restores share it, and concurrent callers
//! of the same lookup wait for one call instead of sending several.
//!
//! Only immutable-for-a-run facts are cached; restore jobs and table status
//! (which the executor polls) pass straight through.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::{
    CloudRead, CloudResult, Identity, ItemTally, KeyFacts, KeyOperation, PitrFacts, ProbeOutcome,
    RecoveryPoint, RestoreJob, Scope, TableFacts, TtlFacts,
};
use crate::plan::model::AccountId;

type Cell<T> = Arc<OnceCell<CloudResult<T>>>;

struct Memo<T> {
    cells: Mutex<HashMap<String, Cell<T>>>,
}

impl<T: Clone> Memo<T> {
    fn new() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The remembered answer for `key`, or `call`'s, retried while AWS
    /// throttles or fails transiently (see [`READ_ATTEMPTS`]).
    async fn get<F: Future<Output = CloudResult<T>>>(
        &self,
        key: String,
        call: impl Fn() -> F,
    ) -> CloudResult<T> {
        let cell = {
            // Poisoning only means a panic elsewhere; the map is intact.
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(key).or_default().clone()
        };
        let result = cell.get_or_init(|| retrying(call)).await.clone();
        // Retryable failures are not remembered, so a later caller tries again.
        if let Err(e) = &result
            && e.is_retryable()
        {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.retain(|_, c| !Arc::ptr_eq(c, &cell));
        }
        result
    }
}

/// Attempts of one lookup (each itself retried by the SDK) before a
/// throttling or transient error becomes a finding. The checks before
/// `plan` and `apply` make one call per key, vault and table, so a burst of
/// throttling must not turn into "could not check" findings that stop a run.
pub const READ_ATTEMPTS: u32 = 6;

/// Calls `call` until it succeeds, fails for good, or [`READ_ATTEMPTS`] are
/// spent, waiting 0.2 s doubling to 3 s with full jitter in between.
async fn retrying<T, F: Future<Output = CloudResult<T>>>(call: impl Fn() -> F) -> CloudResult<T> {
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && attempt < READ_ATTEMPTS => {
                let ceiling = (0.2 * 2f64.powi(attempt as i32 - 1)).min(3.0);
                tokio::time::sleep(Duration::from_secs_f64(ceiling * rand::random::<f64>())).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn k(scope: &Scope, parts: &[&str]) -> String {
    let mut s = format!("{}|{}", scope.account, scope.region);
    for p in parts {
        s.push('|');
        s.push_str(p);
    }
    s
}

/// Wraps a [`CloudRead`] and remembers answers for the life of the wrapper.
pub struct Cached<C> {
    inner: C,
    identity: Memo<Identity>,
    keys: Memo<KeyFacts>,
    policies: Memo<Option<String>>,
    probes: Memo<ProbeOutcome>,
    vault_points: Memo<Vec<RecoveryPoint>>,
    points: Memo<RecoveryPoint>,
    backups: Memo<Vec<RecoveryPoint>>,
    backup: Memo<RecoveryPoint>,
    tables: Memo<Option<TableFacts>>,
    pitr: Memo<PitrFacts>,
    ttl: Memo<TtlFacts>,
    tags: Memo<BTreeMap<String, String>>,
    listings: Memo<Vec<String>>,
    // The settings beyond the table.
    scaling: Memo<super::settings::Scaling>,
    resource_policies: Memo<Option<String>>,
    insights: Memo<Vec<super::settings::Insights>>,
    kinesis: Memo<Vec<super::settings::KinesisDestination>>,
    alarms: Memo<Vec<super::settings::Alarm>>,
}

impl<C: CloudRead> Cached<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            identity: Memo::new(),
            keys: Memo::new(),
            policies: Memo::new(),
            probes: Memo::new(),
            vault_points: Memo::new(),
            points: Memo::new(),
            backups: Memo::new(),
            backup: Memo::new(),
            tables: Memo::new(),
            pitr: Memo::new(),
            ttl: Memo::new(),
            tags: Memo::new(),
            listings: Memo::new(),
            scaling: Memo::new(),
            resource_policies: Memo::new(),
            insights: Memo::new(),
            kinesis: Memo::new(),
            alarms: Memo::new(),
        }
    }

    /// The wrapped cloud.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

#[async_trait]
impl<C: CloudRead> CloudRead for Cached<C> {
    async fn identity(&self, account: &AccountId) -> CloudResult<Identity> {
        self.identity
            .get(account.to_string(), || self.inner.identity(account))
            .await
    }

    async fn describe_key(&self, scope: &Scope, key: &str) -> CloudResult<KeyFacts> {
        self.keys
            .get(k(scope, &[key]), || self.inner.describe_key(scope, key))
            .await
    }

    async fn key_policy(&self, scope: &Scope, key_arn: &str) -> CloudResult<Option<String>> {
        self.policies
            .get(k(scope, &[key_arn]), || {
                self.inner.key_policy(scope, key_arn)
            })
            .await
    }

    async fn probe_key(
        &self,
        scope: &Scope,
        key_arn: &str,
        operation: KeyOperation,
    ) -> CloudResult<ProbeOutcome> {
        let op = format!("{operation:?}");
        self.probes
            .get(k(scope, &[key_arn, &op]), || {
                self.inner.probe_key(scope, key_arn, operation)
            })
            .await
    }

    async fn vault_recovery_points(
        &self,
        scope: &Scope,
        vault: &str,
        resource_arn: &str,
    ) -> CloudResult<Vec<RecoveryPoint>> {
        self.vault_points
            .get(k(scope, &[vault, resource_arn]), || {
                self.inner.vault_recovery_points(scope, vault, resource_arn)
            })
            .await
    }

    async fn describe_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<RecoveryPoint> {
        self.points
            .get(k(scope, &[vault, arn]), || {
                self.inner.describe_recovery_point(scope, vault, arn)
            })
            .await
    }

    async fn table_backups(&self, scope: &Scope, table: &str) -> CloudResult<Vec<RecoveryPoint>> {
        self.backups
            .get(k(scope, &[table]), || {
                self.inner.table_backups(scope, table)
            })
            .await
    }

    async fn describe_backup(&self, scope: &Scope, arn: &str) -> CloudResult<RecoveryPoint> {
        self.backup
            .get(k(scope, &[arn]), || self.inner.describe_backup(scope, arn))
            .await
    }

    async fn count_items(
        &self,
        scope: &Scope,
        name: &str,
        max_pages: u32,
    ) -> CloudResult<ItemTally> {
        // Never cached: a count is asked for once, when it is needed.
        self.inner.count_items(scope, name, max_pages).await
    }

    async fn data_facts(&self, scope: &Scope, name: &str) -> CloudResult<super::data::DataFacts> {
        self.inner.data_facts(scope, name).await
    }

    async fn count_page(
        &self,
        scope: &Scope,
        name: &str,
        segment: u32,
        total: u32,
        limit: u32,
        start: Option<super::data::ItemKey>,
    ) -> CloudResult<super::data::CountPage> {
        self.inner
            .count_page(scope, name, segment, total, limit, start)
            .await
    }

    async fn get_item(
        &self,
        scope: &Scope,
        name: &str,
        key: &super::data::ItemKey,
    ) -> CloudResult<super::data::ItemLookup> {
        self.inner.get_item(scope, name, key).await
    }

    async fn command_access(&self, scope: &Scope) -> CloudResult<super::data::CommandAccess> {
        self.inner.command_access(scope).await
    }

    async fn describe_table(&self, scope: &Scope, name: &str) -> CloudResult<Option<TableFacts>> {
        self.tables
            .get(k(scope, &[name]), || self.inner.describe_table(scope, name))
            .await
    }

    async fn describe_pitr(&self, scope: &Scope, name: &str) -> CloudResult<PitrFacts> {
        self.pitr
            .get(k(scope, &[name]), || self.inner.describe_pitr(scope, name))
            .await
    }

    async fn describe_ttl(&self, scope: &Scope, name: &str) -> CloudResult<TtlFacts> {
        self.ttl
            .get(k(scope, &[name]), || self.inner.describe_ttl(scope, name))
            .await
    }

    async fn table_tags(&self, scope: &Scope, arn: &str) -> CloudResult<BTreeMap<String, String>> {
        self.tags
            .get(k(scope, &[arn]), || self.inner.table_tags(scope, arn))
            .await
    }

    async fn list_tables(&self, scope: &Scope) -> CloudResult<Vec<String>> {
        self.listings
            .get(k(scope, &["ListTables"]), || self.inner.list_tables(scope))
            .await
    }

    async fn describe_restore_job(&self, scope: &Scope, id: &str) -> CloudResult<RestoreJob> {
        // Job status changes; never cached.
        self.inner.describe_restore_job(scope, id).await
    }

    async fn describe_vault(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<crate::cloud::VaultFacts>> {
        self.inner.describe_vault(scope, name).await
    }

    async fn describe_copy_job(
        &self,
        scope: &Scope,
        id: &str,
    ) -> CloudResult<crate::cloud::CopyJob> {
        // Job status changes; never cached.
        self.inner.describe_copy_job(scope, id).await
    }

    async fn scaling(
        &self,
        scope: &Scope,
        resource_ids: &[String],
    ) -> CloudResult<super::settings::Scaling> {
        self.scaling
            .get(k(scope, &[&resource_ids.join(",")]), || {
                self.inner.scaling(scope, resource_ids)
            })
            .await
    }

    async fn resource_policy(&self, scope: &Scope, arn: &str) -> CloudResult<Option<String>> {
        self.resource_policies
            .get(k(scope, &[arn]), || self.inner.resource_policy(scope, arn))
            .await
    }

    async fn contributor_insights(
        &self,
        scope: &Scope,
        name: &str,
        indexes: &[String],
    ) -> CloudResult<Vec<super::settings::Insights>> {
        self.insights
            .get(k(scope, &[name, &indexes.join(",")]), || {
                self.inner.contributor_insights(scope, name, indexes)
            })
            .await
    }

    async fn kinesis_destinations(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Vec<super::settings::KinesisDestination>> {
        self.kinesis
            .get(k(scope, &[name]), || {
                self.inner.kinesis_destinations(scope, name)
            })
            .await
    }

    async fn table_alarms(
        &self,
        scope: &Scope,
        table: &str,
    ) -> CloudResult<Vec<super::settings::Alarm>> {
        self.alarms
            .get(k(scope, &[table]), || self.inner.table_alarms(scope, table))
            .await
    }

    async fn alarm_tags(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<BTreeMap<String, String>>> {
        // Ownership checks must see the present state; never cached.
        self.inner.alarm_tags(scope, name).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::cloud::{CloudError, ErrorKind};

    fn error(kind: ErrorKind) -> CloudError {
        CloudError::new(kind, "DescribeTable", "Code", "message")
    }

    /// A lookup that fails with `kind` `failures` times, then answers 7.
    async fn lookup(
        memo: &Memo<u32>,
        calls: &AtomicU32,
        kind: ErrorKind,
        failures: u32,
    ) -> CloudResult<u32> {
        memo.get("key".to_owned(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < failures {
                Err(error(kind))
            } else {
                Ok(7)
            }
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_lookups_are_retried_then_remembered() {
        let (memo, calls) = (Memo::new(), AtomicU32::new(0));
        assert_eq!(
            lookup(&memo, &calls, ErrorKind::Throttled, 3).await.ok(),
            Some(7)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // Remembered: no further call.
        assert_eq!(
            lookup(&memo, &calls, ErrorKind::Throttled, 0).await.ok(),
            Some(7)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_after_the_last_attempt_and_are_not_remembered() {
        let (memo, calls) = (Memo::new(), AtomicU32::new(0));
        let r = lookup(&memo, &calls, ErrorKind::Transient, u32::MAX).await;
        assert!(r.is_err_and(|e| e.kind == ErrorKind::Transient));
        assert_eq!(calls.load(Ordering::SeqCst), READ_ATTEMPTS);
        // A later caller tries again.
        calls.store(0, Ordering::SeqCst);
        assert_eq!(
            lookup(&memo, &calls, ErrorKind::Transient, 0).await.ok(),
            Some(7)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let (memo, calls) = (Memo::new(), AtomicU32::new(0));
        let r = lookup(&memo, &calls, ErrorKind::AccessDenied, u32::MAX).await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
