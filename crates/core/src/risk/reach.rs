//! Network reach: who can reach a workload or an application, as risk scoring and policy
//! matching see it — the one place where a declared [`Exposure`] and detected exposure
//! become a [`Reach`].
//!
//! The rule: a declared exposure (`internet`, `internal`, `none`) wins; with `auto` the
//! strongest detected reach counts, and nothing detected means [`Reach::None`] (the
//! detector's own answer: no Service selects the workloads). [`Reach::Unknown`] is kept for
//! findings seen outside any application (a bare `stance findings` run).

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
    fn rank(self) -> u8 {
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

/// The strongest of several declared exposures (a workload in several applications);
/// `None` when every one is `auto`.
pub fn strongest_declared(exposures: impl IntoIterator<Item = Exposure>) -> Option<Reach> {
    exposures.into_iter().filter_map(declared).max_by_key(|r| r.rank())
}

/// The reach to use: the declared one when there is one, else the strongest detected,
/// else [`Reach::None`].
pub fn resolve(declared: Option<Reach>, detected: impl IntoIterator<Item = Reach>) -> Reach {
    declared.unwrap_or_else(|| detected.into_iter().max_by_key(|r| r.rank()).unwrap_or(Reach::None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_wins_and_auto_with_nothing_detected_is_none() {
        assert_eq!(resolve(declared(Exposure::Internal), [Reach::Internet]), Reach::Internal);
        assert_eq!(resolve(declared(Exposure::Auto), [Reach::Internal, Reach::Internet]), Reach::Internet);
        assert_eq!(resolve(declared(Exposure::Auto), []), Reach::None);
        assert_eq!(strongest_declared([Exposure::Auto, Exposure::None, Exposure::Internal]), Some(Reach::Internal));
        assert_eq!(strongest_declared([Exposure::Auto]), None);
    }
}
