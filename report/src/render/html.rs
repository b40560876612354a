use std::fmt::Write;
use std::sync::OnceLock;

use charts_rs::{HorizontalBarChart, LineChart, PieChart};
use ducha_domain::colour::Colour;
use serde_json::json;

use crate::model::{FlaggedItem, MonthlyReport};

use super::{RenderError, percent};

/// Units in the on-time chart: the ranked ones, best first.
const MAX_CHARTED_UNITS: usize = 30;

const COLOUR_CSS: [(Colour, &str); 4] = [
    (Colour::None, "#2da44e"),
    (Colour::Blue, "#1f6feb"),
    (Colour::Yellow, "#d4a72c"),
    (Colour::Red, "#cf222e"),
];

fn colour_css(colour: Colour) -> &'static str {
    COLOUR_CSS
        .iter()
        .find(|(c, _)| *c == colour)
        .map(|(_, css)| *css)
        .unwrap_or("#555")
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn chart_error(error: impl std::fmt::Display) -> RenderError {
    RenderError::Chart(error.to_string())
}

/// The family charts measure their labels with, once a CJK font is registered.
static CHART_FONT: OnceLock<String> = OnceLock::new();

/// Registers a font with Chinese glyphs (TTF, OTF or a TTC collection) for laying out
/// chart labels. Without one, the charts' built-in Latin font measures every Chinese
/// character as empty, and unit names overlap or are cut off; browsers still draw the
/// text with the page's CJK fonts either way. Returns the family now in use; later calls
/// keep the first.
pub fn register_chart_font(data: &[u8]) -> Result<String, RenderError> {
    if let Some(family) = CHART_FONT.get() {
        return Ok(family.clone());
    }
    let before = charts_rs::get_font_families().map_err(chart_error)?;
    charts_rs::add_fonts(&[data]).map_err(chart_error)?;
    let added: Vec<String> = charts_rs::get_font_families()
        .map_err(chart_error)?
        .into_iter()
        .filter(|family| !before.contains(family))
        .collect();
    let family = added
        .iter()
        .find(|f| f.ends_with(" SC"))
        .or_else(|| added.first())
        .cloned()
        .ok_or_else(|| RenderError::Chart("字体文件中没有可用的字体".into()))?;
    Ok(CHART_FONT.get_or_init(|| family).clone())
}

/// Chart options every chart shares: the measuring font, if one is registered.
fn with_font(mut option: serde_json::Value) -> String {
    if let (Some(family), Some(fields)) = (CHART_FONT.get(), option.as_object_mut()) {
        fields.insert("font_family".into(), json!(family));
    }
    option.to_string()
}

const COLOUR_CHART_WIDTH: u32 = 560;

/// Colours of the open items at the month's end.
fn colour_chart(report: &MonthlyReport) -> Result<String, RenderError> {
    let c = &report.totals.item_colours;
    let slices: Vec<_> = [
        ("正常", c.none, Colour::None),
        ("蓝色", c.blue, Colour::Blue),
        ("黄色", c.yellow, Colour::Yellow),
        ("红色", c.red, Colour::Red),
    ]
    .into_iter()
    .filter(|(_, n, _)| *n > 0)
    .collect();
    if slices.is_empty() {
        return Ok(String::new());
    }
    // Labels stand outside the ring on leader lines; the width leaves them room on both
    // sides (a narrower chart cut "红色" to its last glyph).
    let option = json!({
        "width": COLOUR_CHART_WIDTH, "height": 300,
        "title_text": "月末在办事项颜色分布",
        "title_font_size": 15,
        "legend_show": false,
        "series_label_formatter": "{a} {c}件",
        "inner_radius": 40, "radius": 90, "rose_type": false,
        "series_colors": slices.iter().map(|(_, _, colour)| colour_css(*colour)).collect::<Vec<_>>(),
        "series_list": slices.iter().map(|(name, n, _)| json!({ "name": name, "data": [n], "label_show": true })).collect::<Vec<_>>(),
    });
    PieChart::from_json(&with_font(option))
        .and_then(|chart| chart.svg())
        .map_err(chart_error)
}

