//! What the simulation prints: the scenario, the spread of unit colours under the current
//! rule and the legacy one, the units praised, named and called in, a per-unit table, and
//! the spread of item colours; with several seeds, one Markdown row a district.

use ducha_domain::colour::Colour;
use ducha_report::UnitFigures;

use super::Run;
use super::args::Options;

/// Counts of NONE, BLUE, YELLOW, RED.
#[derive(Debug, Clone, Copy, Default)]
struct Spread([u32; 4]);

impl Spread {
    fn add(&mut self, colour: Colour) {
        self.0[colour as usize] += 1;
    }

    fn total(&self) -> u32 {
        self.0.iter().sum()
    }

    fn slash(&self) -> String {
        let [n, b, y, r] = self.0;
        format!("{n}/{b}/{y}/{r}")
    }

    fn with_percent(&self) -> String {
        let total = self.total().max(1);
        let names = ["正常", "蓝", "黄", "红"];
        names
            .iter()
            .zip(self.0)
            .map(|(name, n)| {
                format!(
                    "{name} {n:>3} ({:>5.1}%)",
                    f64::from(n) * 100.0 / f64::from(total)
                )
            })
            .collect::<Vec<_>>()
            .join("  ")
    }
}

/// The measures of one rule: praised (表扬), named (通报, YELLOW), called in (约谈, RED).
#[derive(Debug, Clone, Copy, Default)]
struct Measures {
    praised: u32,
    named: u32,
    called_in: u32,
}

struct Judged {
    new: Spread,
    new_measures: Measures,
    old: Spread,
    old_measures: Measures,
    items: Spread,
    /// Units named or called in among the least diligent quarter, under the new and the
    /// old rule, and the quarter's size; and among the most diligent half.
    worst_flagged: (u32, u32, u32),
    best_flagged: (u32, u32, u32),
    /// What made the YELLOW and RED units so under the current rule: the on-time rate or
    /// the shares of open items, directly or through "two periods running".
    drivers: [u32; 4],
}

/// Which rule a unit's reason names: 0 the on-time rate, 1 a share, 2 and 3 the same
/// through "two periods running" (连续两期…, with the period's own reason inside).
fn driver(reason: &str) -> usize {
    let running = if reason.starts_with("连续两期") {
        2
    } else {
        0
    };
    running + usize::from(!reason.contains("按期办结率"))
}

fn legacy_of(run: &Run, u: &UnitFigures) -> Option<Colour> {
    run.legacy.get(&u.unit_id).copied()
}

fn judge(run: &Run) -> Judged {
    let r = &run.report;
    let c = &r.totals.unit_colours;
    let new = Spread([c.none, c.blue, c.yellow, c.red]);
    let mut old = Spread::default();
    let mut old_measures = Measures::default();
    for u in &r.units {
        if let Some(colour) = legacy_of(run, u) {
            old.add(colour);
            old_measures.named += u32::from(colour == Colour::Yellow);
            old_measures.called_in += u32::from(colour == Colour::Red);
            old_measures.praised += u32::from(
                u.closed > 0
                    && u.closed_on_time == u.closed
                    && u.overdue == 0
                    && colour == Colour::None,
            );
        }
    }
    let i = &r.totals.item_colours;
    // Does the rule point at the units that really are worse? Rank the units with items by
    // their drawn diligence factor (higher = later, more rework, more missed reports).
    let mut active: Vec<(&UnitFigures, f64)> = r
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .map(|u| {
            let factor = run
                .units
                .iter()
                .find(|x| x.info.id == u.unit_id)
                .map_or(1.0, |x| x.diligence);
            (u, factor)
        })
        .collect();
    active.sort_by(|a, b| b.1.total_cmp(&a.1));
    let flagged = |slice: &[(&UnitFigures, f64)]| {
        let new = slice
            .iter()
            .filter(|(u, _)| u.colour >= Colour::Yellow)
            .count() as u32;
        let old = slice
            .iter()
            .filter(|(u, _)| legacy_of(run, u).is_some_and(|c| c >= Colour::Yellow))
            .count() as u32;
        (new, old, slice.len() as u32)
    };
    let mut drivers = [0u32; 4];
    for u in r.units.iter().filter(|u| u.colour >= Colour::Yellow) {
        drivers[driver(&u.colour_reason)] += 1;
    }
    let quarter = active.len().div_ceil(4);
    let half = active.len() / 2;
    Judged {
        new,
        new_measures: Measures {
            praised: r.praised.len() as u32,
            named: r.named.len() as u32,
            called_in: r.called_in.len() as u32,
        },
        old,
        old_measures,
        items: Spread([i.none, i.blue, i.yellow, i.red]),
        worst_flagged: flagged(&active[..quarter]),
        best_flagged: flagged(&active[active.len() - half..]),
        drivers,
    }
}

