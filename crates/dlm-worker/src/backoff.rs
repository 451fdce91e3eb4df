//! Capped exponential backoff with jitter, for retries against a
//! coordinator that is away.

use std::time::Duration;

/// Delays that double from `initial` up to `max`, each drawn uniformly from
/// the upper half of the current step, so restarting workers spread out.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            current: initial,
        }
    }

    /// Returns the next delay and doubles the step.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let step = self.current;
        self.current = (self.current * 2).min(self.max);
        step.mul_f64(rand::random_range(0.5..=1.0))
    }

    /// Starts again from the initial delay, after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let steps_ms = [100, 200, 400, 700, 700];
        for step_ms in steps_ms {
            let delay = backoff.next_delay();
            let step = Duration::from_millis(step_ms);
            assert!(delay <= step, "delay {delay:?} above step {step:?}");
            assert!(delay >= step / 2, "delay {delay:?} below half of step {step:?}");
        }

        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
