//! Output of the commands that read runs (`runs`, `teardown`): a reader
//! that goes away early is a normal end with the command's own status, and
//! `--quiet` keeps only errors and the command's result.

use std::path::Path;

use crate::test::Test;

/// Writes the journal of a finished run without restores (what `runs`
/// and `teardown` read; no AWS involved).
fn finished_run(runs_dir: &Path, run_id: &str) {
    let dir = runs_dir.join(run_id);
    std::fs::create_dir_all(&dir).expect("a run folder");
    let started = serde_json::json!({
        "record": "run-started",
        "run_id": run_id,
        "plan": "printer-test",
        "plan_path": null,
        "plan_digest": null,
        "concurrency": 1,
        "on_failure": "continue",
        "restores": [],
        "depends_on": [],
        "at": "2026-11-20T09:00:00Z",
    });
    let finished = serde_json::json!({
        "record": "run-finished",
        "at": "2026-11-20T09:01:00Z",
    });
    std::fs::write(
        dir.join("journal.jsonl"),
        format!("{started}\n{finished}\n"),
    )
    .expect("a journal");
}

fn with_runs(n: usize) -> Test {
    let t = Test::new().env("RESTOREPLAN_NOW", "2026-11-20T10:00:00Z");
    let runs = t.path().join(".restoreplan/runs");
    for i in 0..n {
        finished_run(&runs, &format!("printer-test-2026-11-20-run{i:03}"));
    }
    t
}

#[test]
fn runs_lists_a_journal_written_by_hand() {
    let out = with_runs(3).args(["runs"]).run();
    assert_eq!(
        out.stdout.lines().count(),
        4,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("printer-test-2026-11-20-run002"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
}

/// `restoreplan runs | head -0`: the pipe is closed before the first line;
/// the command ends with the status it would have had, says nothing about
/// the pipe and does not panic.
#[test]
fn runs_ends_quietly_when_its_reader_is_gone() {
    for args in [vec!["runs"], vec!["runs", "--json"]] {
        let (status, stderr) = with_runs(200).args(args.clone()).run_closed_stdout();
        assert_eq!(status, 0, "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    // An unreadable folder is still named on stderr, which is still open.
    let t = with_runs(5);
    std::fs::create_dir_all(t.path().join(".restoreplan/runs/half-written")).expect("a folder");
    let (status, stderr) = t.args(["runs"]).run_closed_stdout();
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("is not a readable run"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A failing `runs` keeps its status 2 when stdout is closed too.
#[test]
fn a_closed_pipe_does_not_change_an_error_status() {
    let t = Test::new();
    std::fs::write(t.path().join("not-a-dir"), "x").expect("a file");
    let (status, stderr) = t
        .args(["runs", "--runs-dir", "not-a-dir"])
        .run_closed_stdout();
    let expected = Test::new()
        .write("not-a-dir", "x")
        .args(["runs", "--runs-dir", "not-a-dir"])
        .status(status)
        .run();
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(stderr, expected.stderr);
    assert!(stderr.starts_with("error: failed to access"), "{stderr}");
}

#[test]
fn runs_quiet_keeps_the_listing_and_drops_the_warnings() {
    let t = with_runs(2);
    std::fs::create_dir_all(t.path().join(".restoreplan/runs/half-written")).expect("a folder");
    let out = t.args(["-q", "runs"]).run();
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let out = Test::new().args(["--quiet", "runs"]).run();
    assert_eq!(out.stdout, "", "no runs: nothing to say under --quiet");
}

/// A run that created no table: teardown has nothing to delete and asks
/// AWS nothing; `--quiet` says nothing, and a closed pipe changes nothing.
#[test]
fn teardown_of_a_run_without_tables_honours_quiet_and_closed_pipes() {
    let run = "printer-test-2026-11-20-run000";
    let out = with_runs(1)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["teardown", run, "--yes"])
        .run();
    assert_eq!(out.stdout, format!("run {run}: no table to delete\n"));
    let out = with_runs(1)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["-q", "teardown", run, "--yes"])
        .run();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "");
    let (status, stderr) = with_runs(1)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["teardown", run, "--yes"])
        .run_closed_stdout();
    assert_eq!(status, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // An unknown run is an error (2), with or without a reader.
    let (status, stderr) = with_runs(1)
        .args(["teardown", "no-such-run", "--yes"])
        .run_closed_stdout();
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}