pub fn header(options: &Options) {
    let s = &options.scenario;
    let p = &options.policy;
    println!("# 督查月度模拟 — simulate_month");
    println!();
    println!(
        "month {}  seeds {:?}  units {}  scale {}  co-share {}  lead-in {} days  chain {} months",
        s.month, s.seeds, s.units, s.scale, s.co_share, s.lead_in_days, s.chain
    );
    println!(
        "late {}  late-mix {:.2},{:.2},{:.2} (1–3/4–10/11–30 wd)  rework {}  rework-again {}  extension {} (+{} wd ±50%)  co-follow {}  reopen {}  missed-report {}  unit-spread {}",
        s.late,
        s.late_mix[0],
        s.late_mix[1],
        s.late_mix[2],
        s.rework,
        s.rework_again,
        s.extension,
        s.extension_days,
        s.co_follow,
        s.reopen,
        s.missed_report,
        s.unit_spread
    );
    println!(
        "policy: red-share {}%  yellow-share {}%  blue-share {}%  min-items {}  min-closed {}  rate bands <{}/<{}/<{}%  window {} days  item RED after {} wd  BLUE within {} wd",
        p.unit_red_share_percent,
        p.unit_yellow_share_percent,
        p.unit_blue_share_percent,
        p.unit_share_min_items,
        p.unit_min_closed_for_rate,
        p.unit_blue_below_percent,
        p.unit_yellow_below_percent,
        p.unit_red_below_percent,
        p.on_time_window_days,
        p.red_after_overdue_working_days,
        p.blue_within_working_days
    );
    println!(
        "legacy rule: RED ≥2 red items or month's rate <80%, YELLOW 1 red or <90%, BLUE a yellow item or <95%, no minimum count"
    );
    println!();
}

/// One district in full.
pub fn detail(run: &Run, options: &Options) {
    let r = &run.report;
    let t = &r.totals;
    let j = judge(run);
    println!(
        "simulated items {}; {}: registered {}, closed {}, on time {} ({}), open at end {}, overdue {}, extended {}, reworked {}, reopened {}",
        run.items_simulated,
        r.month,
        t.registered,
        t.closed,
        t.closed_on_time,
        t.on_time_rate
            .map_or("—".to_string(), |x| format!("{x:.1}%")),
        t.open_at_end,
        t.overdue,
        t.extended,
        t.reworked,
        t.reopened
    );
    println!("{}", run.calibration);
    println!();
    println!("## 单位颜色分布 (units with items: {})", j.new.total());
    println!("  current  {}", j.new.with_percent());
    println!("  legacy   {}", j.old.with_percent());
    println!();
    let m = |x: Measures| {
        format!(
            "表扬 {:>2}  通报 {:>2}  约谈 {:>2}",
            x.praised, x.named, x.called_in
        )
    };
    println!("  current  {}", m(j.new_measures));
    println!("  legacy   {}", m(j.old_measures));
    println!(
        "  named or called in among the {} least diligent units: current {}, legacy {}; among the {} most diligent: current {}, legacy {}",
        j.worst_flagged.2,
        j.worst_flagged.0,
        j.worst_flagged.1,
        j.best_flagged.2,
        j.best_flagged.0,
        j.best_flagged.1
    );
    println!(
        "  current YELLOW/RED units by what their reason names: on-time rate {} (+{} two periods running), shares of open items {} (+{} two periods running)",
        j.drivers[0], j.drivers[2], j.drivers[1], j.drivers[3]
    );
    println!();
    println!(
        "## 事项颜色分布 (open items at the month's end: {})",
        j.items.total()
    );
    println!("  {}", j.items.with_percent());
    item_reasons(run);
    println!();
    if options.scenario.table.unwrap_or(true) {
        unit_table(run, options);
    }
}

