//! The scheduler. tokio-cron-scheduler fires a UTC tick every minute (its time-zone support
//! converts to a fixed offset once, so local-time schedules are decided here, in the
//! domain's time zone); the tick sweeps at the configured local times on working days only
//! — per the calendar: not on holidays, yes on 调休 Saturdays — and delivers the outbox.
//! Every instance runs the jobs; the sweep lease and the outbox claims keep them from
//! doing the same work twice.

use chrono::{DateTime, Timelike, Utc};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::service::{outbox, reports, sweep};
use crate::startup::AppState;

/// Is `now` one of the sweep times (to the minute) on a working day?
pub fn sweep_due(state: &AppState, now: DateTime<Utc>) -> bool {
    let local = now.with_timezone(&state.deadline_policy.time_zone);
    let Ok(calendar) = state.calendar.current() else {
        return false;
    };
    calendar.is_working_day(local.date_naive()).value
        && state
            .sweep_times
            .iter()
            .any(|t| t.hour() == local.hour() && t.minute() == local.minute())
}

/// Hourly on the hour: a server that was down at the sweep times of the first working day
/// still publishes the report the same day, or the next time it runs.
fn report_catch_up_due(state: &AppState, now: DateTime<Utc>) -> bool {
    now.with_timezone(&state.deadline_policy.time_zone).minute() == 0
}

/// One scheduler tick: sweep if due, then deliver what is pending.
pub async fn tick(state: &AppState) {
    let now = state.clock.now();
    if sweep_due(state, now) {
        match sweep::run_sweep(state, &state.instance_id, now).await {
            Ok(report) if report.ran => tracing::info!(?report, "reminder sweep"),
            Ok(_) => tracing::debug!("another instance holds the sweep lease"),
            Err(error) => tracing::error!(?error, "reminder sweep failed"),
        }
    }
    // The previous month's report, once, from the first working day of the month on
    // (design.md §6); after a sweep so its colours are today's.
    if sweep_due(state, now) || report_catch_up_due(state, now) {
        match reports::publish_due(state, now).await {
            Ok(Some(published)) => tracing::info!(
                month = %published.report.month,
                version = published.version,
                "monthly report published"
            ),
            Ok(None) => {}
            Err(error) => tracing::error!(?error, "monthly report failed"),
        }
    }
    match outbox::deliver_pending(&state.db, &state.mailer, &state.mail_from, now, 200).await {
        Ok(d) if d != outbox::Delivery::default() => tracing::info!(?d, "outbox delivery"),
        Ok(_) => {}
        Err(error) => tracing::error!(?error, "outbox delivery failed"),
    }
}

/// Starts the minute tick; `None` (logged) if the scheduler cannot start, so the API still
/// serves.
pub async fn start(state: AppState) -> Option<JobScheduler> {
    let scheduler = match JobScheduler::new().await {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(?error, "scheduler did not start");
            return None;
        }
    };
    let job = Job::new_async("0 * * * * *", move |_, _| {
        let state = state.clone();
        Box::pin(async move { tick(&state).await })
    });
    let added = match job {
        Ok(job) => scheduler.add(job).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(error) = added.and(scheduler.start().await) {
        tracing::error!(?error, "scheduler job did not start");
        return None;
    }
    Some(scheduler)
}
