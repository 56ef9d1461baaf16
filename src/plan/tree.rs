//! The span-aware pass: YAML events (saphyr-parser) into a position tree.
//!
//! Every node knows its byte span and whether a scalar was quoted, so later
//! stages can point at `file:line:column` and tell `"012345678901"` from
//! `012345678901`. Hard limits on depth, node count and alias expansion are
//! enforced while events stream in, so hostile input is refused before any
//! other parser sees it. Must not know the plan format.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

use crate::diag::{Finding, Span};
use crate::plan::rules;

/// Hard limits of the span-aware pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings (a plan needs about 6).
    pub max_depth: usize,
    /// Nodes in the tree, alias expansions included.
    pub max_nodes: usize,
    /// Nodes produced by expanding aliases.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_nodes: 500_000,
            max_alias_nodes: 10_000,
        }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Byte span: the scalar, or the first line of a collection.
    pub span: Span,
}

/// A resolved YAML value (core schema).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer or float written as a plain scalar.
    Number(serde_json::Number),
    /// A string; `quoted` is false for plain scalars.
    Str {
        /// The text.
        text: String,
        /// Written quoted or as a block scalar.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<Entry>),
}

/// One mapping entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text.
    pub key: String,
    /// Span of the key.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// One step of a path into the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl Node {
    /// The entry value under `key`, for mappings.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry under `key`, for mappings.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The item at `index`, for sequences.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match &self.value {
            Value::Seq(items) => items.get(index),
            _ => None,
        }
    }

    /// Follows `path` as far as it exists; returns the deepest node reached
    /// and whether the whole path was found.
    pub fn walk<'a>(&'a self, path: &[Segment]) -> (&'a Node, bool) {
        let mut cur = self;
        for seg in path {
            let next = match seg {
                Segment::Key(k) => cur.get(k),
                Segment::Index(i) => cur.index(*i),
            };
            match next {
                Some(n) => cur = n,
                None => return (cur, false),
            }
        }
        (cur, true)
    }

    /// The node at `path`, if it exists.
    pub fn at(&self, path: &[Segment]) -> Option<&Node> {
        match self.walk(path) {
            (n, true) => Some(n),
            _ => None,
        }
    }

    /// Span of the key of the last path segment when it is a mapping key,
    /// else the node's span.
    pub fn key_span_at(&self, path: &[Segment]) -> Option<Span> {
        match path.split_last() {
            Some((Segment::Key(k), parent)) => self.at(parent)?.entry(k).map(|e| e.key_span),
            _ => self.at(path).map(|n| n.span),
        }
    }

    /// The value as JSON, for schema validation.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::Str { text, .. } => serde_json::Value::String(text.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }

    fn height(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Value::Map(entries) => 1 + entries.iter().map(|e| e.value.height()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// The tree of a document, plus the non-fatal findings met on the way.
#[derive(Debug)]
pub struct Document {
    /// The root node.
    pub root: Node,
    /// Duplicate keys, unsupported tags, extra documents.
    pub findings: Vec<Finding>,
}

/// Parses `text` into a tree, refusing it at the first syntax error or limit.
///
/// The builder's internal functions return `Finding` by value: they run once
/// per event and the error path is taken at most once per parse.
pub fn parse(text: &str, limits: Limits) -> Result<Document, Box<Finding>> {
    Builder::new(text, limits).run().map_err(Box::new)
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
    },
}

struct Builder<'t> {
    text: &'t str,
    limits: Limits,
    offsets: Offsets<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize, usize)>,
    nodes: usize,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
    findings: Vec<Finding>,
}

