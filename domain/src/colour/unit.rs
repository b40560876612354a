//! The unit rules of 蓝黄红 [000 Art.68]: a unit is judged by shares of its open items and by
//! its on-time rate over a trailing window, never by raw counts, so that a big unit is not
//! red by volume (docs/rules.md §3, the reasoning for the defaults beside them).

use super::{Colour, ColourPolicy, Verdict};

/// What a unit's colour depends on.
#[derive(Debug, Clone, Default)]
pub struct UnitFacts {
    /// (serial, colour) of the unit's open items.
    pub items: Vec<(String, Colour)>,
    /// Items the unit led that closed in the policy's trailing window, and how many of them
    /// on time (against the extended due).
    pub closed: usize,
    pub closed_on_time: usize,
    /// The unit's colour in the previous period (the last published monthly report), for
    /// the "two periods running" rules.
    pub previous_colour: Option<Colour>,
}

impl UnitFacts {
    /// The on-time rate in percent, when there are enough closures to judge by.
    pub fn on_time_rate(&self, policy: &ColourPolicy) -> Option<f64> {
        (self.closed > 0 && self.closed >= policy.unit_min_closed_for_rate)
            .then(|| self.closed_on_time as f64 * 100.0 / self.closed as f64)
    }
}

/// A share of `count` among `total`, in percent (0 of none).
fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 * 100.0 / total as f64
    }
}

pub fn unit_colour(policy: &ColourPolicy, facts: &UnitFacts) -> Verdict {
    let list = |colour: Colour| -> Vec<&str> {
        facts
            .items
            .iter()
            .filter(|(_, c)| *c == colour)
            .map(|(s, _)| s.as_str())
            .collect()
    };
    let (red, yellow) = (list(Colour::Red), list(Colour::Yellow));
    let open = facts.items.len();
    let flagged = red.len() + yellow.len();
    let enough = |count: usize| count >= policy.unit_share_min_items;
    let red_share = share(red.len(), open);
    let flagged_share = share(flagged, open);
    let named = |what: &str, count: usize, serials: Vec<&str>, share: f64| {
        format!(
            "{what}{count}个，占在办事项{share:.0}%（{count}/{open}）：{}",
            named_serials(&serials)
        )
    };
    let mut verdict = Verdict::none();
    if enough(red.len()) && red_share >= policy.unit_red_share_percent {
        verdict = verdict.worse(Verdict {
            colour: Colour::Red,
            reason: named("红色事项", red.len(), red.clone(), red_share),
        });
    }
    let both = || red.iter().chain(yellow.iter()).copied().collect::<Vec<_>>();
    if enough(flagged) && flagged_share >= policy.unit_yellow_share_percent {
        verdict = verdict.worse(Verdict {
            colour: Colour::Yellow,
            reason: named("红黄事项", flagged, both(), flagged_share),
        });
    } else if flagged > 0 && flagged_share >= policy.unit_blue_share_percent {
        verdict = verdict.worse(Verdict {
            colour: Colour::Blue,
            reason: named("红黄事项", flagged, both(), flagged_share),
        });
    }
    if let Some(r) = facts.on_time_rate(policy) {
        let colour = if r < policy.unit_red_below_percent {
            Colour::Red
        } else if r < policy.unit_yellow_below_percent {
            Colour::Yellow
        } else if r < policy.unit_blue_below_percent {
            Colour::Blue
        } else {
            Colour::None
        };
        if colour != Colour::None {
            verdict = verdict.worse(Verdict {
                colour,
                reason: format!(
                    "近{}天按期办结率{:.1}%（{}/{}）",
                    policy.on_time_window_days, r, facts.closed_on_time, facts.closed
                ),
            });
        }
    }
    // docs/rules.md §3: BLUE two periods running makes YELLOW, YELLOW two running makes RED.
    // A unit that improved (RED last time, YELLOW now) is not pushed back up.
    match (facts.previous_colour, verdict.colour) {
        (Some(Colour::Blue), Colour::Blue) => {
            verdict = Verdict {
                colour: Colour::Yellow,
                reason: format!("连续两期蓝色（{}）", verdict.reason),
            };
        }
        (Some(Colour::Yellow), Colour::Yellow) => {
            verdict = Verdict {
                colour: Colour::Red,
                reason: format!("连续两期黄色（{}）", verdict.reason),
            };
        }
        _ => {}
    }
    verdict
}

/// Reasons name the items, but a unit with hundreds of red items gets the first few and
/// a count: the reason is read in a table cell, and every report repeats it.
const SERIALS_NAMED: usize = 5;

fn named_serials(serials: &[&str]) -> String {
    if serials.len() <= SERIALS_NAMED {
        serials.join("、")
    } else {
        format!("{}等", serials[..SERIALS_NAMED].join("、"))
    }
}

/// What each unit colour leads to ([000 Art.68]: 通报、约谈).
pub fn unit_measure(colour: Colour) -> &'static str {
    match colour {
        Colour::None => "",
        Colour::Blue => "提醒单位主要负责人",
        Colour::Yellow => "通报",
        Colour::Red => "约谈，并报分管区领导",
    }
}
