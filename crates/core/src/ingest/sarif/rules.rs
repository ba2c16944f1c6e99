//! Resolving the rule a SARIF result refers to: by index into the driver or an extension,
//! by id, or by the parent of a hierarchical id.

use std::collections::HashMap;

use super::model::{Rule, SarifResult, Tool, ToolComponent};
use crate::ingest::lenient::non_empty;

/// The rules of a run's tool components, indexed by id.
pub(super) struct Rules<'a> {
    driver: &'a [Rule],
    driver_name: &'a str,
    extensions: &'a [ToolComponent],
    pub(super) by_id: HashMap<&'a str, &'a Rule>,
}

impl<'a> Rules<'a> {
    pub(super) fn new(tool: &'a Tool) -> Rules<'a> {
        let mut by_id = HashMap::new();
        let all = tool.driver.rules.iter().chain(tool.extensions.iter().flat_map(|e| e.rules.iter()));
        for rule in all {
            if let Some(id) = non_empty(rule.id.as_deref()) {
                by_id.entry(id).or_insert(rule);
            }
        }
        Rules {
            driver: &tool.driver.rules,
            driver_name: tool.driver.name.as_deref().unwrap_or(""),
            extensions: &tool.extensions,
            by_id,
        }
    }

    /// The rule a result refers to, by index (checked against the id when both are given)
    /// or by id.
    pub(super) fn find(&self, result: &SarifResult, id: Option<&str>) -> Option<&'a Rule> {
        let reference = result.rule.as_ref();
        let index = result.rule_index.or_else(|| reference.and_then(|r| r.index));
        if let Some(index) = index.and_then(|i| usize::try_from(i).ok()) {
            let component = match reference.and_then(|r| r.tool_component.as_ref()) {
                None => Some(self.driver),
                Some(tc) => match (tc.index.and_then(|i| usize::try_from(i).ok()), tc.name.as_deref()) {
                    (Some(i), _) => self.extensions.get(i).map(|e| e.rules.as_slice()),
                    (None, Some(name)) if name == self.driver_name => Some(self.driver),
                    (None, Some(name)) => {
                        self.extensions.iter().find(|e| e.name.as_deref() == Some(name)).map(|e| e.rules.as_slice())
                    }
                    (None, None) => Some(self.driver),
                },
            };
            if let Some(rule) = component.and_then(|rules| rules.get(index))
                && (id.is_none() || rule.id.as_deref() == id)
            {
                return Some(rule);
            }
        }
        let mut id = id?;
        loop {
            if let Some(rule) = self.by_id.get(id) {
                return Some(rule);
            }
            // Hierarchical rule ids (`CA1000/sub`) are reported against their parent.
            id = id.rsplit_once('/')?.0;
        }
    }
}
