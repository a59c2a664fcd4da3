//! Integration tests: theory against simulation.
//!
//! One test per claim of `sparsify_experiments::claims` (`claim_NN_<name>`), each at the fast profile:
//! it must pass and its measured value must be finite and say something (a count over a
//! non-empty set, an error that is not trivially zero). Negative controls show that a check can
//! fail: a wrong prediction or a tolerance below the measurement. Then the checks docs/theory.md
//! reports as done ("checked"), reproduced, and `sparsify predict` / `sparsify verify` through
//! the command-line library.

use sparsify_core::{InitialWeights, ReducedConfig, ReducedSim};
use sparsify_experiments::claims::{
    self, Claim, Profile, Reference, continuum_errors, death_time_errors, predicted_first_times,
    simulated_first_times,
};
use sparsify_experiments::polysemantic::Training;
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig, death_times};
use sparsify_theory::published::SeedPrediction;

use crate::common::{csv, num, w0};

/// Runs claim `id` at the fast profile and checks that it passes with a finite measurement.
fn passing(id: u32) -> Claim {
    let c = claims::run_claim(id, Profile::Fast).expect("the claim exists");
    eprintln!(
        "claim {id}: measured {} (tolerance {}) in {:.2} s; {}",
        c.measured, c.tolerance, c.seconds, c.detail
    );
    assert!(c.pass, "claim {id} failed: {}", c.detail);
    assert!(c.measured.is_finite(), "claim {id}: {}", c.measured);
    assert_eq!(c.id, id);
    c
}

#[test]
fn claim_01_winner_take_all() {
    let c = passing(1);
    // A count of failures: meaningful only if seeds were tried.
    assert_eq!(c.measured, 0.0);
    assert!(c.detail.contains("0 of 26 seeds"), "{}", c.detail);
    // Negative control: predicting the smallest initial weight must fail on every seed.
    let argmin = |w: &[f64]| {
        (0..w.len())
            .min_by(|&i, &j| w[i].total_cmp(&w[j]))
            .unwrap_or(0)
    };
    let wrong = claims::winner_take_all_with(Profile::Fast, argmin);
    assert!(!wrong.pass && wrong.measured == 26.0, "{wrong:?}");
}

#[test]
fn claim_02_order_and_relative_variance_bounds() {
    let c = passing(2);
    // The closest approach to a bound is negative (inside) and not vanishingly small: the
    // relative variance really is strictly between the bounds.
    assert!(c.measured < 0.0 && c.measured > -1e-2, "{}", c.measured);
}

#[test]
fn claim_03_closed_form_death_times() {
    let c = passing(3);
    // The worst error is a real fraction of the tolerance (Euler's shift of ~2 time units
    // against 3), not zero.
    assert!(c.measured > 0.1, "{}", c.measured);
    // Negative control: the leading-order form is off by 0.3 to 3 time units against the flow
    // (docs/theory.md §3), so the corrected form's 0.2 tolerance must reject it.
    let w = InitialWeights::quantile(5_000, None).expect("valid");
    let lambda = 2e-4;
    let flow = simulated_first_times(&w, lambda, Reference::Adaptive).expect("runs");
    let leading = predicted_first_times(&w, lambda, Order::Leading).expect("valid");
    let corrected = predicted_first_times(&w, lambda, Order::FirstOrder).expect("valid");
    let bad = death_time_errors(&leading, &flow, 0.2, 1e-3);
    let good = death_time_errors(&corrected, &flow, 0.2, 1e-3);
    assert!(bad.worst_normalised > 1.0, "{bad:?}");
    assert!(good.worst_normalised <= 1.0, "{good:?}");
    assert_eq!(bad.compared, 2_500);
}

#[test]
fn claim_04_continuum_matches_quantile_simulation() {
    let c = passing(4);
    assert!(c.measured > 0.01, "{}", c.measured);
}

#[test]
fn claim_05_balance() {
    let c = passing(5);
    // a/(lambda ||w||_1) - 1 = O(a) with a up to 2.3e-3 on the published run: measured
    // 2.8e-3, so it is not zero and the 1% tolerance is not vacuous.
    assert!(c.measured > 1e-4, "{}", c.measured);
}

