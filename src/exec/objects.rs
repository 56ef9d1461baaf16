//! Run state in an object store with conditional writes (S3's
//! `If-None-Match: *` and `If-Match`), behind the journal and the lock.
//!
//! Layout under the store's prefix:
//! - `runs/RUN/journal/SEQ.json`: one journal record per object, `SEQ` a
//!   zero-padded sequence number. Each is created with create-if-absent, so
//!   two writers of one run can never both write record `SEQ`: the loser
//!   learns it lost and stops, and the journal never interleaves.
//! - `locks/KEY.json`: one run-lock holder per object (see
//!   [`super::lock::LockStore`]), replaced and removed only if its ETag is
//!   still the one read.

use std::sync::Mutex;

use super::lock::{Created, Holder, LockError, LockStore};

/// The conditional-write operations the run state needs.
pub trait ObjectStore: Send + Sync {
    /// How to name `key` in messages (`s3://bucket/prefix/key`).
    fn url(&self, key: &str) -> String;
    /// Creates `key` unless it exists; `Ok(false)` when it does.
    fn put_new(&self, key: &str, body: &[u8]) -> Result<bool, String>;
    /// The body and ETag of `key`, if it exists.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, String>;
    /// Replaces `key` if its ETag is still `etag`; `Ok(false)` otherwise
    /// (changed or gone).
    fn put_if_match(&self, key: &str, body: &[u8], etag: &str) -> Result<bool, String>;
    /// Deletes `key` if its ETag is still `etag`; `Ok(false)` otherwise.
    fn delete_if_match(&self, key: &str, etag: &str) -> Result<bool, String>;
    /// Every key under `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, String>;
    /// Writes `key` whatever is there (files kept with a run, such as its
    /// report; never a journal record or a lock).
    fn put(&self, key: &str, body: &[u8]) -> Result<(), String>;
}

/// Object key of journal record `seq` of `run_id`.
pub fn record_key(run_id: &str, seq: u64) -> String {
    format!("{}{seq:010}.json", journal_prefix(run_id))
}

/// Prefix of the journal records of `run_id`.
pub fn journal_prefix(run_id: &str) -> String {
    format!("runs/{run_id}/journal/")
}

/// The sequence number of a journal record key, if it is one.
pub fn record_seq(key: &str) -> Option<(&str, u64)> {
    let rest = key.strip_prefix("runs/")?;
    let (run, rest) = rest.split_once("/journal/")?;
    let seq = rest.strip_suffix(".json")?;
    (seq.len() == 10 && seq.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (run, seq.parse().ok()))
        .and_then(|(r, s)| s.map(|s| (r, s)))
}

/// [`LockStore`] over an [`ObjectStore`]: create with create-if-absent,
/// replace and remove with compare-and-swap on the object's ETag.
pub struct ObjectLockStore {
    objects: std::sync::Arc<dyn ObjectStore>,
}

impl ObjectLockStore {
    /// A lock store in `objects`.
    pub fn new(objects: std::sync::Arc<dyn ObjectStore>) -> Self {
        Self { objects }
    }

    fn key(key: &str) -> String {
        format!("locks/{key}.json")
    }

    fn err(&self, key: &str, message: impl std::fmt::Display) -> LockError {
        LockError::Store {
            path: self.objects.url(&Self::key(key)),
            message: message.to_string(),
        }
    }

    fn read_tagged(&self, key: &str) -> Result<Option<(Holder, String)>, LockError> {
        match self
            .objects
            .get(&Self::key(key))
            .map_err(|e| self.err(key, e))?
        {
            None => Ok(None),
            Some((body, etag)) => {
                let h = serde_json::from_slice(&body).map_err(|e| self.err(key, e))?;
                Ok(Some((h, etag)))
            }
        }
    }

    fn body(&self, key: &str, holder: &Holder) -> Result<Vec<u8>, LockError> {
        serde_json::to_vec(holder).map_err(|e| self.err(key, e))
    }
}

impl LockStore for ObjectLockStore {
    fn create(&self, key: &str, holder: &Holder) -> Result<Created, LockError> {
        let body = self.body(key, holder)?;
        for _ in 0..5 {
            if self
                .objects
                .put_new(&Self::key(key), &body)
                .map_err(|e| self.err(key, e))?
            {
                return Ok(Created::Yes);
            }
            if let Some((h, _)) = self.read_tagged(key)? {
                return Ok(Created::Exists(h));
            }
            // Removed between our create and our read: create again.
        }
        Err(self.err(key, "the lock keeps changing"))
    }

