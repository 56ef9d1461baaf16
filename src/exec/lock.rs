//! The run lock: a run holds a lease on its plan and on every target table
//! for as long as a process works on it, so two `apply` processes of one
//! plan (or two resumes of one run) never act at once.
//!
//! The protocol ([`RunLock`]) is written against a small compare-and-swap
//! store ([`LockStore`]): create-if-absent, read, replace-if-unchanged and
//! remove-if-unchanged on one key. [`LocalFileStore`] implements it with
//! `O_EXCL` files under the runs directory; a shared store (for example a
//! table with conditional writes) implements the same four calls.
//!
//! A holder renews its lease while it runs ([`RunLock::renew`]). A lock is
//! stale when its lease has expired, or when its holder ran on this host and
//! its process is gone (`kill -9`); a stale lock is taken over with a
//! compare-and-swap, so two processes that both find it stale cannot both
//! win, and the takeover is reported so the journal can record it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a lease lasts without renewal, by default.
pub const LEASE_SECONDS: i64 = 120;

/// The lease length in use: `RESTOREPLAN_LEASE_SECONDS` (1..=86400) when
/// set, else [`LEASE_SECONDS`]. A shared backend judges a holder dead only
/// by its lease, so a short lease (tests, or a team that wants a killed
/// apply taken over sooner) is set here; every process sharing a backend
/// should use the same value.
pub fn lease_seconds() -> i64 {
    std::env::var("RESTOREPLAN_LEASE_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|s| (1..=86_400).contains(s))
        .unwrap_or(LEASE_SECONDS)
}

/// Who holds (or wants) a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The run the lock is held for.
    pub run_id: String,
    /// Process id of the holder.
    pub pid: u32,
    /// Host name of the holder.
    pub host: String,
    /// User the holder runs as.
    pub user: String,
    /// When the holder acquired the lock.
    pub since: DateTime<Utc>,
    /// Until when the lease holds without renewal.
    pub lease_until: DateTime<Utc>,
    /// A random value unique to this acquisition (compare-and-swap token).
    pub token: String,
}

impl Holder {
    /// This process, acquiring for `run_id` at `now`.
    pub fn this_process(run_id: &str, now: DateTime<Utc>) -> Self {
        Self {
            run_id: run_id.to_owned(),
            pid: std::process::id(),
            host: host_name(),
            user: user_name(),
            since: now,
            lease_until: now + chrono::Duration::seconds(lease_seconds()),
            token: format!("{:016x}", rand::random::<u64>()),
        }
    }

    /// True when this holder's lock may be taken over at `now`: its lease
    /// expired, or it ran on this host and its process no longer exists.
    pub fn is_stale(&self, now: DateTime<Utc>, alive: impl Fn(&str, u32) -> Option<bool>) -> bool {
        now > self.lease_until || alive(&self.host, self.pid) == Some(false)
    }

    /// "run R (pid 123 on host h, user u) since T".
    pub fn describe(&self) -> String {
        format!(
            "run {} (pid {} on host {}, user {}) since {}",
            self.run_id,
            self.pid,
            self.host,
            self.user,
            self.since.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

/// A lock taken over from a stale holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Takeover {
    /// The lock's key.
    pub key: String,
    /// The holder it was taken from.
    pub previous: Holder,
}

/// Errors of the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the lock and is alive.
    #[error(
        "{what} is locked by {}; wait for it to finish, or stop that process (a killed process's lock is taken over automatically)",
        holder.describe()
    )]
    Held {
        /// What the lock protects, e.g. "plan `payments`".
        what: String,
        /// The live holder.
        holder: Box<Holder>,
    },
    /// This process lost its lock (another process took it over).
    #[error("lost the lock on {what}: it is now held by {}", holder.describe())]
    Lost {
        /// What the lock protects.
        what: String,
        /// The new holder.
        holder: Box<Holder>,
    },
    /// The store failed.
    #[error("failed to access the run lock {path}: {message}")]
    Store {
        /// Where.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Result of a compare-and-swap create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The key did not exist; it now holds the new holder.
    Yes,
    /// The key exists with this holder.
    Exists(Holder),
}

