//! Reading licence expressions into a tree (module docs: [`super`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use spdx::{AdditionItem, LicenseItem};

/// One licence requirement: a licence, possibly `+`, possibly `WITH` an exception.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Licence {
    /// Identity of the licence: a canonical SPDX id without `-only`/`-or-later`/`+`
    /// for GNU licences, `LicenseRef-<lower-case>` for references, `?<text>` for unknowns.
    pub(crate) base: String,
    /// "Or any later version".
    pub(crate) or_later: bool,
    /// The canonical exception id or addition reference.
    pub(crate) exception: Option<String>,
    /// The requirement in canonical SPDX form, for messages.
    pub(crate) display: String,
    /// True for a word that is no SPDX id or reference.
    pub(crate) unknown: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Leaf(Licence),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// A licence expression, read as described in the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseExpr {
    pub(crate) root: Node,
    /// The text did not parse as an expression; `root` is the all-apply fallback.
    pub(crate) lenient: bool,
    text: String,
}

const MARK: &str = "stance-unknown-";

/// Strict SPDX syntax on the canonicalised text, except: the deprecated ids and `+` on GNU
/// licences that real SBOMs use are accepted. Never the crate's "imprecise names", which
/// guess by prefix (`gpl` → GPL-2.0-only).
const MODE: spdx::ParseMode = spdx::ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

fn licences_by_lower_name() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| spdx::identifiers::LICENSES.iter().map(|l| (l.name.to_ascii_lowercase(), l.name)).collect())
}

fn exceptions_by_lower_name() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| spdx::identifiers::EXCEPTIONS.iter().map(|e| (e.name.to_ascii_lowercase(), e.name)).collect())
}

