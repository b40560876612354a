//! Command-line flags: the district's rates and the colour policy's thresholds, each with a
//! stated default, so an office can replay its own month with its own numbers.

use ducha_domain::colour::ColourPolicy;
use ducha_report::Month;

/// How the simulated district behaves. The defaults, and why, are in `HELP`.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub month: Month,
    pub seeds: Vec<u64>,
    pub units: usize,
    pub scale: f64,
    pub co_share: f64,
    pub late: f64,
    /// Shares of late reports that are 1–3, 4–10 and 11–30 working days late.
    pub late_mix: [f64; 3],
    pub rework: f64,
    pub rework_again: f64,
    pub extension: f64,
    pub extension_days: i64,
    pub co_follow: f64,
    pub reopen: f64,
    pub missed_report: f64,
    pub unit_spread: f64,
    pub lead_in_days: i64,
    pub chain: u32,
    /// Print the per-unit table (default with one seed, not with several).
    pub table: Option<bool>,
}

pub struct Options {
    pub scenario: Scenario,
    pub policy: ColourPolicy,
}

pub const HELP: &str = "\
simulate_month — replay a district's supervision month and print the spread of unit colours

Usage: scripts/simulate-month [flags]

District (rates are per item; a unit's own rate is the district's times its diligence factor):
  --month YYYY-MM        month judged                                   [2026-10]
  --seed N               one district (prints the per-unit table)       [1]
  --seeds A-B            several districts, one summary row each (Markdown)
  --units N              units: ~2/3 departments, ~1/3 streets (街道)    [31]
  --scale X              multiplies every unit's monthly intake         [1.0]
                         (departments 5–60 items a month, 住建/城管/生态环境 the largest;
                         streets 5–25)
  --co-share P           items with co-units (协办)                      [0.33]
  --late P               lead's completion report after the due in force [0.15]
  --late-mix A,B,C       of late reports: 1–3 / 4–10 / 11–30 working days late [0.6,0.3,0.1]
  --rework P             first completion report rejected (退回重办)      [0.08]
  --rework-again P       a resubmission rejected again                  [0.25]
  --extension P          an extension granted before the due            [0.10]
  --extension-days N     an extension adds N/2..3N/2 working days        [10]
  --co-follow P          co-units given the lead's extension too        [1.0]
  --reopen P             回头看 finds a closed item failing again          [0.02]
  --missed-report P      a progress report (定期报告) filed late, per cycle [0.10]
  --unit-spread S        spread of diligence between units (σ of the log of the
                         factor on late, rework and missed-report; 0 = all alike) [0.5]
  --lead-in-days N       items arrive from N days before the judged month [420]:
                         the chain's months, the 90-day window before each, and the
                         three-month items still open from before them
  --chain N              months built in a row, ending with --month, each passed the
                         one before as the published report: \"two periods running\"
                         settles after four or five (a YELLOW unit goes RED, then
                         back to YELLOW, ...), so the judged month is a steady one [6]
  --table / --no-table   per-unit table on or off

Colour policy (defaults are ColourPolicy::default()):
  --red-share P          red items ≥ P % of open items → unit RED       [25]
  --yellow-share P       red+yellow items ≥ P % → YELLOW                [25]
  --blue-share P         red+yellow items ≥ P % → BLUE                  [10]
  --min-items N          a share counts only with ≥ N such items        [2]
  --min-closed N         the on-time rate counts only over ≥ N closures [5]
  --blue-below P         window on-time rate < P % → BLUE               [95]
  --yellow-below P       … < P % → YELLOW                               [90]
  --red-below P          … < P % → RED                                  [80]
  --window-days N        trailing window of the on-time rate            [90]
  --red-after N          item RED beyond N working days overdue         [3]
  --blue-within N        item BLUE within N working days of its due     [1]
";

/// The flags that take a value, each matched in `parse`.
const VALUE_FLAGS: [&str; 29] = [
    "--month",
    "--seed",
    "--seeds",
    "--units",
    "--scale",
    "--co-share",
    "--late",
    "--late-mix",
    "--rework",
    "--rework-again",
    "--extension",
    "--extension-days",
    "--co-follow",
    "--reopen",
    "--missed-report",
    "--unit-spread",
    "--lead-in-days",
    "--chain",
    "--red-share",
    "--yellow-share",
    "--blue-share",
    "--min-items",
    "--min-closed",
    "--blue-below",
    "--yellow-below",
    "--red-below",
    "--window-days",
    "--red-after",
    "--blue-within",
];

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{flag}: cannot read “{value}”"))
}

