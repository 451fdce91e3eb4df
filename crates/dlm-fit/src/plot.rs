//! SVG plot of a fit: forgetting against sigma on a log F axis, the fitted
//! bound with its bootstrap band, runs coloured by a label and excluded
//! runs drawn hollow.
//!
//! plotters' SVG backend writes text as SVG `<text>` elements and needs no
//! system fonts. Every drawable run is one `<circle>`; legend markers are
//! rectangles, so counting circles counts runs.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::bootstrap::percentile_of_sorted;
use crate::error::FitError;
use crate::exclusion::{Selection, exclusion_reason};
use crate::options::{Method, XScale};
use crate::point::FitPoint;
use crate::report::FitReport;

/// Size and wording of a plot.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Title above the chart; a default naming the method is used when
    /// `None`.
    pub title: Option<String>,
    /// Name of the field behind `FitPoint::label`, shown as the legend's
    /// heading, such as "coupling".
    pub color_field: String,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            width: 900,
            height: 600,
            title: None,
            color_field: "coupling".to_string(),
        }
    }
}

/// Colours of the label classes, a colour-blind-friendly set (Okabe-Ito)
/// used in order of first appearance and then repeated.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
];

/// Number of x positions at which the bound and its band are evaluated.
const CURVE_SAMPLES: usize = 200;

/// Maximum number of labelled decades on the F axis (600 pixels high by
/// default) and on a log sigma axis, where labels are wider.
const MAX_F_TICKS: usize = 12;
const MAX_SIGMA_TICKS: usize = 10;

/// Height of the title line and of each warning line under it, in pixels.
const TITLE_HEIGHT: u32 = 34;
const WARNING_HEIGHT: u32 = 17;

/// A run that can be placed on the chart.
struct Mark {
    sigma: f64,
    forgetting: f64,
    class: usize,
    used: bool,
}

/// Everything the chart draws, in data coordinates.
struct Scene {
    marks: Vec<Mark>,
    classes: Vec<String>,
    sigma_range: (f64, f64),
    forgetting_range: (f64, f64),
    /// Segments of the bound inside the chart, as (sigma, F) polylines.
    bound: Vec<Vec<(f64, f64)>>,
    /// Band polygon as (sigma, F), lower edge left to right then upper edge
    /// right to left; empty without bootstrap lines.
    band: Vec<(f64, f64)>,
    title: String,
    /// Warnings of the fit, one line each under the title.
    warnings: Vec<String>,
    /// Labelled ticks of the F axis.
    forgetting_ticks: Vec<f64>,
    /// Labelled ticks of the sigma axis under the log scale; `None` lets
    /// plotters choose ticks on a linear axis.
    sigma_ticks: Option<Vec<f64>>,
    /// Legend name of the fitted line: a bound, or a trend for least squares.
    line_name: &'static str,
    x_label: &'static str,
    color_field: String,
}

/// Draws `report` over `points` as an SVG document. `report` must come
/// from a fit of the same points, because usage is recomputed per run to
/// decide which marks are hollow.
pub fn render_svg(
    points: &[FitPoint],
    report: &FitReport,
    plot: &PlotOptions,
) -> Result<String, FitError> {
    let scene = build_scene(points, report, plot)?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (plot.width, plot.height)).into_drawing_area();
        let (low, high) = scene.sigma_range;
        let outcome = match &scene.sigma_ticks {
            Some(ticks) => draw_chart(
                &root,
                &scene,
                (low..high).log_scale().with_key_points(ticks.clone()),
            ),
            None => draw_chart(&root, &scene, low..high),
        };
        outcome.map_err(|error| FitError::Plot {
            reason: error.to_string(),
        })?;
    }
    Ok(svg)
}

