use crate::model::{MonthlyReport, UnitFigures};

use super::RenderError;

/// The per-unit table, one row per unit, with a UTF-8 byte-order mark so that spreadsheet
/// programs on Chinese Windows read the text as UTF-8. Rates are plain numbers (percent, one
/// decimal) so the column sorts and sums; an empty cell means nothing closed.
pub const UNIT_COLUMNS: [&str; 26] = [
    "排名",
    "单位",
    "类别",
    "本月交办（牵头）",
    "本月协办",
    "本月办结",
    "按期办结",
    "按原定期限办结",
    "逾期办结",
    "按期办结率(%)",
    "月末在办",
    "逾期未办结",
    "批准延期",
    "退回重办",
    "回头看反弹",
    "颜色",
    "颜色原因",
    "处置措施",
    "上月按期办结率(%)",
    "上月颜色",
    "颜色统计窗口(天)",
    "窗口内办结",
    "窗口内按期办结",
    "窗口内按期办结率(%)",
    "月末红色在办",
    "月末黄色在办",
];

pub(crate) fn unit_row(u: &UnitFigures) -> Vec<String> {
    let rate = |r: Option<f64>| r.map(|r| format!("{r:.1}")).unwrap_or_default();
    vec![
        u.rank.map(|r| r.to_string()).unwrap_or_default(),
        u.unit.clone(),
        u.kind.clone(),
        u.assigned.to_string(),
        u.co_assigned.to_string(),
        u.closed.to_string(),
        u.closed_on_time.to_string(),
        u.closed_on_time_original.to_string(),
        u.closed_late.to_string(),
        rate(u.on_time_rate),
        u.open_at_end.to_string(),
        u.overdue.to_string(),
        u.extended.to_string(),
        u.reworked.to_string(),
        u.reopened.to_string(),
        u.colour.label().to_string(),
        u.colour_reason.clone(),
        u.measure.clone(),
        rate(u.previous_on_time_rate),
        u.previous_colour
            .map(|c| c.label().to_string())
            .unwrap_or_default(),
        u.window_days.to_string(),
        u.window_closed.to_string(),
        u.window_closed_on_time.to_string(),
        rate(u.window_on_time_rate),
        u.red_open.to_string(),
        u.yellow_open.to_string(),
    ]
}

pub fn csv(report: &MonthlyReport) -> Result<Vec<u8>, RenderError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer.write_record(UNIT_COLUMNS)?;
        for u in &report.units {
            writer.write_record(
                unit_row(u)
                    .iter()
                    .map(|cell| super::neutralise(cell).into_owned()),
            )?;
        }
        writer.flush().map_err(::csv::Error::from)?;
    }
    Ok(out)
}
