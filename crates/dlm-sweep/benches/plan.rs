//! Cost of planning and expanding a sweep of 10,000 runs (1,000 points
//! with 10 seeds, plus an sgd baseline per seed), the work a coordinator
//! does once per submitted sweep.

use criterion::{Criterion, criterion_group, criterion_main};
use dlm_sweep::{Limits, SpecFormat, SweepSpec, parse_sweep};

fn sweep() -> SweepSpec {
    let temperatures: Vec<String> = (0..100)
        .map(|index| format!("{}", index as f64 * 1e-4))
        .collect();
    let alphas: Vec<String> = (0..10)
        .map(|index| format!("{}", index as f64 * 0.1))
        .collect();
    let text = format!(
        "name = \"bench\"\nseeds = 10\nbaselines = [\"sgd\"]\n[grid]\n\"dynamics.temperature\" = [{}]\n\"dynamics.alpha\" = [{}]",
        temperatures.join(", "),
        alphas.join(", ")
    );
    parse_sweep(&text, SpecFormat::Toml).expect("the benchmark sweep parses")
}

fn plan_and_expand(criterion: &mut Criterion) {
    let spec = sweep();
    let limits = Limits::default();

    criterion.bench_function("plan 10k runs", |bencher| {
        bencher.iter(|| spec.plan(&limits).expect("the benchmark sweep plans"))
    });

    let plan = spec.plan(&limits).expect("the benchmark sweep plans");
    criterion.bench_function("expand 10k runs", |bencher| {
        bencher.iter(|| plan.runs().filter(|run| run.is_ok()).count())
    });
}

criterion_group!(benches, plan_and_expand);
criterion_main!(benches);