#[test]
fn claim_06_m_prime_identity() {
    let c = passing(6);
    assert!(
        c.measured > 0.0,
        "rounding leaves some residual: {}",
        c.measured
    );
    assert!(c.detail.contains("published m' is low by"), "{}", c.detail);
}

#[test]
fn claim_07_relative_variance_limits() {
    let c = passing(7);
    // The largest |z| over 36 seeds is of order 1-3 for a correct centre and spread.
    assert!(c.measured > 0.3, "{}", c.measured);
    // Negative control: a tolerance below the measured z-score fails.
    assert!(!c.clone().with_tolerance(c.measured / 2.0).pass);
    // The standard error is the delta method's, sqrt(g' Sigma g / m) with the half-normal
    // moments: 0.02643 at m = 1e3 (computed independently in Python from the same formula).
    assert!((claims::start_standard_error(1_000) - 0.02643).abs() < 1e-4);
}

#[test]
fn claim_08_time_to_one_neuron() {
    let c = passing(8);
    // lambda T deviates from exact 1/lambda scaling by the first-order term, 1e-3 at
    // lambda = 1e-3 here: visible, and far inside 1e-2.
    assert!(c.measured > 1e-4, "{}", c.measured);
    for m in ["m = 1000 (200 seeds)", "m = 10000", "m = 100000"] {
        assert!(c.detail.contains(m), "{}", c.detail);
    }
    // The Monte Carlo summary is ordered and positive.
    let samples = claims::lambda_t_samples(1_000, 0..50).expect("runs");
    let s = claims::lambda_t_summary(1_000, &samples);
    assert!(0.0 < s.q05 && s.q05 < s.q50 && s.q50 < s.q95, "{s:?}");
    assert_eq!(s.seeds, 50);
}

#[test]
fn claim_09_gamma_recursion() {
    let c = passing(9);
    assert!(c.measured > 1e-6, "{}", c.measured);
    // Negative control: the same measurement against a tolerance it exceeds.
    let strict = c.clone().with_tolerance(c.measured / 10.0);
    assert!(!strict.pass);
}

#[test]
fn claim_10_final_weight() {
    let c = passing(10);
    // The second-order coefficient is -3/8: the measurement sees it.
    assert!(c.measured > 0.2, "{}", c.measured);
    // Negative control: a prediction wrong at first order, 1 - lambda.
    let wrong = claims::final_weight_with(Profile::Fast, |lambda| 1.0 - lambda);
    assert!(!wrong.pass && wrong.measured > 400.0, "{wrong:?}");
}

#[test]
fn claim_11_euler_order_one() {
    let c = passing(11);
    assert!(c.measured > 0.0, "{}", c.measured);
}

#[test]
fn claim_12_reduced_equals_direct() {
    let c = passing(12);
    assert_eq!(c.measured, 0.0);
    assert!(c.detail.contains("5 runs"), "{}", c.detail);
}

#[test]
fn claim_13_polysemantic_neurons_are_opposite_sign() {
    let c = passing(13);
    assert!(c.detail.contains("polysemantic neurons"), "{}", c.detail);
    // Negative control: the same runs measured for same-sign neurons must fail.
    let wrong = claims::opposite_sign_with(Profile::Fast, false).expect("runs");
    assert!(!wrong.pass, "{}", wrong.detail);
}

/// The fast profile's measurements of claims 14-16 (shared through the claims' cache) with
/// `extra` polysemantic neurons added to every mean count.
fn shifted_band_points(training: Training, extra: f64) -> Vec<claims::BandPoint> {
    let data = claims::measurements(Profile::Fast, training).expect("runs");
    data.iter()
        .flat_map(|(n, points)| {
            points.iter().map(move |p| claims::BandPoint {
                n: *n,
                m: p.m,
                mean: p.polysemantic_mean_std().0 + extra,
                band: p.band,
                occupancy: p.occupancy_mean,
            })
        })
        .collect()
}

#[test]
fn claim_14_flow_count_in_relocation_band() {
    let c = passing(14);
    assert!(c.detail.contains("m = 128"), "{}", c.detail);
    // Negative control: two more polysemantic neurons per instance leave the band (its
    // half-width is about 1 at the fast profile's m >= 2n), and the claim fails.
    let wrong = claims::band_verdict(14, "t", "s", 2, &shifted_band_points(Training::flow(), 2.0));
    assert!(!wrong.pass, "{}", wrong.detail);
}

