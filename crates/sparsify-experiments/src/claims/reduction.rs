//! Claim 19: the n-feature model with `n = 1` is the single-feature model (`docs/theory.md`
//! §7.8): `sparsify train --optimizer flow --n 1 --step H` kills the same coordinates at the
//! same steps as the seed's Euler loop (`sparsify run`) with `h = 4H` and `lambda/4`, and both
//! converge at order 1 to the flow `dw/dtau = (1 - |w|^2) w - (lambda/4) sign(w)`, `tau = 4t`.

use sparsify_core::InitialWeights;
use sparsify_nfeature::{Noise, Shape, StopReason};

use super::sim::{FirstTimes, adaptive_first_times, euler_first_times};
use super::{Claim, Profile, Worst};
use crate::ExperimentError;
use crate::train::{Dtype, Method, TrainSpec, train};

pub(crate) const STATEMENT: &str = "With n = 1 the n-feature model reduces to the single \
     encoding (loss (|w|^2 - 1)^2 + lambda |w|_1, tau = 4t, lambda_s = lambda/4, \
     docs/theory.md §7.8): the proximal-Euler flow of `train --optimizer flow --n 1 --step H` \
     has the death steps of the seed's Euler loop with h = 4H (up to one step of rounding), \
     and its death times converge at order 1 to the continuous flow solved by \
     sparsify_core::solve (error ratio between H and H/2 in [1.5, 2.5]).";

/// `(m, lambda, seed, steps H)`: fast, m = 100 at H = 0.02 and 0.01; full, m = 400 at H = 0.02,
/// 0.01, 0.005.
fn plan(profile: Profile) -> (usize, f64, u64, &'static [f64]) {
    match profile {
        Profile::Fast => (100, 1e-2, 19, &[0.02, 0.01]),
        Profile::Full => (400, 1e-2, 19, &[0.02, 0.01, 0.005]),
    }
}

/// Claim 19.
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    reduction_with(profile, 0.25)
}

/// The first time (in the n-feature model's `t`) at which at most `k` coordinates are nonzero,
/// `k = 0..=m`, from a run of the flow with `n = 1` and step `h`, recording every step.
fn nfeature_first_times(
    shape: Shape,
    lambda: f64,
    seed: u64,
    h: f64,
    t_end: f64,
) -> Result<(InitialWeights, FirstTimes), ExperimentError> {
    let m = shape.m;
    let spec = TrainSpec {
        shape,
        lambda,
        steps: (t_end / h).ceil() as u64,
        seed,
        method: Method::Flow { h },
        noise: Noise::None,
        dtype: Dtype::F64,
        save_steps: Vec::new(),
        record_every: 1,
    };
    let out = train(&spec, None, &mut |_| {}, &|| false)?;
    if out.summary.stop != StopReason::Completed {
        return Err(ExperimentError::Inconsistent(format!(
            "the n = 1 flow ended with {}",
            out.summary.stop.name()
        )));
    }
    let mut first = vec![f64::NAN; m + 1];
    first[m] = 0.0;
    let mut lowest = m;
    for row in &out.trajectory {
        // One instance and one feature: the mean is the count itself.
        let active = row.mean_active.round() as usize;
        while lowest > active {
            lowest -= 1;
            first[lowest] = row.t;
        }
    }
    // The single-feature solvers take the weights' magnitudes, sorted (§7.8: each |w_j| obeys
    // the seed's flow whatever its sign).
    let w0 = InitialWeights::from_values(out.w0.as_slice().to_vec(), true)?;
    Ok((w0, first))
}

