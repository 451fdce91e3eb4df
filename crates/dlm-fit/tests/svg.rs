//! The SVG plot parses as XML and draws one circle per drawable run,
//! hollow for excluded runs.

mod common;

use dlm_fit::{FitOptions, FitPoint, Method, PlotOptions, XScale, fit, render_svg};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Forty runs in two coupling forms, plus runs excluded for low learning
/// accuracy (drawable, hollow) and for undefined sigma or divergence
/// (not drawable).
fn sweep() -> Vec<FitPoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut points = Vec::new();
    for index in 0..40 {
        let sigma = 10f64.powf(rng.random_range(2.0..6.0));
        let forgetting = 0.4 * (-sigma / 3.0e5).exp() * rng.random_range(0.2..1.0);
        let mut point = common::run(index, sigma, forgetting);
        point.label = Some(if index % 2 == 0 { "tanh" } else { "linear" }.to_string());
        points.push(point);
    }
    for index in 40..44 {
        let mut point = common::run(index, 5.0e4, 0.05);
        point.learning_accuracy = Some(0.2);
        points.push(point);
    }
    points.push(FitPoint {
        sigma: None,
        ..common::run(44, 1.0, 0.1)
    });
    points.push(FitPoint {
        diverged: true,
        forgetting: None,
        ..common::run(45, 1.0, 0.1)
    });
    points
}

fn circles(svg: &str) -> (usize, usize) {
    let document = roxmltree::Document::parse(svg).expect("the plot is well-formed XML");
    let circles: Vec<_> = document
        .descendants()
        .filter(|node| node.has_tag_name("circle"))
        .collect();
    let hollow = circles
        .iter()
        .filter(|node| node.attribute("fill") == Some("none"))
        .count();
    (circles.len(), hollow)
}

#[test]
fn svg_has_one_circle_per_run() {
    let points = sweep();
    for x_scale in [XScale::Linear, XScale::Log] {
        let options = FitOptions {
            method: Method::Quantile,
            x_scale,
            bootstrap: 200,
            min_learning_accuracy: Some(0.5),
            ..FitOptions::default()
        };
        let report = fit(&points, &options).unwrap();
        let svg = render_svg(&points, &report, &PlotOptions::default()).unwrap();
        let (total, hollow) = circles(&svg);

        assert_eq!(
            total, 44,
            "{x_scale:?}: 40 used and 4 excluded runs are drawable"
        );
        assert_eq!(
            hollow, 4,
            "{x_scale:?}: the runs below the accuracy threshold are hollow"
        );
        assert!(
            svg.contains("coupling = tanh"),
            "{x_scale:?}: legend lists the coupling forms"
        );
        assert!(
            svg.contains("fitted bound"),
            "{x_scale:?}: legend names the bound"
        );
        assert!(
            svg.contains("95% bootstrap band"),
            "{x_scale:?}: legend names the band"
        );
    }
}

#[test]
fn svg_shows_fit_warnings() {
    let mut points: Vec<FitPoint> = (0..12)
        .map(|index| common::run(index, 1.0 + index as f64, 0.1 + 0.01 * (index % 5) as f64))
        .collect();
    points.push(common::run(12, 5.5e30, 0.02));
    let report = fit(&points, &FitOptions::default()).unwrap();

    let svg = render_svg(&points, &report, &PlotOptions::default()).unwrap();

    assert!(!report.warnings.is_empty());
    for warning in &report.warnings {
        assert!(
            svg.contains(&warning.message),
            "missing {:?}",
            warning.message
        );
    }
}