#[test]
fn claim_15_adamw_count_in_relocation_band() {
    let c = passing(15);
    assert!(c.detail.contains("m = 128"), "{}", c.detail);
    let wrong = claims::band_verdict(
        15,
        "t",
        "s",
        4,
        &shifted_band_points(Training::paper_adamw(), 2.0),
    );
    assert!(!wrong.pass, "{}", wrong.detail);
}

#[test]
fn claim_16_winner_fraction_rises_with_m_over_n() {
    let c = passing(16);
    assert!(c.detail.contains("rho"), "{}", c.detail);
    // Negative control: the flow's fractions in reverse order of m must fail.
    let flow = claims::measurements(Profile::Fast, Training::flow()).expect("runs");
    let adamw = claims::measurements(Profile::Fast, Training::paper_adamw()).expect("runs");
    let (n, f) = &flow[0];
    let a = &adamw[0].1;
    let reversed: Vec<claims::WinnerPoint> = f
        .iter()
        .zip(a)
        .zip(f.iter().rev())
        .map(|((pf, pa), back)| claims::WinnerPoint {
            n: *n,
            m: pf.m,
            flow: back.winner_mean_std().0,
            adamw: pa.winner_mean_std().0,
        })
        .collect();
    assert!(!claims::winner_verdict(&reversed).pass);
}

#[test]
fn claim_17_initial_argmax_collisions() {
    let c = passing(17);
    assert!(
        c.measured > 0.0,
        "a z-score of exactly 0 would be suspicious"
    );
    assert!(c.detail.contains("n = 256"), "{}", c.detail);
    // Negative control: neurons of unequal variance make the argmax non-uniform.
    let tilted = claims::collisions_with(Profile::Fast, claims::Draw::Tilted).expect("draws");
    assert!(!tilted.pass, "{}", tilted.detail);
}

#[test]
fn claim_18_bernoulli_noise_raises_the_fourth_norm() {
    let c = passing(18);
    // Both thresholds are met with room: the ratio to the nearer one is below 1.
    assert!(c.measured > 0.0 && c.measured < 1.0, "{}", c.detail);
    // Negative control: Bernoulli noise of sigma 0.07 does not get there in the fast steps.
    let weak = claims::noise_with(Profile::Fast, &[0.07]).expect("runs");
    assert!(!weak.pass, "{}", weak.detail);
}

#[test]
fn claim_19_n_equals_1_is_the_single_feature_model() {
    let c = passing(19);
    assert!(c.detail.contains("ratios"), "{}", c.detail);
    // Negative control: the single-feature loop with lambda instead of lambda/4.
    let wrong = claims::reduction_with(Profile::Fast, 1.0).expect("runs");
    assert!(!wrong.pass, "{}", wrong.detail);
}