/// The claim with the single-feature L1 strength `lambda_s = scale * lambda` (the theory says
/// `scale = 1/4`; any other scale is the negative control and must fail).
///
/// Measured: the largest difference, in steps, between the death steps of the `n = 1` flow
/// and of the seed's Euler loop with `h = 4H`, `lambda_s` (first step with `m' <= k`, every
/// `k` from `m - 1` to 1, every `H`). Tolerance 1 step: the two loops are the same map in exact
/// arithmetic (§7.8) and differ only in the rounding of `|w|^2`, which can move a death that
/// falls within rounding of a step boundary by one step. Side condition (order 1): with
/// `e(H) = max_k |t_k(H) - t_k|` the error against the continuous flow (adaptive DP5(4) at
/// rtol 1e-10 through `sparsify_core::solve`, times `tau/4`), `e(H)/e(H/2)` lies in
/// `[1.5, 2.5]` for each halving (Euler's global error is `C h + O(h^2)`, §1.7, and a death is
/// recorded at the end of its step, which adds up to one step, also `O(h)`).
pub fn reduction_with(profile: Profile, scale: f64) -> Result<Claim, ExperimentError> {
    let (m, lambda, seed, steps) = plan(profile);
    let shape = Shape::new(1, 1, m)?;
    let lambda_s = scale * lambda;
    // The continuous flow first (from the same W0 as every run: the seed fixes it), to know
    // how long the runs must be: until one coordinate is left, plus 10%.
    let w0 = crate::train::initial_weights(
        &TrainSpec {
            shape,
            lambda,
            steps: 0,
            seed,
            method: Method::Flow { h: steps[0] },
            noise: Noise::None,
            dtype: Dtype::F64,
            save_steps: Vec::new(),
            record_every: 1,
        },
        None,
    )?;
    let w0_abs = InitialWeights::from_values(w0.as_slice().to_vec(), true)?;
    let exact_tau = adaptive_first_times(&w0_abs, lambda_s, 1e-10)?;
    let exact: Vec<f64> = exact_tau.iter().map(|tau| tau / 4.0).collect();
    // The runs' length comes from the model's own flow (lambda/4), whatever `scale` says.
    let t_end = if scale == 0.25 {
        1.1 * exact[1]
    } else {
        1.1 * adaptive_first_times(&w0_abs, lambda / 4.0, 1e-10)?[1] / 4.0
    };
    let mut mismatch = Worst::new();
    let mut errors = Vec::new();
    for &h in steps {
        let (w0_run, flow) = nfeature_first_times(shape, lambda, seed, h, t_end)?;
        if w0_run != w0_abs {
            return Err(ExperimentError::Inconsistent(
                "the training run drew other initial weights than the claim".into(),
            ));
        }
        let euler = euler_first_times(&w0_abs, lambda_s, 4.0 * h)?;
        let mut err = Worst::new();
        for k in 1..m {
            // Both record a death at the end of its step: t = step * H, tau = step * 4H.
            let flow_step = flow[k] / h;
            let euler_step = euler[k] / (4.0 * h);
            mismatch.add((flow_step - euler_step).abs().round());
            err.add((flow[k] - exact[k]).abs());
        }
        errors.push((h, err.get()));
    }
    let ratios: Vec<f64> = errors.windows(2).map(|p| p[0].1 / p[1].1).collect();
    let order_one = !ratios.is_empty() && ratios.iter().all(|r| (1.5..=2.5).contains(r));
    let detail = format!(
        "m = {m}, lambda = {lambda}, lambda_s = {lambda_s}, seed {seed}; time to one left {:.3}; \
         max |t(H) - t_flow|: {}; ratios {}",
        exact[1],
        errors
            .iter()
            .map(|(h, e)| format!("H = {h}: {e:.4}"))
            .collect::<Vec<_>>()
            .join(", "),
        ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Claim::new(
        19,
        "n_equals_1_is_the_single_feature_model",
        STATEMENT,
        mismatch.get(),
        1.0,
        detail,
    )
    .require(
        order_one,
        "order-1 convergence to the flow (error ratios in [1.5, 2.5])",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_the_factor_four_fails() {
        // Negative control: lambda_s = lambda (not lambda/4) kills coordinates far earlier in
        // the single-feature loop than in the n = 1 model.
        let claim = reduction_with(Profile::Fast, 1.0).unwrap();
        assert!(!claim.pass, "{}", claim.detail);
        assert!(claim.measured > 10.0, "{}", claim.detail);
    }
}
