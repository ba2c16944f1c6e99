//! One module per rule type. Each check looks at a [`Subject`] and returns [`Hit`]s; the
//! evaluator applies exceptions, enforcement and the ratchet.

pub mod components;
pub mod evidence;
pub mod image_reference;
pub mod ownership;
pub mod risk_score;
pub mod vulnerabilities;
pub mod workload_security;

use std::sync::Arc;

use crate::model::{Container, ImageRef};

/// One offending thing inside a hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Stable identity (finding id, package URL, setting name) used by exceptions and the ratchet.
    pub key: String,
    /// Other ids of the same thing (aliases) that exceptions may name.
    pub aliases: Vec<Arc<str>>,
    /// Human-readable form for the message.
    pub text: String,
}

impl Item {
    pub fn new(key: impl Into<String>, text: impl Into<String>) -> Item {
        Item { key: key.into(), aliases: Vec::new(), text: text.into() }
    }

    /// The key then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.aliases.iter().map(|a| &**a))
    }
}

/// A rule broken, before exceptions: "`header`: items… `advice`".
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    pub container: Option<&'a Container>,
    pub image: Option<&'a ImageRef>,
    pub header: String,
    pub items: Vec<Item>,
    pub advice: String,
}

impl<'a> Hit<'a> {
    pub fn workload(header: String, items: Vec<Item>, advice: impl Into<String>) -> Hit<'a> {
        Hit { container: None, image: None, header, items, advice: advice.into() }
    }
}

/// How many items a message lists before "and N more".
pub const MAX_LISTED: usize = 5;

/// `header: a, b, c and 4 more. advice`
pub fn message(header: &str, items: &[Item], advice: &str) -> String {
    let mut s = header.to_string();
    if !items.is_empty() {
        s.push_str(": ");
        let listed: Vec<&str> = items.iter().take(MAX_LISTED).map(|i| i.text.as_str()).collect();
        s.push_str(&listed.join("; "));
        if items.len() > MAX_LISTED {
            s.push_str(&format!("; and {} more", items.len() - MAX_LISTED));
        }
    }
    if !advice.is_empty() {
        s.push_str(". ");
        s.push_str(advice);
    }
    s
}

/// "image X (container c)" for messages.
pub fn image_label(image: &ImageRef, container: &Container) -> String {
    format!("image {image} (container {})", container.name)
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}
