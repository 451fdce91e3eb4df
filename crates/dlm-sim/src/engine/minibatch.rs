//! Minibatch order: one epoch at a time without replacement, reshuffled for
//! every epoch of every task; the leftover examples of an epoch that do not
//! fill a batch are dropped.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub struct Minibatches {
    rng: ChaCha8Rng,
    batch_size: usize,
    order: Vec<usize>,
    cursor: usize,
}

impl Minibatches {
    pub fn new(rng: ChaCha8Rng, batch_size: usize) -> Self {
        Self {
            rng,
            batch_size,
            order: Vec::new(),
            cursor: 0,
        }
    }

    /// Starts the epochs of a task with `examples` training examples.
    pub fn begin_task(&mut self, examples: usize) {
        self.order = (0..examples).collect();
        self.order.shuffle(&mut self.rng);
        self.cursor = 0;
    }

    /// Positions (into the task's training examples) of the next minibatch.
    pub fn next_batch(&mut self) -> &[usize] {
        if self.cursor + self.batch_size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        let start = self.cursor;
        self.cursor += self.batch_size;
        &self.order[start..self.cursor]
    }
}
