//! When a run records its state: the reference checkpoint schedule and the published script's
//! own logging schedule.

/// The reference checkpoint schedule: every step `0..=50`, then `floor(x_i)` for
/// `x_0 = 50`, `x_{i+1} = x_i * 10^(1/40)` (about 40 a decade).
///
/// The `x_i` are built by repeated multiplication, exactly as the reference generator
/// (`make_reference.py`) does, so the set of steps is the reference's bit for bit (a closed
/// form `50*10^(i/40)` can round across an integer at a different `i`).
#[derive(Debug, Clone)]
pub struct CheckpointSchedule {
    next: u64,
    x: f64,
}

/// The growth factor `10^(1/40)` of the checkpoint schedule.
fn growth() -> f64 {
    10f64.powf(1.0 / 40.0)
}

impl CheckpointSchedule {
    /// The schedule, positioned at step 0.
    pub fn new() -> Self {
        Self { next: 0, x: 50.0 }
    }

    /// Whether `step` is a checkpoint. Steps must be queried in increasing order.
    pub fn contains(&mut self, step: u64) -> bool {
        while self.next < step {
            self.advance();
        }
        self.next == step
    }

    fn advance(&mut self) {
        if self.next < 50 {
            self.next += 1;
            return;
        }
        while self.x.floor() as u64 <= self.next {
            self.x *= growth();
        }
        self.next = self.x.floor() as u64;
    }
}

/// The checkpoint steps in increasing order, from the current position: `0, 1, .., 50, 52, 56,
/// ..` for a new schedule. Solvers without a step grid (the adaptive solver) use it to ask for
/// their state at the reference times `t = k*h`. Do not mix with [`CheckpointSchedule::contains`]
/// on the same value: both move the position.
impl Iterator for CheckpointSchedule {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let step = self.next;
        self.advance();
        Some(step)
    }
}

impl Default for CheckpointSchedule {
    fn default() -> Self {
        Self::new()
    }
}

/// The published script's logging rule: step `cnt` (0-based, the step about to be taken) is
/// logged when `floor(3 ln(cnt + 1)) != floor(3 ln(cnt + 2))`, or when the step leaves one
/// coordinate (checked by the caller).
pub fn script_logs_step(cnt: u64) -> bool {
    let a = ((cnt + 1) as f64).ln() * 3.0;
    let b = ((cnt + 2) as f64).ln() * 3.0;
    a.floor() != b.floor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_start_dense_then_grow_about_40_a_decade() {
        let mut s = CheckpointSchedule::new();
        let steps: Vec<u64> = (0..=100_000).filter(|&k| s.contains(k)).collect();
        assert_eq!(&steps[..51], &(0..=50).collect::<Vec<_>>()[..]);
        // From 50 to 1e5 is 3.3 decades: 40 per decade gives about 132 more.
        let after = steps.len() - 51;
        assert!((125..=140).contains(&after), "{after}");
        // The first few after 50, computed by hand: 50*1.0592537 = 52.96, 56.10, 59.42.
        assert_eq!(&steps[51..54], &[52, 56, 59]);
    }

    #[test]
    fn iteration_yields_exactly_the_steps_contains_accepts() {
        let mut s = CheckpointSchedule::new();
        let by_query: Vec<u64> = (0..=20_000).filter(|&k| s.contains(k)).collect();
        let by_iter: Vec<u64> = CheckpointSchedule::new()
            .take_while(|&k| k <= 20_000)
            .collect();
        assert_eq!(by_iter, by_query);
    }

    #[test]
    fn script_logs_the_first_steps_and_then_thins_out() {
        let logged: Vec<u64> = (0..30).filter(|&c| script_logs_step(c)).collect();
        // 3 ln(c + 2) crosses an integer k when c + 2 passes e^(k/3) = 1.40, 1.95, 2.72, 3.79,
        // 5.29, 7.39, 10.3, 14.4, 20.1, 28.0, 39.1: so c = 0, 1, 2, 4, 6, 9, 13, 19, 27
        // (the published script's own list, checked with Python).
        assert_eq!(logged, vec![0, 1, 2, 4, 6, 9, 13, 19, 27]);
    }
}
