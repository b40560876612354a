//! `cargo bench -p ducha-calendar`: throughput of the working-day operations.
//! Target (issue 2): ≥ 50 million `add_working_days` per second on one core.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ducha_calendar::Calendar;

/// A spread of dates (2000..2031, inside and outside the bundled data) and day counts, so the
/// benchmark walks the table and the weekends-only arithmetic alike, not one cached line.
fn inputs() -> Vec<(NaiveDate, i32)> {
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let offset = (seed % (31 * 366)) as i64;
            let n = ((seed >> 32) % 121) as i32 - 20;
            (first + chrono::Duration::days(offset), n)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cal = Calendar::national();
    let inputs = inputs();
    let mut group = c.benchmark_group("calendar");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("add_working_days", |b| {
        b.iter(|| {
            for &(date, n) in &inputs {
                let _ = black_box(cal.add_working_days(black_box(date), black_box(n)));
            }
        })
    });
    group.bench_function("working_days_between", |b| {
        b.iter(|| {
            for pair in inputs.windows(2) {
                black_box(cal.working_days_between(black_box(pair[0].0), black_box(pair[1].0)));
            }
        })
    });
    group.bench_function("is_working_day", |b| {
        b.iter(|| {
            for &(date, _) in &inputs {
                black_box(cal.is_working_day(black_box(date)));
            }
        })
    });
    group.finish();
    c.bench_function("calendar/build_national", |b| {
        b.iter(|| black_box(Calendar::national()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
