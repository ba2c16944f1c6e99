//! One module per rule type. Each check looks at a [`Subject`] and returns [`Hit`]s; the
//! evaluator applies exceptions, enforcement and the ratchet.

pub mod components;
pub mod evidence;
pub mod image_reference;
pub mod ownership;
pub mod remediation;
pub mod risk_score;
pub mod vulnerabilities;
pub mod workload_security;

use std::borrow::Cow;
use std::sync::Arc;

use crate::model::{Container, Finding, ImageRef};
use crate::risk::{self, RiskContext};

/// How an item reads in a message. Rendered only for the items a message lists, so a
/// workload with hundreds of offending findings costs no formatting for the unlisted ones.
#[derive(Clone, Debug)]
pub enum ItemText<'a> {
    Plain(String),
    /// `CVE-… CRITICAL in pkg 1.0 (fixed in 1.1, known exploited)`.
    Vulnerability(&'a Finding),
    /// `CVE-… risk 87 (factors…)`.
    Risk(&'a Finding, RiskContext),
    /// `CVE-… HIGH in pkg 1.0 (…), due 2026-11-01, 3 days overdue (first seen …)`.
    Overdue {
        finding: &'a Finding,
        first_seen: jiff::Timestamp,
        due: jiff::Timestamp,
        now: jiff::Timestamp,
    },
}

impl ItemText<'_> {
    /// The text, rendered.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.render_into(&mut s);
        s
    }

    /// Appends the text to `s`.
    pub fn render_into(&self, s: &mut String) {
        use std::fmt::Write;
        match self {
            ItemText::Plain(text) => s.push_str(text),
            ItemText::Vulnerability(f) => vulnerabilities::describe_into(s, f),
            ItemText::Overdue { finding, first_seen, due, now } => {
                remediation::describe_into(s, finding, *first_seen, *due, *now)
            }
            ItemText::Risk(f, ctx) => {
                let r = risk::score(f, ctx);
                let _ = write!(s, "{} risk {} (", f.id, r.score);
                for (n, factor) in r.factors.iter().enumerate() {
                    let _ = write!(s, "{}{factor}", if n == 0 { "" } else { " " });
                }
                s.push(')');
            }
        }
    }
}

/// One offending thing inside a hit.
#[derive(Clone, Debug)]
pub struct Item<'a> {
    /// Stable identity (finding id, package URL, setting name) used by exceptions and the ratchet.
    pub key: Arc<str>,
    /// Other ids of the same thing (aliases) that exceptions may name.
    pub aliases: &'a [Arc<str>],
    pub text: ItemText<'a>,
    /// The container the item is about when its hit is not about one container (a
    /// `workloadSecurity` setting such as `privileged:web`); `None` for an item about the
    /// pod as a whole or one in a hit that names its container. The `newRiskOnly` ratchet
    /// compares this container's image across revisions.
    pub container: Option<&'a Container>,
}

impl<'a> Item<'a> {
    /// An item that is not a finding (a setting, a label, a package).
    pub fn new(key: impl AsRef<str>, text: impl Into<String>) -> Item<'a> {
        Item { key: Arc::from(key.as_ref()), aliases: &[], text: ItemText::Plain(text.into()), container: None }
    }

    /// An item that is not a finding, about one container of a hit about the workload.
    pub fn in_container(container: &'a Container, key: impl AsRef<str>, text: impl Into<String>) -> Item<'a> {
        Item { container: Some(container), ..Item::new(key, text) }
    }

    /// An item for a finding.
    pub fn finding(f: &'a Finding, text: ItemText<'a>) -> Item<'a> {
        Item { key: f.id.clone(), aliases: &f.aliases, text, container: None }
    }

    /// The key then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.key).chain(self.aliases.iter().map(|a| &**a))
    }
}

/// A rule broken, before exceptions: "`header`: items… `advice`".
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    pub container: Option<&'a Container>,
    pub image: Option<&'a ImageRef>,
    pub header: String,
    pub items: Vec<Item<'a>>,
    pub advice: Cow<'static, str>,
}

impl<'a> Hit<'a> {
    /// A hit about the workload as a whole (no container or image).
    pub fn workload(header: String, items: Vec<Item<'a>>, advice: impl Into<Cow<'static, str>>) -> Hit<'a> {
        Hit { container: None, image: None, header, items, advice: advice.into() }
    }
}

/// How many items a message lists before "and N more".
pub const MAX_LISTED: usize = 5;

/// `header: a; b; c; and 4 more. advice`
pub fn message(header: &str, items: &[Item<'_>], advice: &str) -> String {
    let mut s = String::with_capacity(header.len() + advice.len() + 2 + items.len().min(MAX_LISTED) * 96);
    write_message(&mut s, header, items, advice);
    s
}

/// [`message`] appended to `s`: the evaluator writes each violation's message into one
/// buffer (admission renders dozens per request; intermediate strings were most of its cost).
pub fn write_message(s: &mut String, header: &str, items: &[Item<'_>], advice: &str) {
    use std::fmt::Write;
    s.push_str(header);
    for (n, item) in items.iter().take(MAX_LISTED).enumerate() {
        s.push_str(if n == 0 { ": " } else { "; " });
        item.text.render_into(s);
    }
    if items.len() > MAX_LISTED {
        let _ = write!(s, "; and {} more", items.len() - MAX_LISTED);
    }
    if !advice.is_empty() {
        s.push_str(". ");
        s.push_str(advice);
    }
}

/// "image X (container c)" for messages.
pub fn image_label(image: &ImageRef, container: &Container) -> String {
    format!("image {image} (container {})", container.name)
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// `n` and the singular or plural of `qualifier noun`, without building both forms.
pub(crate) fn plural_qualified(n: usize, qualifiers: &[&str], one: &str, many: &str) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(48);
    let _ = write!(s, "{n} ");
    for q in qualifiers {
        s.push_str(q);
        s.push(' ');
    }
    s.push_str(if n == 1 { one } else { many });
    s
}