/// Every claim has a test above, and the registry is in order.
#[test]
fn every_claim_is_registered_in_order() {
    let ids: Vec<u32> = claims::CLAIMS.iter().map(|c| c.id).collect();
    assert_eq!(ids, (1..=19).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// docs/theory.md's "checked" statements, reproduced.

/// First time with m' <= n from a reference deaths file, as `first[n]`.
fn reference_first_times(prefix: &str, m: usize) -> Vec<f64> {
    let (_, rows) = csv(&format!("{prefix}.deaths.csv"));
    let mut first = vec![f64::NAN; m + 1];
    first[m] = 0.0;
    let mut lowest = m;
    for r in rows {
        let (t, mp): (f64, usize) = (num(&r[1]), num(&r[2]));
        while lowest > mp {
            lowest -= 1;
            first[lowest] = t;
        }
    }
    first
}

/// docs/theory.md §2: the reduced solver reproduced all 7,456 m'-change events of the seed's
/// m = 1e5 run exactly.
#[test]
fn theory_reduced_solver_reproduces_the_7456_events() {
    let (_, rows) = csv("paper_m1e5_l1e-5.deaths.csv");
    let reference: Vec<(u64, usize)> = rows.iter().map(|r| (num(&r[0]), num(&r[2]))).collect();
    assert_eq!(reference.len(), 7_456);
    let w = InitialWeights::from_values(w0("paper_m1e5_l1e-5"), false).expect("fixture");
    let mut sim = ReducedSim::new(ReducedConfig::new(1e-5, 0.5).expect("valid"), w).expect("ok");
    let mut events = Vec::new();
    let mut last = sim.m_prime();
    while !sim.is_done() {
        sim.advance(u64::MAX).expect("stable");
        let s = sim.stats();
        if s.m_prime != last {
            events.push((s.step, s.m_prime));
            last = s.m_prime;
        }
    }
    assert_eq!(events, reference);
}

/// docs/theory.md §3: on the reference run (m = 1e5, lambda = 1e-5, h = 0.5) the leading
/// closed form matches the simulated first time at which m' drops to n, for every n from
/// 50,000 down to 1, within about 2 time units (relative 1e-4 or better). "About 2": the
/// measured worst is 1.78 (Euler's O(h) shift, up to ~(h/4) ln(F(0)/F) ~ 2, plus up to one
/// step of recording), asserted <= 2.5. Relative: 1e-4 holds once t >= 2e4 (the bulk of the
/// run); early on a fixed ~1 time-unit offset is a larger fraction of a small t.
#[test]
fn theory_leading_form_within_two_time_units_of_the_reference() {
    let m = 100_000;
    let sim = reference_first_times("paper_m1e5_l1e-5", m);
    let w = InitialWeights::from_values(w0("paper_m1e5_l1e-5"), false).expect("fixture");
    let leading = predicted_first_times(&w, 1e-5, Order::Leading).expect("valid");
    let all = death_time_errors(&leading, &sim, 2.5, 0.0);
    eprintln!("leading vs reference: {all:?}");
    assert!(all.max_abs <= 2.5 && all.max_abs > 1.0, "{all:?}");
    let late_rel = claims::worst(
        (1..=m / 2)
            .filter(|&n| sim[n] >= 2e4)
            .map(|n| (leading[n - 1] - sim[n]).abs() / sim[n]),
    );
    assert!(late_rel <= 1e-4, "{late_rel}");
}

/// `F(theta) = sum_j (w0_j - theta)_+^2`, summed directly.
fn f_direct(w: &[f64], theta: f64) -> f64 {
    w.iter().map(|&x| (x - theta).max(0.0).powi(2)).sum()
}

/// docs/theory.md §3: against the flow (m = 5e3, lambda = 2e-4) the leading term alone is
/// off by 0.3 to 3 time units, up to 4e-3 relative early on; the first-order form by a
/// constant ~0.06 (the transient's time shift, 0.0570 for ||w0||_2 = 0.9), which the shift
/// removes. And with h = 0.5 Euler adds `(h/4) ln(F(0)/F(theta))`.
///
/// Weights: quantile (docs/theory.md does not say which; the quantile start is deterministic and
/// has ||w0||_2 = 0.9 to 1e-4). The flow is the adaptive solver at rtol 1e-9 (error ~1e-4
/// time units at most, far below every bound here).
#[test]
fn theory_first_order_form_is_off_by_the_transient_shift_only() {
    let (m, lambda) = (5_000, 2e-4);
    let w = InitialWeights::quantile(m, None).expect("valid");
    let flow = simulated_first_times(&w, lambda, Reference::Adaptive).expect("runs");
    let leading = predicted_first_times(&w, lambda, Order::Leading).expect("valid");
    let lead = death_time_errors(&leading, &flow, 1.0, 0.0);
    // "Off by 0.3 to 3": the largest error is in that range, and so is the error at the end.
    assert!((0.3..=3.0).contains(&lead.max_abs), "{lead:?}");
    let end = (leading[0] - flow[1]).abs();
    assert!((0.3..=3.0).contains(&end), "{end}");
    // "Up to 4e-3 relative early on": 5.6e-3 on these weights (docs/theory.md's were not
    // recorded), the same order; early, where t is small.
    assert!((1e-3..=1e-2).contains(&lead.max_rel), "{lead:?}");
    // First order without the shift: every error within 0.02 of the constant 0.057 (the
    // second-order remainder and the O(lambda) change of F during the transient).
    let cfg = PredictionConfig::new(lambda, Order::FirstOrder, Discretisation::Continuous, false)
        .expect("valid");
    let unshifted = death_times(w.as_slice(), &cfg).expect("valid");
    let offsets: Vec<f64> = (1..=m / 2)
        .map(|n| unshifted.as_slice()[n - 1] - flow[n])
        .collect();
    let (lo, hi) = offsets
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    eprintln!("first order without shift: offsets in [{lo}, {hi}]");
    assert!(lo >= 0.037 && hi <= 0.077, "[{lo}, {hi}]");
    // With the shift the constant is gone: within 0.02 everywhere.
    let corrected = predicted_first_times(&w, lambda, Order::FirstOrder).expect("valid");
    let c = death_time_errors(&corrected, &flow, 0.02, 0.0);
    assert!(c.max_abs <= 0.02, "{c:?}");
    // Euler with h = 0.5 against the flow: the difference is (h/4) ln(F(0)/F(w0[n])) up to
    // one step of recording (deaths are recorded at the step boundary after the crossing).
    let h = 0.5;
    let euler = simulated_first_times(&w, lambda, Reference::Euler { h }).expect("runs");
    let ws = w.as_slice();
    let f0 = f_direct(ws, 0.0);
    let worst = claims::worst((1..=m / 2).map(|n| {
        let shape = h / 4.0 * (f0 / f_direct(ws, ws[n])).ln();
        let diff = euler[n] - flow[n];
        // Distance from the recording interval [shape, shape + h] (NaN stays NaN).
        if diff.is_nan() {
            f64::NAN
        } else {
            (shape - diff).max(diff - shape - h).max(0.0)
        }
    }));
    assert!(worst <= 0.05, "{worst}");
}

/// docs/theory.md §4: the continuum is within 0.06% of the quantile-initialised simulation
/// for m' >= 1000 and within 1% for m' >= 50 (m = 1e5, lambda = 1e-5), where the seed's own
/// prediction is off by a factor 2 to 3. Measured here: 0.03% and 0.10%; the seed's factor is
/// between 1.9 and 3.1 over m' = m/10 .. 50 (asserted [1.8, 3.2]).
#[test]
fn theory_continuum_within_six_hundredths_of_a_percent() {
    let c = continuum_errors(100_000, 1e-5, 0.5).expect("runs");
    eprintln!("continuum: {c:?}");
    assert!(c.above_1000 <= 6e-4 && c.above_50 <= 1e-2, "{c:?}");
    let m = 100_000;
    let w = InitialWeights::quantile(m, None).expect("valid");
    let sim = simulated_first_times(&w, 1e-5, Reference::Euler { h: 0.5 }).expect("runs");
    let seed = SeedPrediction::new(m, 1e-5).expect("valid");
    let factors: Vec<f64> = sim
        .iter()
        .enumerate()
        .take(m / 10 + 1)
        .skip(50)
        .map(|(n, &t)| n as f64 / seed.m_prime(t).expect("t >= 0"))
        .collect();
    let (lo, hi) = (
        -claims::worst(factors.iter().map(|f| -f)),
        claims::worst(factors.iter().copied()),
    );
    eprintln!("seed prediction low by x{lo}..x{hi}");
    assert!(lo >= 1.8 && hi <= 3.2, "{lo} {hi}");
}

// ---------------------------------------------------------------------------------------------
// The command line: `sparsify predict` and `sparsify verify`.

/// Runs the CLI in-process; returns (exit code, stdout, stderr).
fn cli(args: &[&str]) -> (u8, String, String) {
    crate::common::sparsify_in_process(args, false)
}

#[test]
fn predict_writes_every_death_time_equal_to_the_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("pred.csv");
    let out_s = out.to_str().expect("utf-8 path");
    let (code, _, err) = cli(&[
        "predict", "--m", "1000", "--seed", "3", "--lambda", "1e-3", "--step", "0.5", "--out",
        out_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).expect("written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("m_prime,t"));
    let rows: Vec<(usize, f64)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').expect("two fields");
            (num(a), num(b))
        })
        .collect();
    assert_eq!(rows.len(), 999);
    assert_eq!((rows[0].0, rows[998].0), (999, 1));
    assert!(rows.windows(2).all(|p| p[1].1 >= p[0].1), "times increase");
    // The same numbers as the library (written with round-trip digits).
    let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(3);
    let w = InitialWeights::half_normal(&mut rng, 1000, None).expect("valid");
    let cfg = PredictionConfig::new(
        1e-3,
        Order::FirstOrder,
        Discretisation::Euler { h: 0.5 },
        true,
    )
    .expect("valid");
    let lib = death_times(w.as_slice(), &cfg).expect("valid");
    for &(n, t) in &rows {
        assert_eq!(t, lib.as_slice()[n - 1].max(0.0), "m' = {n}");
    }
}

#[test]
fn predict_on_tied_weights_writes_inf_for_the_tied_top_and_never_goes_backwards() {
    // Issue 8: on five equal weights above a smaller one, `predict` wrote m' = 4..1 at t = 0
    // after m' = 5 at t = 304 (the prefix mean of 0.1s rounds above 0.1). A tied top group
    // never dies; a tied group below the top dies at one time.
    use npyz::WriterBuilder;
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, Vec<f64>, usize); 3] = [
        ("top", vec![0.1, 0.1, 0.1, 0.1, 0.1, 0.05], 5),
        ("middle", vec![0.3, 0.1, 0.1, 0.1, 0.05], 1),
        ("all", vec![0.7; 4], 4),
    ];
    for (name, w, top) in cases {
        let init = dir.path().join(format!("{name}.npy"));
        let file = std::fs::File::create(&init).expect("create npy");
        let mut npy = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&[w.len() as u64])
            .writer(std::io::BufWriter::new(file))
            .begin_nd()
            .expect("npy header");
        npy.extend(w.iter().copied()).expect("npy data");
        npy.finish().expect("npy finish");
        let out = dir.path().join(format!("{name}.csv"));
        let (code, _, err) = cli(&[
            "predict",
            "--init-file",
            init.to_str().expect("utf-8 path"),
            "--lambda",
            "1e-3",
            "--out",
            out.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let text = std::fs::read_to_string(&out).expect("written");
        let rows: Vec<(usize, f64)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let (a, b) = l.split_once(',').expect("two fields");
                (num(a), num(b))
            })
            .collect();
        assert_eq!(rows.len(), w.len() - 1, "{name}");
        for &(m_prime, t) in &rows {
            assert!(!t.is_nan(), "{name}: m' = {m_prime}");
            assert_eq!(
                t.is_infinite(),
                m_prime < top,
                "{name}: m' = {m_prime} at {t}"
            );
        }
        assert!(
            rows.windows(2).all(|p| p[1].1 >= p[0].1),
            "{name}: {rows:?}"
        );
    }
}

