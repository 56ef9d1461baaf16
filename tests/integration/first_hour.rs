//! A new user's first hour: output that stays readable on garbage input,
//! errors that say what failed, help that lists what is accepted, quiet
//! ends on closed pipes, GitHub-sized CI output.

use crate::test::{Test, root};

fn example(name: &str) -> String {
    root().join("plans/examples").join(name).display().to_string()
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
        vec!["validate".into(), "--format".into(), "json".into(), plan.clone()],
        vec!["graph".into(), plan.clone()],
        vec!["diff".into(), plan.clone(), plan.clone()],
        vec!["simulate".into(), plan.clone(), "--sizes".into(), sizes.clone()],
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