/// On-time rate of the ranked units that closed items, best first.
fn on_time_chart(report: &MonthlyReport) -> Result<String, RenderError> {
    let units: Vec<_> = report
        .units
        .iter()
        .filter(|u| u.rank.is_some() && u.on_time_rate.is_some())
        .take(MAX_CHARTED_UNITS)
        .collect();
    if units.is_empty() {
        return Ok(String::new());
    }
    // Horizontal bars draw the first category at the bottom; reverse so the best is on top.
    let names: Vec<&str> = units.iter().rev().map(|u| u.unit.as_str()).collect();
    let rates: Vec<f64> = units
        .iter()
        .rev()
        .map(|u| (u.on_time_rate.unwrap_or(0.0) * 10.0).round() / 10.0)
        .collect();
    let option = json!({
        "width": 680, "height": 80 + 22 * units.len(),
        "title_text": "各单位按期办结率（%）",
        "title_font_size": 15,
        "legend_show": false,
        "margin": { "left": 10, "top": 5, "right": 40, "bottom": 5 },
        "series_colors": ["#1f6feb"],
        "series_list": [{ "name": "按期办结率", "data": rates, "label_show": true }],
        "x_axis_data": names,
    });
    HorizontalBarChart::from_json(&with_font(option))
        .and_then(|chart| chart.svg())
        .map_err(chart_error)
}

/// On-time rate and overdue items over the months on record.
fn trend_chart(report: &MonthlyReport) -> Result<String, RenderError> {
    if report.trend.len() < 2 {
        return Ok(String::new());
    }
    let months: Vec<&str> = report.trend.iter().map(|p| p.month.as_str()).collect();
    let option = json!({
        "width": 680, "height": 300,
        "title_text": "近期走势",
        "title_font_size": 15,
        "legend_show": true,
        "series_colors": ["#1f6feb", "#cf222e"],
        "series_list": [
            { "name": "按期办结率（%）", "label_show": true,
              // A month without closures has no rate: a gap in the line, not a fall to 0 %.
              "data": report.trend.iter().map(|p| p.on_time_rate.map(|r| (r * 10.0).round() / 10.0)).collect::<Vec<_>>() },
            { "name": "逾期未办结（件）", "label_show": true,
              "data": report.trend.iter().map(|p| p.overdue).collect::<Vec<_>>() },
        ],
        "x_axis_data": months,
    });
    LineChart::from_json(&with_font(option))
        .and_then(|chart| chart.svg())
        .map_err(chart_error)
}

fn badge(colour: Colour) -> String {
    format!(
        "<span class=\"badge\" style=\"background:{}\">{}</span>",
        colour_css(colour),
        colour.label()
    )
}

/// How many rows of the red and yellow lists a rendering carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists<'a> {
    /// Every row: the report page and the printed 通报 are the record.
    Complete,
    /// At most `rows` of each list, then how many more there are and where all of them are:
    /// the mailed 通报, which must stay a size that mail servers accept (every row of a
    /// district with 600,000 red assignments is over 100 MB).
    AtMost { rows: usize, full_at: &'a str },
}

/// The rows of each list a mailed 通报 carries (docs/rules.md §6).
pub const MAIL_LIST_ROWS: usize = 200;

fn flagged_table(out: &mut String, caption: &str, items: &[FlaggedItem], lists: Lists<'_>) {
    if items.is_empty() {
        return;
    }
    // The count is of items, as in the totals; an item with several units has a row each.
    let distinct: std::collections::HashSet<i64> = items.iter().map(|i| i.item_id).collect();
    let rows = if distinct.len() == items.len() {
        String::new()
    } else {
        format!("，涉及{}个承办单位次", items.len())
    };
    let _ = write!(
        out,
        "<h3>{}（{}件{}）</h3><table><thead><tr><th>督查编号</th><th>事项</th><th>承办单位</th><th>期限</th><th>逾期工作日</th><th>原因</th></tr></thead><tbody>",
        esc(caption),
        distinct.len(),
        rows
    );
    // Every row on the page: the printed 通报 is the record, and its header repeats on each
    // page. The mail carries the first rows (the most overdue come first).
    let shown = match lists {
        Lists::Complete => items.len(),
        Lists::AtMost { rows, .. } => rows.min(items.len()),
    };
    for i in &items[..shown] {
        let _ = write!(
            out,
            "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}{}</td><td class=\"nowrap\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&i.serial),
            esc(&i.title),
            esc(&i.unit),
            if i.lead { "" } else { "（协办）" },
            i.due,
            i.working_days_overdue,
            esc(&i.reason)
        );
    }
    out.push_str("</tbody></table>");
    if let Lists::AtMost { full_at, .. } = lists
        && shown < items.len()
    {
        let _ = write!(
            out,
            "<p class=\"note\">以上列出前{shown}行，另有{}行未列出；完整名单见 <a href=\"{url}\">{url}</a>（登录后查看）。</p>",
            items.len() - shown,
            url = esc(full_at),
        );
    }
}

