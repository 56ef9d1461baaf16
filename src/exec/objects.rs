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
