//! Tables of the ziggurat for the standard normal distribution (Marsaglia
//! and Tsang, "The Ziggurat Method for Generating Random Variables", Journal
//! of Statistical Software 5(8), 2000), built once per process from the
//! defining equations rather than copied as literals.
//!
//! The ziggurat covers the unnormalised half density f(x) = exp(-x^2 / 2),
//! x >= 0, with `LAYERS` regions of equal area v, stacked from the bottom.
//! Layer i spans the heights f(x_i)..f(x_{i+1}) and the abscissae 0..x_i,
//! with x_1 = r (the tail start), f(x_LAYERS) = f(0) = 1 and
//! f(x_{i+1}) = f(x_i) + v / x_i. The base layer 0 spans the heights
//! 0..f(r): its rectangle [0, r] x [0, f(r)] plus the tail x > r have the
//! area v, and it is drawn as the rectangle [0, x_0] with x_0 = v / f(r),
//! where x >= r stands for a draw from the tail. The constant r is the root
//! that makes the recursion reach height 1 after exactly `LAYERS - 1` steps.

use std::sync::LazyLock;

/// Number of layers; a power of two, so a word's low bits pick one.
pub const LAYERS: usize = 256;

/// Bits of a 32-bit word that pick the layer.
pub const LAYER_BITS: u32 = 8;

/// Bits of a 32-bit word that give the uniform position within a layer:
/// what is left after the layer bits and one sign bit.
pub const UNIFORM_BITS: u32 = 32 - LAYER_BITS - 1;

/// Terms of Laplace's continued fraction for the Mills ratio. At x >= 2 it
/// has converged to f64 precision long before this.
const MILLS_RATIO_TERMS: u32 = 400;

/// Per-layer data of the common case, packed into 8 bytes so that a draw
/// reads one table entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layer {
    /// A uniform u (of `UNIFORM_BITS` bits) below this gives a point inside
    /// the rectangle [0, x_{i+1}], which lies wholly under the density:
    /// ceil(x_{i+1} / x_i * 2^UNIFORM_BITS).
    pub accept_below: u32,
    /// x_i / 2^UNIFORM_BITS: the draw is u times this.
    pub scale: f32,
}

/// The ziggurat's tables.
#[derive(Debug)]
pub struct Ziggurat {
    pub layers: [Layer; LAYERS],
    /// x_0 ..= x_LAYERS, where x_0 = v / f(r), x_1 = r and x_LAYERS = 0.
    /// Only the table tests read it, because draws use `layers`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub edges: [f64; LAYERS + 1],
    /// Heights of the layer boundaries: 0 below the base layer, then
    /// f(x_1) ..= f(x_LAYERS) = 1.
    pub heights: [f64; LAYERS + 1],
    /// r, where the tail starts.
    pub tail_start: f64,
    /// v, the area of every layer under the unnormalised density. Only the
    /// table tests read it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub layer_area: f64,
}

static ZIGGURAT: LazyLock<Ziggurat> = LazyLock::new(Ziggurat::build);

/// Returns the tables, building them on first use.
pub fn ziggurat() -> &'static Ziggurat {
    &ZIGGURAT
}

/// Evaluates the unnormalised standard normal density exp(-x^2 / 2).
pub fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

/// Computes the Mills ratio R(x) = integral of f from x to infinity, divided by f(x),
/// from Laplace's continued fraction 1 / (x + 1 / (x + 2 / (x + 3 / ...))),
/// evaluated from the innermost term outwards.
fn mills_ratio(x: f64) -> f64 {
    let mut denominator = x;
    for k in (1..=MILLS_RATIO_TERMS).rev() {
        denominator = x + f64::from(k) / denominator;
    }
    1.0 / denominator
}

/// Computes the area v of every layer for the tail start r: the base rectangle r f(r)
/// plus the tail integral f(r) R(r).
fn layer_area(tail_start: f64) -> f64 {
    density(tail_start) * (tail_start + mills_ratio(tail_start))
}

/// Runs the recursion `LAYERS - 1` steps from r and returns the height it
/// reaches, or infinity when it passes 1 earlier (layers too large, so r
/// too small).
fn end_height(tail_start: f64) -> f64 {
    let area = layer_area(tail_start);
    let mut edge = tail_start;
    let mut height = density(tail_start);
    for step in 1..LAYERS {
        height += area / edge;
        if step == LAYERS - 1 {
            return height;
        }
        if height >= 1.0 {
            return f64::INFINITY;
        }
        edge = (-2.0 * height.ln()).sqrt();
    }
    unreachable!("the loop returns at its last step")
}

