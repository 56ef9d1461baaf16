//! Renderers of a plan's dependency graph (`restoreplan graph`): layers and
//! the critical path as text, Graphviz DOT and a Mermaid flowchart.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::plan::model::Plan;

/// Statically no restore has a duration estimate yet, so every restore
/// weighs 1 and the critical path is the longest chain.
fn weight(_: usize) -> f64 {
    1.0
}

/// Layers and the critical path as text.
pub fn text(plan: &Plan) -> String {
    let g = plan.graph();
    let r = plan.restores();
    let layers = g.layers();
    let (path, total) = g.critical_path(weight);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan `{}`: {} restore{}, {} dependenc{}, {} layer{}",
        plan.name(),
        r.len(),
        if r.len() == 1 { "" } else { "s" },
        g.edges().count(),
        if g.edges().count() == 1 { "y" } else { "ies" },
        layers.len(),
        if layers.len() == 1 { "" } else { "s" },
    );
    for (k, layer) in layers.iter().enumerate() {
        let ids: Vec<&str> = layer.iter().map(|&i| r[i].id.as_str()).collect();
        let _ = writeln!(s, "layer {k}: {}", ids.join(", "));
    }
    let ids: Vec<&str> = path.iter().map(|&i| r[i].id.as_str()).collect();
    let _ = writeln!(
        s,
        "critical path ({} restore{}, weight {total}): {}",
        path.len(),
        if path.len() == 1 { "" } else { "s" },
        ids.join(" -> ")
    );
    s
}

fn critical_edges(plan: &Plan) -> (HashSet<usize>, HashSet<(usize, usize)>) {
    let (path, _) = plan.graph().critical_path(weight);
    let nodes = path.iter().copied().collect();
    let edges = path.windows(2).map(|w| (w[0], w[1])).collect();
    (nodes, edges)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz DOT: an edge points from a dependency to its dependent.
pub fn dot(plan: &Plan) -> String {
    let (cn, ce) = critical_edges(plan);
    let r = plan.restores();
    let mut s = String::new();
    let _ = writeln!(s, "digraph {} {{", quote(plan.name()));
    let _ = writeln!(s, "  rankdir=LR;");
    let _ = writeln!(s, "  node [shape=box, fontname=\"Helvetica\"];");
    for (i, restore) in r.iter().enumerate() {
        let style = if cn.contains(&i) {
            " [style=bold, color=red]"
        } else {
            ""
        };
        let _ = writeln!(s, "  {}{style};", quote(&restore.id));
    }
    for (a, b) in plan.graph().edges() {
        let style = if ce.contains(&(a, b)) {
            " [style=bold, color=red]"
        } else {
            ""
        };
        let _ = writeln!(s, "  {} -> {}{style};", quote(&r[a].id), quote(&r[b].id));
    }
    let _ = writeln!(s, "}}");
    s
}

/// A Mermaid flowchart; ids become `n0`, `n1`… with the restore id as label.
pub fn mermaid(plan: &Plan) -> String {
    let (cn, ce) = critical_edges(plan);
    let r = plan.restores();
    let mut s = String::from("flowchart LR\n");
    for (i, restore) in r.iter().enumerate() {
        let _ = writeln!(s, "  n{i}[\"{}\"]", restore.id.replace('"', "#quot;"));
    }
    let mut critical_links = Vec::new();
    for (k, (a, b)) in plan.graph().edges().enumerate() {
        let _ = writeln!(s, "  n{a} --> n{b}");
        if ce.contains(&(a, b)) {
            critical_links.push(k.to_string());
        }
    }
    if !cn.is_empty() {
        let mut nodes: Vec<usize> = cn.into_iter().collect();
        nodes.sort_unstable();
        let names: Vec<String> = nodes.iter().map(|i| format!("n{i}")).collect();
        let _ = writeln!(s, "  classDef critical stroke:#d00,stroke-width:3px");
        let _ = writeln!(s, "  class {} critical", names.join(","));
    }
    if !critical_links.is_empty() {
        let _ = writeln!(
            s,
            "  linkStyle {} stroke:#d00,stroke-width:3px",
            critical_links.join(",")
        );
    }
    s
}