fn build_scene(
    points: &[FitPoint],
    report: &FitReport,
    plot: &PlotOptions,
) -> Result<Scene, FitError> {
    let log_x = report.x_scale == XScale::Log;
    let selection = Selection {
        log_x,
        min_learning_accuracy: report.min_learning_accuracy,
    };

    let mut classes: Vec<String> = Vec::new();
    let mut marks = Vec::new();
    for point in points {
        let (Some(sigma), Some(forgetting)) = (point.sigma, point.forgetting) else {
            continue;
        };
        if !sigma.is_finite()
            || !forgetting.is_finite()
            || forgetting <= 0.0
            || (log_x && sigma <= 0.0)
        {
            continue;
        }

        let label = point
            .label
            .clone()
            .unwrap_or_else(|| "unlabelled".to_string());
        let class = match classes.iter().position(|name| *name == label) {
            Some(class) => class,
            None => {
                classes.push(label);
                classes.len() - 1
            }
        };
        marks.push(Mark {
            sigma,
            forgetting,
            class,
            used: exclusion_reason(point, selection).is_none(),
        });
    }

    if marks.is_empty() {
        return Err(FitError::Plot {
            reason: "no run has a defined sigma and a positive forgetting value to draw"
                .to_string(),
        });
    }

    let sigma_range = padded_range(marks.iter().map(|mark| mark.sigma), log_x);
    let forgetting_range = padded_range(marks.iter().map(|mark| mark.forgetting), true);
    let sigma_grid = grid(sigma_range, log_x);
    let to_x = |sigma: f64| if log_x { sigma.log10() } else { sigma };

    let bound_values: Vec<(f64, f64)> = sigma_grid
        .iter()
        .map(|&sigma| (sigma, report.line.value_at(to_x(sigma)).exp()))
        .collect();
    let bound = visible_segments(&bound_values, forgetting_range, log_x);
    let forgetting_ticks = log_ticks(forgetting_range, MAX_F_TICKS);
    let sigma_ticks = log_x.then(|| log_ticks(sigma_range, MAX_SIGMA_TICKS));
    let band = band_polygon(&sigma_grid, report, forgetting_range, to_x);

    let title = plot.title.clone().unwrap_or_else(|| default_title(report));

    Ok(Scene {
        marks,
        classes,
        sigma_range,
        forgetting_range,
        bound,
        band,
        title,
        warnings: report
            .warnings
            .iter()
            .map(|warning| format!("warning: {}", warning.message))
            .collect(),
        forgetting_ticks,
        sigma_ticks,
        line_name: if report.method == Method::Ols {
            "least-squares trend"
        } else {
            "fitted bound"
        },
        x_label: if log_x { "sigma (log scale)" } else { "sigma" },
        color_field: plot.color_field.clone(),
    })
}

/// Title naming the method, the decay rate with its interval and the
/// verdict.
fn default_title(report: &FitReport) -> String {
    let method = match report.q {
        Some(q) => format!("quantile (q = {q})"),
        None => report.method.name().to_string(),
    };
    let interval = match report.k_ci {
        Some([low, high]) => format!(
            " [{}, {}]",
            format_title_number(low),
            format_title_number(high)
        ),
        None => String::new(),
    };
    format!(
        "{method} fit: k = {}{interval}, verdict {}",
        format_title_number(report.k),
        report.verdict.name()
    )
}

/// Data range widened by 5 % on each side (multiplicatively on a log
/// axis), and by a fixed amount when all values are equal.
fn padded_range(values: impl Iterator<Item = f64>, log_axis: bool) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values {
        low = low.min(value);
        high = high.max(value);
    }

    if log_axis {
        let (log_low, log_high) = (low.log10(), high.log10());
        let pad = ((log_high - log_low) * 0.05).max(0.1);
        return (10f64.powf(log_low - pad), 10f64.powf(log_high + pad));
    }
    let pad = ((high - low) * 0.05).max(low.abs().max(1.0) * 0.05);
    (low - pad, high + pad)
}

/// Evenly spaced sigma values across the range, in log space on a log axis.
fn grid(range: (f64, f64), log_axis: bool) -> Vec<f64> {
    let (low, high) = if log_axis {
        (range.0.log10(), range.1.log10())
    } else {
        range
    };
    (0..CURVE_SAMPLES)
        .map(|step| {
            let position = low + (high - low) * step as f64 / (CURVE_SAMPLES - 1) as f64;
            if log_axis {
                10f64.powf(position)
            } else {
                position
            }
        })
        .collect()
}

