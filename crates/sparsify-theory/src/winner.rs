//! The winner: the relative gap of the two largest weights and the final weight.
//!
//! # References
//! docs/theory.md §2 and §6; the seed gist (Victor Lecomte, 2023), whose `gamma` recursion
//! `gamma <- gamma (1 + lambda h / w_max)` approximates [`relative_gap`].

use crate::error::{TheoryError, finite, positive};

/// The exact relative gap of the two largest weights, `(w0_0 - w0_1) / (w0_0 - theta)`.
///
/// Since every survivor is `alpha (w0_j - theta)`, the gap `(w_0 - w_1)/w_0` of the current
/// weights depends on `theta` alone. It grows from `(w0_0 - w0_1)/w0_0` at `theta = 0` to 1 at
/// `theta = w0_1`, when the runner-up dies. Unit-free.
///
/// # Errors
/// [`TheoryError::InvalidParameter`] unless `w0_first >= w0_second > 0` (finite) and
/// `theta < w0_first`.
///
/// # References
/// docs/theory.md §2 and §6.
pub fn relative_gap(w0_first: f64, w0_second: f64, theta: f64) -> Result<f64, TheoryError> {
    positive("w0_second", w0_second)?;
    finite("w0_first", w0_first)?;
    if w0_first < w0_second {
        return Err(TheoryError::InvalidParameter {
            name: "w0_first",
            value: w0_first,
            valid: format!(">= w0_second = {w0_second}"),
        });
    }
    finite("theta", theta)?;
    if theta >= w0_first {
        return Err(TheoryError::InvalidParameter {
            name: "theta",
            value: theta,
            valid: format!("< w0_first = {w0_first}"),
        });
    }
    Ok((w0_first - w0_second) / (w0_first - theta))
}

/// The largest `lambda` for which the last survivor has a positive fixed point:
/// `2 / (3 sqrt 3)`.
pub const LAMBDA_MAX_FIXED_POINT: f64 = 0.384_900_179_459_750_5;

/// The first-order final weight of the single survivor, `1 - lambda/2`.
///
/// With one survivor `w' = (1 - w^2) w - lambda`; its stable fixed point solves
/// `w^3 - w + lambda = 0`, and `w = 1 - d` gives `-2 d + lambda + O(d^2) = 0`. Error
/// `O(lambda^2)`: the exact root [`final_weight`] is `1 - lambda/2 - 3 lambda^2/8 + O(lambda^3)`.
///
/// # Errors
/// [`TheoryError::InvalidParameter`] unless `0 < lambda <= 2/(3 sqrt 3)`.
///
/// # References
/// docs/theory.md §1 (the flow); the seed gist's final state.
pub fn final_weight_first_order(lambda: f64) -> Result<f64, TheoryError> {
    check_lambda(lambda)?;
    Ok(1.0 - lambda / 2.0)
}

/// The exact final weight: the largest root of `w^3 - w + lambda = 0`.
///
/// Computed by Newton's method from `w = 1` (the cubic is convex for `w > 0`, so the iterates
/// decrease monotonically to the root), stopped when the step stops shrinking.
///
/// # Errors
/// [`TheoryError::InvalidParameter`] unless `0 < lambda <= 2/(3 sqrt 3)` (beyond it the
/// survivor decays to 0).
///
/// # References
/// docs/theory.md §1.
pub fn final_weight(lambda: f64) -> Result<f64, TheoryError> {
    check_lambda(lambda)?;
    let mut w: f64 = 1.0;
    let mut last_step = f64::INFINITY;
    for _ in 0..200 {
        let slope = 3.0 * w * w - 1.0;
        if slope <= 0.0 {
            break;
        }
        let step = (w * w * w - w + lambda) / slope;
        if step.abs() >= last_step || step == 0.0 {
            break;
        }
        w -= step;
        last_step = step.abs();
    }
    // At the double root (lambda = 2/(3 sqrt 3)) Newton converges only linearly to
    // 1/sqrt 3; the loop above still ends within 200 steps near it.
    Ok(w.max(1.0 / 3.0_f64.sqrt()))
}

fn check_lambda(lambda: f64) -> Result<f64, TheoryError> {
    if lambda.is_finite() && lambda > 0.0 && lambda <= LAMBDA_MAX_FIXED_POINT {
        Ok(lambda)
    } else {
        Err(TheoryError::InvalidParameter {
            name: "lambda",
            value: lambda,
            valid: format!("in (0, {LAMBDA_MAX_FIXED_POINT}] (2/(3 sqrt 3))"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_values() {
        assert_eq!(relative_gap(1.0, 0.75, 0.0).unwrap(), 0.25);
        assert_eq!(relative_gap(1.0, 0.75, 0.75).unwrap(), 1.0);
        assert_eq!(relative_gap(1.0, 0.75, 0.5).unwrap(), 0.5);
        assert!(relative_gap(0.5, 0.75, 0.0).is_err());
        assert!(relative_gap(1.0, 0.75, 1.0).is_err());
        assert!(relative_gap(1.0, 0.0, 0.0).is_err());
    }

    #[test]
    fn final_weight_is_the_root_and_first_order_is_close() {
        for lambda in [1e-5, 1e-3, 0.1, 0.3] {
            let w = final_weight(lambda).unwrap();
            // A root to rounding: |w^3 - w + lambda| within a few ulps of the terms (~1).
            assert!((w * w * w - w + lambda).abs() < 1e-15, "{lambda}: {w}");
            // The root is 1 - lambda/2 - 3 lambda^2/8 + O(lambda^3): check the coefficient to
            // 1e-2 for lambda <= 1e-3 (the next term changes it by O(lambda) = 1e-3; rounding
            // of w near 1 costs 1e-16 / lambda^2 = 1e-6 at lambda = 1e-5).
            if lambda <= 1e-3 {
                let d = w - final_weight_first_order(lambda).unwrap();
                assert!(
                    (d / (lambda * lambda) + 0.375).abs() < 1e-2,
                    "{lambda}: {d}"
                );
            }
        }
        assert!(final_weight(0.5).is_err());
        assert!(final_weight_first_order(0.0).is_err());
        let at_max = final_weight(LAMBDA_MAX_FIXED_POINT).unwrap();
        assert!((at_max - 1.0 / 3.0_f64.sqrt()).abs() < 1e-7, "{at_max}");
        assert!((LAMBDA_MAX_FIXED_POINT - 2.0 / (3.0 * 3.0_f64.sqrt())).abs() < 1e-16);
    }
}