    fn read(&self, key: &str) -> Result<Option<Holder>, LockError> {
        Ok(self.read_tagged(key)?.map(|(h, _)| h))
    }

    fn replace(
        &self,
        key: &str,
        expected: &str,
        new: &Holder,
    ) -> Result<Result<(), Option<Holder>>, LockError> {
        let body = self.body(key, new)?;
        match self.read_tagged(key)? {
            Some((h, etag)) if h.token == expected => {
                if self
                    .objects
                    .put_if_match(&Self::key(key), &body, &etag)
                    .map_err(|e| self.err(key, e))?
                {
                    Ok(Ok(()))
                } else {
                    Ok(Err(self.read(key)?))
                }
            }
            other => Ok(Err(other.map(|(h, _)| h))),
        }
    }

    fn checks_processes(&self) -> bool {
        false
    }

    fn remove(&self, key: &str, expected: &str) -> Result<(), LockError> {
        if let Some((h, etag)) = self.read_tagged(key)?
            && h.token == expected
        {
            self.objects
                .delete_if_match(&Self::key(key), &etag)
                .map_err(|e| self.err(key, e))?;
        }
        Ok(())
    }
}

/// An [`ObjectStore`] in memory with the same conditional semantics (unit
/// tests of the protocol; the S3 store is tested against the emulator).
#[derive(Default)]
pub struct MemoryObjects {
    objects: Mutex<std::collections::BTreeMap<String, (Vec<u8>, u64)>>,
    next: std::sync::atomic::AtomicU64,
}

