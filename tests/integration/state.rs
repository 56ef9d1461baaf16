//! The S3 run-state backend against the emulator: journal records and lock
//! holders written with S3's conditional writes, by real SDK clients.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use restoreplan::aws::{AccountAccess, AwsOptions};
use restoreplan::exec::journal::{JournalError, Record, RunHeader, RunState, RunStore};
use restoreplan::exec::lock::{Holder, LEASE_SECONDS, LockKey, RunLock};
use restoreplan::exec::objects::{ObjectLockStore, ObjectStore, record_key};
use restoreplan::plan::model::{AccountId, OnFailure, Region};
use restoreplan::state::S3Location;
use restoreplan::state::s3::S3Objects;

use crate::support::emulator::{Emulator, shared};

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).expect("a time")
}

fn options(account: &str, role_of: &str) -> AwsOptions {
    let mut accounts = BTreeMap::new();
    accounts.insert(
        account.to_owned(),
        AccountAccess {
            profile: None,
            role_arn: Some(Emulator::role(role_of)),
        },
    );
    AwsOptions {
        accounts,
        default: AccountAccess::default(),
        endpoint: Some(shared().endpoint.clone()),
    }
}

fn location(account: &str, bucket: &str) -> S3Location {
    S3Location {
        bucket: bucket.to_owned(),
        prefix: "team/dr".to_owned(),
        region: Region::parse("us-east-1").expect("a Region"),
        account: AccountId::parse(account).expect("an account"),
    }
}

fn connect(account: &str, bucket: &str) -> S3Objects {
    S3Objects::connect(location(account, bucket), options(account, account)).expect("connects")
}

/// A fresh account with a bucket of its own.
fn backend() -> (String, String) {
    let account = shared().fresh_account();
    let bucket = format!("state-{account}");
    let s = connect(&account, &bucket);
    let req = s.client().create_bucket().bucket(&bucket);
    s.run(req.send()).expect("runs").expect("CreateBucket");
    (account, bucket)
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

#[test]
fn an_s3_journal_replays_exactly_from_another_connection_and_never_interleaves() {
    let (account, bucket) = backend();
    let one = RunStore::Objects(Arc::new(connect(&account, &bucket)));
    let j = one.create(header("run-1")).expect("create");
    j.append(&Record::Resumed { at: at(1) }).expect("append");
    j.append(&Record::Interrupted { at: at(2) })
        .expect("append");
    drop(j);
    let all = vec![
        Record::RunStarted(header("run-1")),
        Record::Resumed { at: at(1) },
        Record::Interrupted { at: at(2) },
    ];
    // Another machine: its own connection, nothing shared but the bucket.
    let two = RunStore::Objects(Arc::new(connect(&account, &bucket)));
    assert_eq!(two.read("run-1").expect("read"), all);
    let (a, st) = two.open("run-1").expect("open");
    assert_eq!(Some(st), RunState::replay(&all));
    assert!(st_is_listed(&two, "run-1"));
    assert!(matches!(
        one.create(header("run-1")),
        Err(JournalError::Exists(_))
    ));
    // Two writers of one run: the second to write a record loses.
    let (b, _) = one.open("run-1").expect("open b");
    a.append(&Record::Resumed { at: at(3) }).expect("a first");
    let err = b
        .append(&Record::Finished { at: at(3) })
        .expect_err("b loses");
    assert!(matches!(err, JournalError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("s3://"), "{err}");
    assert_eq!(two.read("run-1").expect("read").len(), 4);
}

fn st_is_listed(s: &RunStore, run: &str) -> bool {
    s.list()
        .expect("list")
        .iter()
        .any(|r| r.header.run_id == run)
}

#[test]
fn a_torn_s3_record_is_detected() {
    let (account, bucket) = backend();
    let objects = Arc::new(connect(&account, &bucket));
    let s = RunStore::Objects(objects.clone());
    drop(s.create(header("run-t")).expect("create"));
    // A record object that is not a whole record, last: ignored, then cut.
    assert!(
        objects
            .put_new(&record_key("run-t", 1), b"{\"record\":\"resu")
            .expect("put")
    );
    assert_eq!(s.read("run-t").expect("read").len(), 1);
    let (j, _) = s.open("run-t").expect("open");
    j.append(&Record::Resumed { at: at(1) }).expect("append");
    assert_eq!(s.read("run-t").expect("read").len(), 2);
    // In the middle it is corruption, reported with where it is.
    assert!(
        objects
            .put_new(&record_key("run-t", 2), b"garbage\n")
            .expect("put")
    );
    j.append(&Record::Finished { at: at(2) })
        .expect_err("slot 2 is taken");
    assert!(
        objects
            .put_new(&record_key("run-t", 3), b"{}\n")
            .expect("put")
    );
    let err = s.read("run-t").expect_err("corrupt");
    assert!(
        matches!(err, JournalError::Corrupt { line: 3, .. }),
        "{err}"
    );
}

#[test]
fn the_s3_lock_refuses_a_live_holder_and_has_one_winner_over_a_stale_one() {
    let (account, bucket) = backend();
    let lock = |run: &str, t: i64| {
        let objects: Arc<dyn ObjectStore> = Arc::new(connect(&account, &bucket));
        RunLock::acquire(
            Box::new(ObjectLockStore::new(objects)),
            vec![
                LockKey::plan("p"),
                LockKey::table(&account, "us-east-1", "t"),
            ],
            Holder::this_process(run, at(t)),
            at(t),
        )
    };
    let (mut a, _) = lock("run-a", 0).expect("a acquires");
    let err = lock("run-b", 1).expect_err("b is refused");
    assert!(err.to_string().contains("run run-a"), "{err}");
    a.renew(at(60)).expect("a renews its lease");
    assert!(lock("run-b", 60 + LEASE_SECONDS - 1).is_err(), "not before");
    std::mem::forget(a);
    let later = 60 + LEASE_SECONDS + 1;
    let wins: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|k| {
                let lock = &lock;
                s.spawn(move || {
                    lock(&format!("run-{k}"), later)
                        .map(|(l, t)| {
                            assert_eq!(t.len(), 2);
                            std::mem::forget(l)
                        })
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

#[test]
fn the_backend_is_reached_only_with_credentials_of_its_account() {
    let account = shared().fresh_account();
    let other = shared().fresh_account();
    let err = S3Objects::connect(location(&account, "state-x"), options(&account, &other))
        .expect_err("credentials of another account are refused");
    assert!(err.contains(&account), "{err}");
    assert!(err.contains(&other), "{err}");
}
