//! How much work an evaluation may do before it stops: the caller decides what a budget
//! measures (the webhook: a slice of wall time on its reactor thread), the core only asks
//! between units of work. The core reads no clock.
//!
//! Why: the webhook answers most reviews inline, on the thread that read them, because the
//! hand-off to a blocking thread cost more than the evaluation itself (BENCHMARKS.md,
//! "Evaluation inline"); an evaluation that turns out to be long must stop and be re-run on
//! the blocking pool, where the deadline guard holds. Evaluation is pure, so a stopped run
//! leaves nothing behind and the re-run gives the same verdict.

use std::convert::Infallible;

/// A limit checked between units of work (one policy against one workload).
pub trait Budget {
    /// What running out means ([`Infallible`] for a budget that never runs out).
    type Exhausted;
    /// `Err` stops the evaluation; called before each unit of work.
    fn check(&self) -> Result<(), Self::Exhausted>;
}

/// The budget of every caller that must finish: `stance check`, the operator, the
/// webhook's blocking pool (whose deadline is guarded outside the evaluation).
#[derive(Copy, Clone, Debug, Default)]
pub struct Unlimited;

impl Budget for Unlimited {
    type Exhausted = Infallible;

    fn check(&self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A budget of a fixed number of units: for tests of what a stopped evaluation does.
#[derive(Debug)]
pub struct Units(pub std::cell::Cell<usize>);

/// [`Units`] ran out.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OutOfUnits;

impl Budget for Units {
    type Exhausted = OutOfUnits;

    fn check(&self) -> Result<(), OutOfUnits> {
        let left = self.0.get();
        if left == 0 {
            return Err(OutOfUnits);
        }
        self.0.set(left - 1);
        Ok(())
    }
}