const STYLE: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       color: #222; margin: 0 auto; max-width: 190mm; font-size: 10.5pt; line-height: 1.6; padding: 8mm 0; }
svg text { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif; }
header { text-align: center; border-bottom: 2px solid #c00; padding-bottom: 4mm; margin-bottom: 5mm; }
header .masthead { color: #c00; font-size: 26pt; font-weight: bold; letter-spacing: 0.3em; }
header .meta { display: flex; justify-content: space-between; font-size: 10pt; margin-top: 2mm; }
h1 { font-size: 16pt; text-align: center; margin: 4mm 0; }
h2 { font-size: 13pt; border-left: 4px solid #c00; padding-left: 2mm; margin: 6mm 0 2mm; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
p { text-indent: 2em; margin: 1mm 0; }
p.note { text-indent: 0; color: #666; font-size: 9pt; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2mm; margin: 3mm 0; }
.card { border: 1px solid #ddd; border-radius: 2mm; padding: 2mm; text-align: center; }
.card b { display: block; font-size: 16pt; }
.card span { font-size: 9pt; color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 4mm; justify-content: center; }
.chart { break-inside: avoid; page-break-inside: avoid; max-width: 100%; }
.chart svg { max-width: 100%; height: auto; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; margin: 1mm 0 3mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 1mm 1.5mm; vertical-align: top; }
th { background: #eef2f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
.badge { color: #fff; border-radius: 1mm; padding: 0 1.5mm; font-size: 8.5pt; white-space: nowrap; }
.changes { border: 1px dashed #c00; padding: 2mm 3mm; margin: 3mm 0; font-size: 9.5pt; }
footer { margin-top: 8mm; font-size: 9pt; color: #666; text-align: right; }
@media print { body { padding: 0; } .pagebreak { page-break-before: always; } }
"#;

/// The report page: a 通报 masthead, the three sections [000 Art.66] with charts, the
/// red/yellow lists, the measures, and the full ranking. `version` and `changes` are the
/// stored snapshot's (a regenerated report says what changed).
pub fn html(
    report: &MonthlyReport,
    version: i32,
    changes: &[String],
    office: &str,
) -> Result<String, RenderError> {
    html_with(report, version, changes, office, Lists::Complete)
}

/// The mailed 通报: the page with at most [`MAIL_LIST_ROWS`] rows of each list, and for
/// the rest the count and `full_at`, the page that lists them all.
pub fn mail_html(
    report: &MonthlyReport,
    version: i32,
    changes: &[String],
    office: &str,
    full_at: &str,
) -> Result<String, RenderError> {
    let lists = Lists::AtMost {
        rows: MAIL_LIST_ROWS,
        full_at,
    };
    html_with(report, version, changes, office, lists)
}

fn html_with(
    report: &MonthlyReport,
    version: i32,
    changes: &[String],
    office: &str,
    lists: Lists<'_>,
) -> Result<String, RenderError> {
    let t = &report.totals;
    let mut out = String::with_capacity(64 * 1024 + report.units.len() * 600);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\
         <header><div class=\"masthead\">督查通报</div><div class=\"meta\"><span>{office}</span><span>{month}　第{version}版</span></div></header>\
         <h1>{title}</h1>",
        title = esc(&report.title),
        office = esc(office),
        month = esc(&report.month),
    );
    if version > 1 && !changes.is_empty() {
        out.push_str("<div class=\"changes\"><b>本版较上一版的变化：</b><ul>");
        for change in changes {
            let _ = write!(out, "<li>{}</li>", esc(change));
        }
        out.push_str("</ul></div>");
    }

    out.push_str("<h2>一、落实情况</h2>");
    let _ = write!(out, "<p>{}</p>", esc(&report.sections.progress));
    out.push_str("<div class=\"cards\">");
    for (label, value) in [
        ("本月交办", t.assigned.to_string()),
        ("本月办结", t.closed.to_string()),
        ("按期办结率", percent(t.on_time_rate)),
        ("逾期未办结", t.overdue.to_string()),
    ] {
        let _ = write!(
            out,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            label
        );
    }
    out.push_str("</div><div class=\"charts\">");
    for chart in [colour_chart(report)?, trend_chart(report)?] {
        if !chart.is_empty() {
            let _ = write!(out, "<div class=\"chart\">{chart}</div>");
        }
    }
    out.push_str("</div>");
    let on_time = on_time_chart(report)?;
    if !on_time.is_empty() {
        let _ = write!(
            out,
            "<div class=\"charts\"><div class=\"chart\">{on_time}</div></div>"
        );
    }

    out.push_str("<h2>二、存在问题</h2>");
    let _ = write!(out, "<p>{}</p>", esc(&report.sections.problems));
    flagged_table(&mut out, "红色督办事项", &report.red_items, lists);
    flagged_table(&mut out, "黄色事项", &report.yellow_items, lists);

    out.push_str("<h2>三、工作建议</h2>");
    let _ = write!(out, "<p>{}</p>", esc(&report.sections.suggestions));
    if !report.praised.is_empty() {
        let _ = write!(
            out,
            "<h3>通报表扬</h3><p>{}</p>",
            esc(&report.praised.join("、"))
        );
    }
    for (caption, list) in [("通报", &report.named), ("约谈", &report.called_in)] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(out, "<h3>{caption}</h3><table><tbody>");
        for u in list {
            let _ = write!(
                out,
                "<tr><td class=\"nowrap\">{}</td><td>{}</td></tr>",
                esc(&u.unit),
                esc(&u.reason)
            );
        }
        out.push_str("</tbody></table>");
    }

    out.push_str("<h2 class=\"pagebreak\">附表一　各单位督办事项办理情况排名</h2><table><thead><tr>\
        <th>排名</th><th>单位</th><th>交办</th><th>协办</th><th>办结</th><th>按期</th><th>按期办结率</th><th>近期按期办结率</th><th>在办</th><th>逾期</th><th>红/黄</th><th>延期</th><th>退回</th><th>回头看</th><th>颜色</th><th>措施</th><th>上月</th><th>原因</th></tr></thead><tbody>");
    for u in &report.units {
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}（{}/{}）</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            u.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            esc(&u.unit),
            u.assigned,
            u.co_assigned,
            u.closed,
            u.closed_on_time,
            percent(u.on_time_rate),
            percent(u.window_on_time_rate),
            u.window_closed_on_time,
            u.window_closed,
            u.open_at_end,
            u.overdue,
            u.red_open,
            u.yellow_open,
            u.extended,
            u.reworked,
            u.reopened,
            badge(u.colour),
            esc(&u.measure),
            u.previous_colour.map(badge).unwrap_or_default(),
            esc(&u.colour_reason),
        );
    }
    out.push_str("</tbody></table>");

    if !report.by_source_kind.is_empty() {
        out.push_str("<h2>附表二　按来源分类</h2><table><thead><tr><th>来源类别</th><th>新立项</th><th>办结</th><th>按期办结</th><th>月末在办</th><th>逾期未办结</th></tr></thead><tbody>");
        for k in &report.by_source_kind {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&k.label),
                k.registered,
                k.closed,
                k.closed_on_time,
                k.open_at_end,
                k.overdue
            );
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(
        out,
        "<footer>{office}　{generated}生成　节假日日历 {calendar}　颜色规则第{policy}版</footer></body></html>",
        office = esc(office),
        generated = report
            .generated_at
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y年%m月%d日 %H:%M"),
        calendar = esc(&report.calendar_version),
        policy = report.policy_version,
    );
    Ok(out)
}
