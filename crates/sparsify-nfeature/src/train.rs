//! Training with torch's optimisers: the paper's loop, full batch, all instances in parallel.

use rand::Rng;
use rayon::prelude::*;

use crate::drive::Stepper;
use crate::error::{NFeatureError, Param, check};
use crate::float::Float;
use crate::model::{
    LossParts, Noise, Weights, Workspace, abs_sum, finish_gradient, forward_backward, l1_strength,
};
use crate::optim::{AdamWScalars, Optimizer};

/// What is trained and how: the L1 strength, the optimiser and the noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    lambda: f64,
    optimizer: Optimizer,
    noise: Noise,
}

impl TrainConfig {
    /// A validated configuration. `lambda = 0` drops the L1 term (as the paper's code does).
    ///
    /// # Errors
    /// [`NFeatureError::InvalidParameter`] for `lambda` not finite and >= 0, or an optimiser
    /// or noise parameter out of range.
    pub fn new(lambda: f64, optimizer: Optimizer, noise: Noise) -> Result<Self, NFeatureError> {
        check(
            Param::Lambda,
            lambda,
            lambda.is_finite() && lambda >= 0.0,
            "a finite number >= 0",
        )?;
        let optimizer = match optimizer {
            Optimizer::AdamW(p) => Optimizer::AdamW(p.validate()?),
            Optimizer::Sgd(p) => Optimizer::Sgd(crate::optim::SgdParams::new(p.lr)?),
        };
        Ok(Self {
            lambda,
            optimizer,
            noise: noise.validate()?,
        })
    }

    /// The L1 strength.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The optimiser.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }

    /// The noise.
    pub fn noise(&self) -> Noise {
        self.noise
    }
}

/// One instance's weights, optimiser state and scratch.
#[derive(Debug, Clone)]
struct Slot<T> {
    /// AdamW's first and second moments (empty for SGD).
    m: Vec<T>,
    v: Vec<T>,
    ws: Workspace<T>,
    mse: f64,
    /// `sum |W_i|` of the current weights (updated by every `apply`).
    abs: f64,
}

/// The paper's training loop: full batch, one noise vector per step shared by all instances,
/// instances updated in parallel (rayon), each with sequential matrix products, so results
/// are independent of the thread count. Run it with [`Stepper::run`].
#[derive(Debug, Clone)]
pub struct Trainer<T: Float> {
    config: TrainConfig,
    w: Weights<T>,
    slots: Vec<Slot<T>>,
    xi: Vec<T>,
    has_noise: bool,
    steps: u64,
}