/// Why the red and yellow assignments are coloured, lead and co-unit apart: which of the
/// item rules carries the item colours.
fn item_reasons(run: &Run) {
    const KINDS: [(&str, &str); 6] = [
        ("已逾期", "overdue, clock running"),
        ("办结反馈逾期", "completion report came in late"),
        (
            "协办部分逾期",
            "co-unit's part late (the lead's first report after the co-unit's due)",
        ),
        ("退回重办", "rework"),
        ("回头看", "回头看 reopened"),
        ("未按期报送进展", "progress report missed"),
    ];
    let r = &run.report;
    let mut counts = [[0u32; 2]; 2 * KINDS.len()];
    for (red, list) in [(true, &r.red_items), (false, &r.yellow_items)] {
        for f in list.iter() {
            if let Some(k) = KINDS.iter().position(|(key, _)| f.reason.contains(key)) {
                counts[k * 2 + usize::from(!red)][usize::from(!f.lead)] += 1;
            }
        }
    }
    println!("  red/yellow assignments by reason (lead | co-unit):");
    for (k, (key, meaning)) in KINDS.iter().enumerate() {
        let [red, yellow] = [counts[k * 2], counts[k * 2 + 1]];
        println!(
            "    {} red {:>3} | {:>3}   yellow {:>3} | {:>3}   ({meaning})",
            left(key, 14),
            red[0],
            red[1],
            yellow[0],
            yellow[1]
        );
    }
}

/// Display width of a string in a terminal: CJK and full-width characters take two cells.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

fn left(text: &str, cells: usize) -> String {
    format!("{text}{}", " ".repeat(cells.saturating_sub(width(text))))
}

fn right(text: &str, cells: usize) -> String {
    format!("{}{text}", " ".repeat(cells.saturating_sub(width(text))))
}

fn unit_table(run: &Run, options: &Options) {
    let window = options.policy.on_time_window_days;
    println!(
        "## 单位 (report order; 逾期倾向 = the unit's drawn late rate; shares over open assignments, lead and co-unit)"
    );
    let head = [
        left("单位", 14),
        left("类型", 5),
        right("月交办", 7),
        right("逾期倾向", 9),
        right("在办牵头/全部", 14),
        right("红", 4),
        right("黄", 4),
        right("红黄占比", 9),
        right(&format!("近{window}天办结"), 12),
        right("按期率", 8),
        right("本月办结", 9),
        left(" 现规则", 7),
        left(" 旧规则", 7),
        " 理由（现规则）".to_string(),
    ];
    println!("{}", head.join(""));
    for u in &run.report.units {
        let Some(unit) = run.units.iter().find(|x| x.info.id == u.unit_id) else {
            continue;
        };
        let all_open = run.open_assignments.get(&u.unit_id).copied().unwrap_or(0);
        let flagged = u.red_open + u.yellow_open;
        let share = if all_open == 0 {
            "—".to_string()
        } else {
            format!("{:.0}%", f64::from(flagged) * 100.0 / f64::from(all_open))
        };
        let late = (options.scenario.late * unit.diligence).min(0.95);
        let legacy = legacy_of(run, u).map_or("—", |c| c.label());
        let row = [
            left(&u.unit, 14),
            left(&u.kind, 5),
            right(&format!("{:.0}", unit.intake * options.scenario.scale), 7),
            right(&format!("{:.0}%", late * 100.0), 9),
            right(&format!("{}/{}", u.open_at_end, all_open), 14),
            right(&u.red_open.to_string(), 4),
            right(&u.yellow_open.to_string(), 4),
            right(&share, 9),
            right(
                &format!("{}/{}", u.window_closed_on_time, u.window_closed),
                12,
            ),
            right(
                &u.window_on_time_rate
                    .map_or("—".to_string(), |x| format!("{x:.0}%")),
                8,
            ),
            right(&format!("{}/{}", u.closed_on_time, u.closed), 9),
            left(&format!(" {}", u.colour.label()), 7),
            left(&format!(" {legacy}"), 7),
            format!(" {}", u.colour_reason),
        ];
        println!("{}", row.join(""));
    }
    println!();
}

