//! Random draws of the dynamics: a fast f32 standard normal sampler and the
//! buffer that hands one layer's noise to the update loop at a time.

mod normal;
mod ziggurat;

use rand::RngCore;

pub use normal::{fill_standard_normal, standard_normal};

/// The noise of a run: its random stream and a buffer of scaled normal
/// draws that every layer's update reuses.
#[derive(Clone, Debug)]
pub struct NoiseSource<R> {
    rng: R,
    draws: Vec<f32>,
}

impl<R: RngCore> NoiseSource<R> {
    pub fn new(rng: R) -> Self {
        Self {
            rng,
            draws: Vec::new(),
        }
    }

    /// Draws `count` standard normals times `scale` into the buffer and
    /// returns them. With `scale` 0 it returns zeros and draws nothing, so
    /// noiseless updates leave the stream where it is.
    pub fn scaled_normals(&mut self, count: usize, scale: f32) -> &[f32] {
        self.draws.resize(count, 0.0);
        if scale == 0.0 {
            self.draws.fill(0.0);
            return &self.draws;
        }

        fill_standard_normal(&mut self.rng, &mut self.draws);
        for draw in &mut self.draws {
            *draw *= scale;
        }
        &self.draws
    }
}