impl<T: Float> Trainer<T> {
    /// A trainer starting from `w0` with zeroed optimiser state.
    pub fn new(config: TrainConfig, w0: Weights<T>) -> Self {
        let shape = w0.shape();
        let moments = matches!(config.optimizer, Optimizer::AdamW(_));
        let slots = (0..shape.instances)
            .map(|i| Slot {
                m: vec![T::ZERO; if moments { shape.per_instance() } else { 0 }],
                v: vec![T::ZERO; if moments { shape.per_instance() } else { 0 }],
                ws: Workspace::new(shape),
                mse: 0.0,
                abs: abs_sum(w0.instance(i)),
            })
            .collect();
        Self {
            config,
            xi: vec![T::ZERO; shape.m],
            w: w0,
            slots,
            has_noise: false,
            steps: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The current weights, consumed.
    pub fn into_weights(self) -> Weights<T> {
        self.w
    }

    fn loss_from_slots(&self) -> (LossParts, bool) {
        let mse: f64 = self.slots.iter().map(|s| s.mse).sum();
        let abs: f64 = self.slots.iter().map(|s| s.abs).sum();
        (
            LossParts::new(mse, abs, self.config.lambda),
            abs.is_finite(),
        )
    }

    fn forward(&mut self, with_noise: bool, want_product: bool) -> (LossParts, bool) {
        let shape = self.w.shape();
        let (n, m) = (shape.n, shape.m);
        let xi = (with_noise && self.has_noise).then_some(self.xi.as_slice());
        let per = shape.per_instance();
        self.slots
            .par_iter_mut()
            .zip(self.w.as_slice().par_chunks(per))
            .for_each(|(slot, w)| {
                slot.mse = forward_backward(w, n, m, xi, &mut slot.ws, want_product);
            });
        self.loss_from_slots()
    }
}

impl<T: Float> Stepper<T> for Trainer<T> {
    fn weights(&self) -> &Weights<T> {
        &self.w
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }

    fn evaluate<R: Rng + ?Sized>(&mut self, rng: &mut R) -> (LossParts, bool) {
        self.has_noise = self.config.noise.draw(rng, &mut self.xi);
        self.forward(true, true)
    }

    fn apply(&mut self) {
        let shape = self.w.shape();
        let (n, m) = (shape.n, shape.m);
        let per = shape.per_instance();
        let l1 = l1_strength::<T>(self.config.lambda);
        let xi = self.has_noise.then_some(self.xi.as_slice());
        let t = self.steps + 1;
        let optimizer = self.config.optimizer;
        // The step's constants: AdamW's scalars (bias corrections of step t), or SGD's lr.
        let update = match optimizer {
            Optimizer::AdamW(p) => Ok(AdamWScalars::<T>::new(&p, t)),
            Optimizer::Sgd(p) => Err(T::of(p.lr)),
        };
        self.slots
            .par_iter_mut()
            .zip(self.w.data_mut().par_chunks_mut(per))
            .for_each(|(slot, w)| {
                let mut abs = 0.0f64;
                for a in 0..n {
                    let row = a * m..(a + 1) * m;
                    let (wr, gr) = (&mut w[row.clone()], &mut slot.ws.sw[row.clone()]);
                    // The gradient first, then the update: two branch-free passes over the row
                    // (zipped, so without bounds checks) that vectorise.
                    finish_gradient(gr, wr, slot.ws.colsum[a], xi, l1);
                    match update {
                        Ok(s) => {
                            let (mr, vr) = (&mut slot.m[row.clone()], &mut slot.v[row]);
                            for (((w, mo), ve), &g) in wr
                                .iter_mut()
                                .zip(mr.iter_mut())
                                .zip(vr.iter_mut())
                                .zip(&*gr)
                            {
                                s.update(w, mo, ve, g);
                            }
                        }
                        Err(lr) => {
                            for (w, &g) in wr.iter_mut().zip(&*gr) {
                                *w -= lr * g;
                            }
                        }
                    }
                    abs += abs_sum(wr);
                }
                slot.abs = abs;
            });
        self.steps = t;
    }

    fn loss_now(&mut self) -> (LossParts, bool) {
        self.forward(false, false)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::drive::{Observer, State, StopReason};
    use crate::model::Shape;
    use crate::optim::{AdamWParams, SgdParams};

    struct Losses(Vec<f64>);
    impl<T> Observer<T> for Losses {
        fn observe(&mut self, s: &State<'_, T>) {
            self.0.push(s.loss.total);
        }
    }

    fn run_in_pool<T: Float>(
        threads: usize,
        noise: Noise,
        w0: &Weights<T>,
    ) -> (Weights<T>, Vec<f64>) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let config = TrainConfig::new(1e-2, Optimizer::AdamW(AdamWParams::default()), noise)
                .expect("config");
            let mut trainer = Trainer::new(config, w0.clone());
            let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
            let mut losses = Losses(Vec::new());
            trainer.run(&mut rng, 50, &mut losses, || false);
            (trainer.into_weights(), losses.0)
        })
    }