impl MemoryObjects {
    fn etag(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes `key` unconditionally (tests that damage a store).
    pub fn force(&self, key: &str, body: &[u8]) {
        let tag = self.etag();
        self.map().insert(key.to_owned(), (body.to_vec(), tag));
    }

    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, (Vec<u8>, u64)>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ObjectStore for MemoryObjects {
    fn url(&self, key: &str) -> String {
        format!("memory://{key}")
    }

    fn put_new(&self, key: &str, body: &[u8]) -> Result<bool, String> {
        let tag = self.etag();
        let mut m = self.map();
        if m.contains_key(key) {
            return Ok(false);
        }
        m.insert(key.to_owned(), (body.to_vec(), tag));
        Ok(true)
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, String> {
        Ok(self.map().get(key).map(|(b, t)| (b.clone(), t.to_string())))
    }

    fn put_if_match(&self, key: &str, body: &[u8], etag: &str) -> Result<bool, String> {
        let tag = self.etag();
        let mut m = self.map();
        match m.get(key) {
            Some((_, t)) if t.to_string() == etag => {
                m.insert(key.to_owned(), (body.to_vec(), tag));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn delete_if_match(&self, key: &str, etag: &str) -> Result<bool, String> {
        let mut m = self.map();
        match m.get(key) {
            Some((_, t)) if t.to_string() == etag => {
                m.remove(key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn put(&self, key: &str, body: &[u8]) -> Result<(), String> {
        self.force(key, body);
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        Ok(self
            .map()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::exec::journal::{JournalError, Record, RunHeader, RunState, RunStore};
    use crate::exec::lock::{LockKey, RunLock};
    use crate::plan::model::OnFailure;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).expect("a time")
    }

    fn header(run_id: &str) -> RunHeader {
        RunHeader {
            run_id: run_id.to_owned(),
            plan: "p".to_owned(),
            plan_path: None,
            plan_digest: None,
            fingerprint: None,
            concurrency: 2,
            on_failure: OnFailure::Continue,
            restores: Vec::new(),
            depends_on: Vec::new(),
            at: at(0),
            accepted_warnings: Vec::new(),
            selections: Vec::new(),
        }
    }

    fn store() -> (Arc<MemoryObjects>, RunStore) {
        let m = Arc::new(MemoryObjects::default());
        (m.clone(), RunStore::Objects(m))
    }

    #[test]
    fn records_replay_exactly_and_one_object_per_record() {
        let (m, s) = store();
        let j = s.create(header("run-1")).expect("create");
        let tail = [
            Record::Resumed { at: at(1) },
            Record::Interrupted { at: at(2) },
            Record::Resumed { at: at(3) },
            Record::Finished { at: at(4) },
        ];
        for r in &tail {
            j.append(r).expect("append");
        }
        let mut all = vec![Record::RunStarted(header("run-1"))];
        all.extend(tail.iter().cloned());
        assert_eq!(s.read("run-1").expect("read"), all);
        let (_, st) = s.open("run-1").expect("open");
        assert_eq!(Some(st), RunState::replay(&all));
        assert_eq!(
            m.list("runs/run-1/journal/").expect("list"),
            (0..5).map(|i| record_key("run-1", i)).collect::<Vec<_>>()
        );
        assert!(matches!(
            s.create(header("run-1")),
            Err(JournalError::Exists(id)) if id == "run-1"
        ));
        assert_eq!(s.list().expect("list").len(), 1);
        assert!(matches!(
            s.open("run-2"),
            Err(JournalError::UnknownRun { .. })
        ));
    }

    #[test]
    fn two_writers_never_interleave() {
        let (_, s) = store();
        drop(s.create(header("run-1")).expect("create"));
        let (a, _) = s.open("run-1").expect("open a");
        let (b, _) = s.open("run-1").expect("open b");
        a.append(&Record::Resumed { at: at(1) }).expect("a first");
        let err = b
            .append(&Record::Interrupted { at: at(1) })
            .expect_err("b loses");
        assert!(matches!(err, JournalError::Conflict { .. }), "{err}");
        // b cannot slip in later either: its next slot is taken too.
        a.append(&Record::Finished { at: at(2) })
            .expect("a goes on");
        assert!(b.append(&Record::Interrupted { at: at(3) }).is_err());
        let recs = s.read("run-1").expect("read");
        assert_eq!(recs.len(), 3);
        assert!(!recs.iter().any(|r| matches!(r, Record::Interrupted { .. })));
    }

    #[test]
    fn a_torn_last_record_is_detected_and_replaced_a_torn_middle_one_is_corrupt() {
        let (m, s) = store();
        drop(s.create(header("run-1")).expect("create"));
        m.force(&record_key("run-1", 1), b"{\"record\":\"resu");
        assert_eq!(s.read("run-1").expect("torn tail ignored").len(), 1);
        let (j, st) = s.open("run-1").expect("open cuts the torn record");
        assert_eq!(st.resumes, 0);
        j.append(&Record::Resumed { at: at(1) }).expect("append");
        assert_eq!(s.read("run-1").expect("read").len(), 2);
        // A damaged record followed by more is not a torn write.
        m.force(&record_key("run-1", 1), b"garbage\n");
        j.append(&Record::Finished { at: at(2) }).expect("append");
        assert!(matches!(
            s.read("run-1"),
            Err(JournalError::Corrupt { line: 2, .. })
        ));
        // A gap in the sequence is corrupt too.
        m.force(&record_key("run-2", 0), b"x");
        m.force(&record_key("run-2", 2), b"x");
        assert!(matches!(s.read("run-2"), Err(JournalError::Corrupt { .. })));
    }

    #[test]
    fn the_lock_protocol_holds_over_objects() {
        let m: Arc<dyn ObjectStore> = Arc::new(MemoryObjects::default());
        let lock = |run: &str, t: i64| {
            RunLock::acquire(
                Box::new(ObjectLockStore::new(m.clone())),
                vec![LockKey::plan("p")],
                crate::exec::lock::Holder::this_process(run, at(t)),
                at(t),
            )
        };
        let (mut a, _) = lock("run-a", 0).expect("a acquires");
        let err = lock("run-b", 1).expect_err("b is refused");
        assert!(err.to_string().contains("run run-a"), "{err}");
        a.renew(at(100)).expect("a renews");
        // Still within the renewed lease: refused.
        assert!(lock("run-b", 200).is_err());
        std::mem::forget(a);
        // Only the lease tells in a shared store: expired, taken over.
        let (b, takeovers) = lock("run-b", 100 + crate::exec::lock::LEASE_SECONDS + 1)
            .expect("an expired lease is taken over");
        assert_eq!(takeovers.len(), 1);
        assert_eq!(takeovers[0].previous.run_id, "run-a");
        drop(b);
        assert!(m.list("locks/").expect("list").is_empty());
    }
}
