//! Collects per-step measurements into the down-sampled series and the
//! running means the summary needs.

use super::trainer::StepRecord;
use crate::report::Series;

/// Running mean that becomes undefined once any value is missing.
#[derive(Clone, Copy, Debug, Default)]
struct StrictMean {
    total: f64,
    count: u64,
    missing: bool,
}

impl StrictMean {
    fn add(&mut self, value: Option<f64>) {
        match value {
            Some(value) => {
                self.total += value;
                self.count += 1;
            }
            None => self.missing = true,
        }
    }

    fn mean(&self) -> Option<f64> {
        if self.missing || self.count == 0 {
            return None;
        }
        Some(self.total / self.count as f64)
    }
}

/// Accumulates a run's measurements.
pub struct Recorder {
    dt: f64,
    pub series: Series,
    /// a(t) at every step, for the spectrum.
    pub activity: Vec<f64>,
    /// Means over the steps of tasks 2..K.
    sigma_flux: StrictMean,
    sigma_heat: StrictMean,
    p_in: StrictMean,
    p_out: StrictMean,
    later_energy: Option<(f64, f64, u64)>,
    task_sigma_flux: StrictMean,
    task_sigma_heat: StrictMean,
    previous_recorded: Option<(u64, f64)>,
    pub last_loss: Option<f64>,
}

impl Recorder {
    pub fn new(record_every: u64, dt: f64, total_steps: u64) -> Self {
        Self {
            dt,
            series: Series {
                record_every,
                ..Series::default()
            },
            activity: Vec::with_capacity(total_steps as usize),
            sigma_flux: StrictMean::default(),
            sigma_heat: StrictMean::default(),
            p_in: StrictMean::default(),
            p_out: StrictMean::default(),
            later_energy: None,
            task_sigma_flux: StrictMean::default(),
            task_sigma_heat: StrictMean::default(),
            previous_recorded: None,
            last_loss: None,
        }
    }

    /// Adds the measurements of step `step` (0-based, in the run) of task `task`.
    pub fn add(&mut self, step: u64, task: usize, record: StepRecord) {
        self.activity.push(record.activity);
        self.last_loss = Some(record.loss);
        self.task_sigma_flux.add(record.sigma_flux);
        self.task_sigma_heat.add(record.sigma_heat);

        if task > 0 {
            self.sigma_flux.add(record.sigma_flux);
            self.sigma_heat.add(record.sigma_heat);
            self.p_in.add(record.p_in);
            self.p_out.add(record.p_out);
            let (first, _, count) = self
                .later_energy
                .unwrap_or((record.energy, record.energy, 0));
            self.later_energy = Some((first, record.energy, count + 1));
        }

        if step % self.series.record_every != 0 {
            return;
        }
        let energy_rate = self
            .previous_recorded
            .map(|(previous_step, previous_energy)| {
                (record.energy - previous_energy) / ((step - previous_step) as f64 * self.dt)
            });
        self.previous_recorded = Some((step, record.energy));

        let series = &mut self.series;
        series.step.push(step);
        series.task.push(task);
        series.loss.push(record.loss);
        series.current.push(record.currents);
        series.grad_norm.push(record.grad_norms);
        series.temperature.push(record.temperatures);
        series.sigma_flux.push(record.sigma_flux);
        series.sigma_heat.push(record.sigma_heat);
        series.energy.push(record.energy);
        series.p_in.push(record.p_in);
        series.p_out.push(record.p_out);
        series.energy_rate.push(energy_rate);
        series.activity.push(record.activity);
    }

    /// Closes the per-task means at a task end.
    pub fn end_task(&mut self) {
        self.series
            .sigma_flux_task_mean
            .push(self.task_sigma_flux.mean());
        self.series
            .sigma_heat_task_mean
            .push(self.task_sigma_heat.mean());
        self.task_sigma_flux = StrictMean::default();
        self.task_sigma_heat = StrictMean::default();
    }

    pub fn sigma_flux_mean(&self) -> Option<f64> {
        self.sigma_flux.mean()
    }

    pub fn sigma_heat_mean(&self) -> Option<f64> {
        self.sigma_heat.mean()
    }

    pub fn p_in_mean(&self) -> Option<f64> {
        self.p_in.mean()
    }

    pub fn p_out_mean(&self) -> Option<f64> {
        self.p_out.mean()
    }

    /// Mean dE/dt over tasks 2..K: the change of E between the first and the
    /// last step of that phase divided by the time between them.
    pub fn energy_rate_mean(&self) -> Option<f64> {
        let (first, last, count) = self.later_energy?;
        if count < 2 {
            return None;
        }
        Some((last - first) / ((count - 1) as f64 * self.dt))
    }
}
