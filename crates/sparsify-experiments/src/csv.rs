//! The CSV formats that `sparsify run` and a sweep's cells share, written in one place so that
//! a trajectory from either reads the same: floats in their shortest round-trip form (`nan` for
//! NaN), a step number or an empty field for an instant off the Euler grid.

use sparsify_core::StepStats;

/// A float as every CSV and table of sparsify writes it: Rust's shortest round-trip digits, in
/// `{:?}` form.
///
/// `{:?}` rather than `{}`: both print the shortest digits that read back to the same `f64`,
/// but `{}` never uses an exponent (1e-300 would be 300 zeros), while `{:?}` switches to
/// `1.5e-7` outside `[1e-4, 1e16)`, like Python's `repr` (whose reference files these outputs
/// are compared with; Python writes `e-07` where Rust writes `e-7`, and both read either).
/// NaN is written `nan` and infinities `inf`/`-inf`, which Python's `float()` and pandas read.
pub fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        "nan".to_owned()
    } else {
        format!("{x:?}")
    }
}

/// The header of a trajectory CSV.
pub const TRAJECTORY_HEADER: &str =
    "step,t,m_prime,one_norm,sq_norm,w_max,w_min,relative_variance,gamma";

/// The header of a deaths CSV.
pub const DEATHS_HEADER: &str = "step,t,m_prime";

/// A step number, or an empty field for an instant off the Euler grid (adaptive runs).
fn step_field(step: Option<u64>) -> String {
    step.map_or_else(String::new, |k| k.to_string())
}

/// One trajectory row (without the line break), in [`TRAJECTORY_HEADER`]'s order.
pub fn trajectory_row(step: Option<u64>, s: &StepStats) -> String {
    let floats = [
        s.one_norm,
        s.sq_norm,
        s.w_max,
        s.w_min,
        s.relative_variance,
        s.gamma,
    ]
    .map(fmt_f64)
    .join(",");
    format!(
        "{},{},{},{floats}",
        step_field(step),
        fmt_f64(s.t),
        s.m_prime
    )
}

/// One deaths row (without the line break), in [`DEATHS_HEADER`]'s order.
pub fn deaths_row(step: Option<u64>, t: f64, m_prime: usize) -> String {
    format!("{},{},{m_prime}", step_field(step), fmt_f64(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_and_nan_is_written_as_numpy_reads_it() {
        for x in [0.1, 1e-300, 5e-324, 1.0 / 3.0, 1e300, -2.5] {
            assert_eq!(fmt_f64(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
        assert_eq!(fmt_f64(f64::NAN), "nan");
        assert_eq!(deaths_row(None, 0.5, 3), ",0.5,3");
        assert_eq!(deaths_row(Some(7), 3.5, 2), "7,3.5,2");
    }
}
