//! Which solver runs, and the work it reports.

use std::fmt;
use std::str::FromStr;

/// The solver of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The published Euler loop on the whole vector ([`crate::EulerSim`], or
    /// [`crate::DynamicsEuler`] for other dynamics): O(m') per step.
    Direct,
    /// The same Euler recursion on `(alpha, beta)` with prefix moments
    /// ([`crate::ReducedSim`]): O(m log m) set-up, O(1) per step.
    Reduced,
    /// The continuous-time flow by Dormand-Prince 5(4) with step-size control and located
    /// deaths ([`crate::adaptive`]).
    Adaptive,
}

impl Method {
    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Method::Direct => "direct",
            Method::Reduced => "reduced",
            Method::Adaptive => "adaptive",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "direct" => Ok(Method::Direct),
            "reduced" => Ok(Method::Reduced),
            "adaptive" => Ok(Method::Adaptive),
            _ => Err(format!(
                "unknown method '{s}': use direct, reduced or adaptive"
            )),
        }
    }
}

/// The work a solver did: comparable across methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SolverCounts {
    /// Accepted steps.
    pub steps: u64,
    /// Rejected steps (adaptive only; 0 for Euler).
    pub rejected: u64,
    /// Evaluations of the right-hand side (one per Euler step; six or seven per adaptive try).
    pub evals: u64,
    /// Death events: Euler steps after which `m'` changed, or located crossings (adaptive).
    pub events: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for m in [Method::Direct, Method::Reduced, Method::Adaptive] {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
            assert_eq!(m.to_string(), m.name());
        }
        assert!("rk4".parse::<Method>().unwrap_err().contains("rk4"));
    }
}