/// Several districts: a Markdown row each and the mean, ready for a table in the docs.
pub fn summary(runs: &[Run]) {
    println!(
        "| seed | current 正常/蓝/黄/红 | current 表扬/通报/约谈 | legacy 正常/蓝/黄/红 | legacy 表扬/通报/约谈 | items 正常/蓝/黄/红 | month on-time | worst ¼ named: current/legacy | best ½ named: current/legacy | current Y+R by: rate/share/running rate/running share |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut sums = [0f64; 26];
    for run in runs {
        let j = judge(run);
        let rate = run.report.totals.on_time_rate.unwrap_or(0.0);
        let m = |x: Measures| format!("{}/{}/{}", x.praised, x.named, x.called_in);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1}% | {}/{} of {} | {}/{} of {} | {}/{}/{}/{} |",
            run.seed,
            j.new.slash(),
            m(j.new_measures),
            j.old.slash(),
            m(j.old_measures),
            j.items.slash(),
            rate,
            j.worst_flagged.0,
            j.worst_flagged.1,
            j.worst_flagged.2,
            j.best_flagged.0,
            j.best_flagged.1,
            j.best_flagged.2,
            j.drivers[0],
            j.drivers[1],
            j.drivers[2],
            j.drivers[3]
        );
        let values = [
            j.new.0[0],
            j.new.0[1],
            j.new.0[2],
            j.new.0[3],
            j.new_measures.praised,
            j.new_measures.named,
            j.new_measures.called_in,
            j.old.0[0],
            j.old.0[1],
            j.old.0[2],
            j.old.0[3],
            j.old_measures.praised,
            j.old_measures.named,
            j.old_measures.called_in,
            j.items.0[0],
            j.items.0[1],
            j.items.0[2],
            j.items.0[3],
            j.worst_flagged.0,
            j.worst_flagged.1,
            j.best_flagged.0,
            j.best_flagged.1,
            j.drivers[0],
            j.drivers[1],
            j.drivers[2],
            j.drivers[3],
        ];
        for (sum, v) in sums.iter_mut().zip(values) {
            *sum += f64::from(v);
        }
    }
    let n = runs.len() as f64;
    let mean: Vec<String> = sums.iter().map(|s| format!("{:.1}", s / n)).collect();
    let rates: f64 = runs
        .iter()
        .map(|r| r.report.totals.on_time_rate.unwrap_or(0.0))
        .sum::<f64>()
        / n;
    println!(
        "| mean | {} | {} | {} | {} | {} | {:.1}% | {} | {} | {} |",
        mean[0..4].join("/"),
        mean[4..7].join("/"),
        mean[7..11].join("/"),
        mean[11..14].join("/"),
        mean[14..18].join("/"),
        rates,
        mean[18..20].join("/"),
        mean[20..22].join("/"),
        mean[22..26].join("/"),
    );
}
