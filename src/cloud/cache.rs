//! A memoising [`CloudRead`]: each key, recovery point and table is looked
//! up once per run, however many restores share it, and concurrent callers
//! of the same lookup wait for one call instead of sending several.
//!
//! Only immutable-for-a-run facts are cached; restore jobs and table status
//! (which the executor polls) pass straight through.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::{
    CloudRead, CloudResult, Identity, KeyFacts, KeyOperation, PitrFacts, ProbeOutcome,
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

    async fn get<F: Future<Output = CloudResult<T>>>(
        &self,
        key: String,
        call: F,
    ) -> CloudResult<T> {
        let cell = {
            // Poisoning only means a panic elsewhere; the map is intact.
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(key).or_default().clone()
        };
        let result = cell.get_or_init(|| call).await.clone();
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
            .get(account.to_string(), self.inner.identity(account))
            .await
    }

    async fn describe_key(&self, scope: &Scope, key: &str) -> CloudResult<KeyFacts> {
        self.keys
            .get(k(scope, &[key]), self.inner.describe_key(scope, key))
            .await
    }

    async fn key_policy(&self, scope: &Scope, key_arn: &str) -> CloudResult<Option<String>> {
        self.policies
            .get(k(scope, &[key_arn]), self.inner.key_policy(scope, key_arn))
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
            .get(
                k(scope, &[key_arn, &op]),
                self.inner.probe_key(scope, key_arn, operation),
            )
            .await
    }

    async fn vault_recovery_points(
        &self,
        scope: &Scope,
        vault: &str,
        resource_arn: &str,
    ) -> CloudResult<Vec<RecoveryPoint>> {
        self.vault_points
            .get(
                k(scope, &[vault, resource_arn]),
                self.inner.vault_recovery_points(scope, vault, resource_arn),
            )
            .await
    }

    async fn describe_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<RecoveryPoint> {
        self.points
            .get(
                k(scope, &[vault, arn]),
                self.inner.describe_recovery_point(scope, vault, arn),
            )
            .await
    }

    async fn table_backups(&self, scope: &Scope, table: &str) -> CloudResult<Vec<RecoveryPoint>> {
        self.backups
            .get(k(scope, &[table]), self.inner.table_backups(scope, table))
            .await
    }

    async fn describe_backup(&self, scope: &Scope, arn: &str) -> CloudResult<RecoveryPoint> {
        self.backup
            .get(k(scope, &[arn]), self.inner.describe_backup(scope, arn))
            .await
    }

    async fn describe_table(&self, scope: &Scope, name: &str) -> CloudResult<Option<TableFacts>> {
        self.tables
            .get(k(scope, &[name]), self.inner.describe_table(scope, name))
            .await
    }

    async fn describe_pitr(&self, scope: &Scope, name: &str) -> CloudResult<PitrFacts> {
        self.pitr
            .get(k(scope, &[name]), self.inner.describe_pitr(scope, name))
            .await
    }

    async fn describe_ttl(&self, scope: &Scope, name: &str) -> CloudResult<TtlFacts> {
        self.ttl
            .get(k(scope, &[name]), self.inner.describe_ttl(scope, name))
            .await
    }

    async fn table_tags(&self, scope: &Scope, arn: &str) -> CloudResult<BTreeMap<String, String>> {
        self.tags
            .get(k(scope, &[arn]), self.inner.table_tags(scope, arn))
            .await
    }

    async fn describe_restore_job(&self, scope: &Scope, id: &str) -> CloudResult<RestoreJob> {
        // Job status changes; never cached.
        self.inner.describe_restore_job(scope, id).await
    }
}
