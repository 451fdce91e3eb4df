//! Following a local sweep until it is finished or interrupted, with a
//! progress bar on stderr (hidden when stderr is not a terminal).

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result};
use dlm_store::{Store, SubmitOutcome, SweepState, SweepStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::session::LocalSession;

/// Time between two reads of the sweep's status.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The end of following a sweep.
pub enum Followed {
    /// No run is queued or leased any more.
    Finished(SweepStatus),
    /// A shutdown signal arrived first.
    Interrupted(SweepStatus),
}

/// Polls the sweep's status until no run is pending or `shutdown`
/// completes; fails when the local worker or coordinator stops early.
pub async fn follow(
    store: &Store,
    submitted: &SubmitOutcome,
    session: &mut LocalSession,
    shutdown: impl Future<Output = ()>,
) -> Result<Followed> {
    let bar = progress_bar(submitted.run_count)?;
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(POLL_INTERVAL);

    loop {
        let interrupted = tokio::select! {
            () = &mut shutdown => true,
            error = session.failure() => {
                bar.abandon();
                return Err(error);
            }
            _ = ticker.tick() => false,
        };
        let status = store
            .sweep_status(submitted.sweep_id)
            .await
            .context("failed to read the sweep's progress")?;
        bar.set_position(status.counts.finished());
        bar.set_message(progress_message(&status));

        if interrupted {
            bar.abandon();
            return Ok(Followed::Interrupted(status));
        }
        if status.state != SweepState::Running {
            bar.finish();
            return Ok(Followed::Finished(status));
        }
    }
}

fn progress_bar(run_count: u64) -> Result<ProgressBar> {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(run_count), target);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}")
        .context("invalid progress bar template")?;
    bar.set_style(style);
    Ok(bar)
}

/// Formats the counts, the rate and the estimated time left.
fn progress_message(status: &SweepStatus) -> String {
    let counts = &status.counts;
    let eta = match status.eta_seconds {
        Some(seconds) => format_duration(seconds),
        None => "unknown".to_string(),
    };
    format!(
        "done {}, failed {}, reused {} | {:.2} runs/s | ETA {eta}",
        counts.done, counts.failed, status.reused_count, status.runs_per_second
    )
}

/// Formats seconds as `1h02m`, `3m05s` or `42s`.
fn format_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        return format!("{hours}h{minutes:02}m");
    }
    if minutes > 0 {
        return format!("{minutes}m{seconds:02}s");
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::format_duration;

    #[test]
    fn durations_are_compact() {
        let cases = [
            (0.4, "0s"),
            (42.0, "42s"),
            (185.0, "3m05s"),
            (3_720.0, "1h02m"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(format_duration(seconds), expected, "{seconds} s");
        }
    }
}
