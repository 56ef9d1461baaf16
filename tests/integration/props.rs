//! Property tests: the loader never panics; random DAGs are classified correctly.

use proptest::prelude::*;
use restoreplan::graph::{DependencyGraph, codes};
use restoreplan::plan::model::{NodeRef, RestoreSpans};
use restoreplan::plan::{CompileOptions, SourceFile, compile, source};

fn opts() -> CompileOptions {
    CompileOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"))
}

fn load_bytes(bytes: Vec<u8>) {
    if let Ok(src) = source::decode("p.yaml", bytes) {
        let _ = compile(src, &opts());
    }
}

/// Fragments that make text YAML-ish and plan-ish.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("version: 1\n".to_owned()),
        Just("name: p\n".to_owned()),
        Just("restores:\n".to_owned()),
        Just("  - table: orders\n".to_owned()),
        Just("    depends_on: [a, b]\n".to_owned()),
        Just("source: { account: \"111122223333\", region: us-east-1 }\n".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\n  ".to_owned()),
        Just("!!str ".to_owned()),
        Just("---\n".to_owned()),
        "[a-z0-9_ {}:-]{0,12}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        load_bytes(bytes);
    }

    #[test]
    fn arbitrary_yamlish_text_never_panics(text in yamlish()) {
        let _ = compile(SourceFile::new("p.yaml", text), &opts());
    }

    #[test]
    fn random_dags_are_accepted_and_ordered(n in 1usize..40, edges in prop::collection::vec((0usize..40, 0usize..40), 0..120)) {
        let nodes = dag(n, &edges);
        let g = DependencyGraph::build_from(&nodes);
        prop_assert!(g.is_ok());
        let g = g.unwrap_or_else(|_| unreachable!());
        let mut pos = vec![0; n];
        for (k, &i) in g.topological_order().iter().enumerate() {
            pos[i] = k;
        }
        for (a, b) in g.edges() {
            prop_assert!(pos[a] < pos[b], "dependency {a} must come before {b}");
        }
        let layers = g.layers();
        prop_assert_eq!(layers.iter().map(Vec::len).sum::<usize>(), n);
    }

    #[test]
    fn an_injected_cycle_is_found(n in 2usize..40, edges in prop::collection::vec((0usize..40, 0usize..40), 0..120), pick in (0usize..40, 0usize..40)) {
        let mut nodes = dag(n, &edges);
        // Close a cycle: a chain lo -> ... -> hi plus an edge hi -> lo.
        let (lo, hi) = { let (a, b) = (pick.0 % n, pick.1 % n); if a == b { (0, n - 1) } else { (a.min(b), a.max(b)) } };
        for i in lo..hi {
            let dep = format!("r{i}");
            if !nodes[i + 1].depends_on.contains(&dep) {
                nodes[i + 1].depends_on.push(dep);
            }
        }
        nodes[lo].depends_on.push(format!("r{hi}"));
        let findings = DependencyGraph::build_from(&nodes).err().unwrap_or_default();
        prop_assert!(findings.iter().any(|f| f.code == codes::CYCLE));
        for f in findings.iter().filter(|f| f.code == codes::CYCLE) {
            // The printed cycle closes on its first restore.
            let shown = f.message.trim_start_matches("dependency cycle: ");
            let ids: Vec<&str> = shown.split(" -> ").collect();
            prop_assert!(ids.len() >= 3);
            prop_assert_eq!(ids.first(), ids.last());
        }
    }
}

/// A DAG on `n` nodes: an edge always points from a lower to a higher index.
fn dag(n: usize, edges: &[(usize, usize)]) -> Vec<NodeRef> {
    let mut nodes: Vec<NodeRef> = (0..n)
        .map(|i| NodeRef {
            id: format!("r{i}"),
            depends_on: Vec::new(),
            spans: RestoreSpans::default(),
        })
        .collect();
    for &(a, b) in edges {
        let (a, b) = (a % n, b % n);
        if a < b {
            let dep = format!("r{a}");
            if !nodes[b].depends_on.contains(&dep) {
                nodes[b].depends_on.push(dep);
            }
        }
    }
    nodes
}