// Errors stay unboxed inside the builder; `parse` boxes the one that escapes.
#[allow(clippy::result_large_err)]
impl<'t> Builder<'t> {
    fn new(text: &'t str, limits: Limits) -> Self {
        Self {
            text,
            limits,
            offsets: Offsets::new(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            alias_nodes: 0,
            root: None,
            documents: 0,
            findings: Vec::new(),
        }
    }

    fn run(mut self) -> Result<Document, Finding> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(next) = parser.next_event() {
            let (event, yspan) = match next {
                Ok(ev) => ev,
                Err(e) => {
                    let at = Span::new(self.offsets.byte(e.marker().index()), 0);
                    // The parser has its own nesting guard; report it as our limit.
                    if e.info().contains("recursion limit") {
                        return Err(self.too_deep(at));
                    }
                    return Err(Finding::error(
                        rules::YAML_SYNTAX,
                        format!("the file is not valid YAML: {}", e.info()),
                    )
                    .at(Some(at))
                    .label(e.info().to_owned())
                    .help("fix the YAML syntax here; indentation and unclosed quotes or brackets are the usual causes"));
                }
            };
            let span = self.span(yspan);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        self.findings.push(
                            Finding::error(
                                rules::YAML_MULTIPLE_DOCUMENTS,
                                "the file holds more than one YAML document",
                            )
                            .at(Some(span))
                            .label("a second document starts here")
                            .help("keep one plan per file; remove this `---` and what follows, or move it to its own file"),
                        );
                        break;
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let value = self.scalar(&value, style, tag.as_deref(), span);
                    self.push(Node { value, span }, anchor)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.check_collection_tag(tag.as_deref(), "seq", span);
                    self.open(Frame::Seq {
                        start: self.first_line(span),
                        anchor,
                        items: Vec::new(),
                    })?;
                }
                Event::MappingStart(anchor, tag) => {
                    self.check_collection_tag(tag.as_deref(), "map", span);
                    self.open(Frame::Map {
                        start: self.first_line(span),
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    })?;
                }
                Event::SequenceEnd => {
                    if let Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) = self.stack.pop()
                    {
                        self.push(
                            Node {
                                value: Value::Seq(items),
                                span: start,
                            },
                            anchor,
                        )?;
                    }
                }
                Event::MappingEnd => {
                    if let Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) = self.stack.pop()
                    {
                        self.check_duplicates(&entries);
                        self.push(
                            Node {
                                value: Value::Map(entries),
                                span: start,
                            },
                            anchor,
                        )?;
                    }
                }
                Event::Alias(id) => {
                    let Some((node, count, height)) = self.anchors.get(&id) else {
                        return Err(Finding::error(
                            rules::YAML_SYNTAX,
                            "an alias names an unknown anchor",
                        )
                        .at(Some(span))
                        .label("no anchor with this name precedes it")
                        .help("define the anchor (`&name`) before using the alias (`*name`)"));
                    };
                    let (count, height) = (*count, *height);
                    self.alias_nodes += count;
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(limit(
                            format!(
                                "YAML aliases expand to more than {} nodes",
                                self.limits.max_alias_nodes
                            ),
                            span,
                            "this alias goes over the limit",
                            "a plan never needs this much repetition; write the values out or use `defaults`",
                        ));
                    }
                    if self.stack.len() + height > self.limits.max_depth {
                        return Err(self.too_deep(span));
                    }
                    let node = Node {
                        span,
                        ..node.clone()
                    };
                    // The clone was counted above; `push` counts the alias node itself.
                    self.nodes += count - 1;
                    self.push(node, 0)?;
                }
            }
        }
        match self.root.take() {
            Some(root) => Ok(Document {
                root,
                findings: self.findings,
            }),
            None => Err(Finding::error(rules::YAML_EMPTY, "the file holds no plan")
                .help("a plan starts with `version: 1`; see plans/examples/ for complete plans")),
        }
    }

    fn span(&mut self, s: YSpan) -> Span {
        let start = self.offsets.byte(s.start.index());
        let end = self.offsets.byte(s.end.index()).max(start);
        Span::new(start, end - start)
    }

    /// A collection's span is its first line, so labels stay on one line.
    fn first_line(&self, s: Span) -> Span {
        let rest = &self.text[s.offset.min(self.text.len())..];
        let len = rest.find('\n').unwrap_or(rest.len());
        Span::new(s.offset, len.min(rest.trim_end().len()))
    }

    fn too_deep(&self, span: Span) -> Finding {
        limit(
            format!(
                "the YAML nests deeper than {} levels",
                self.limits.max_depth
            ),
            span,
            "nesting goes over the limit here",
            "a plan nests about 6 levels deep; check that this is the plan file",
        )
    }

    fn open(&mut self, frame: Frame) -> Result<(), Finding> {
        let span = match &frame {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
        };
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.too_deep(span));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), Finding> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(limit(
                format!("the YAML has more than {} nodes", self.limits.max_nodes),
                node.span,
                "the limit is reached here",
                "check that this is the plan file; split a plan this large into several plans",
            ));
        }
        if anchor != 0 {
            let (count, height) = (node.count(), node.height());
            // The stored copy costs memory too, so it counts against the node cap.
            self.nodes += count;
            self.anchors.insert(anchor, (node.clone(), count, height));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => {
                match key.take() {
                    None => {
                        let text = match node.value {
                            Value::Str { text, .. } => text,
                            Value::Null => "null".to_owned(),
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n.to_string(),
                            Value::Seq(_) | Value::Map(_) => {
                                return Err(Finding::error(
                                rules::YAML_SYNTAX,
                                "a mapping key is itself a list or a mapping",
                            )
                            .at(Some(node.span))
                            .label("complex key")
                            .help("keys in a plan are plain names such as `table` or `depends_on`"));
                            }
                        };
                        *key = Some((text, node.span));
                    }
                    Some((k, key_span)) => entries.push(Entry {
                        key: k,
                        key_span,
                        value: node,
                    }),
                }
            }
        }
        Ok(())
    }

    fn check_duplicates(&mut self, entries: &[Entry]) {
        // Plans are made of small mappings: a linear scan beats hashing there.
        let mut seen: HashSet<&str> = HashSet::new();
        for (i, e) in entries.iter().enumerate() {
            let repeated = if entries.len() <= 16 {
                entries[..i].iter().any(|f| f.key == e.key)
            } else {
                !seen.insert(e.key.as_str())
            };
            if repeated {
                let first = entries.iter().find(|f| f.key == e.key).map(|f| f.key_span);
                let line = first.map(|s| line_of(self.text, s.offset)).unwrap_or(0);
                self.findings.push(
                    Finding::error(
                        rules::YAML_DUPLICATE_KEY,
                        format!("key `{}` appears twice in the same mapping", e.key),
                    )
                    .at(Some(e.key_span))
                    .label(format!("`{}` was already set on line {line}", e.key))
                    .help("keep one of the two; YAML mappings cannot repeat a key"),
                );
            }
        }
    }

    fn check_collection_tag(&mut self, tag: Option<&saphyr_parser::Tag>, core: &str, span: Span) {
        if let Some(tag) = tag {
            if !(tag.is_yaml_core_schema() && tag.suffix == core) {
                self.findings.push(unsupported_tag(tag, span));
            }
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&saphyr_parser::Tag>,
        span: Span,
    ) -> Value {
        if let Some(tag) = tag {
            if tag.is_yaml_core_schema() {
                match tag.suffix.as_str() {
                    "str" => {
                        return Value::Str {
                            text: text.to_owned(),
                            quoted: true,
                        };
                    }
                    "int" | "float" | "bool" | "null" => return resolve_plain(text),
                    _ => {}
                }
            }
            self.findings.push(unsupported_tag(tag, span));
        }
        match style {
            ScalarStyle::Plain => resolve_plain(text),
            _ => Value::Str {
                text: text.to_owned(),
                quoted: true,
            },
        }
    }
}