fn probability(flag: &str, value: &str) -> Result<f64, String> {
    let p: f64 = number(flag, value)?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{flag}: a rate is between 0 and 1, not {p}"))
    }
}

fn seeds(value: &str) -> Result<Vec<u64>, String> {
    let seeds: Vec<u64> = match value.split_once('-') {
        Some((a, b)) => (number("--seeds", a)?..=number("--seeds", b)?).collect(),
        None => value
            .split(',')
            .map(|s| number("--seeds", s))
            .collect::<Result<_, _>>()?,
    };
    if seeds.is_empty() {
        return Err("--seeds: no seed in the range".into());
    }
    Ok(seeds)
}

fn late_mix(value: &str) -> Result<[f64; 3], String> {
    let parts: Vec<f64> = value
        .split(',')
        .map(|s| number("--late-mix", s))
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [a, b, c] if *a >= 0.0 && *b >= 0.0 && *c >= 0.0 && a + b + c > 0.0 => {
            let sum = a + b + c;
            Ok([a / sum, b / sum, c / sum])
        }
        _ => Err("--late-mix: three non-negative shares, e.g. 0.6,0.3,0.1".into()),
    }
}

pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut s = Scenario {
        month: "2026-10".parse().map_err(|e| format!("{e}"))?,
        seeds: vec![1],
        units: 31,
        scale: 1.0,
        co_share: 0.33,
        late: 0.15,
        late_mix: [0.6, 0.3, 0.1],
        rework: 0.08,
        rework_again: 0.25,
        extension: 0.10,
        extension_days: 10,
        co_follow: 1.0,
        reopen: 0.02,
        missed_report: 0.10,
        unit_spread: 0.5,
        lead_in_days: 420,
        chain: 6,
        table: None,
    };
    let mut p = ColourPolicy::default();
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--table" => {
                s.table = Some(true);
                continue;
            }
            "--no-table" => {
                s.table = Some(false);
                continue;
            }
            _ => {}
        }
        if !VALUE_FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown flag {flag} (try --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{flag}: needs a value"))?,
        };
        let f = flag.as_str();
        let v = value.as_str();
        match f {
            "--month" => s.month = v.parse().map_err(|e| format!("{e}"))?,
            "--seed" => s.seeds = vec![number(f, v)?],
            "--seeds" => s.seeds = seeds(v)?,
            "--units" => s.units = number::<usize>(f, v)?.max(1),
            "--scale" => s.scale = number::<f64>(f, v)?.max(0.0),
            "--co-share" => s.co_share = probability(f, v)?,
            "--late" => s.late = probability(f, v)?,
            "--late-mix" => s.late_mix = late_mix(v)?,
            "--rework" => s.rework = probability(f, v)?,
            "--rework-again" => s.rework_again = probability(f, v)?,
            "--extension" => s.extension = probability(f, v)?,
            "--extension-days" => s.extension_days = number::<i64>(f, v)?.max(1),
            "--co-follow" => s.co_follow = probability(f, v)?,
            "--reopen" => s.reopen = probability(f, v)?,
            "--missed-report" => s.missed_report = probability(f, v)?,
            "--unit-spread" => s.unit_spread = number::<f64>(f, v)?.max(0.0),
            "--lead-in-days" => s.lead_in_days = number::<i64>(f, v)?.max(0),
            "--chain" => s.chain = number::<u32>(f, v)?.max(1),
            "--red-share" => p.unit_red_share_percent = number(f, v)?,
            "--yellow-share" => p.unit_yellow_share_percent = number(f, v)?,
            "--blue-share" => p.unit_blue_share_percent = number(f, v)?,
            "--min-items" => p.unit_share_min_items = number(f, v)?,
            "--min-closed" => p.unit_min_closed_for_rate = number(f, v)?,
            "--blue-below" => p.unit_blue_below_percent = number(f, v)?,
            "--yellow-below" => p.unit_yellow_below_percent = number(f, v)?,
            "--red-below" => p.unit_red_below_percent = number(f, v)?,
            "--window-days" => p.on_time_window_days = number(f, v)?,
            "--red-after" => p.red_after_overdue_working_days = number(f, v)?,
            "--blue-within" => p.blue_within_working_days = number(f, v)?,
            _ => return Err(format!("unknown flag {flag} (try --help)")),
        }
    }
    // The same check the admin page makes: an office should not study a policy it could
    // not save.
    p.validate()?;
    Ok(Options {
        scenario: s,
        policy: p,
    })
}
