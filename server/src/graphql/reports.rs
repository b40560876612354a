//! The monthly report over GraphQL (docs/rules.md §6): the published versions, one version
//! with every figure, and its HTML, CSV and XLSX renderings; the office can publish (or
//! regenerate) a month's report.

use super::ids::{ItemId, UnitId};
use async_graphql::{Context, InputObject, Object, SimpleObject};
use base64::Engine;
use chrono::{DateTime, Utc};

use super::scalars::Date;
use ducha_report::Month;

use super::context::{actor, app_state};
use super::enums::Colour;
use crate::error::{AppError, AppResult};
use crate::service::reports::{self, OFFICE, Published};
use crate::state::AppState;

fn parse_month(text: &str) -> AppResult<Month> {
    text.parse::<Month>()
        .map_err(|e| AppError::BadUserInput(e.to_string()))
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// 月度督查通报（某一版本）
pub struct MonthlyReport(Published);

/// 全区合计
#[derive(SimpleObject)]
pub struct ReportTotals {
    /// 本月新立项
    pub registered: i32,
    /// 本月交办（牵头）
    pub assigned: i32,
    /// 本月办结
    pub closed: i32,
    /// 按期办结（按批准延期后的期限）
    pub closed_on_time: i32,
    /// 按原定期限办结
    pub closed_on_time_original: i32,
    /// 按期办结率（%），本月无办结时为空
    pub on_time_rate: Option<f64>,
    /// 月末在办（已交办、未销号、未撤销）
    pub open_at_end: i32,
    /// 月末逾期未办结
    pub overdue: i32,
    /// 本月批准延期（牵头单位）
    pub extended: i32,
    /// 退回重办次数
    pub reworked: i32,
    /// 回头看发现问题反弹
    pub reopened: i32,
    /// 本月撤销
    pub cancelled: i32,
    /// 月末红色在办事项数
    pub red_items: i32,
    /// 月末黄色在办事项数
    pub yellow_items: i32,
    /// 月末蓝色在办事项数
    pub blue_items: i32,
}

/// 单位当月情况（按牵头事项统计）
#[derive(SimpleObject)]
pub struct ReportUnit {
    /// 单位（全局标识）
    pub unit_id: UnitId,
    /// 单位名称
    pub unit: String,
    /// 单位类型（部门、街道、园区、乡镇、其他）
    pub kind: String,
    /// 排名（并列同名次）；当月无事项的单位为空
    pub rank: Option<i32>,
    /// 本月颜色
    pub colour: Colour,
    /// 颜色的原因
    pub colour_reason: String,
    /// 处置措施：提醒、通报、约谈
    pub measure: String,
    /// 上月颜色
    pub previous_colour: Option<Colour>,
    /// 本月按时办结率（%）
    pub on_time_rate: Option<f64>,
    /// 统计窗口（天）：单位颜色所依据的按期办结率覆盖月末前多少天，与看板相同
    pub window_days: i32,
    /// 窗口内办结（牵头）
    pub window_closed: i32,
    /// 窗口内按期办结
    pub window_closed_on_time: i32,
    /// 窗口内按期办结率（%），单位颜色与排名所依据
    pub window_on_time_rate: Option<f64>,
    /// 月末本单位红色在办事项（含协办）
    pub red_open: i32,
    /// 月末本单位黄色在办事项（含协办）
    pub yellow_open: i32,
    /// 上月按时办结率（%）
    pub previous_on_time_rate: Option<f64>,
    /// 本月牵头
    pub assigned: i32,
    /// 本月协办
    pub co_assigned: i32,
    /// 办结
    pub closed: i32,
    /// 按期办结（含批准延期）
    pub closed_on_time: i32,
    /// 按原期限办结
    pub closed_on_time_original: i32,
    /// 逾期办结
    pub closed_late: i32,
    /// 月末在办
    pub open_at_end: i32,
    /// 月末逾期
    pub overdue: i32,
    /// 延期
    pub extended: i32,
    /// 退回重办
    pub reworked: i32,
    /// 回头看重新打开
    pub reopened: i32,
}

/// 月末红色、黄色事项
#[derive(SimpleObject)]
pub struct ReportFlaggedItem {
    /// 事项（全局标识）
    pub item_id: ItemId,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: String,
    /// 事项标题
    pub title: String,
    /// 承办单位名称
    pub unit: String,
    /// 是否牵头（主办）单位
    pub lead: bool,
    /// 月末有效期限（本地日期；批准延期的按延期后期限）
    pub due: Date,
    /// 至月末逾期的工作日数；未逾期（因退回重办或未报进展而变色）为0
    pub working_days_overdue: i64,
    /// 颜色的原因
    pub reason: String,
}

/// 被通报或约谈的单位
#[derive(SimpleObject)]
pub struct ReportNamedUnit {
    /// 单位名称
    pub unit: String,
    /// 颜色的原因
    pub reason: String,
}

/// 按来源分类统计
#[derive(SimpleObject)]
pub struct ReportSourceKind {
    /// 来源类别的枚举值，如 LEADER_INSTRUCTION
    pub source_kind: String,
    /// 来源类别名称，如“本级领导批示、交办”
    pub label: String,
    /// 本月新立项
    pub registered: i32,
    /// 本月办结
    pub closed: i32,
    /// 按期办结（按批准延期后的期限）
    pub closed_on_time: i32,
    /// 月末在办
    pub open_at_end: i32,
    /// 月末逾期未办结
    pub overdue: i32,
}

/// 走势（逐月）
#[derive(SimpleObject)]
pub struct ReportTrendPoint {
    /// 月份，如 2026-10
    pub month: String,
    /// 当月交办（牵头）
    pub assigned: i32,
    /// 当月办结
    pub closed: i32,
    /// 按期办结率（%），当月无办结时为空
    pub on_time_rate: Option<f64>,
    /// 月末逾期未办结
    pub overdue: i32,
    /// 月末红色事项数
    pub red_items: i32,
    /// 月末黄色事项数
    pub yellow_items: i32,
}

/// 落实情况、存在问题、工作建议
#[derive(SimpleObject)]
pub struct ReportSections {
    /// 落实情况
    pub progress: String,
    /// 存在问题
    pub problems: String,
    /// 工作建议
    pub suggestions: String,
}

fn flagged(items: &[ducha_report::FlaggedItem]) -> Vec<ReportFlaggedItem> {
    items
        .iter()
        .map(|i| ReportFlaggedItem {
            item_id: ItemId(i.item_id),
            serial: i.serial.clone(),
            title: i.title.clone(),
            unit: i.unit.clone(),
            lead: i.lead,
            due: Date(i.due),
            working_days_overdue: i.working_days_overdue,
            reason: i.reason.clone(),
        })
        .collect()
}

fn named(units: &[ducha_report::NamedUnit]) -> Vec<ReportNamedUnit> {
    units
        .iter()
        .map(|u| ReportNamedUnit {
            unit: u.unit.clone(),
            reason: u.reason.clone(),
        })
        .collect()
}

fn render_failed(error: ducha_report::render::RenderError) -> AppError {
    AppError::Internal(error.into())
}

/// 月度督查通报（某一版本）
#[Object]
impl MonthlyReport {
    /// 月份，如 2026-10
    async fn month(&self) -> &str {
        &self.0.report.month
    }
    /// 版本号：重新生成的通报为新版本，旧版本不变
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// 标题，如“2026年10月督查工作通报”
    async fn title(&self) -> &str {
        &self.0.report.title
    }
    /// 统计期开始时刻（UTC），即本地时间当月1日0时
    async fn period_start(&self) -> DateTime<Utc> {
        self.0.report.period_start
    }
    /// 统计期结束时刻（UTC，不含），即本地时间次月1日0时
    async fn period_end(&self) -> DateTime<Utc> {
        self.0.report.period_end
    }
    /// 本版本发布时刻（UTC）
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// 生成原因（如“每月第一个工作日自动生成”）
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// 本版较上一版的变化
    async fn changes(&self) -> &[String] {
        &self.0.changes
    }
    /// 计算所用日历版本
    async fn calendar_version(&self) -> &str {
        &self.0.report.calendar_version
    }
    /// 计算所用颜色规则版本
    async fn colour_policy_version(&self) -> i32 {
        self.0.report.policy_version
    }
    /// 全区合计
    async fn totals(&self) -> ReportTotals {
        let t = &self.0.report.totals;
        ReportTotals {
            registered: count(t.registered),
            assigned: count(t.assigned),
            closed: count(t.closed),
            closed_on_time: count(t.closed_on_time),
            closed_on_time_original: count(t.closed_on_time_original),
            on_time_rate: t.on_time_rate,
            open_at_end: count(t.open_at_end),
            overdue: count(t.overdue),
            extended: count(t.extended),
            reworked: count(t.reworked),
            reopened: count(t.reopened),
            cancelled: count(t.cancelled),
            red_items: count(t.item_colours.red),
            yellow_items: count(t.item_colours.yellow),
            blue_items: count(t.item_colours.blue),
        }
    }
    /// 各单位情况，按排名
    async fn units(&self) -> Vec<ReportUnit> {
        self.0
            .report
            .units
            .iter()
            .map(|u| ReportUnit {
                unit_id: UnitId(u.unit_id),
                unit: u.unit.clone(),
                kind: u.kind.clone(),
                rank: u.rank.map(|r| i32::try_from(r).unwrap_or(i32::MAX)),
                assigned: count(u.assigned),
                co_assigned: count(u.co_assigned),
                closed: count(u.closed),
                closed_on_time: count(u.closed_on_time),
                closed_on_time_original: count(u.closed_on_time_original),
                closed_late: count(u.closed_late),
                on_time_rate: u.on_time_rate,
                window_days: i32::try_from(u.window_days).unwrap_or(i32::MAX),
                window_closed: count(u.window_closed),
                window_closed_on_time: count(u.window_closed_on_time),
                window_on_time_rate: u.window_on_time_rate,
                red_open: count(u.red_open),
                yellow_open: count(u.yellow_open),
                open_at_end: count(u.open_at_end),
                overdue: count(u.overdue),
                extended: count(u.extended),
                reworked: count(u.reworked),
                reopened: count(u.reopened),
                colour: u.colour.into(),
                colour_reason: u.colour_reason.clone(),
                measure: u.measure.clone(),
                previous_on_time_rate: u.previous_on_time_rate,
                previous_colour: u.previous_colour.map(Into::into),
            })
            .collect()
    }
    /// 月末红色事项（每个承办单位一行，逾期最久的在前）
    async fn red_items(&self) -> Vec<ReportFlaggedItem> {
        flagged(&self.0.report.red_items)
    }
    /// 月末黄色事项（每个承办单位一行，逾期最久的在前）
    async fn yellow_items(&self) -> Vec<ReportFlaggedItem> {
        flagged(&self.0.report.yellow_items)
    }
    /// 通报表扬的单位
    async fn praised(&self) -> &[String] {
        &self.0.report.praised
    }
    /// 通报的单位（黄色）
    async fn named(&self) -> Vec<ReportNamedUnit> {
        named(&self.0.report.named)
    }
    /// 约谈的单位（红色）
    async fn called_in(&self) -> Vec<ReportNamedUnit> {
        named(&self.0.report.called_in)
    }
    /// 按来源分类统计
    async fn by_source_kind(&self) -> Vec<ReportSourceKind> {
        self.0
            .report
            .by_source_kind
            .iter()
            .map(|k| ReportSourceKind {
                source_kind: k.kind.clone(),
                label: k.label.clone(),
                registered: count(k.registered),
                closed: count(k.closed),
                closed_on_time: count(k.closed_on_time),
                open_at_end: count(k.open_at_end),
                overdue: count(k.overdue),
            })
            .collect()
    }
    /// 逐月走势（含本月，早的在前）
    async fn trend(&self) -> Vec<ReportTrendPoint> {
        self.0
            .report
            .trend
            .iter()
            .map(|p| ReportTrendPoint {
                month: p.month.clone(),
                assigned: count(p.assigned),
                closed: count(p.closed),
                on_time_rate: p.on_time_rate,
                overdue: count(p.overdue),
                red_items: count(p.red_items),
                yellow_items: count(p.yellow_items),
            })
            .collect()
    }
    /// 通报正文：落实情况、存在问题、工作建议
    async fn sections(&self) -> ReportSections {
        let s = &self.0.report.sections;
        ReportSections {
            progress: s.progress.clone(),
            problems: s.problems.clone(),
            suggestions: s.suggestions.clone(),
        }
    }
    /// 通报网页（含图表，可按A4打印）
    async fn html(&self) -> async_graphql::Result<String> {
        Ok(
            ducha_report::render::html(&self.0.report, self.0.version, &self.0.changes, OFFICE)
                .map_err(render_failed)?,
        )
    }
    /// 单位排名表（CSV，UTF-8）
    async fn csv(&self) -> async_graphql::Result<String> {
        let bytes = ducha_report::render::csv(&self.0.report).map_err(render_failed)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
    /// XLSX工作簿（Base64编码）
    async fn xlsx_base64(&self) -> async_graphql::Result<String> {
        let bytes = ducha_report::render::xlsx(&self.0.report).map_err(render_failed)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

/// 已发布的通报版本
#[derive(SimpleObject)]
pub struct MonthlyReportVersion {
    /// 月份，如 2026-10
    pub month: String,
    /// 版本号
    pub version: i32,
    /// 标题，如“2026年10月督查工作通报”
    pub title: String,
    /// 发布时刻（UTC）
    pub published_at: DateTime<Utc>,
    /// 生成原因
    pub reason: Option<String>,
    /// 本版较上一版的变化
    pub changes: Vec<String>,
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// 某月的督查通报；不指定版本时为最新版本，未发布时为空
    async fn monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "月份，如 2026-10")] month: String,
        #[graphql(desc = "版本号；不填为最新版本")] version: Option<i32>,
    ) -> async_graphql::Result<Option<MonthlyReport>> {
        let state = app_state(ctx)?;
        let reader = actor(ctx)?;
        let month = parse_month(&month)?;
        let found = reports::find(&state.db, month, version).await?;
        Ok(found
            .map(|published| readable(state, reader, published))
            .map(MonthlyReport))
    }

    /// 已发布的全部通报版本，新月份在前
    async fn monthly_reports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<MonthlyReportVersion>> {
        let state = app_state(ctx)?;
        let reader = actor(ctx)?;
        Ok(reports::list(&state.db)
            .await?
            .into_iter()
            .map(|p| readable(state, reader, p))
            .map(|p| MonthlyReportVersion {
                month: p.report.month,
                version: p.version,
                title: p.report.title,
                published_at: p.created_at,
                reason: p.reason,
                changes: p.changes,
            })
            .collect())
    }
}

/// What `reader` may read of a published report: all of it, unless the office circulates
/// only each unit's own part to units (`unit_report_access = own`).
fn readable(
    state: &AppState,
    reader: &crate::auth::Actor,
    published: reports::Published,
) -> reports::Published {
    if state.unit_report_access == crate::config::UnitReportAccess::Whole
        || reader.role.sees_everything()
    {
        return published;
    }
    // A unit role without a unit reads only the district's totals.
    reports::own_part(published, reader.own_unit().unwrap_or(-1))
}

/// 生成并发布某月督查通报
#[derive(InputObject)]
pub struct PublishMonthlyReportInput {
    /// 月份，如 2026-10（须已结束）
    pub month: String,
    /// 重新生成的原因
    pub reason: Option<String>,
}

/// 发布通报的结果
#[derive(SimpleObject)]
pub struct PublishMonthlyReportPayload {
    /// 新生成的版本；数据无变化时为原有最新版本
    pub report: MonthlyReport,
    /// 是否生成了新版本（数据无变化时不生成）
    pub created: bool,
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// 生成并发布某月督查通报（督查室、系统管理员）；已发布的月份生成新版本并说明变化
    async fn publish_monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "月份及生成原因")] input: PublishMonthlyReportInput,
    ) -> async_graphql::Result<PublishMonthlyReportPayload> {
        let state = app_state(ctx)?;
        let actor = actor(ctx)?;
        let month = parse_month(&input.month)?;
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let publication = reports::publish(
            state.publisher(),
            month,
            Some(actor),
            reason,
            state.clock.now(),
        )
        .await?;
        Ok(PublishMonthlyReportPayload {
            report: MonthlyReport(publication.published),
            created: publication.created,
        })
    }
}
