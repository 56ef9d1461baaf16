//! `restoreplan graph`.

use crate::test::{Test, root};

fn example(name: &str) -> String {
    root()
        .join("plans/examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn text_dot_and_mermaid() {
    let plan = example("dr-cross-account-cross-region.yaml");
    for format in ["text", "dot", "mermaid"] {
        let out = Test::new()
            .current_dir(root())
            .args([
                "graph",
                "--format",
                format,
                "plans/examples/dr-cross-account-cross-region.yaml",
            ])
            .run();
        insta::assert_snapshot!(format!("graph__{format}"), out.stdout);
    }
    let text = Test::new().args(["graph", &plan]).run().stdout;
    assert!(text.contains("critical path (4 restores, weight 4): accounts -> ledger -> transfers -> settlement-batches"), "{text}");
}

#[test]
fn a_cycle_is_printed_and_fails() {
    let plan = root()
        .join("tests/fixtures/rules/graph-cycle.yaml")
        .display()
        .to_string();
    let out = Test::new().args(["graph", &plan]).status(1).run();
    assert!(
        out.stderr.contains("dependency cycle: a -> c -> b -> a"),
        "{}",
        out.stderr
    );
}