    /// Instances run in parallel, each with sequential products: one thread and two give the
    /// same bits.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let shape = Shape::new(5, 12, 40).expect("shape");
        let w0 = Weights::<f64>::normal(&mut rng, shape);
        let w0_32 = w0.cast::<f32>();
        for noise in [Noise::None, Noise::Gaussian { sigma: 0.1 }] {
            let (w1, l1) = run_in_pool(1, noise, &w0);
            let (w2, l2) = run_in_pool(2, noise, &w0);
            assert_eq!(l1.len(), l2.len());
            assert!(l1.iter().zip(&l2).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(
                w1.as_slice()
                    .iter()
                    .zip(w2.as_slice())
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            let (w1, _) = run_in_pool(1, noise, &w0_32);
            let (w2, _) = run_in_pool(2, noise, &w0_32);
            assert!(
                w1.as_slice()
                    .iter()
                    .zip(w2.as_slice())
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    /// float32 follows float64 closely early on: after 100 AdamW updates from the same W0
    /// (rounded), entries differ by rounding amplified by Adam's normalisation, far below the
    /// O(1e-1) by which the weights have moved.
    #[test]
    fn f32_tracks_f64_early_on() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(4);
        let shape = Shape::new(2, 8, 16).expect("shape");
        let w0 = Weights::<f64>::normal(&mut rng, shape);
        let config = TrainConfig::new(1e-3, Optimizer::AdamW(AdamWParams::default()), Noise::None)
            .expect("config");
        let mut t64 = Trainer::new(config, w0.clone());
        let mut t32 = Trainer::new(config, w0.cast::<f32>());
        t64.run(&mut rng, 100, &mut (), || false);
        t32.run(&mut rng, 100, &mut (), || false);
        let (a, b) = (t64.into_weights(), t32.into_weights().to_f64());
        let moved = a
            .as_slice()
            .iter()
            .zip(w0.as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        let d = a
            .as_slice()
            .iter()
            .zip(b.as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        // f32 rounding is ~6e-8 relative per operation; Adam divides by sqrt(v), so a
        // gradient near 0 can turn a rounding into an lr-sized (1e-3) step. 1e-4 allows a few
        // such steps in 100 yet fails for any systematic difference (weights moved ~0.1).
        assert!(moved > 0.05, "moved {moved}");
        assert!(d < 1e-4, "f32 vs f64: {d:e}");
    }

    /// The stop closure is polled before every update; an interrupted run reports the steps
    /// done and its observer has every state up to them.
    #[test]
    fn interruption_keeps_the_steps_done() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(6);
        let w0 = Weights::<f32>::normal(&mut rng, Shape::new(2, 4, 8).expect("shape"));
        let config = TrainConfig::new(
            0.0,
            Optimizer::Sgd(SgdParams::new(0.02).expect("lr")),
            Noise::Bernoulli { sigma: 0.1 },
        )
        .expect("config");
        let mut trainer = Trainer::new(config, w0);
        let mut losses = Losses(Vec::new());
        let mut polls = 0;
        let summary = trainer.run(&mut rng, 100, &mut losses, || {
            polls += 1;
            polls > 7
        });
        assert_eq!(summary.stop, StopReason::Interrupted);
        assert_eq!(summary.steps, 7);
        assert_eq!(losses.0.len(), 8);
    }

    /// A learning rate far too large overflows; the run stops at the first non-finite state.
    #[test]
    fn divergence_is_reported_with_its_step() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(8);
        let w0 = Weights::<f64>::normal(&mut rng, Shape::new(1, 4, 8).expect("shape"));
        let config = TrainConfig::new(
            0.0,
            Optimizer::Sgd(SgdParams::new(1e3).expect("lr")),
            Noise::None,
        )
        .expect("config");
        let mut trainer = Trainer::new(config, w0);
        let summary = trainer.run(&mut rng, 1000, &mut (), || false);
        match summary.stop {
            StopReason::NonFinite { step } => assert!(step > 0 && step < 1000, "{step}"),
            other => panic!("expected divergence, got {other:?}"),
        }
    }
}
