//! The scheduler. tokio-cron-scheduler fires a UTC tick every minute (its time-zone support
//! converts to a fixed offset once, so local-time schedules are decided here, in the
//! domain's time zone). Sweeps are due at the configured local times on working days only —
//! per the calendar: not on holidays, yes on 调休 Saturdays — and each such slot is recorded
//! when it runs: a slot missed because of a crash, a held lock or every instance being down
//! runs once, at the first tick that can. Mail is not the tick's business: each instance's
//! sender delivers within seconds of new mail (`outbox::run_sender`).

use chrono::{DateTime, Timelike, Utc};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::service::reports;
use crate::service::watch::sweep;
use crate::state::AppState;

/// How far back a missed slot is still worth running (a server down for longer sweeps at
/// its first tick anyway, for the latest slot).
const SLOT_LOOKBACK_DAYS: i64 = 7;

/// The latest scheduled sweep at or before `now`: a sweep time on a working day, within
/// the last week.
pub fn latest_slot(state: &AppState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tz = state.deadline_policy.time_zone;
    let calendar = state.calendar.current().ok()?;
    let today = now.with_timezone(&tz).date_naive();
    let mut times = state.sweep_times.clone();
    times.sort_unstable_by(|a, b| b.cmp(a));
    for back in 0..=SLOT_LOOKBACK_DAYS {
        let date = today.checked_sub_days(chrono::Days::new(u64::try_from(back).ok()?))?;
        if !calendar.is_working_day(date).value {
            continue;
        }
        for time in &times {
            let slot = date
                .and_time(*time)
                .and_local_timezone(tz)
                .earliest()?
                .with_timezone(&Utc);
            if slot <= now {
                return Some(slot);
            }
        }
    }
    None
}

/// Hourly on the hour: a server that was down at the sweep times of the first working day
/// still publishes the report the same day, or the next time it runs.
fn report_catch_up_due(state: &AppState, now: DateTime<Utc>) -> bool {
    now.with_timezone(&state.deadline_policy.time_zone).minute() == 0
}

/// One scheduler tick: the latest sweep slot if it has not run, leftover digests, and the
/// monthly report when due.
pub async fn tick(state: &AppState) {
    let now = state.clock.now();
    state.metrics.record_scheduler_tick(now.timestamp());
    let swept = sweep_if_due(state, now).await;
    // The previous month's report, once, from the first working day of the month on
    // (docs/rules.md §6); after a sweep so its colours are today's.
    if swept || report_catch_up_due(state, now) {
        match reports::publish_due(state.publisher(), now).await {
            Ok(Some(published)) => tracing::info!(
                month = %published.report.month,
                version = published.version,
                "monthly report published"
            ),
            Ok(None) => {}
            Err(error) => tracing::error!(?error, "monthly report failed"),
        }
    }
}

/// Runs the latest sweep slot if it has not run, else digests what a dead sweep left;
/// true when it swept.
async fn sweep_if_due(state: &AppState, now: DateTime<Utc>) -> bool {
    let mut swept = false;
    if let Some(slot) = latest_slot(state, now) {
        match sweep::slot_done(&state.db, slot).await {
            Ok(true) => {}
            Ok(false) => match sweep::run_slot(&state.sweeper(), slot, now).await {
                Ok(Some(report)) => {
                    swept = true;
                    tracing::info!(%slot, ?report, "reminder sweep");
                }
                Ok(None) => tracing::debug!(%slot, "the sweep ran elsewhere or is running"),
                Err(error) => tracing::error!(?error, %slot, "reminder sweep failed"),
            },
            Err(error) => tracing::error!(?error, "could not read the sweep slots"),
        }
    }
    if !swept && let Err(error) = sweep::digest_leftovers(&state.sweeper(), now).await {
        tracing::error!(?error, "digest of leftover notices failed");
    }
    swept
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
    // A first tick at once: a slot missed while every instance was down runs now, not at
    // the next minute boundary.
    let first = state.clone();
    tokio::spawn(async move { sweep_if_due(&first, first.clock.now()).await });
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
