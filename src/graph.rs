//! The dependency graph of a plan's restores (petgraph).
//!
//! Owns graph checks (unknown ids, self-dependencies, cycles printed as
//! `a -> b -> c -> a`), topological layers, and critical-path analysis with
//! caller-supplied durations. Pure: no I/O, no clock.
//!
//! Must not: import anything above [`crate::diag`]. Nodes are anything that
//! implements [`GraphNode`] (the plan's restores do); the graph itself holds
//! only indices and edges.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diag::{Finding, Span};

/// Rule codes reported by [`DependencyGraph::build`].
pub mod codes {
    /// `depends_on` names an id no restore has.
    pub const UNKNOWN_DEPENDENCY: &str = "restoreplan::graph::unknown_dependency";
    /// A restore lists itself in `depends_on`.
    pub const SELF_DEPENDENCY: &str = "restoreplan::graph::self_dependency";
    /// The dependencies form a cycle.
    pub const CYCLE: &str = "restoreplan::graph::cycle";
}

/// A DAG over restore indices; an edge `a -> b` means `b` depends on `a`
/// (`a` must finish first).
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    graph: DiGraph<usize, ()>,
    topo: Vec<usize>,
}

/// What the graph checks need of a node: its id, the ids it depends on and
/// where they are written. The plan implements it for its restores; the
/// graph knows nothing else about them.
pub trait GraphNode {
    /// The node's id.
    fn id(&self) -> &str;
    /// Ids it depends on.
    fn depends_on(&self) -> &[String];
    /// Where the node is written, for findings about it.
    fn entry_span(&self) -> Option<Span>;
    /// Where its `k`-th dependency is written.
    fn dependency_span(&self, k: usize) -> Option<Span>;
}

impl DependencyGraph {
    /// Builds and checks the graph; returns every problem found.
    pub fn build<N: GraphNode>(restores: &[N]) -> Result<Self, Vec<Finding>> {
        Self::build_from(restores)
    }

    /// Builds and checks the graph of any restore-like nodes.
    pub fn build_from<N: GraphNode>(restores: &[N]) -> Result<Self, Vec<Finding>> {
        let mut graph = DiGraph::<usize, ()>::with_capacity(restores.len(), restores.len());
        let mut by_id: HashMap<&str, NodeIndex> = HashMap::with_capacity(restores.len());
        for (i, r) in restores.iter().enumerate() {
            let n = graph.add_node(i);
            // Duplicate ids are reported by the loader's own rule; the first wins here.
            by_id.entry(r.id()).or_insert(n);
        }
        let mut findings = Vec::new();
        for (i, r) in restores.iter().enumerate() {
            let me = NodeIndex::new(i);
            for (k, dep) in r.depends_on().iter().enumerate() {
                let span = r.dependency_span(k).or(r.entry_span());
                if dep == r.id() {
                    findings.push(
                        Finding::error(
                            codes::SELF_DEPENDENCY,
                            format!("restore `{}` depends on itself", r.id()),
                        )
                        .restore(r.id())
                        .at(span)
                        .label("a restore cannot wait for itself")
                        .help(format!("remove `{dep}` from `depends_on`")),
                    );
                    continue;
                }
                match by_id.get(dep.as_str()) {
                    Some(&from) => {
                        if graph.find_edge(from, me).is_none() {
                            graph.add_edge(from, me, ());
                        }
                    }
                    None => {
                        let mut f = Finding::error(
                            codes::UNKNOWN_DEPENDENCY,
                            format!("restore `{}` depends on unknown restore `{dep}`", r.id()),
                        )
                        .restore(r.id())
                        .at(span)
                        .label("no restore has this id");
                        f = match closest(dep, by_id.keys().copied()) {
                            Some(near) => f.help(format!("did you mean `{near}`?")),
                            None => f.help(
                                "list the id of another restore in this plan (an explicit `id`, or its `table`)",
                            ),
                        };
                        findings.push(f);
                    }
                }
            }
        }
        for scc in tarjan_scc(&graph) {
            if scc.len() < 2 {
                continue;
            }
            let cycle = cycle_in(&graph, &scc);
            let names: Vec<&str> = cycle.iter().map(|&n| restores[n].id()).collect();
            let first = cycle[0];
            let mut shown = names.join(" -> ");
            shown.push_str(" -> ");
            shown.push_str(names[0]);
            // Point at the first restore's dependency on the next one in the cycle.
            let closing = restores[cycle[1]].id();
            let r = &restores[first];
            let span = r
                .depends_on()
                .iter()
                .position(|d| d == closing)
                .and_then(|k| r.dependency_span(k))
                .or(r.entry_span());
            findings.push(
                Finding::error(codes::CYCLE, format!("dependency cycle: {shown}"))
                    .restore(r.id())
                    .at(span)
                    .label("this dependency leads back to this restore")
                    .help("remove one of these dependencies so that the restores can run in order"),
            );
        }
        if !findings.is_empty() {
            return Err(findings);
        }
        // The graph is acyclic here, so toposort cannot fail.
        let topo = toposort(&graph, None)
            .map(|v| v.into_iter().map(|n| n.index()).collect())
            .unwrap_or_default();
        Ok(Self { graph, topo })
    }

