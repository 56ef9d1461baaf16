//! Hostile input is refused with a clear finding, never a panic or a hang.
//! (Speed and memory are measured by `benches/validate.rs`, not here.)

use crate::test::Test;

fn refused(name: &str, contents: &[u8], code: &str) {
    let out = Test::new()
        .write(name, contents)
        .args(["validate", "--format", "json", name])
        .status(1)
        .run();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        doc["files"][0]["findings"][0]["code"], code,
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn alias_bomb() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    refused("bomb.yaml", text.as_bytes(), "restoreplan::yaml::limit");
}

#[test]
fn ten_thousand_deep_nesting() {
    refused(
        "deep.yaml",
        "[".repeat(10_000).as_bytes(),
        "restoreplan::yaml::limit",
    );
    let mut block = String::new();
    for i in 0..10_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("- \n");
    }
    // Indented block nesting: over the size cap or the depth limit, never a crash.
    let out = Test::new()
        .write("deep-block.yaml", block)
        .args(["validate", "deep-block.yaml"])
        .status(1)
        .run();
    assert!(
        out.stderr.contains("restoreplan::input::too_large")
            || out.stderr.contains("restoreplan::yaml::limit")
    );
}

#[test]
fn binary_garbage_and_invalid_utf8() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    refused("garbage.yaml", &garbage, "restoreplan::input::not_utf8");
    refused(
        "latin1.yaml",
        b"version: 1\nname: caf\xe9\n",
        "restoreplan::input::not_utf8",
    );
    refused(
        "nul.yaml",
        b"version: 1\x00\x01\x02\n",
        "restoreplan::yaml::syntax",
    );
}

#[test]
fn many_nodes() {
    // Half a million list items in a file under the size cap.
    let text = format!("x: [{}]\n", vec!["1"; 600_000].join(","));
    refused("wide.yaml", text.as_bytes(), "restoreplan::yaml::limit");
}