#[test]
fn predict_summary_records_what_the_csv_was_predicted_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, summary) = (dir.path().join("p.csv"), dir.path().join("p.json"));
    let (out_s, summary_s) = (
        out.to_str().expect("utf-8"),
        summary.to_str().expect("utf-8"),
    );
    let (code, _, err) = cli(&[
        "predict",
        "--m",
        "500",
        "--rng",
        "numpy",
        "--seed",
        "4",
        "--lambda",
        "1e-3",
        "--out",
        out_s,
        "--summary",
        summary_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("written")).expect("json");
    assert_eq!(json["prediction"], "death_times");
    assert_eq!(json["initialisation"]["rng"], "numpy");
    assert_eq!(json["initialisation"]["seed"], 4);
    assert_eq!(json["order"], 1);
    assert_eq!(json["step"], serde_json::Value::Null);
    let csv_rows = std::fs::read_to_string(&out).expect("csv").lines().count() - 1;
    assert_eq!(json["rows"], csv_rows);
    assert_eq!(csv_rows, 499);
}

#[test]
fn predict_continuum_writes_a_log_grid_down_to_one_survivor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("curve.csv");
    let out_s = out.to_str().expect("utf-8 path");
    let (code, _, err) = cli(&[
        "predict",
        "--continuum",
        "--m",
        "1e4",
        "--lambda",
        "1e-4",
        "--out",
        out_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).expect("written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,m_prime,one_norm,relative_variance"));
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(num).collect()).collect();
    assert!(rows.len() > 100);
    assert_eq!(rows[0][0], 1.0);
    // The default grid ends where the continuum's m' reaches 1 (to the inversion's 1e-14).
    let last = rows.last().expect("rows");
    assert!((last[1] - 1.0).abs() < 1e-9, "{last:?}");
    // m' falls, rho rises from about pi/2 - 1 towards 1.
    assert!(
        rows.windows(2)
            .all(|p| p[1][1] <= p[0][1] && p[1][3] >= p[0][3])
    );
    assert!((rows[0][3] - (std::f64::consts::FRAC_PI_2 - 1.0)).abs() < 2e-3);
}

