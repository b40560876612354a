//! What changed between two versions of a month's report: publishing again makes a new
//! version only when a figure changed, and says what changed (docs/rules.md §6).

use std::collections::HashMap;

use crate::model::{MonthlyReport, Totals, UnitFigures};

use super::percent;

/// What changed from one version of a month's report to the next, in Chinese, for the
/// regenerated version to say (e.g. "区住建局：办结 3→4"). Empty when the figures are the
/// same.
pub fn changes_between(before: &MonthlyReport, after: &MonthlyReport) -> Vec<String> {
    let mut changes = Changes::default();
    changes.totals(&before.totals, &after.totals);
    changes.units(&before.units, &after.units);
    if before.calendar_version != after.calendar_version {
        changes.0.push(format!(
            "节假日日历更新：{}→{}",
            before.calendar_version, after.calendar_version
        ));
    }
    if before.policy_version != after.policy_version {
        changes.0.push(format!(
            "颜色规则版本：{}→{}",
            before.policy_version, after.policy_version
        ));
    }
    changes.0
}

/// The changes found so far, in the order the report shows them: the district, then the
/// units, then the rules.
#[derive(Default)]
struct Changes(Vec<String>);

impl Changes {
    /// Notes `scope`'s figure `name` if it changed ("区住建局：办结 3→4").
    fn field(&mut self, scope: &str, name: &str, old: String, new: String) {
        if old != new {
            self.0.push(format!("{scope}：{name} {old}→{new}"));
        }
    }

    /// The district's closures, on-time rate and overdue.
    fn totals(&mut self, old: &Totals, new: &Totals) {
        self.field(
            "全区",
            "办结",
            old.closed.to_string(),
            new.closed.to_string(),
        );
        self.field(
            "全区",
            "按期办结率",
            percent(old.on_time_rate),
            percent(new.on_time_rate),
        );
        self.field(
            "全区",
            "逾期",
            old.overdue.to_string(),
            new.overdue.to_string(),
        );
    }

    /// Each unit's figures, colour and rank, in the new version's order; a unit new to the
    /// report is said to be added.
    fn units(&mut self, before: &[UnitFigures], after: &[UnitFigures]) {
        let old_units: HashMap<i64, &UnitFigures> = before.iter().map(|u| (u.unit_id, u)).collect();
        for u in after {
            let Some(o) = old_units.get(&u.unit_id) else {
                self.field(&u.unit, "新增单位", "—".into(), "列入".into());
                continue;
            };
            self.unit(o, u);
        }
    }

    /// One unit's changes from `o` to `u`.
    fn unit(&mut self, o: &UnitFigures, u: &UnitFigures) {
        let scope = u.unit.as_str();
        self.field(
            scope,
            "交办",
            o.assigned.to_string(),
            u.assigned.to_string(),
        );
        self.field(scope, "办结", o.closed.to_string(), u.closed.to_string());
        self.field(
            scope,
            "按期办结率",
            percent(o.on_time_rate),
            percent(u.on_time_rate),
        );
        self.field(scope, "逾期", o.overdue.to_string(), u.overdue.to_string());
        self.field(
            scope,
            "颜色",
            o.colour.label().to_string(),
            u.colour.label().to_string(),
        );
        self.field(scope, "排名", rank_text(o.rank), rank_text(u.rank));
    }
}

/// A rank as the report writes it; "—" for a unit without items, which is unranked.
fn rank_text(rank: Option<u32>) -> String {
    rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into())
}
