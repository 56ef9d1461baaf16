//! Output formats, flags and exit statuses.

use crate::test::{Test, root};

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/rules")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn json_output_of_a_few_rules() {
    for name in ["graph-cycle", "account-unquoted", "kms-unknown-key"] {
        let out = Test::new()
            .current_dir(root().join("tests/fixtures/rules"))
            .args([
                "validate",
                "--date",
                "2026-11-20",
                "--format",
                "json",
                &format!("{name}.yaml"),
            ])
            .status(1)
            .run();
        insta::assert_snapshot!(format!("json__{name}"), out.stdout);
    }
}

#[test]
fn github_annotations() {
    let out = Test::new()
        .current_dir(root().join("tests/fixtures/rules"))
        .args([
            "validate",
            "--date",
            "2026-11-20",
            "--format",
            "github",
            "many-problems.yaml",
        ])
        .status(1)
        .run();
    insta::assert_snapshot!("github__many-problems", out.stdout);
    for line in out.stdout.lines() {
        assert!(
            line.starts_with("::error file=many-problems.yaml,line="),
            "{line}"
        );
    }
}

#[test]
fn warnings_do_not_fail_validation_and_quiet_hides_them() {
    let plan = fixture("execution-concurrency-above-quota.yaml");
    let out = Test::new().args(["validate", &plan]).run();
    assert!(
        out.stderr.contains("concurrency_above_quota"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("valid"), "{}", out.stdout);
    let quiet = Test::new().args(["-q", "validate", &plan]).run();
    assert_eq!(quiet.stdout, "");
    assert_eq!(quiet.stderr, "");
}

#[test]
fn exit_status_is_the_worst_over_all_plans() {
    let good = root()
        .join("plans/examples/rehearsal-same-account.yaml")
        .display()
        .to_string();
    Test::new().args(["validate", &good]).run();
    Test::new()
        .args(["validate", &good, &fixture("graph-cycle.yaml")])
        .status(1)
        .run();
    let out = Test::new()
        .args([
            "validate",
            &good,
            &fixture("graph-cycle.yaml"),
            "missing.yaml",
        ])
        .status(2)
        .run();
    assert!(
        out.stderr.contains("failed to read missing.yaml"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let out = Test::new().args(["validate"]).status(2).run();
    assert!(out.stderr.contains("PLAN"), "{}", out.stderr);
    Test::new()
        .args(["validate", "--format", "xml", "p.yaml"])
        .status(2)
        .run();
    Test::new().args(["frobnicate"]).status(2).run();
    Test::new().args(["--help"]).run();
}

#[test]
fn colour_follows_the_flag() {
    let plan = fixture("graph-cycle.yaml");
    let never = Test::new()
        .args(["--color", "never", "validate", &plan])
        .status(1)
        .run();
    assert!(!never.stderr.contains('\u{1b}'));
    let always = Test::new()
        .args(["--color", "always", "validate", &plan])
        .status(1)
        .run();
    assert!(always.stderr.contains('\u{1b}'));
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Test::new().args(["completions", shell]).run();
        assert!(out.stdout.contains("validate"), "{shell}");
    }
}

#[test]
fn date_placeholder_comes_from_the_date_option() {
    let t = Test::new().write(
        "p.yaml",
        "version: 1\nname: p\nsource: { account: \"111122223333\", region: us-east-1 }\n\
         defaults:\n  name: \"{table}-{date}\"\nrestores:\n  - table: orders\n  - table: orders\n    id: again\n",
    );
    // Both restores expand to orders-20261120: a duplicate target naming the date.
    let out = t
        .args(["validate", "--date", "2026-11-20", "p.yaml"])
        .status(1)
        .run();
    assert!(out.stderr.contains("`orders-20261120`"), "{}", out.stderr);
}