#[test]
fn predict_rejects_bad_flags_with_one_line_and_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.csv");
    let out_s = out.to_str().expect("utf-8 path");
    for (args, needle) in [
        (vec!["--lambda", "0"], "--lambda"),
        (vec!["--lambda", "1e-3", "--step", "1.5"], "--step"),
        (vec!["--order", "2"], "--order"),
        (vec!["--continuum", "--seed", "3"], "--seed"),
        (vec!["--continuum", "--t-min", "-1"], "--t-min"),
        (vec!["--m", "1e3", "--lambda", "0.5"], "--lambda"),
        (vec!["--rng", "numpy", "--seed", "5000000000"], "--seed"),
        (vec!["--summary", out_s], "--summary"),
    ] {
        let mut full = vec!["predict"];
        full.extend(&args);
        full.extend(["--out", out_s]);
        let (code, _, err) = cli(&full);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}

#[test]
fn verify_prints_the_table_and_exits_by_the_result() {
    let (code, out, err) = cli(&["verify", "--claim", "11", "--claim", "9"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 of 2 claims pass"), "{out}");
    assert!(
        out.contains("pass") && out.contains("Euler converges"),
        "{out}"
    );
    let (code, out, _) = cli(&["verify", "--claim", "11", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["all_pass"], true);
    assert_eq!(v["claims"][0]["id"], 11);
    assert!(
        v["claims"][0]["measured"]
            .as_f64()
            .is_some_and(f64::is_finite)
    );
    // No such claim: one past the last registered.
    let past = (sparsify_experiments::claims::CLAIMS.len() + 1).to_string();
    let (code, _, err) = cli(&["verify", "--claim", past.as_str()]);
    assert_eq!(code, 2, "{err}");
}

// ---------------------------------------------------------------------------------------------
// The theory figures of `cargo xtask figures`.

/// Each theory figure has its curves (every series drawable) and renders as SVG with its text;
/// the two comparisons carry a residual panel.
#[test]
fn theory_figures_render_with_their_panels() {
    use sparsify_experiments::theory_figures;
    let dir = tempfile::tempdir().expect("tempdir");
    let w = InitialWeights::half_normal_numpy(0, 100_000, None).expect("valid");
    let figures = [
        theory_figures::theory_vs_simulation(&w).expect("builds"),
        theory_figures::death_time_figure(&w).expect("builds"),
        theory_figures::time_to_one_neuron(Profile::Fast).expect("builds"),
    ];
    for (fig, panels) in figures.iter().zip([true, true, false]) {
        assert_eq!(fig.residual.is_some(), panels, "{}", fig.stem);
        assert!(
            fig.figure.series.iter().all(|s| !s.points.is_empty()),
            "{}",
            fig.stem
        );
        let path = dir.path().join(format!("{}.svg", fig.stem));
        fig.render(&path).expect("renders");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.contains("<text"), "{}", fig.stem);
    }
    // The closed form's survivor count equals the simulation's at almost every checkpoint
    // shown (residual exactly 0); where a death falls within rounding of a step boundary the two
    // can differ by one survivor, at most 10% at the panel's smallest m' of 10 (measured: 4 of
    // ~180 points, each 1 of ~80,000).
    let closed = &figures[0].residual.as_ref().expect("panel").series[1];
    let exact = closed.points.iter().filter(|&&(_, r)| r == 0.0).count();
    assert!(exact * 20 >= closed.points.len() * 19, "{closed:?}");
    assert!(
        closed.points.iter().all(|&(_, r)| r.abs() <= 10.0),
        "{closed:?}"
    );
}