    /// Number of restores.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// True when the plan has no restores.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Restores in a dependency-respecting order.
    pub fn topological_order(&self) -> &[usize] {
        &self.topo
    }

    /// Indices of the restores `i` depends on.
    pub fn dependencies(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
            .map(|n| n.index())
    }

    /// Indices of the restores that depend on `i`.
    pub fn dependents(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
            .map(|n| n.index())
    }

    /// All edges `(dependency, dependent)`.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (e.source().index(), e.target().index()))
    }

    /// Topological layers: layer 0 has no dependencies, layer k depends only on
    /// layers below k. Each layer is sorted by index.
    pub fn layers(&self) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.len()];
        for &i in &self.topo {
            depth[i] = self
                .dependencies(i)
                .map(|d| depth[d] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut layers: Vec<Vec<usize>> = Vec::new();
        for (i, &d) in depth.iter().enumerate() {
            if layers.len() <= d {
                layers.resize_with(d + 1, Vec::new);
            }
            layers[d].push(i);
        }
        layers
    }

    /// For each restore, the longest duration of any chain starting at it
    /// (its own duration included): the priority of a critical-path-first
    /// scheduler.
    pub fn remaining_path(&self, duration: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut rem = vec![0.0; self.len()];
        for &i in self.topo.iter().rev() {
            let tail = self.dependents(i).map(|d| rem[d]).fold(0.0, f64::max);
            rem[i] = duration(i) + tail;
        }
        rem
    }

    /// The critical path (longest chain by total duration) and its length.
    pub fn critical_path(&self, duration: impl Fn(usize) -> f64) -> (Vec<usize>, f64) {
        let rem = self.remaining_path(&duration);
        let Some(mut cur) = (0..self.len())
            .filter(|&i| self.dependencies(i).next().is_none())
            .max_by(|&a, &b| rem[a].total_cmp(&rem[b]).then(b.cmp(&a)))
        else {
            return (Vec::new(), 0.0);
        };
        let total = rem[cur];
        let mut path = vec![cur];
        while let Some(next) = self
            .dependents(cur)
            .max_by(|&a, &b| rem[a].total_cmp(&rem[b]).then(b.cmp(&a)))
        {
            path.push(next);
            cur = next;
        }
        (path, total)
    }
}

/// Finds one simple cycle inside a strongly connected component, starting
/// from its smallest index so the output is stable.
fn cycle_in(graph: &DiGraph<usize, ()>, scc: &[NodeIndex]) -> Vec<usize> {
    let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
    let start = *scc.iter().min().expect("an SCC of size >= 2 is non-empty");
    // BFS from `start` inside the SCC back to `start` gives a shortest cycle.
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen = std::collections::HashSet::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph
            .neighbors_directed(n, Direction::Outgoing)
            .filter(|m| members.contains(m))
            .collect();
        next.sort();
        for m in next {
            if m == start {
                let mut cycle = vec![n.index()];
                let mut cur = n;
                while let Some(&p) = prev.get(&cur) {
                    cycle.push(p.index());
                    cur = p;
                }
                // The walk follows dependency -> dependent edges backwards from
                // `n`, so after rotating `start` to the front the list reads in
                // `depends_on` direction: each restore depends on the next.
                let pos = cycle.iter().position(|&x| x == start.index()).unwrap_or(0);
                cycle.rotate_left(pos);
                return cycle;
            }
            if seen.insert(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    scc.iter().map(|n| n.index()).collect()
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= 2.max(word.len().min(c.len()) / 3))
        .min()
        .map(|(_, c)| c)
}