/// Ticks of a log axis over `range`: every power of ten inside it, or every
/// `step`-th one when more than `max_ticks` would crowd the axis. An axis
/// that spans less than two decades gets ticks at 1, 2 and 5 times each
/// power of ten instead (every integer multiple when that still gives fewer
/// than two), so it always carries at least two labels.
pub(crate) fn log_ticks(range: (f64, f64), max_ticks: usize) -> Vec<f64> {
    let (low, high) = range;
    let first = low.log10().ceil() as i32;
    let last = high.log10().floor() as i32;
    let decades = (last - first + 1).max(0) as usize;

    if high.log10() - low.log10() >= 2.0 {
        let step = decades.div_ceil(max_ticks.max(1)).max(1);
        return (first..=last)
            .step_by(step)
            .map(|exponent| 10f64.powi(exponent))
            .collect();
    }

    let inside = |mantissas: &[f64]| -> Vec<f64> {
        let mut ticks = Vec::new();
        for exponent in (first - 1)..=(last + 1) {
            for mantissa in mantissas {
                let tick = mantissa * 10f64.powi(exponent);
                if tick >= low && tick <= high {
                    ticks.push(tick);
                }
            }
        }
        ticks
    };
    let coarse = inside(&[1.0, 2.0, 5.0]);
    if coarse.len() >= 2 {
        return coarse;
    }
    inside(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

/// Splits a curve into the parts inside the F range. Where the curve
/// crosses the range's edge between two samples, the part ends at the
/// crossing, found by interpolating ln F, which is linear in the fit's x
/// between the samples. The bound therefore reaches the frame exactly
/// where the clamped band does.
fn visible_segments(curve: &[(f64, f64)], range: (f64, f64), log_x: bool) -> Vec<Vec<(f64, f64)>> {
    let inside = |forgetting: f64| forgetting >= range.0 && forgetting <= range.1;
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();

    for (index, &(sigma, forgetting)) in curve.iter().enumerate() {
        let previous = index.checked_sub(1).map(|before| curve[before]);
        if let Some(before) = previous
            && inside(forgetting) != inside(before.1)
        {
            current.push(edge_crossing(before, (sigma, forgetting), range, log_x));
        }

        if inside(forgetting) {
            current.push((sigma, forgetting));
        } else if !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Point where the curve between samples `from` and `to` (one inside the
/// F range, one outside) meets the range's edge.
fn edge_crossing(from: (f64, f64), to: (f64, f64), range: (f64, f64), log_x: bool) -> (f64, f64) {
    let outside = if to.1 < range.0 || to.1 > range.1 {
        to.1
    } else {
        from.1
    };
    let edge = if outside > range.1 { range.1 } else { range.0 };

    let share = (edge.ln() - from.1.ln()) / (to.1.ln() - from.1.ln());
    let sigma = if log_x {
        10f64.powf(from.0.log10() + share * (to.0.log10() - from.0.log10()))
    } else {
        from.0 + share * (to.0 - from.0)
    };
    (sigma, edge)
}

/// Pointwise 2.5 % and 97.5 % percentiles of the bootstrap bounds, clamped
/// to the chart's F range so the filled band stays inside the frame.
fn band_polygon(
    sigma_grid: &[f64],
    report: &FitReport,
    range: (f64, f64),
    to_x: impl Fn(f64) -> f64,
) -> Vec<(f64, f64)> {
    if report.bootstrap_lines.len() < 2 {
        return Vec::new();
    }

    let mut lower = Vec::with_capacity(sigma_grid.len());
    let mut upper = Vec::with_capacity(sigma_grid.len());
    let mut values = vec![0.0; report.bootstrap_lines.len()];
    for &sigma in sigma_grid {
        let x = to_x(sigma);
        for (value, line) in values.iter_mut().zip(&report.bootstrap_lines) {
            *value = line.value_at(x);
        }
        values.sort_unstable_by(f64::total_cmp);
        let clamp = |y: f64| y.exp().clamp(range.0, range.1);
        lower.push((sigma, clamp(percentile_of_sorted(&values, 0.025))));
        upper.push((sigma, clamp(percentile_of_sorted(&values, 0.975))));
    }

    upper.reverse();
    lower.extend(upper);
    lower
}

fn draw_chart<X>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    scene: &Scene,
    x_spec: X,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    root.fill(&WHITE)?;
    let header_height = TITLE_HEIGHT + WARNING_HEIGHT * scene.warnings.len() as u32;
    let (header, body) = root.split_vertically(header_height);
    draw_header(&header, scene)?;

    let (f_low, f_high) = scene.forgetting_range;
    let y_spec = (f_low..f_high)
        .log_scale()
        .with_key_points(scene.forgetting_ticks.clone());
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_spec, y_spec)?;

    // Only the labelled ticks get grid lines: a dense minor grid shows
    // through the band like hatching.
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(scene.x_label)
        .y_desc("forgetting F (log scale)")
        .x_label_formatter(&|value| format_tick(*value))
        .y_label_formatter(&|value| format_tick(*value))
        .draw()?;

    let band_colour = RGBColor(120, 120, 120);
    if !scene.band.is_empty() {
        chart
            .draw_series(std::iter::once(Polygon::new(
                scene.band.clone(),
                band_colour.mix(0.25).filled(),
            )))?
            .label("95% bootstrap band")
            .legend(move |(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 16, y + 5)],
                    band_colour.mix(0.25).filled(),
                )
            });
    }

    for (index, segment) in scene.bound.iter().enumerate() {
        let series = chart.draw_series(LineSeries::new(segment.clone(), BLACK.stroke_width(2)))?;
        if index == 0 {
            series
                .label(scene.line_name)
                .legend(|(x, y)| Rectangle::new([(x, y - 1), (x + 16, y + 1)], BLACK.filled()));
        }
    }

    for (class, name) in scene.classes.iter().enumerate() {
        let colour = PALETTE[class % PALETTE.len()];
        let marks = scene.marks.iter().filter(|mark| mark.class == class);
        chart
            .draw_series(marks.map(|mark| {
                let style = if mark.used {
                    colour.filled()
                } else {
                    colour.stroke_width(1)
                };
                Circle::new((mark.sigma, mark.forgetting), 3, style)
            }))?
            .label(format!("{} = {}", scene.color_field, name))
            .legend(move |(x, y)| {
                Rectangle::new([(x + 3, y - 4), (x + 11, y + 4)], colour.filled())
            });
    }

    if scene.marks.iter().any(|mark| !mark.used) {
        // An empty series that only adds the legend entry for hollow marks.
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label("excluded from the fit (hollow)")
            .legend(|(x, y)| {
                Rectangle::new([(x + 3, y - 4), (x + 11, y + 4)], BLACK.stroke_width(1))
            });
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    root.present()?;
    Ok(())
}

/// Draws the title and, in red under it, one line per warning of the fit.
fn draw_header(
    header: &DrawingArea<SVGBackend<'_>, Shift>,
    scene: &Scene,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (width, _) = header.dim_in_pixel();
    let centre = width as i32 / 2;
    let title_style = ("sans-serif", 20)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    header.draw(&Text::new(scene.title.as_str(), (centre, 8), title_style))?;

    let warning_style = ("sans-serif", 13)
        .into_font()
        .color(&RGBColor(170, 30, 30))
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (index, warning) in scene.warnings.iter().enumerate() {
        let top = (TITLE_HEIGHT + WARNING_HEIGHT * index as u32) as i32;
        header.draw(&Text::new(
            warning.as_str(),
            (centre, top),
            warning_style.clone(),
        ))?;
    }
    Ok(())
}

/// Formats an axis tick: plain decimals between 0.01 and 10,000, two
/// significant digits in scientific notation outside.
fn format_tick(value: f64) -> String {
    format_with_digits(value, 1)
}

/// Formats a number of the title with four significant digits.
fn format_title_number(value: f64) -> String {
    format_with_digits(value, 3)
}

fn format_with_digits(value: f64, decimals: usize) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 || (0.01..10_000.0).contains(&magnitude) {
        return format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    format!("{value:.decimals$e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_cases() {
        // (axis range, expected ticks)
        let cases: [((f64, f64), Vec<f64>); 3] = [
            ((0.011, 0.36), vec![0.02, 0.05, 0.1, 0.2]),
            ((0.0009, 0.5), vec![0.001, 0.01, 0.1]),
            ((0.031, 0.049), vec![0.04]),
        ];
        for (range, expected) in cases {
            let ticks = log_ticks(range, MAX_F_TICKS);
            assert_eq!(ticks.len(), expected.len(), "{range:?}: {ticks:?}");
            for (tick, want) in ticks.iter().zip(&expected) {
                assert!((tick / want - 1.0).abs() < 1e-12, "{range:?}: {ticks:?}");
            }
        }
    }

    #[test]
    fn log_ticks_thin_many_decades() {
        let ticks = log_ticks((1.0, 1.0e30), MAX_SIGMA_TICKS);

        assert!(ticks.len() <= MAX_SIGMA_TICKS, "{ticks:?}");
        assert_eq!(ticks[0], 1.0);
        assert!(ticks.len() >= 8, "{ticks:?}");
    }

    #[test]
    fn bound_segments_end_on_frame() {
        // ln F = ln 1 - sigma / 10 on sigma in [0, 100], range F in [0.01, 0.5].
        let curve: Vec<(f64, f64)> = (0..=100)
            .map(|step| {
                let sigma = step as f64;
                (sigma, (-sigma / 10.0).exp())
            })
            .collect();
        let range = (0.01, 0.5);

        let segments = visible_segments(&curve, range, false);

        assert_eq!(segments.len(), 1);
        let first = segments[0].first().unwrap();
        let last = segments[0].last().unwrap();
        assert_eq!(first.1, 0.5);
        assert!((first.0 - 10.0 * 2f64.ln()).abs() < 1e-9, "{first:?}");
        assert_eq!(last.1, 0.01);
        assert!((last.0 - 10.0 * 100f64.ln()).abs() < 1e-9, "{last:?}");
    }
}
