//! The journal and the run lock over an object store ([`super::objects`]):
//! conditional writes keep one writer per run.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::exec::journal::{JournalError, Record, RunHeader, RunState, RunStore};
use crate::exec::lock::{LockKey, RunLock};
use crate::exec::objects::*;
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
