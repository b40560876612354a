//! The thresholds the colour rules read (docs/rules.md §3), and the buffers the levels count
//! with (§8): one policy an administrator versions.

use serde::{Deserialize, Serialize};

/// The thresholds of the colour rules; an administrator can change them (each change is a
/// new version). Defaults are docs/rules.md §3's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ColourPolicy {
    /// BLUE when the due date is within this many working days.
    pub blue_within_working_days: i64,
    /// YELLOW when overdue by up to this many working days; RED beyond.
    pub red_after_overdue_working_days: i64,
    /// Feedback rejections that make an item YELLOW, and RED.
    pub yellow_rejections: i64,
    pub red_rejections: i64,
    /// Whether a failed 回头看 (reopen) makes an item RED.
    pub reopen_is_red: bool,
    /// Whether progress reports (due, missed) count.
    pub count_progress_reports: bool,
    /// Unit bands: on-time rate (percent) below which a unit is BLUE / YELLOW / RED.
    pub unit_blue_below_percent: f64,
    pub unit_yellow_below_percent: f64,
    pub unit_red_below_percent: f64,
    /// The on-time rate judges a unit only over at least this many closures in the window:
    /// one late closure is not a rate of 0 %.
    pub unit_min_closed_for_rate: usize,
    /// Shares of a unit's open items (percent): red and yellow items at least this share
    /// make the unit BLUE, at least `unit_yellow_share_percent` YELLOW; red items at least
    /// `unit_red_share_percent` make it RED. A share counts only with at least
    /// `unit_share_min_items` such items, so that a unit with two open items is not judged
    /// by one.
    pub unit_blue_share_percent: f64,
    pub unit_yellow_share_percent: f64,
    pub unit_red_share_percent: f64,
    pub unit_share_min_items: usize,
    /// Items closed in this many trailing days count towards a unit's on-time rate, on the
    /// board and in the monthly report alike (judged at the month's last instant).
    pub on_time_window_days: i64,
    /// A task handed down to a sub-unit (分解, 转办) is due this many working days before
    /// its holder by default (docs/rules.md §8).
    pub task_buffer_working_days: i64,
    /// An item received from above is due this many working days before the upstream due
    /// by default, the office's time to gather and report (docs/rules.md §8).
    pub upstream_buffer_working_days: i64,
}

impl Default for ColourPolicy {
    fn default() -> Self {
        ColourPolicy {
            blue_within_working_days: 1,
            red_after_overdue_working_days: 3,
            yellow_rejections: 1,
            red_rejections: 2,
            reopen_is_red: true,
            count_progress_reports: true,
            unit_blue_below_percent: 70.0,
            unit_yellow_below_percent: 60.0,
            unit_red_below_percent: 50.0,
            unit_min_closed_for_rate: 10,
            unit_blue_share_percent: 20.0,
            unit_yellow_share_percent: 30.0,
            unit_red_share_percent: 30.0,
            unit_share_min_items: 3,
            on_time_window_days: 90,
            task_buffer_working_days: 1,
            upstream_buffer_working_days: 2,
        }
    }
}

impl ColourPolicy {
    /// Thresholds must be ordered to mean anything; refuse a policy that is not.
    pub fn validate(&self) -> Result<(), String> {
        let counts_ok = self.blue_within_working_days >= 0
            && self.red_after_overdue_working_days >= 0
            && self.yellow_rejections >= 1
            && self.red_rejections >= self.yellow_rejections
            && self.unit_share_min_items >= 1
            && self.unit_min_closed_for_rate >= 1
            && (1..=366).contains(&self.on_time_window_days)
            && (0..=20).contains(&self.task_buffer_working_days)
            && (0..=20).contains(&self.upstream_buffer_working_days);
        let shares_ok = (0.0..=100.0).contains(&self.unit_blue_share_percent)
            && self.unit_blue_share_percent <= self.unit_yellow_share_percent
            && self.unit_yellow_share_percent <= 100.0
            && (0.0..=100.0).contains(&self.unit_red_share_percent);
        let bands_ok = (0.0..=100.0).contains(&self.unit_red_below_percent)
            && self.unit_red_below_percent <= self.unit_yellow_below_percent
            && self.unit_yellow_below_percent <= self.unit_blue_below_percent
            && self.unit_blue_below_percent <= 100.0;
        if counts_ok && bands_ok && shares_ok {
            Ok(())
        } else {
            Err("颜色规则的阈值不合理：应满足 红 ≤ 黄 ≤ 蓝 的按时率区间，蓝 ≤ 黄 的事项占比，占比在0至100之间，退回次数红 ≥ 黄 ≥ 1，最少事项数与最少办结数至少为1，统计窗口1至366天，子任务与上级交办事项预留0至20个工作日".into())
        }
    }
}