/// A word in idstring form (`[A-Za-z0-9.-]+`).
fn is_idstring(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// Canonicalises a `LicenseRef-`/`DocumentRef-…:LicenseRef-` (or `AdditionRef-`) word.
fn canonical_ref(word: &str, kind: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let kind_lower = format!("{}-", kind.to_ascii_lowercase());
    let (doc, rest) = match lower.split_once(':') {
        Some((d, _)) if d.starts_with("documentref-") => {
            let (dw, rw) = word.split_once(':')?;
            (Some(&dw["DocumentRef-".len()..]), rw)
        }
        _ => (None, word),
    };
    let id = rest.get(kind_lower.len()..).filter(|_| rest.to_ascii_lowercase().starts_with(&kind_lower))?;
    if !is_idstring(id) || doc.is_some_and(|d| !is_idstring(d)) {
        return None;
    }
    Some(match doc {
        Some(d) => format!("DocumentRef-{d}:{kind}-{id}"),
        None => format!("{kind}-{id}"),
    })
}

/// Rewrites real-world text into strict SPDX syntax for the `spdx` crate; unknown words
/// become marked references (their text kept in `unknowns`).
fn canonical_text(text: &str, unknowns: &mut Vec<String>) -> String {
    let mut out = Vec::<String>::new();
    let mut prev_with = false;
    // `,` and `;` are no SPDX syntax: kept as tokens so that the text fails to parse and is
    // read by the all-apply fallback, with the ids beside them intact.
    let spaced = text.replace('(', " ( ").replace(')', " ) ").replace('/', " OR ").replace([',', ';'], " , ");
    for raw in spaced.split_whitespace() {
        let upper = raw.to_ascii_uppercase();
        let token = match upper.as_str() {
            "AND" | "OR" | "WITH" | "(" | ")" | "," => upper.clone(),
            _ => {
                let (word, plus) = match raw.strip_suffix('+') {
                    Some(w) if !w.is_empty() => (w, "+"),
                    _ => (raw, ""),
                };
                let lower = word.to_ascii_lowercase();
                if prev_with {
                    if let Some(name) = exceptions_by_lower_name().get(&lower) {
                        name.to_string()
                    } else if let Some(r) = canonical_ref(word, "AdditionRef") {
                        r
                    } else {
                        unknowns.push(raw.to_string());
                        format!("AdditionRef-{MARK}{}", unknowns.len() - 1)
                    }
                } else if let Some(name) = licences_by_lower_name().get(&lower) {
                    format!("{name}{plus}")
                } else if let Some(r) = canonical_ref(word, "LicenseRef") {
                    r
                } else {
                    unknowns.push(raw.to_string());
                    format!("LicenseRef-{MARK}{}", unknowns.len() - 1)
                }
            }
        };
        prev_with = token == "WITH";
        out.push(token);
    }
    out.join(" ")
}

impl LicenseExpr {
    /// Reads an expression (or a single id, or real-world licence text). Never fails:
    /// what does not parse is read as described in the module docs.
    pub fn parse(text: &str) -> LicenseExpr {
        let mut unknowns = Vec::new();
        let canonical = canonical_text(text, &mut unknowns);
        match spdx::Expression::parse_mode(&canonical, MODE).ok().and_then(|e| to_tree(&e, &unknowns)) {
            Some(root) => LicenseExpr { root, lenient: false, text: text.trim().to_string() },
            None => LicenseExpr::fallback(text, &canonical, &unknowns),
        }
    }

    /// Several expressions that all apply (`AND`).
    pub fn all_of(exprs: impl IntoIterator<Item = LicenseExpr>) -> Option<LicenseExpr> {
        let exprs: Vec<LicenseExpr> = exprs.into_iter().collect();
        let text = exprs.iter().map(|e| format!("({})", e.text)).collect::<Vec<_>>().join(" AND ");
        let lenient = exprs.iter().any(|e| e.lenient);
        let mut nodes: Vec<Node> = exprs.into_iter().map(|e| e.root).collect();
        match nodes.len() {
            0 => None,
            1 => nodes.pop().map(|root| LicenseExpr { root, lenient, text }),
            _ => Some(LicenseExpr { root: Node::And(nodes), lenient, text }),
        }
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the text was not an expression and was read as "all named licences apply".
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// Text that is not an expression: every SPDX id or reference found in it applies,
    /// and the text itself stands as one unknown licence.
    fn fallback(text: &str, canonical: &str, unknowns: &[String]) -> LicenseExpr {
        let mut leaves = vec![Node::Leaf(unknown_licence(text.trim()))];
        for word in canonical.split_whitespace() {
            if matches!(word, "AND" | "OR" | "WITH" | "(" | ")" | ",") || word.contains(MARK) {
                continue;
            }
            if let Ok(e) = spdx::Expression::parse_mode(word, MODE)
                && let Some(node) = to_tree(&e, unknowns)
                && !leaves.contains(&node)
            {
                leaves.push(node);
            }
        }
        LicenseExpr { root: Node::And(leaves), lenient: true, text: text.trim().to_string() }
    }

    /// The licences named, each once, in canonical form.
    pub fn licences(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.root.leaves(&mut |l: &Licence| {
            if !out.contains(&l.display) {
                out.push(l.display.clone());
            }
        });
        out
    }
}

impl fmt::Display for LicenseExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Node {
    pub(crate) fn leaves(&self, f: &mut impl FnMut(&Licence)) {
        match self {
            Node::Leaf(l) => f(l),
            Node::And(c) | Node::Or(c) => c.iter().for_each(|n| n.leaves(f)),
        }
    }
}

fn unknown_licence(text: &str) -> Licence {
    Licence {
        base: format!("?{}", text.to_lowercase()),
        or_later: false,
        exception: None,
        display: text.to_string(),
        unknown: true,
    }
}

/// The `spdx` crate's postfix expression as a tree.
fn to_tree(e: &spdx::Expression, unknowns: &[String]) -> Option<Node> {
    let mut stack: Vec<Node> = Vec::new();
    for node in e.iter() {
        match node {
            spdx::expression::ExprNode::Req(r) => stack.push(Node::Leaf(licence(&r.req, unknowns))),
            spdx::expression::ExprNode::Op(op) => {
                let b = stack.pop()?;
                let a = stack.pop()?;
                let and = *op == spdx::expression::Operator::And;
                // Flatten `a AND b AND c` into one node.
                let mut children = Vec::new();
                for n in [a, b] {
                    match n {
                        Node::And(c) if and => children.extend(c),
                        Node::Or(c) if !and => children.extend(c),
                        other => children.push(other),
                    }
                }
                stack.push(if and { Node::And(children) } else { Node::Or(children) });
            }
        }
    }
    if stack.len() == 1 { stack.pop() } else { None }
}

fn unmark(s: &str, unknowns: &[String]) -> Option<String> {
    s.strip_prefix(MARK).and_then(|i| i.parse::<usize>().ok()).and_then(|i| unknowns.get(i)).cloned()
}

fn licence(req: &spdx::LicenseReq, unknowns: &[String]) -> Licence {
    let (exception, exception_unknown) = match &req.addition {
        None => (None, false),
        Some(AdditionItem::Spdx(id)) => (Some(id.name.to_string()), false),
        Some(AdditionItem::Other(r)) => match unmark(&r.add_ref, unknowns) {
            Some(raw) => (Some(raw), true),
            None => (Some(r.to_string()), false),
        },
    };
    let with = |s: String| match &exception {
        Some(e) => format!("{s} WITH {e}"),
        None => s,
    };
    match &req.license {
        LicenseItem::Spdx { id, or_later } => {
            let name = id.name;
            let (base, later) = if id.is_gnu() {
                let b = name.trim_end_matches('+').trim_end_matches("-only").trim_end_matches("-or-later");
                (b.to_string(), *or_later || name.ends_with("-or-later") || name.ends_with('+'))
            } else {
                (name.trim_end_matches('+').to_string(), *or_later || name.ends_with('+'))
            };
            let display = if id.is_gnu() {
                format!("{base}{}", if later { "-or-later" } else { "-only" })
            } else {
                format!("{base}{}", if later { "+" } else { "" })
            };
            let display = with(display);
            Licence { base, or_later: later, exception, display, unknown: exception_unknown }
        }
        LicenseItem::Other(r) => match unmark(&r.lic_ref, unknowns) {
            Some(raw) => {
                let mut l = unknown_licence(&raw);
                l.display = with(raw);
                l.exception = exception.clone();
                l
            }
            None => {
                let base = match &r.doc_ref {
                    Some(d) => format!("DocumentRef-{d}:LicenseRef-{}", r.lic_ref.to_lowercase()),
                    None => format!("LicenseRef-{}", r.lic_ref.to_lowercase()),
                };
                let display = with(r.to_string());
                Licence { base, or_later: false, exception, display, unknown: exception_unknown }
            }
        },
    }
}