fn unsupported_tag(tag: &saphyr_parser::Tag, span: Span) -> Finding {
    Finding::error(
        rules::YAML_TAG,
        format!("unsupported YAML tag `{}{}`", tag.handle, tag.suffix),
    )
    .at(Some(span))
    .label("tag not supported")
    .help("remove the tag; a plan uses plain YAML values (quote a value to make it a string)")
}

fn limit(message: String, span: Span, label: &str, help: &str) -> Finding {
    Finding::error(rules::YAML_LIMIT, message)
        .at(Some(span))
        .label(label)
        .help(help)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Resolves a plain scalar by the YAML 1.2 core schema, as serde_yaml does.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    if looks_like_float(text) {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::Str {
        text: text.to_owned(),
        quoted: false,
    }
}

fn parse_int(text: &str) -> Option<serde_json::Number> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        let v = i64::try_from(magnitude).ok()?;
        Some(serde_json::Number::from(-v))
    } else {
        Some(serde_json::Number::from(magnitude))
    }
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}

/// Converts saphyr's character indices to byte offsets. Events arrive almost
/// in order, so a moving cursor makes this linear overall.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    char_idx: usize,
    byte_idx: usize,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            ascii: text.is_ascii(),
            char_idx: 0,
            byte_idx: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        if char_index < self.char_idx {
            self.char_idx = 0;
            self.byte_idx = 0;
        }
        let mut chars = self.text[self.byte_idx..].chars();
        while self.char_idx < char_index {
            match chars.next() {
                Some(c) => {
                    self.byte_idx += c.len_utf8();
                    self.char_idx += 1;
                }
                None => break,
            }
        }
        self.byte_idx
    }
}