/// The storage a [`RunLock`] needs: four atomic operations on one key.
pub trait LockStore: Send + Sync {
    /// Creates `key` with `holder` unless it exists.
    fn create(&self, key: &str, holder: &Holder) -> Result<Created, LockError>;
    /// The current holder of `key`, if any.
    fn read(&self, key: &str) -> Result<Option<Holder>, LockError>;
    /// Replaces the holder of `key` with `new` if its token is still
    /// `expected`; returns the holder found otherwise (`None`: no key).
    fn replace(
        &self,
        key: &str,
        expected: &str,
        new: &Holder,
    ) -> Result<Result<(), Option<Holder>>, LockError>;
    /// Removes `key` if its token is still `expected`.
    fn remove(&self, key: &str, expected: &str) -> Result<(), LockError>;
    /// True when a holder's process may be checked on this host (pid and
    /// host name) to find it dead before its lease ends. A store shared by
    /// several machines answers false: two machines (CI containers) may
    /// share a host name, so there only the lease tells.
    fn checks_processes(&self) -> bool {
        true
    }
}

/// One protected thing: its key in the store and how to name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LockKey {
    /// Store key, e.g. `plan/payments`.
    pub key: String,
    /// Human name, e.g. "plan `payments`".
    pub what: String,
}

impl LockKey {
    /// The lock on a plan.
    pub fn plan(name: &str) -> Self {
        Self {
            key: format!("plan/{name}"),
            what: format!("plan `{name}`"),
        }
    }

    /// The lock on a target table.
    pub fn table(account: &str, region: &str, name: &str) -> Self {
        Self {
            key: format!("table/{account}/{region}/{name}"),
            what: format!("target table `{name}` in {account}/{region}"),
        }
    }
}

/// A set of locks held by one run.
pub struct RunLock {
    store: Box<dyn LockStore>,
    keys: Vec<LockKey>,
    holder: Holder,
}

impl std::fmt::Debug for RunLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLock")
            .field("keys", &self.keys)
            .field("holder", &self.holder)
            .finish()
    }
}

impl RunLock {
    /// Acquires every key (in a fixed order, so two runs cannot deadlock),
    /// taking over stale holders. On refusal, releases what it took.
    pub fn acquire(
        store: Box<dyn LockStore>,
        mut keys: Vec<LockKey>,
        holder: Holder,
        now: DateTime<Utc>,
    ) -> Result<(Self, Vec<Takeover>), LockError> {
        keys.sort();
        keys.dedup();
        let mut lock = Self {
            store,
            keys: Vec::new(),
            holder,
        };
        let mut takeovers = Vec::new();
        for k in keys {
            match lock.acquire_one(&k, now) {
                Ok(t) => {
                    takeovers.extend(t);
                    lock.keys.push(k);
                }
                Err(e) => {
                    lock.release();
                    return Err(e);
                }
            }
        }
        Ok((lock, takeovers))
    }

    fn acquire_one(&self, k: &LockKey, now: DateTime<Utc>) -> Result<Option<Takeover>, LockError> {
        // A few rounds: a holder may release, or a rival take over, between
        // our read and our swap.
        for _ in 0..5 {
            let current = match self.store.create(&k.key, &self.holder)? {
                Created::Yes => return Ok(None),
                Created::Exists(h) => h,
            };
            let alive = |h: &str, p: u32| {
                if self.store.checks_processes() {
                    process_alive(h, p)
                } else {
                    None
                }
            };
            if !current.is_stale(now, alive) {
                return Err(LockError::Held {
                    what: k.what.clone(),
                    holder: Box::new(current),
                });
            }
            match self.store.replace(&k.key, &current.token, &self.holder)? {
                Ok(()) => {
                    return Ok(Some(Takeover {
                        key: k.key.clone(),
                        previous: current,
                    }));
                }
                Err(Some(h)) if !h.is_stale(now, alive) => {
                    return Err(LockError::Held {
                        what: k.what.clone(),
                        holder: Box::new(h),
                    });
                }
                Err(_) => continue,
            }
        }
        Err(LockError::Store {
            path: k.key.clone(),
            message: "the lock kept changing hands; try again".to_owned(),
        })
    }

    /// The holder this lock acquired as.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Extends the lease of every key to `now` + [`lease_seconds`];
    /// `Err(Lost)` when another process took one over.
    pub fn renew(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        let mut next = self.holder.clone();
        next.lease_until = now + chrono::Duration::seconds(lease_seconds());
        for k in &self.keys {
            match self.store.replace(&k.key, &self.holder.token, &next)? {
                Ok(()) => {}
                Err(found) => {
                    return Err(match found {
                        Some(h) => LockError::Lost {
                            what: k.what.clone(),
                            holder: Box::new(h),
                        },
                        None => LockError::Store {
                            path: k.key.clone(),
                            message: "the lock disappeared".to_owned(),
                        },
                    });
                }
            }
        }
        self.holder = next;
        Ok(())
    }