/// Finds r by bisection: the end height falls as r grows, and r = 2 and
/// r = 5 bracket the root for 256 layers.
fn solve_tail_start() -> f64 {
    let mut low = 2.0f64;
    let mut high = 5.0f64;
    loop {
        let middle = 0.5 * (low + high);
        if middle <= low || middle >= high {
            return middle;
        }
        if end_height(middle) > 1.0 {
            low = middle;
        } else {
            high = middle;
        }
    }
}

impl Ziggurat {
    fn build() -> Self {
        let tail_start = solve_tail_start();
        let area = layer_area(tail_start);

        let mut edges = [0.0f64; LAYERS + 1];
        let mut heights = [0.0f64; LAYERS + 1];
        edges[0] = area / density(tail_start);
        edges[1] = tail_start;
        heights[1] = density(tail_start);
        for index in 1..LAYERS - 1 {
            heights[index + 1] = heights[index] + area / edges[index];
            edges[index + 1] = (-2.0 * heights[index + 1].ln()).sqrt();
        }
        // The root makes the recursion end at height 1 up to rounding; the
        // top layer ends exactly at the mode.
        edges[LAYERS] = 0.0;
        heights[LAYERS] = 1.0;

        let resolution = f64::from(1u32 << UNIFORM_BITS);
        let mut layers = [Layer::default(); LAYERS];
        for (index, layer) in layers.iter_mut().enumerate() {
            let inner_fraction = edges[index + 1] / edges[index];
            *layer = Layer {
                accept_below: (inner_fraction * resolution).ceil() as u32,
                scale: (edges[index] / resolution) as f32,
            };
        }

        Self {
            layers,
            edges,
            heights,
            tail_start,
            layer_area: area,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::{FRAC_1_SQRT_2, PI};

    use super::*;

    #[test]
    fn layers_have_equal_areas() {
        let tables = ziggurat();
        for index in 0..LAYERS {
            let area = tables.edges[index] * (tables.heights[index + 1] - tables.heights[index]);
            let relative = (area - tables.layer_area).abs() / tables.layer_area;
            assert!(
                relative < 1e-9,
                "layer {index}: area {area:e} vs {:e} (relative difference {relative:e})",
                tables.layer_area
            );
        }
    }

    #[test]
    fn base_layer_covers_exact_tail() {
        // Tail integral from erfc, independent of the continued fraction.
        let tables = ziggurat();
        let r = tables.tail_start;
        let tail = (PI / 2.0).sqrt() * libm::erfc(r * FRAC_1_SQRT_2);
        let base = r * density(r) + tail;
        let relative = (base - tables.layer_area).abs() / tables.layer_area;
        assert!(relative < 1e-12, "base layer {base:e} vs v {:e}", tables.layer_area);
    }

    #[test]
    fn layers_cover_whole_density() {
        // Each layer's rectangle holds the region under f in its band of
        // heights plus a wedge above f (none for the base layer), so the
        // layers' total area exceeds the half density's integral sqrt(pi / 2)
        // by the wedges: a small positive fraction, the rejection rate.
        let tables = ziggurat();
        let total = LAYERS as f64 * tables.layer_area;
        let integral = (PI / 2.0).sqrt();
        let excess = total / integral - 1.0;
        assert!(
            (0.0..0.01).contains(&excess),
            "ziggurat area {total} vs density integral {integral}"
        );
    }

    #[test]
    fn edges_decrease_to_mode() {
        let tables = ziggurat();
        assert!(tables.edges[0] > tables.tail_start);
        for index in 0..LAYERS {
            assert!(
                tables.edges[index + 1] < tables.edges[index],
                "edge {} = {} is not below edge {index} = {}",
                index + 1,
                tables.edges[index + 1],
                tables.edges[index]
            );
            assert!(tables.layers[index].accept_below <= 1 << UNIFORM_BITS);
        }
        assert_eq!(tables.layers[LAYERS - 1].accept_below, 0);
    }

    #[test]
    fn mills_ratio_matches_erfc() {
        for x in [2.0, 3.0, 3.5, 4.0, 6.0] {
            let exact = (PI / 2.0).sqrt() * libm::erfc(x * FRAC_1_SQRT_2) / density(x);
            let relative = (mills_ratio(x) - exact).abs() / exact;
            assert!(relative < 1e-13, "R({x}) = {} vs {exact}", mills_ratio(x));
        }
    }
}