/// Names the restore a path is inside, when it is.
pub fn with_restore(f: Finding, root: &Node, path: &[Segment]) -> Finding {
    match restore_name(root, path) {
        Some(id) => f.restore(id),
        None => f,
    }
}

/// The id (or table) of the restore that `path` points into.
pub fn restore_name(root: &Node, path: &[Segment]) -> Option<String> {
    let [Segment::Key(k), Segment::Index(i), ..] = path else {
        return None;
    };
    if k != "restores" {
        return None;
    }
    let entry = root.get("restores")?.index(*i)?;
    let text = |key: &str| match entry.get(key).map(|n| &n.value) {
        Some(Value::Str { text, .. }) => Some(text.clone()),
        _ => None,
    };
    text("id").or_else(|| text("table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Document {
        match parse(text, Limits::default()) {
            Ok(d) => d,
            Err(f) => panic!("unexpected refusal: {f:?}"),
        }
    }

    #[test]
    fn keeps_positions_and_quoting() {
        let text = "a: \"012345678901\"\nb: 012345678901\nc: [x, é, y]\n";
        let doc = parse_ok(text);
        let a = doc.root.get("a").unwrap();
        assert_eq!(
            a.value,
            Value::Str {
                text: "012345678901".into(),
                quoted: true
            }
        );
        let b = doc.root.get("b").unwrap();
        assert!(matches!(b.value, Value::Number(_)));
        assert_eq!(
            &text[b.span.offset..b.span.offset + b.span.len],
            "012345678901"
        );
        let y = doc
            .root
            .at(&[Segment::Key("c".into()), Segment::Index(2)])
            .unwrap();
        assert_eq!(&text[y.span.offset..y.span.offset + y.span.len], "y");
    }

    #[test]
    fn reports_duplicate_keys() {
        let doc = parse_ok("a: 1\nb: 2\na: 3\n");
        assert_eq!(doc.findings.len(), 1);
        assert_eq!(doc.findings[0].code, rules::YAML_DUPLICATE_KEY);
        assert_eq!(doc.findings[0].span, Some(Span::new(10, 1)));
    }

    #[test]
    fn refuses_alias_bombs() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let err = parse(&text, Limits::default()).unwrap_err();
        assert_eq!(err.code, rules::YAML_LIMIT);
    }

    #[test]
    fn refuses_deep_nesting() {
        let text = "[".repeat(10_000);
        let err = parse(&text, Limits::default()).unwrap_err();
        assert_eq!(err.code, rules::YAML_LIMIT);
    }

    #[test]
    fn resolves_plain_scalars_like_yaml_core() {
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("TRUE"), Value::Bool(true));
        assert_eq!(resolve_plain("0x1f"), Value::Number(31u64.into()));
        assert_eq!(resolve_plain("-3"), Value::Number((-3i64).into()));
        assert!(matches!(resolve_plain("1.5"), Value::Number(_)));
        assert!(matches!(
            resolve_plain("us-east-1"),
            Value::Str { quoted: false, .. }
        ));
        assert!(matches!(resolve_plain("24h"), Value::Str { .. }));
    }
}
