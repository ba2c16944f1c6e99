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
    /// `None` when nothing states one (a workload of no application, in an unlabelled namespace).
    pub criticality: Option<Criticality>,
    pub overridden: Vec<String>,
}

/// The highest of the declared criticalities and the floor. `floor` is the namespace
/// label when set; without it the default `medium` is the floor of any declaration.
pub fn resolve(
    declared: &[Stated<Criticality>],
    floor: Option<Stated<Criticality>>,
    namespace: &str,
) -> ResolvedCriticality {
    let floor = match floor {
        Some(f) => Some(f),
        None if !declared.is_empty() => Some(Stated {
            value: Criticality::default(),
            by: format!("default (namespace {namespace} has no {} label)", crate::names::CRITICALITY_LABEL),
        }),
        None => None,
    };
    let top = declared.iter().map(|d| d.value).max();
    let criticality = match (top, &floor) {
        (Some(t), Some(f)) => Some(t.max(f.value)),
        (t, f) => t.or(f.as_ref().map(|f| f.value)),
    };
    let overridden = match &floor {
        Some(f) => declared
            .iter()
            .filter(|d| d.value < f.value)
            .map(|d| {
                format!(
                    "declared criticality {} in {} is ignored: below the floor {} ({})",
                    d.value.as_str(),
                    d.by,
                    f.value.as_str(),
                    f.by
                )
            })
            .collect(),
        None => Vec::new(),
    };
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
        assert_eq!(r.criticality, Some(Criticality::Medium));
        assert!(
            r.overridden[0].contains("below the floor medium (default (namespace shop has no"),
            "{:?}",
            r.overridden
        );
        let label = |c| Some(Stated { value: c, by: "namespace analytics label aspm.stance.dev/criticality".into() });
        let r = resolve(&[app(Criticality::Low)], label(Criticality::Low), "analytics");
        assert_eq!((r.criticality, r.overridden.len()), (Some(Criticality::Low), 0));
        let r = resolve(&[app(Criticality::Critical)], label(Criticality::Medium), "shop");
        assert_eq!((r.criticality, r.overridden.len()), (Some(Criticality::Critical), 0));
        assert_eq!(resolve(&[], None, "x").criticality, None);
        assert_eq!(resolve(&[], label(Criticality::High), "x").criticality, Some(Criticality::High));
    }
}
