//! A new user's first hour: output that stays readable on garbage input,
//! errors that say what failed, help that lists what is accepted, quiet
//! ends on closed pipes, GitHub-sized CI output.

use crate::test::{Test, root};

fn example(name: &str) -> String {
    root()
        .join("plans/examples")
        .join(name)
        .display()
        .to_string()
}

/// Every command ends quietly when its reader has gone (`… | head -1`).
#[test]
fn every_command_ends_quietly_on_a_closed_pipe() {
    let plan = example("ecommerce-environment.yaml");
    let sizes = example("ecommerce-environment.sizes.yaml");
    let commands: Vec<Vec<String>> = vec![
        vec!["runs".into()],
        vec!["runs".into(), "--json".into()],
        vec!["schema".into()],
        vec!["validate".into(), plan.clone()],
        vec![
            "validate".into(),
            "--format".into(),
            "json".into(),
            plan.clone(),
        ],
        vec!["graph".into(), plan.clone()],
        vec!["diff".into(), plan.clone(), plan.clone()],
        vec![
            "simulate".into(),
            plan.clone(),
            "--sizes".into(),
            sizes.clone(),
        ],
        vec!["simulate".into()],
        vec!["completions".into(), "bash".into()],
        vec!["--help".into()],
    ];
    for args in commands {
        let (status, stderr) = Test::new()
            .env("RESTOREPLAN_DATE", "2026-11-20")
            .args(args.clone())
            .run_closed_stdout();
        assert!(
            status == 0 || status == 1,
            "{args:?} ended with {status}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

/// A 5 MB base64 file gives a short report in every format: quoted values
/// and excerpts are cut around the span. (Time: `cargo bench --bench validate`.)
#[test]
fn garbage_input_gives_short_output_in_every_format() {
    for (name, line) in [("wrapped", 76), ("one-line", 0)] {
        let text = crate::support::garbage::base64(5_000_000, line);
        for format in ["human", "json", "github"] {
            let out = Test::new()
                .write("garbage.yaml", &text)
                .args(["validate", "--format", format, "garbage.yaml"])
                .status(1)
                .run();
            let size = out.stdout.len() + out.stderr.len();
            assert!(
                size < 64 * 1024,
                "{name} --format {format}: {size} bytes\n{}",
                &out.stderr[..out.stderr.len().min(2000)]
            );
            if format == "human" {
                insta::assert_snapshot!(format!("garbage_{name}_human"), out.stderr);
            }
            if format == "json" {
                let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
                assert_eq!(
                    doc["files"][0]["findings"][0]["code"],
                    "restoreplan::schema::wrong_type"
                );
            }
        }
    }
}

/// Many findings of one rule: ten are shown, the rest counted.
#[test]
fn findings_are_capped_per_rule() {
    let mut plan = String::from(
        "version: 1\nname: many\nsource: { account: \"111122223333\", region: us-east-1 }\n\
         target: { account: \"111122223333\", region: us-east-1, vault: dr }\nrestores:\n",
    );
    for i in 0..300 {
        plan.push_str(&format!(
            "  - table: orders{i}\n    name: \"bad name {i}\"\n"
        ));
    }
    for format in ["human", "json", "github"] {
        let out = Test::new()
            .write("many.yaml", &plan)
            .args(["validate", "--format", format, "many.yaml"])
            .status(1)
            .run();
        let size = out.stdout.len() + out.stderr.len();
        assert!(size < 64 * 1024, "--format {format}: {size} bytes");
        match format {
            "human" => insta::assert_snapshot!("capped_human_tail", tail(&out.stderr, 6)),
            "json" => {
                let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
                let file = &doc["files"][0];
                assert!(
                    file["errors"].as_u64() > Some(300),
                    "every error is counted"
                );
                assert_eq!(file["findings"].as_array().map(Vec::len), Some(11));
                assert_eq!(file["omitted"][0]["count"], 290);
            }
            _ => {
                assert_eq!(out.stdout.lines().count(), 12, "{}", out.stdout);
                insta::assert_snapshot!("capped_github_last", tail(&out.stdout, 1));
            }
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn validate_human(name: &str, plan: &str) -> String {
    Test::new()
        .write(name, plan)
        .args(["validate", "--date", "2026-11-20", name])
        .status(1)
        .run()
        .stderr
}

const HEAD: &str = "version: 1\nname: demo\nsource: { account: \"111122223333\", region: us-east-1 }\n\
                    target: { account: \"111122223333\", region: us-east-1, vault: dr }\n";

/// A value outside an enumeration lists the accepted values, with the
/// nearest one first when there is one.
#[test]
fn enumerations_list_their_values_with_did_you_mean() {
    let plan = format!(
        "{HEAD}execution:\n  on_failure: abort\nrestores:\n  - table: orders\n    after_restore:\n      stream: new-images\n"
    );
    let err = validate_human("enums.yaml", &plan);
    assert!(err.contains("did you mean `new-image`?"), "{err}");
    assert!(err.contains("use `continue` or `stop`"), "{err}");
    insta::assert_snapshot!("enum_values", err);
}

/// YAML merge keys are named as such, not matched against key names.
#[test]
fn merge_keys_are_said_to_be_unsupported() {
    let plan = format!(
        "{HEAD}restores:\n  - table: orders\n  - <<: {{ table: orders }}\n    id: orders-2\n"
    );
    let err = validate_human("merge.yaml", &plan);
    assert!(!err.contains("did you mean"), "{err}");
    insta::assert_snapshot!("merge_key", err);
}

/// A wrong type on a required value does not hide the later checks: one
/// run reports the types, the bad name, Region, duration and table name.
#[test]
fn a_wrong_type_on_a_required_value_hides_nothing() {
    let plan = "version: \"one\"\nname: Bad_Name\n\
                source: { account: \"111122223333\", region: us-east-1 }\n\
                target: { account: \"111122223333\", region: mars-1, vault: dr }\n\
                objectives: { rto: 5 parsecs }\n\
                restores:\n  - table: [orders]\n  - table: \"bad table!\"\n";
    let out = Test::new()
        .write("types.yaml", plan)
        .args(["validate", "--format", "json", "types.yaml"])
        .status(1)
        .run();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let codes: Vec<&str> = doc["files"][0]["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str()).collect())
        .unwrap_or_default();
    for code in [
        "restoreplan::schema::wrong_type",
        "restoreplan::plan::invalid_name",
        "restoreplan::region::invalid",
        "restoreplan::duration::invalid",
        "restoreplan::restore::invalid_table_name",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(!out.stdout.contains("stand-in"), "{}", out.stdout);
    insta::assert_snapshot!("types_hide_nothing", validate_human("types.yaml", plan));
}

/// `validate --live` against an endpoint that does not answer as AWS.
fn live_against(endpoint: &str) -> String {
    let out = Test::new()
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args([
            "validate",
            "--live",
            "--endpoint-url",
            endpoint,
            &example("rehearsal-same-account.yaml"),
        ])
        .status(1)
        .run();
    out.stderr
}

/// Network failures are reported as what they are and where, never as
/// missing credentials and never with an empty message.
#[test]
fn network_failures_say_what_failed_and_where() {
    // Refused: a port that was just free.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    // TLS: a server that answers a TLS hello with plain text.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let tls_port = plain.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in plain.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let cases = [
        (format!("http://127.0.0.1:{port}"), "connection refused"),
        ("http://no-such-host.invalid".to_owned(), "(DNS)"),
        (format!("https://127.0.0.1:{tls_port}"), "TLS"),
    ];
    let results: Vec<(String, &str, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(url, want)| s.spawn(move || (url.clone(), *want, live_against(url))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    assert_eq!(results.len(), cases.len());
    for (url, want, err) in &results {
        assert!(
            err.contains("restoreplan::aws::unreachable"),
            "{url}: {err}"
        );
        assert!(!err.contains("no usable credentials"), "{url}: {err}");
        assert!(
            err.contains(&format!("could not reach {url}")),
            "{url}: {err}"
        );
        assert!(err.contains(want), "{url}: want {want}: {err}");
    }
    let refused = &results[0].2;
    let first = refused
        .lines()
        .find(|l| l.contains('×'))
        .unwrap_or_default();
    insta::assert_snapshot!("network_refused_title", first);
}

/// Resuming needs neither the plan's original path nor its exact bytes:
/// a moved copy with new comments and formatting resumes; a plan that
/// resolves differently is refused with what changed; a missing path says
/// how to pass the copy.
#[tokio::test(flavor = "multi_thread")]
async fn resume_compares_the_resolved_plan_not_the_bytes() {
    use crate::apply::{World, fast};
    let w = World::new(fast(), "0.002").await;
    w.source("orders", 0).await;
    w.source("users", 0).await;
    let plan = format!(
        "{}  - table: orders\n  - table: users\n    depends_on: [orders]\n",
        w.header("moved", 2, None)
    );
    w.write("first.yaml", &plan);
    w.run(&["apply", "first.yaml", "--yes", "--format", "json"], 0);
    let runs = w.local(&["runs", "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(&runs.stdout).expect("runs --json");
    let run = v["runs"][0]["run_id"].as_str().expect("a run").to_owned();
    // Make the run unfinished again: drop its last record (`finished`).
    let journal = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(&run)
        .join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("the journal");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("\"record\":\"finished\""))
        .collect();
    std::fs::write(&journal, kept.join("\n") + "\n").expect("write the journal");
    // The plan moves away.
    std::fs::remove_file(w.dir.path().join("first.yaml")).expect("remove the plan");

    let missing = w.run(&["apply", "--resume", &run, "--yes"], 2);
    assert!(
        missing
            .stderr
            .contains(&format!("restoreplan apply COPY.yaml --resume {run}")),
        "{}",
        missing.stderr
    );
    insta::with_settings!({filters => vec![
        (r"moved-[0-9A-Za-z-]+", "[RUN]"),
        (r"started from \S+/first\.yaml", "started from [DIR]/first.yaml"),
    ]}, {
        insta::assert_snapshot!("resume_missing_plan", missing.stderr);
    });

    // A different plan: refused, with what changed.
    let changed = plan.replace("    depends_on: [orders]\n", "    name: other-users\n");
    w.write("changed.yaml", &changed);
    let refused = w.run(&["apply", "changed.yaml", "--resume", &run, "--yes"], 2);
    assert!(
        refused.stderr.contains("restore `users` changed"),
        "{}",
        refused.stderr
    );
    insta::with_settings!({filters => vec![(r"moved-[0-9A-Za-z-]+", "[RUN]")]}, {
        insta::assert_snapshot!("resume_changed_plan", refused.stderr);
    });

    // Comments, formatting and a new place: the run resumes and finishes.
    let copy = format!(
        "# moved here after review\n{}",
        plan.replace(
            "depends_on: [orders]",
            "depends_on: [ orders ]   # users after orders"
        )
    );
    std::fs::create_dir_all(w.dir.path().join("elsewhere")).expect("a directory");
    w.write("elsewhere/copy.yaml", &copy);
    w.run(
        &["apply", "elsewhere/copy.yaml", "--resume", &run, "--yes"],
        0,
    );
    let runs = w.local(&["runs", "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(&runs.stdout).expect("runs --json");
    assert_eq!(v["runs"][0]["status"], "finished", "{}", runs.stdout);
}

/// Sizes files are recognised by name and by content: `validate` checks
/// them against their own format, other commands say what they are.
#[test]
fn sizes_files_are_recognised_everywhere() {
    let sizes = example("ecommerce-environment.sizes.yaml");
    let out = Test::new().args(["validate", &sizes]).run();
    assert!(
        out.stdout.contains("valid sizes file: 40 table sizes"),
        "{}",
        out.stdout
    );
    let out = Test::new()
        .args(["validate", "--format", "github", &sizes])
        .run();
    assert_eq!(out.stdout, "", "no annotations for a valid sizes file");

    let broken = Test::new()
        .write("broken.sizes.yaml", "orders: 12GiB\nusers: lots\n")
        .args(["validate", "broken.sizes.yaml"])
        .status(1)
        .run();
    insta::assert_snapshot!("sizes_invalid", broken.stderr);

    // By content, under a plan's name.
    let text = std::fs::read_to_string(&sizes).expect("the sizes example");
    for command in ["graph", "plan"] {
        let out = Test::new()
            .write("tables.yaml", &text)
            .args([command, "tables.yaml"])
            .status(2)
            .run();
        assert!(
            out.stderr
                .contains("tables.yaml is a sizes file (40 table sizes), not a plan"),
            "{command}: {}",
            out.stderr
        );
        if command == "graph" {
            insta::assert_snapshot!("sizes_not_a_plan", out.stderr);
        }
    }
    let out = Test::new()
        .write("tables.yaml", &text)
        .args(["validate", "tables.yaml"])
        .run();
    assert!(out.stdout.contains("valid sizes file"), "{}", out.stdout);
}

/// Runs `git` in `dir`; returns its stdout.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Reviewer")
        .env("GIT_AUTHOR_EMAIL", "reviewer@example.com")
        .env("GIT_COMMITTER_NAME", "Reviewer")
        .env("GIT_COMMITTER_EMAIL", "reviewer@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The shipped review workflow, run for real: its shell steps (taken from
/// the YAML) against a repository with a base and a head commit. Checks the
/// annotations, the job summary and the comment the last step would post.
#[test]
fn the_review_workflow_annotates_and_comments() {
    let workflow: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("docs/github/restoreplan-review.yml"))
            .expect("the workflow"),
    )
    .expect("the workflow is YAML");
    let paths: Vec<&str> = workflow["on"]["pull_request"]["paths"]
        .as_sequence()
        .map(|s| s.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default();
    assert!(paths.contains(&"!plans/**/*.sizes.yaml"), "{paths:?}");

    let repo = tempfile::tempdir().expect("a directory");
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    let plans = dir.join("plans/examples");
    std::fs::create_dir_all(&plans).expect("plans/");
    let good = std::fs::read_to_string(example("rehearsal-same-account.yaml")).expect("a plan");
    let sizes =
        std::fs::read_to_string(example("ecommerce-environment.sizes.yaml")).expect("sizes");
    std::fs::write(plans.join("rehearsal.yaml"), &good).expect("write");
    std::fs::write(plans.join("env.sizes.yaml"), &sizes).expect("write");
    let dr =
        std::fs::read_to_string(example("dr-cross-account-cross-region.yaml")).expect("a plan");
    std::fs::write(dir.join("plans/dr.yaml"), &dr).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    // Head: the plan gains an invalid restore, the sizes file changes, a
    // plan is added.
    let broken = good.replace("restores:\n", "restores:\n  - table: \"bad table!\"\n");
    assert_ne!(broken, good, "the example has a `restores:` line");
    std::fs::write(plans.join("rehearsal.yaml"), &broken).expect("write");
    std::fs::write(
        plans.join("env.sizes.yaml"),
        format!("{sizes}extra: 1GiB\n"),
    )
    .expect("write");
    std::fs::write(plans.join("new.yaml"), &good).expect("write");
    let faster = dr.replace("  concurrency: 10", "  concurrency: 20");
    assert_ne!(faster, dr);
    std::fs::write(dir.join("plans/dr.yaml"), faster).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "head"]);

    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_restoreplan"))
        .parent()
        .expect("the binary's directory")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output_file = dir.join("github_output");
    let summary_file = dir.join("github_step_summary");
    let steps = workflow["jobs"]["review"]["steps"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    let mut annotations = String::new();
    let mut ran = Vec::new();
    for step in &steps {
        let (Some(name), Some(run)) = (step["name"].as_str(), step["run"].as_str()) else {
            continue;
        };
        if name.starts_with("Install") {
            continue; // the binary under test is on PATH
        }
        let condition = step["if"].as_str().unwrap_or("");
        if condition.contains("vars.") {
            continue; // needs AWS access the test does not configure
        }
        if condition.contains("steps.changed.outputs.count != '0'") {
            let outputs = std::fs::read_to_string(&output_file).unwrap_or_default();
            if outputs.lines().any(|l| l.trim() == "count=0") {
                continue;
            }
        }
        let script = run.replace("${{ github.event.pull_request.base.sha }}", &base);
        assert!(
            !script.contains("${{"),
            "unhandled expression in {name}: {script}"
        );
        let out = std::process::Command::new("bash")
            .args(["-e", "-c", &script])
            .current_dir(dir)
            .env("PATH", &path)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("NO_COLOR", "1")
            .env("RESTOREPLAN_DATE", "2026-11-20")
            .output()
            .expect("bash runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if name.starts_with("Validate") {
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name}: invalid plan fails the step"
            );
            annotations = stdout;
        } else {
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        ran.push(name.to_owned());
    }
    assert_eq!(ran.len(), 3, "steps run: {ran:?}");
    let changed = std::fs::read_to_string(dir.join("changed.txt")).expect("changed.txt");
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        vec![
            "plans/dr.yaml",
            "plans/examples/new.yaml",
            "plans/examples/rehearsal.yaml"
        ],
        "sizes files are left out"
    );
    assert!(!annotations.contains("sizes"), "{annotations}");
    let errors: Vec<&str> = annotations
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert!(!errors.is_empty(), "{annotations}");
    for line in &errors {
        assert!(
            line.starts_with("::error file=plans/examples/rehearsal.yaml,line="),
            "{line}"
        );
    }
    insta::assert_snapshot!("workflow_annotations", annotations);
    let comment = std::fs::read_to_string(dir.join("comment.trimmed.md")).expect("the comment");
    assert!(
        comment.starts_with("<!-- restoreplan-review -->"),
        "{comment}"
    );
    assert!(
        comment.contains("### `plans/examples/new.yaml` is new"),
        "{comment}"
    );
    assert!(
        comment.contains("does not load; see the annotations"),
        "{comment}"
    );
    assert!(
        comment.contains("concurrency"),
        "the diff of plans/dr.yaml: {comment}"
    );
    insta::assert_snapshot!("workflow_comment", comment);
    let summary = std::fs::read_to_string(&summary_file).expect("the job summary");
    assert!(summary.contains("### restoreplan validate"), "{summary}");
    assert!(
        summary.contains("| `plans/examples/rehearsal.yaml` | ❌ invalid | 1 | 0 |"),
        "{summary}"
    );
    insta::assert_snapshot!("workflow_step_summary", summary);
}

/// `plan --format github`: an error at each blocked restore's line, a
/// notice at each restore that will run; the dry run's Markdown goes to
/// the job summary. `simulate` appends its report too.
#[tokio::test(flavor = "multi_thread")]
async fn plan_annotates_restores_and_writes_the_job_summary() {
    use crate::apply::{World, fast};
    let w = World::new(fast(), "0.002").await;
    w.source("orders", 0).await;
    let plan = format!(
        "{}  - table: orders\n  - table: ghost\n",
        w.header("annotated", 2, None)
    );
    w.write("plan.yaml", &plan);
    let summary = w.dir.path().join("summary.md");
    let out = w
        .command(&["plan", "--format", "github", "plan.yaml"])
        .env("GITHUB_STEP_SUMMARY", summary.display().to_string())
        .status(1)
        .run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("::notice file=plan.yaml,line=12,col=5,title=restore%3A orders::restore `orders` creates orders-dr")),
        "{}",
        out.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("::error file=plan.yaml,line=13,col=5,title=blocked%3A ghost::restore `ghost` is blocked")),
        "{}",
        out.stdout
    );
    insta::with_settings!({filters => vec![(r"\b\d{12}\b", "[ACCOUNT]")]}, {
        insta::assert_snapshot!("plan_github", out.stdout);
    });
    let md = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(md.contains("ghost"), "{md}");

    let sim_summary = w.dir.path().join("simulate.md");
    w.command(&["simulate", "plan.yaml"])
        .env("GITHUB_STEP_SUMMARY", sim_summary.display().to_string())
        .run();
    let md = std::fs::read_to_string(&sim_summary).expect("the job summary");
    assert!(
        md.starts_with("### restoreplan simulate: annotated\n\n```text\n"),
        "{md}"
    );
}

/// `--max-requests-per-second` spaces the checks before the run too: in the
/// emulator's request log, no second holds more calls than the cap.
#[tokio::test(flavor = "multi_thread")]
async fn max_requests_per_second_spaces_the_checks_before_the_run() {
    use crate::apply::{World, fast};
    let w = World::new(fast(), "0.002").await;
    let mut plan = w.header("paced", 6, None);
    for t in ["paced1", "paced2", "paced3", "paced4", "paced5", "paced6"] {
        w.source(t, 0).await;
        plan.push_str(&format!("  - table: {t}\n"));
    }
    w.write("plan.yaml", &plan);
    let before = w.requests().len();
    let summary = w.dir.path().join("summary.md");
    w.command(&[
        "apply",
        "plan.yaml",
        "--yes",
        "--format",
        "json",
        "--max-requests-per-second",
        "8",
    ])
    .env("GITHUB_STEP_SUMMARY", summary.display().to_string())
    .run();
    let md = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(md.starts_with("### restoreplan apply: run paced-"), "{md}");
    let log = w.requests();
    let times: Vec<f64> = log[before..]
        .iter()
        .take_while(|r| r["operation"] != "StartRestoreJob")
        .filter_map(|r| r["time"].as_f64())
        .collect();
    assert!(
        times.len() >= 16,
        "only {} calls before the run",
        times.len()
    );
    let busiest = times
        .iter()
        .map(|&t| times.iter().filter(|&&u| u >= t && u < t + 1.0).count())
        .max()
        .unwrap_or(0);
    // 8 per second, and one more for the edge of the window.
    assert!(
        busiest <= 9,
        "{busiest} calls in one second before the run (cap 8)"
    );
}

/// apply's header names the failure policy as the plan writes it and
/// predicts the same RTO, in the same words, as `plan`.
#[tokio::test(flavor = "multi_thread")]
async fn apply_header_and_plan_agree_on_the_predicted_rto() {
    use crate::apply::{World, fast};
    let w = World::new(fast(), "0.002").await;
    let mut plan = w.header("agree", 2, None);
    for t in ["agree1", "agree2", "agree3"] {
        w.source(t, 0).await;
        plan.push_str(&format!("  - table: {t}\n"));
    }
    plan.push_str("    depends_on: [agree1]\n");
    w.write("plan.yaml", &plan);
    let dry = w.run(&["plan", "plan.yaml"], 0);
    let predicted = |text: &str| -> String {
        let at = text.find("Predicted RTO").expect("a predicted RTO");
        text[at..].lines().next().unwrap_or_default().to_owned()
    };
    // Without --yes and without a terminal, apply shows its header and stops.
    let apply = w.run(&["apply", "plan.yaml"], 2);
    assert!(
        apply.stderr.contains("on_failure continue"),
        "{}",
        apply.stderr
    );
    assert!(!apply.stderr.contains("Continue"), "{}", apply.stderr);
    assert_eq!(predicted(&apply.stderr), predicted(&dry.stdout));
    let header = apply.stderr.lines().take(2).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("apply_header", header);
}

/// `runs` names the folders it cannot read instead of hiding them.
#[test]
fn runs_names_unreadable_run_folders() {
    let t = Test::new();
    let runs = t.path().join(".restoreplan/runs");
    std::fs::create_dir_all(runs.join("half-written")).expect("a folder");
    std::fs::create_dir_all(runs.join("empty-journal")).expect("a folder");
    std::fs::write(runs.join("empty-journal/journal.jsonl"), "").expect("a journal");
    let out = t.args(["runs"]).run();
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    insta::with_settings!({filters => vec![(r"\S*/\.restoreplan/runs/", "[RUNS]/")]}, {
        insta::assert_snapshot!("runs_unreadable", out.stderr);
    });
    let t = Test::new();
    let runs = t.path().join(".restoreplan/runs");
    std::fs::create_dir_all(runs.join("half-written")).expect("a folder");
    let out = t.args(["runs", "--json"]).run();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["unreadable"][0]["error"], "no journal.jsonl");
}

/// `validate -` reads the plan from standard input.
#[test]
fn validate_dash_reads_stdin() {
    let plan = std::fs::read_to_string(example("rehearsal-same-account.yaml")).expect("a plan");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_restoreplan"))
        .args(["validate", "-"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(plan.as_bytes()).expect("write the plan");
    }
    let out = child.wait_with_output().expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "<stdin>: valid: plan `orders-monthly-rehearsal`, 5 restores, 3 layers\n"
    );
}

/// Bash completes run ids after `--resume` and `teardown`.
#[test]
fn bash_completes_run_ids() {
    let t = Test::new();
    let runs = t.path().join(".restoreplan/runs");
    for id in [
        "shop-20261120T093000Z-9f3a",
        "shop-20261121T093000Z-1b2c",
        "other-20261120T000000Z-0000",
    ] {
        std::fs::create_dir_all(runs.join(id)).expect("a run folder");
    }
    let script = t.path().join("restoreplan.bash");
    let generated = std::process::Command::new(env!("CARGO_BIN_EXE_restoreplan"))
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    std::fs::write(&script, &generated.stdout).expect("write the script");
    let complete = |words: &str| -> String {
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _restoreplan_with_run_ids restoreplan; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &probe])
            .current_dir(t.path())
            .output()
            .expect("bash runs");
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines.join(" ")
    };
    assert_eq!(
        complete("restoreplan apply --resume shop"),
        "shop-20261120T093000Z-9f3a shop-20261121T093000Z-1b2c"
    );
    assert_eq!(
        complete("restoreplan teardown oth"),
        "other-20261120T000000Z-0000"
    );
}

/// Diagnostics wrap at the terminal's width (here `COLUMNS`), not at 100.
#[test]
fn diagnostics_wrap_to_the_terminal_width() {
    let plan = format!(
        "{HEAD}restores:\n  - table: orders\n    after_restore:\n      stream: new-images\n"
    );
    let out = Test::new()
        .write("narrow.yaml", &plan)
        .env("COLUMNS", "60")
        .args(["validate", "narrow.yaml"])
        .status(1)
        .run();
    // The wrapped text: message and help (the rule's header line and the
    // quoted source lines are shown as they are).
    let wrapped = out.stderr.lines().filter(|l| {
        let source_line = l
            .trim_start()
            .split_once(" │")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        !l.contains("(docs/rules.md#") && !source_line
    });
    for line in wrapped {
        assert!(
            line.chars().count() <= 60,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    insta::assert_snapshot!("narrow_diagnostic", out.stderr);
}

/// With colours on, no terminal hyperlink points at a path in the source tree.
#[test]
fn no_relative_hyperlinks() {
    let out = Test::new()
        .write("bad.yaml", format!("{HEAD}restores: []\n"))
        .args(["--color", "always", "validate", "bad.yaml"])
        .status(1)
        .run();
    assert!(out.stderr.contains('\u{1b}'), "colour is on");
    assert!(
        !out.stderr.contains("\u{1b}]8;"),
        "no OSC 8 hyperlink: {:?}",
        out.stderr
    );
}

/// `--time-scale` is in `apply --help`, said to be for the emulator.
#[test]
fn time_scale_is_documented_in_help() {
    let out = Test::new().args(["apply", "--help"]).run();
    let at = out
        .stdout
        .find("--time-scale")
        .expect("--time-scale in help");
    assert!(out.stdout[at..].contains("emulator only"), "{}", out.stdout);
}