    /// Releases every key this lock still holds.
    pub fn release(&mut self) {
        for k in std::mem::take(&mut self.keys) {
            let _ = self.store.remove(&k.key, &self.holder.token);
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.release();
    }
}

/// True/false when `pid` on `host` can be checked from here (same host,
/// Linux `/proc`); `None` when it cannot.
pub fn process_alive(host: &str, pid: u32) -> Option<bool> {
    if host != host_name() || !Path::new("/proc/self").exists() {
        return None;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(_) => return Some(false),
    };
    // The state follows the parenthesised command name; a zombie is gone.
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    Some(!matches!(
        state.and_then(|s| s.chars().next()),
        Some('Z' | 'X')
    ))
}

/// This machine's host name.
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// [`LockStore`] over a local directory: one JSON file per key, created
/// with `O_EXCL`; replace and remove run under a short per-key guard file.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    dir: PathBuf,
}

/// A guard file older than this was left by a killed process.
const GUARD_STALE_SECONDS: u64 = 10;

impl LocalFileStore {
    /// A store in `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The store next to the run journals: `RUNS_DIR/.locks`.
    pub fn for_runs_dir(runs_dir: &Path) -> Self {
        Self::new(runs_dir.join(".locks"))
    }

    fn path(&self, key: &str) -> PathBuf {
        let readable: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let digest = hex::encode(&Sha256::digest(key.as_bytes())[..6]);
        self.dir.join(format!("{readable}-{digest}.lock"))
    }

    fn err(&self, path: &Path, e: impl std::fmt::Display) -> LockError {
        LockError::Store {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn read_path(&self, path: &Path) -> Result<Option<Holder>, LockError> {
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(h) => Ok(Some(h)),
                // Being written by its creator right now: read again shortly.
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    match std::fs::read(path) {
                        Ok(b) => serde_json::from_slice(&b)
                            .map(Some)
                            .map_err(|e| self.err(path, e)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                        Err(e) => Err(self.err(path, e)),
                    }
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err(path, e)),
        }
    }

    /// Runs `f` holding the per-key guard file.
    fn guarded<T>(
        &self,
        key: &str,
        f: impl FnOnce() -> Result<T, LockError>,
    ) -> Result<T, LockError> {
        let guard = self.path(key).with_extension("guard");
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err(&self.dir, e))?;
        let started = std::time::Instant::now();
        // The guard file as first seen (its modification time) and since
        // when, on this process's monotonic clock. A guard is stale when the
        // same file stays for GUARD_STALE_SECONDS: its holder died inside.
        // The file's time is never compared with the clock, which may be
        // skewed against the filesystem's (or shifted, under libfaketime).
        let mut seen: Option<(Option<std::time::SystemTime>, std::time::Instant)> = None;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&guard) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let id = std::fs::metadata(&guard).and_then(|m| m.modified()).ok();
                    let since = match seen {
                        Some((prev, since)) if prev == id => since,
                        _ => {
                            let now = std::time::Instant::now();
                            seen = Some((id, now));
                            now
                        }
                    };
                    let old = id.is_some() && since.elapsed().as_secs() >= GUARD_STALE_SECONDS;
                    if old {
                        seen = None;
                        let _ = std::fs::remove_file(&guard);
                    } else if started.elapsed().as_secs() > 2 * GUARD_STALE_SECONDS {
                        return Err(self.err(&guard, "the lock guard stays taken"));
                    } else {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                }
                // The directory was tidied away meanwhile (see `remove`).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::create_dir_all(&self.dir).map_err(|e| self.err(&self.dir, e))?;
                }
                Err(e) => return Err(self.err(&guard, e)),
            }
        }
        let r = f();
        let _ = std::fs::remove_file(&guard);
        r
    }

    /// Creates `path` with `holder`; `false` when it exists.
    fn write_new(&self, path: &Path, holder: &Holder) -> Result<bool, LockError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err(&self.dir, e))?;
        let mut file = match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(self.err(path, e)),
        };
        let bytes = serde_json::to_vec(holder).map_err(|e| self.err(path, e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.err(path, e))?;
        Ok(true)
    }
}

impl LockStore for LocalFileStore {
    fn create(&self, key: &str, holder: &Holder) -> Result<Created, LockError> {
        let path = self.path(key);
        self.guarded(key, || {
            if self.write_new(&path, holder)? {
                return Ok(Created::Yes);
            }
            match self.read_path(&path)? {
                Some(h) => Ok(Created::Exists(h)),
                // Removed meanwhile: create again.
                None if self.write_new(&path, holder)? => Ok(Created::Yes),
                None => Err(self.err(&path, "the lock file keeps changing")),
            }
        })
    }

