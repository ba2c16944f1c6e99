//! Network reach: who can reach a workload or an application, as risk scoring and policy
//! matching see it — the one place where a declared [`Exposure`] and detected exposure
//! become a [`Reach`].
//!
//! The rule ([`resolve`]): the highest of the detected reach, the declared exposures and
//! the platform's floor — a declaration raises, never lowers; nothing detected means
//! [`Reach::None`] (the detector's own answer: no Service selects the workloads).
//! [`Reach::Unknown`] is kept for findings seen outside any application (a bare `stance
//! findings` run).

use crate::model::Exposure;

/// Network reachability as risk sees it (`auto` already resolved).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    Internet,
    Internal,
    None,
    /// No context (a bare `stance findings` run): scored like `Internal`.
    Unknown,
}

impl Reach {
    /// The lower-case name shown in status and messages (`internet`, …, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Internet => "internet",
            Reach::Internal => "internal",
            Reach::None => "none",
            Reach::Unknown => "unknown",
        }
    }

    /// How far it reaches, for taking the strongest of several (unknown counts as internal,
    /// as it is scored).
    pub fn rank(self) -> u8 {
        match self {
            Reach::Internet => 3,
            Reach::Internal | Reach::Unknown => 2,
            Reach::None => 1,
        }
    }

    /// The exposure a policy's `match.exposures` compares with.
    pub fn exposure(self) -> Exposure {
        match self {
            Reach::Internet => Exposure::Internet,
            Reach::Internal | Reach::Unknown => Exposure::Internal,
            Reach::None => Exposure::None,
        }
    }
}

/// A declared exposure's reach; `None` for `auto` (to be detected).
pub fn declared(e: Exposure) -> Option<Reach> {
    match e {
        Exposure::Internet => Some(Reach::Internet),
        Exposure::Internal => Some(Reach::Internal),
        Exposure::None => Some(Reach::None),
        Exposure::Auto => None,
    }
}

/// An exposure or criticality someone stated, and who (`AppPosture shop/web
/// spec.exposure`, `namespace shop label aspm.stance.dev/exposure`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stated<T> {
    pub value: T,
    pub by: String,
}

/// The reach that counts, why, and the declarations that were overridden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub reach: Reach,
    /// What gives the reach: the detected objects, else the declaration or the floor.
    pub reasons: Vec<String>,
    /// Each declaration that asked for less than what counts, and why it did not count.
    pub overridden: Vec<String>,
}

/// The one rule for an application's (or a workload's) reach: the **highest** of what was
/// detected (`None` when nothing routes to it), what its AppPostures declare (`auto`
/// declares nothing) and the platform's floor (the namespace label). A declaration can
/// raise the reach — an app behind a VPN declared `internet` is scored as such — but
/// never lower it below what the cluster shows or the platform set: the team that is
/// judged writes its AppPosture, so a lower value from it is ignored and reported
/// (issue 17 §3).
pub fn resolve(
    detected: (Reach, Vec<String>),
    declared: &[Stated<Exposure>],
    floor: Option<Stated<Reach>>,
) -> Resolved {
    let (detected_reach, detected_reasons) = detected;
    let declarations: Vec<(Reach, &str)> =
        declared.iter().filter_map(|d| Some((self::declared(d.value)?, d.by.as_str()))).collect();
    let mut reach = detected_reach;
    let mut reasons = detected_reasons;
    if let Some(f) = &floor
        && f.value.rank() > reach.rank()
    {
        reach = f.value;
        reasons = vec![format!("floor set by {}", f.by)];
    }
    if let Some(&(r, by)) = declarations.iter().max_by_key(|(r, _)| r.rank())
        && r.rank() > reach.rank()
    {
        reach = r;
        reasons = vec![format!("declared in {by}")];
    }
    let overridden = declarations
        .iter()
        .filter(|(r, _)| r.rank() < reach.rank())
        .map(|(r, by)| {
            let why = if floor.as_ref().is_some_and(|f| f.value == reach) && detected_reach.rank() < reach.rank() {
                format!("the floor set by {}", floor.as_ref().map_or("", |f| f.by.as_str()))
            } else {
                format!("detected: {}", reasons.first().map_or("", String::as_str))
            };
            format!(
                "declared exposure {} in {by} is ignored: a declaration cannot lower exposure below {} ({why})",
                r.as_str(),
                reach.as_str()
            )
        })
        .collect();
    Resolved { reach, reasons, overridden }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(e: Exposure) -> Stated<Exposure> {
        Stated { value: e, by: "AppPosture shop/web spec.exposure".into() }
    }

    #[test]
    fn declared_raises_never_lowers() {
        let ingress = || (Reach::Internet, vec!["Ingress shop/web".to_string()]);
        let r = resolve(ingress(), &[stated(Exposure::None)], None);
        assert_eq!(r.reach, Reach::Internet);
        assert_eq!(r.reasons, ["Ingress shop/web"]);
        assert_eq!(r.overridden.len(), 1);
        assert!(r.overridden[0].starts_with("declared exposure none in AppPosture shop/web spec.exposure is ignored"));
        let r = resolve((Reach::Internal, vec!["Service".into()]), &[stated(Exposure::Internet)], None);
        assert_eq!((r.reach, r.overridden.len()), (Reach::Internet, 0));
        assert_eq!(r.reasons, ["declared in AppPosture shop/web spec.exposure"]);
        let nothing = || (Reach::None, vec!["no Service selects its workloads".to_string()]);
        assert_eq!(resolve(nothing(), &[stated(Exposure::Auto)], None).reach, Reach::None);
        let floor = Stated { value: Reach::Internet, by: "namespace shop label aspm.stance.dev/exposure".into() };
        let r = resolve(nothing(), &[stated(Exposure::Internal)], Some(floor));
        assert_eq!(r.reach, Reach::Internet);
        assert!(r.overridden[0].contains("the floor set by namespace shop"), "{:?}", r.overridden);
    }
}
