//! An application's criticality: what its AppPosture declares, never below the floor the
//! platform set on its namespace (issue 17 §3).
//!
//! Criticality has nothing detected to compare with, and a team may edit its own
//! AppPosture: a value written there may raise criticality, but lowering it below the
//! floor must come from a source the team cannot write. That source is the namespace
//! label `aspm.stance.dev/criticality` (`names::CRITICALITY_LABEL`): namespaces are
//! cluster-scoped, and the `edit` role cannot change them (the same idea as Pod Security
//! Admission's namespace labels). Without the label the floor is the default, `medium`,
//! so an application is `low` only where the platform labelled its namespace `low`.

use super::reach::Stated;
use crate::model::Criticality;

/// The criticality that counts and the declarations that were ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedCriticality {
    /// Never below the floor: a workload of no application in an unlabelled namespace is
    /// `medium`, so leaving its AppPosture's selector cannot take it out of a policy scoped
    /// to `criticalities`.
    pub criticality: Criticality,
    pub overridden: Vec<String>,
}

/// The highest of the declared criticalities and the floor. `floor` is the namespace
/// label when set; without it the default `medium` is the floor, with or without a
/// declaration (`docs/concepts.md`, "Context can raise, not lower").
pub fn resolve(
    declared: &[Stated<Criticality>],
    floor: Option<Stated<Criticality>>,
    namespace: &str,
) -> ResolvedCriticality {
    // A workload no AppPosture selects gets the floor too: its team writes the labels the
    // selectors read, so "no application" must never count for less than the floor.
    let floor = floor.unwrap_or_else(|| Stated {
        value: Criticality::default(),
        by: format!("default (namespace {namespace} has no {} label)", crate::names::CRITICALITY_LABEL),
    });
    let criticality = declared.iter().map(|d| d.value).fold(floor.value, Criticality::max);
    let overridden = declared
        .iter()
        .filter(|d| d.value < floor.value)
        .map(|d| {
            format!(
                "declared criticality {} in {} is ignored: below the floor {} ({})",
                d.value.as_str(),
                d.by,
                floor.value.as_str(),
                floor.by
            )
        })
        .collect();
    ResolvedCriticality { criticality, overridden }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(c: Criticality) -> Stated<Criticality> {
        Stated { value: c, by: "AppPosture shop/web spec.criticality".into() }
    }

    #[test]
    fn a_team_cannot_declare_itself_below_the_floor() {
        let r = resolve(&[app(Criticality::Low)], None, "shop");
        assert_eq!(r.criticality, Criticality::Medium);
        assert!(
            r.overridden[0].contains("below the floor medium (default (namespace shop has no"),
            "{:?}",
            r.overridden
        );
        let label = |c| Some(Stated { value: c, by: "namespace analytics label aspm.stance.dev/criticality".into() });
        let r = resolve(&[app(Criticality::Low)], label(Criticality::Low), "analytics");
        assert_eq!((r.criticality, r.overridden.len()), (Criticality::Low, 0));
        let r = resolve(&[app(Criticality::Critical)], label(Criticality::Medium), "shop");
        assert_eq!((r.criticality, r.overridden.len()), (Criticality::Critical, 0));
        // No application at all: still the floor, never nothing (a relabelled workload).
        assert_eq!(resolve(&[], None, "x").criticality, Criticality::Medium);
        assert_eq!(resolve(&[], label(Criticality::High), "x").criticality, Criticality::High);
        assert_eq!(resolve(&[], label(Criticality::Low), "x").criticality, Criticality::Low);
    }
}