    fn read(&self, key: &str) -> Result<Option<Holder>, LockError> {
        self.read_path(&self.path(key))
    }

    fn replace(
        &self,
        key: &str,
        expected: &str,
        new: &Holder,
    ) -> Result<Result<(), Option<Holder>>, LockError> {
        let path = self.path(key);
        self.guarded(key, || {
            let current = self.read_path(&path)?;
            match current {
                Some(h) if h.token == expected => {
                    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
                    let bytes = serde_json::to_vec(new).map_err(|e| self.err(&path, e))?;
                    std::fs::write(&tmp, bytes)
                        .and_then(|()| std::fs::rename(&tmp, &path))
                        .map_err(|e| self.err(&path, e))?;
                    Ok(Ok(()))
                }
                other => Ok(Err(other)),
            }
        })
    }

    fn remove(&self, key: &str, expected: &str) -> Result<(), LockError> {
        let path = self.path(key);
        self.guarded(key, || {
            if let Some(h) = self.read_path(&path)?
                && h.token == expected
            {
                std::fs::remove_file(&path).map_err(|e| self.err(&path, e))?;
            }
            Ok(())
        })?;
        // Leave no empty lock directory behind (fails while any lock or
        // guard is in it, which is what it should do).
        let _ = std::fs::remove_dir(&self.dir);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).expect("a time")
    }

    fn holder(run: &str, pid: u32, now: DateTime<Utc>) -> Holder {
        let mut h = Holder::this_process(run, now);
        h.pid = pid;
        h
    }

    #[test]
    fn a_second_holder_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().expect("a directory");
        let keys = || vec![LockKey::plan("p"), LockKey::table("1", "r", "t")];
        let (_a, t) = RunLock::acquire(
            Box::new(LocalFileStore::new(dir.path())),
            keys(),
            Holder::this_process("run-a", at(0)),
            at(0),
        )
        .expect("the first acquires");
        assert!(t.is_empty());
        let err = RunLock::acquire(
            Box::new(LocalFileStore::new(dir.path())),
            keys(),
            Holder::this_process("run-b", at(1)),
            at(1),
        )
        .expect_err("the second is refused");
        let msg = err.to_string();
        assert!(msg.contains("run run-a"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains(&host_name()), "{msg}");
    }

    #[test]
    fn a_dead_or_expired_holder_is_taken_over_once_and_reported() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = LocalFileStore::new(dir.path());
        // A pid that cannot exist on Linux (above pid_max's ceiling).
        let dead = holder("run-dead", 4_194_305, at(0));
        assert_eq!(store.create("plan/p", &dead).expect("create"), Created::Yes);
        let (mut lock, takeovers) = RunLock::acquire(
            Box::new(store.clone()),
            vec![LockKey::plan("p")],
            Holder::this_process("run-new", at(5)),
            at(5),
        )
        .expect("a dead holder's lock is taken over");
        assert_eq!(takeovers.len(), 1);
        assert_eq!(takeovers[0].previous.run_id, "run-dead");
        // The old holder cannot renew or release what it lost.
        assert_eq!(
            store.replace("plan/p", &dead.token, &dead).expect("cas"),
            Err(Some(lock.holder().clone()))
        );
        lock.renew(at(10)).expect("the new holder renews");
        // An expired lease on another host is stale too; a live one is not.
        let mut remote = holder("run-far", 1, at(0));
        remote.host = "elsewhere".into();
        assert!(!remote.is_stale(at(LEASE_SECONDS - 1), process_alive));
        assert!(remote.is_stale(at(LEASE_SECONDS + 1), process_alive));
        drop(lock);
        assert_eq!(store.read("plan/p").expect("read"), None);
    }

    #[test]
    fn concurrent_acquirers_of_a_stale_lock_have_exactly_one_winner() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = LocalFileStore::new(dir.path());
        let dead = holder("run-dead", 4_194_305, at(0));
        store.create("plan/p", &dead).expect("create");
        let wins: Vec<bool> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..6)
                .map(|k| {
                    let dir = dir.path().to_owned();
                    s.spawn(move || {
                        RunLock::acquire(
                            Box::new(LocalFileStore::new(dir)),
                            vec![LockKey::plan("p")],
                            Holder::this_process(&format!("run-{k}"), at(5)),
                            at(5),
                        )
                        .map(std::mem::forget)
                        .is_ok()
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    }
}
