//! Standard normal draws in f32 by the ziggurat method, one 32-bit word per
//! draw in the common case.
//!
//! The engine draws one normal per parameter and step, so the sampler is a
//! large part of a step's cost. `rand_distr`'s `StandardNormal` (0.5) takes
//! a 64-bit word and runs its ziggurat in f64 even for an f32 result. Here
//! one word gives the layer (low 8 bits), the sign (bit 8) and a 23-bit
//! uniform (the rest), which matches the f32 significand. When the uniform
//! falls inside the layer's inner rectangle, 98.5 % of draws, the result
//! is one multiplication. Otherwise the draw goes through the exact wedge
//! test or the tail algorithm in f64 and, on a rejection, starts over with a
//! fresh word, so the output is N(0, 1) up to f32 resolution.

use rand::RngCore;

use super::ziggurat::{LAYER_BITS, Ziggurat, density, ziggurat};

const LAYER_MASK: u32 = (1 << LAYER_BITS) - 1;
const SIGN_BIT: u32 = 1 << LAYER_BITS;
const UNIFORM_SHIFT: u32 = LAYER_BITS + 1;

/// 2^-53, the spacing of the f64 uniforms drawn in the fallbacks.
const F64_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// Fills `values` with independent standard normal draws.
///
/// Consumes one word of `rng` per value, plus more for the rare draws
/// outside the inner rectangles, in order: filling n values and then m
/// gives the same draws as filling n + m at once.
pub fn fill_standard_normal<R: RngCore + ?Sized>(rng: &mut R, values: &mut [f32]) {
    let tables = ziggurat();
    for value in values {
        *value = draw(tables, rng);
    }
}

/// Draws one standard normal value.
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    draw(ziggurat(), rng)
}

#[inline(always)]
fn draw<R: RngCore + ?Sized>(tables: &Ziggurat, rng: &mut R) -> f32 {
    let word = rng.next_u32();
    let layer = tables.layers[(word & LAYER_MASK) as usize];
    let uniform = word >> UNIFORM_SHIFT;
    if uniform < layer.accept_below {
        return with_sign(uniform as f32 * layer.scale, word);
    }
    draw_outside_rectangles(tables, rng, word)
}

/// Puts the word's sign bit on a non-negative magnitude.
#[inline(always)]
fn with_sign(magnitude: f32, word: u32) -> f32 {
    f32::from_bits(magnitude.to_bits() | ((word & SIGN_BIT) << (31 - LAYER_BITS)))
}

/// Finishes a draw whose first word fell outside its layer's inner
/// rectangle: the tail for the base layer, the wedge test for the others,
/// and fresh words after each rejection.
#[cold]
#[inline(never)]
fn draw_outside_rectangles<R: RngCore + ?Sized>(
    tables: &Ziggurat,
    rng: &mut R,
    first_word: u32,
) -> f32 {
    let mut word = first_word;
    loop {
        let index = (word & LAYER_MASK) as usize;
        let layer = tables.layers[index];
        let uniform = word >> UNIFORM_SHIFT;
        let magnitude = uniform as f32 * layer.scale;

        if uniform < layer.accept_below {
            return with_sign(magnitude, word);
        }
        if index == 0 {
            return with_sign(draw_tail(tables.tail_start, rng), word);
        }

        // The point (x, y) is uniform in the part of the layer's rectangle
        // outside its inner rectangle. It is a draw when it lies under f.
        let lower = tables.heights[index];
        let upper = tables.heights[index + 1];
        let height = lower + uniform_f64(rng) * (upper - lower);
        if height < density(f64::from(magnitude)) {
            return with_sign(magnitude, word);
        }
        word = rng.next_u32();
    }
}

/// A draw from the half-normal tail beyond `tail_start` (r) by Marsaglia's
/// tail method: with a = -ln(u1) / r and b = -ln(u2), r + a is accepted
/// when 2 b > a^2.
fn draw_tail<R: RngCore + ?Sized>(tail_start: f64, rng: &mut R) -> f32 {
    loop {
        let excess = -open_uniform_f64(rng).ln() / tail_start;
        let exponential = -open_uniform_f64(rng).ln();
        if 2.0 * exponential > excess * excess {
            return (tail_start + excess) as f32;
        }
    }
}

/// Draws a uniform value from [0, 1) with 53 random bits.
fn uniform_f64<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * F64_UNIT
}

/// Draws a uniform value from (0, 1], so that its logarithm is finite.
fn open_uniform_f64<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * F64_UNIT
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::super::ziggurat::UNIFORM_BITS;
    use super::*;

    #[test]
    fn split_fills_match_one_fill() {
        let mut whole = vec![0.0f32; 10_000];
        fill_standard_normal(&mut ChaCha8Rng::seed_from_u64(5), &mut whole);

        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut parts = vec![0.0f32; 10_000];
        let (first, rest) = parts.split_at_mut(3_333);
        fill_standard_normal(&mut rng, first);
        let (middle, last) = rest.split_at_mut(1);
        middle[0] = standard_normal(&mut rng);
        fill_standard_normal(&mut rng, last);

        assert_eq!(whole, parts);
    }

    #[test]
    fn sign_bit_sets_sign() {
        assert_eq!(with_sign(1.5, 0), 1.5);
        assert_eq!(with_sign(1.5, SIGN_BIT), -1.5);
        assert_eq!(with_sign(1.5, !SIGN_BIT), 1.5);
    }

    #[test]
    fn fast_path_stays_inside_layer() {
        // The largest uniform that the fast path accepts in each layer gives
        // a value inside the next layer's edge, and no layer's values exceed
        // its own edge.
        let tables = ziggurat();
        let top = (1u32 << UNIFORM_BITS) - 1;
        for (index, layer) in tables.layers.iter().enumerate() {
            let widest = top as f32 * layer.scale;
            assert!(f64::from(widest) <= tables.edges[index] * (1.0 + 1e-6));
            if layer.accept_below == 0 {
                continue;
            }
            let accepted = (layer.accept_below - 1) as f32 * layer.scale;
            assert!(
                f64::from(accepted) <= tables.edges[index + 1] * (1.0 + 1e-6),
                "layer {index}: accepted {accepted} beyond inner edge {}",
                tables.edges[index + 1]
            );
        }
    }
}
