//! Calendar queries: is a day a working day, add working days, count them, and turn a
//! deadline rule into a due instant that explains itself (docs/rules.md §2).

use super::ids::{AssignmentId, ItemId, UnitId};
use async_graphql::{Context, Enum, Object, OneofObject, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_calendar::{self as cal, DeadlineRule};

use super::context::{app_state, calendar_reader};
use super::scalars::Date;
use crate::error::{AppError, AppResult};

/// 日期类型
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DayKind {
    /// 工作日（周一至周五）
    Workday,
    /// 周末休息日
    Weekend,
    /// 法定节假日放假
    Holiday,
    /// 调休上班的周末
    MakeupWorkday,
}

/// 特殊日期的类别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SpecialDayKind {
    /// 放假
    DayOff,
    /// 调休上班
    WorkDay,
}

impl From<cal::SpecialKind> for SpecialDayKind {
    fn from(kind: cal::SpecialKind) -> Self {
        match kind {
            cal::SpecialKind::Off => SpecialDayKind::DayOff,
            cal::SpecialKind::Work => SpecialDayKind::WorkDay,
        }
    }
}

/// 某一天是否为工作日及其原因
#[derive(SimpleObject)]
pub struct WorkingDay {
    /// 查询的日期
    pub date: Date,
    /// 是否为工作日
    pub working: bool,
    /// 日期类型：工作日、周末、法定节假日或调休上班
    pub kind: DayKind,
    /// 节假日或调休所属节日名称
    pub holiday_name: Option<String>,
    /// 该年尚无国务院办公厅放假通知：已按《全国年节及纪念日放假办法》计入法定假日（逢周末顺延补假），调休尚未计入
    pub provisional: bool,
}

/// 工作日推算结果
#[derive(SimpleObject)]
pub struct WorkingDayResult {
    /// 推算得到的日期
    pub date: Date,
    /// 推算跨越了尚无放假通知的年份（已计入法定假日，调休尚未计入）
    pub provisional: bool,
}

/// 两个日期之间的工作日数
#[derive(SimpleObject)]
pub struct WorkingDayCount {
    /// (from, to] 内的工作日数；to 早于 from 时为负数
    pub days: i32,
    /// 计算跨越了尚无放假通知的年份（已计入法定假日，调休尚未计入）
    pub provisional: bool,
}

/// 期限规则，只能填写一项
#[derive(OneofObject)]
pub enum DeadlineRuleInput {
    /// N个工作日（起算日不计入，截止于办公截止时间；负数表示向前倒推；绝对值不超过2500）
    WorkingDays(i32),
    /// N个自然日（届满日非工作日则顺延；负数向前倒推，落在非工作日则提前至其前最后一个工作日；绝对值不超过3660）
    CalendarDays(i32),
    /// N小时（按实际时间计算，不顺延；不为0，绝对值不超过8784）
    Hours(i32),
    /// N个月（月末对齐，届满日非工作日则顺延，负数倒推则提前；绝对值不超过120）
    Months(i32),
    /// 指定日期（按原样保留）
    FixedDate(Date),
    /// 文字规则，如“3个工作日内”“10天”“24小时”“2个月”“2026-10-15”
    Text(String),
}

impl TryFrom<DeadlineRuleInput> for DeadlineRule {
    type Error = AppError;

    fn try_from(input: DeadlineRuleInput) -> AppResult<Self> {
        Ok(match input {
            DeadlineRuleInput::WorkingDays(n) => DeadlineRule::WorkingDays(n),
            DeadlineRuleInput::CalendarDays(n) => DeadlineRule::CalendarDays(n),
            DeadlineRuleInput::Hours(n) => DeadlineRule::Hours(n),
            DeadlineRuleInput::Months(n) => DeadlineRule::Months(n),
            DeadlineRuleInput::FixedDate(d) => DeadlineRule::FixedDate(d.0),
            DeadlineRuleInput::Text(text) => text.parse()?,
        })
    }
}

/// 期限推算途经的节假日或调休日
#[derive(SimpleObject)]
pub struct CrossedDay {
    /// 日期
    pub date: Date,
    /// 节日名称或本地调整的名称
    pub name: String,
    /// 放假或调休上班
    pub kind: SpecialDayKind,
    /// 是否为本地调整（而非国务院通知）
    pub local: bool,
    /// 是否为按《全国年节及纪念日放假办法》推定的假日（该年尚无放假通知）
    pub assumed: bool,
}

/// 期限的推算说明
#[derive(SimpleObject)]
pub struct DeadlineExplanation {
    /// 规则的规范写法，如“3个工作日”
    pub rule: String,
    /// 起算日（本地日期，不计入期限）
    pub start_date: Date,
    /// 届满日不是工作日而顺延时，原届满日
    pub rolled_from: Option<Date>,
    /// 推算途经的节假日和调休日
    pub crossed: Vec<CrossedDay>,
    /// 尚无放假通知的年份（已按法定假日推算，调休尚未计入）
    pub provisional_years: Vec<i32>,
    /// 中文说明
    pub summary: String,
}

/// 推算得到的期限
#[derive(SimpleObject)]
pub struct Deadline {
    /// 截止时刻（UTC）
    pub due_at: DateTime<Utc>,
    /// 截止日期（本地）
    pub due_date: Date,
    /// 推算跨越了尚无放假通知的年份，期限已计入法定假日，调休尚未计入
    pub provisional: bool,
    /// 推算所用日历版本
    pub calendar_version: String,
    /// 推算说明
    pub explanation: DeadlineExplanation,
}

impl From<cal::Deadline> for Deadline {
    fn from(d: cal::Deadline) -> Self {
        let e = d.explanation;
        Deadline {
            due_at: d.due_at,
            due_date: Date(d.due_date),
            provisional: d.provisional,
            calendar_version: d.calendar_version,
            explanation: DeadlineExplanation {
                rule: e.rule.to_string(),
                start_date: Date(e.start_date),
                rolled_from: e.rolled_from.map(Date),
                crossed: e
                    .crossed
                    .into_iter()
                    .map(|c| CrossedDay {
                        date: Date(c.date),
                        name: c.name,
                        kind: c.kind.into(),
                        local: c.local,
                        assumed: c.assumed,
                    })
                    .collect(),
                provisional_years: e.provisional_years,
                summary: e.summary,
            },
        }
    }
}

/// 发布放假安排的通知
#[derive(SimpleObject)]
pub struct HolidayNotice {
    /// 通知标题，如“国务院办公厅关于2026年部分节假日安排的通知”
    pub title: String,
    /// 发文字号，如“国办发明电〔2019〕3号”
    pub document: Option<String>,
    /// 发布日期
    pub issued: Option<Date>,
    /// 通知全文的发布出处
    pub source: Option<String>,
}

impl From<&cal::Notice> for HolidayNotice {
    fn from(n: &cal::Notice) -> Self {
        HolidayNotice {
            title: n.notice.clone(),
            document: n.document.clone(),
            issued: n.issued.map(Date),
            source: n.source.clone(),
        }
    }
}

/// 一年的放假安排
#[derive(SimpleObject)]
pub struct CalendarYear {
    /// 年份
    pub year: i32,
    /// 国务院办公厅放假通知
    pub notice: HolidayNotice,
    /// 年中调整通知（如2020年延长春节假期）
    pub amendments: Vec<HolidayNotice>,
}

/// 本地调整的日期
#[derive(SimpleObject)]
pub struct LocalDay {
    /// 日期
    pub date: Date,
    /// true 为本地调休上班，false 为本地放假
    pub working: bool,
    /// 名称，如“区运动会”
    pub name: String,
}

/// 当前使用的工作日日历
#[derive(SimpleObject)]
pub struct CalendarInfo {
    /// 日历版本（按日历内容生成，内容相同则版本相同）
    pub version: String,
    /// 计算期限所用时区，如“Asia/Shanghai”
    pub time_zone: String,
    /// 办公截止时间，如“18:00”
    pub office_cutoff: String,
    /// 已收录放假通知的各年安排
    pub years: Vec<CalendarYear>,
    /// 本地调整的日期
    pub local_days: Vec<LocalDay>,
}

#[derive(Default)]
pub struct CalendarQuery;

fn count(value: i64) -> AppResult<i32> {
    i32::try_from(value).map_err(|_| AppError::BadUserInput("日期相距过远".into()))
}

#[Object]
impl CalendarQuery {
    /// 某一天是否为工作日（含节假日与调休）
    async fn is_working_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "要查询的日期")] date: Date,
    ) -> async_graphql::Result<WorkingDay> {
        let calendar = calendar_reader(ctx)?.calendar.current()?;
        calendar.check_coverage(date.0).map_err(AppError::from)?;
        let answer = calendar.day_kind(date.0);
        let (kind, holiday_name) = match answer.value {
            cal::DayKind::Workday => (DayKind::Workday, None),
            cal::DayKind::Weekend => (DayKind::Weekend, None),
            cal::DayKind::Holiday(name) => (DayKind::Holiday, Some(name)),
            cal::DayKind::MakeupWorkday(name) => (DayKind::MakeupWorkday, Some(name)),
        };
        Ok(WorkingDay {
            date,
            working: matches!(kind, DayKind::Workday | DayKind::MakeupWorkday),
            kind,
            holiday_name,
            provisional: answer.provisional,
        })
    }

    /// 从某日起第 N 个工作日（起算日不计入；N=0 为当日或其后第一个工作日；负数向前）
    async fn add_working_days(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "起算日期（不计入）")] date: Date,
        #[graphql(desc = "工作日数；负数表示向前推算")] days: i32,
    ) -> async_graphql::Result<WorkingDayResult> {
        let calendar = calendar_reader(ctx)?.calendar.current()?;
        DeadlineRule::WorkingDays(days)
            .check_bounds()
            .map_err(AppError::from)?;
        calendar.check_coverage(date.0).map_err(AppError::from)?;
        let answer = calendar
            .add_working_days(date.0, days)
            .map_err(AppError::from)?;
        calendar
            .check_coverage(answer.value)
            .map_err(AppError::from)?;
        Ok(WorkingDayResult {
            date: Date(answer.value),
            provisional: answer.provisional,
        })
    }

    /// (from, to] 内的工作日数
    async fn working_days_between(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "开始日期（不计入）")] from: Date,
        #[graphql(desc = "结束日期（计入）")] to: Date,
    ) -> async_graphql::Result<WorkingDayCount> {
        let calendar = calendar_reader(ctx)?.calendar.current()?;
        for date in [from.0, to.0] {
            calendar.check_coverage(date).map_err(AppError::from)?;
        }
        let answer = calendar.working_days_between(from.0, to.0);
        Ok(WorkingDayCount {
            days: count(answer.value)?,
            provisional: answer.provisional,
        })
    }

    /// 按期限规则推算截止时刻，并说明途经的节假日与调休
    async fn deadline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "起算时刻（UTC），如交办时刻")] start: DateTime<Utc>,
        #[graphql(desc = "期限规则")] rule: DeadlineRuleInput,
    ) -> async_graphql::Result<Deadline> {
        let state = calendar_reader(ctx)?;
        let calendar = state.calendar.current()?;
        let rule = DeadlineRule::try_from(rule)?;
        let start = crate::service::store::input::sane_instant(start, "start")?;
        let deadline = calendar
            .deadline(&state.deadline_policy, start, rule)
            .map_err(AppError::from)?;
        Ok(deadline.into())
    }

    /// 当前日历：版本、已收录的放假通知、本地调整
    async fn calendar(&self, ctx: &Context<'_>) -> async_graphql::Result<CalendarInfo> {
        let state = calendar_reader(ctx)?;
        let calendar = state.calendar.current()?;
        let data = calendar.data();
        Ok(CalendarInfo {
            version: calendar.version().to_string(),
            time_zone: state.deadline_policy.time_zone.name().to_string(),
            office_cutoff: state.deadline_policy.cutoff.format("%H:%M").to_string(),
            years: data
                .years()
                .map(|y| CalendarYear {
                    year: y.year,
                    notice: (&y.notice).into(),
                    amendments: y.amendments.iter().map(|a| (&a.notice).into()).collect(),
                })
                .collect(),
            local_days: data
                .overrides()
                .iter()
                .map(|o| LocalDay {
                    date: Date(o.date),
                    working: o.working,
                    name: o.name.clone(),
                })
                .collect(),
        })
    }
}

/// 导入一年放假安排的方式
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum CalendarImportMode {
    /// 整体替换：文件即该年全部安排，文件未列出的日期恢复为普通工作日或周末
    Replace,
    /// 补充更正：文件中的日期以文件为准，其余日期保持不变（如补充通知）
    Amend,
}

/// 导入一年放假安排
#[derive(async_graphql::InputObject)]
pub struct ImportCalendarYearInput {
    /// 一年的放假安排，holiday-cn 格式：{"year", "papers", "days": [{"name", "date", "isOffDay"}]}
    pub holiday_cn_json: String,
    /// 整体替换或补充更正
    pub mode: CalendarImportMode,
    /// 只试算：列出将改变的日期和将移动的期限，不保存
    #[graphql(default)]
    pub dry_run: bool,
    /// 整体替换时，即使文件删去了已公布安排的大部分日期也执行（默认拒绝）
    #[graphql(default)]
    pub force: bool,
}

/// 一个含义改变的日期
#[derive(SimpleObject)]
pub struct CalendarDayChange {
    /// 日期
    pub date: Date,
    /// 原来的类型：放假或调休上班；为空表示普通日期
    pub before: Option<CalendarDayMeaning>,
    /// 现在的类型；为空表示普通日期
    pub after: Option<CalendarDayMeaning>,
}

/// 特殊日期的含义
#[derive(SimpleObject)]
pub struct CalendarDayMeaning {
    /// true 为调休上班，false 为放假
    pub working: bool,
    /// 节日名称
    pub name: String,
}

/// 因日历变化而移动（或由暂定变为确定）的在办期限
#[derive(SimpleObject)]
pub struct MovedDeadline {
    /// 事项（全局标识）
    pub item_id: ItemId,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: String,
    /// 交办记录（全局标识）
    pub assignment_id: AssignmentId,
    /// 承办单位（全局标识）
    pub unit_id: UnitId,
    /// 原截止时刻（UTC）
    pub old_due_at: DateTime<Utc>,
    /// 新截止时刻（UTC）
    pub new_due_at: DateTime<Utc>,
}

/// 导入结果
#[derive(SimpleObject)]
pub struct ImportCalendarYearPayload {
    /// 涉及的年份（设置本地日期时为该日期所在年份）
    pub year: i32,
    /// 变更后的日历版本（试算时为将生效的版本）
    pub calendar_version: String,
    /// 因此改变期限的在办交办记录数
    pub recalculated: i32,
    /// 是否只是试算（未保存）
    pub dry_run: bool,
    /// 含义改变的日期
    pub changed_days: Vec<CalendarDayChange>,
    /// 移动的（试算时为将移动的）在办期限
    pub moved_deadlines: Vec<MovedDeadline>,
}

impl From<crate::service::calendar::ImportOutcome> for ImportCalendarYearPayload {
    fn from(outcome: crate::service::calendar::ImportOutcome) -> Self {
        let meaning = |m: Option<(cal::SpecialKind, String)>| {
            m.map(|(kind, name)| CalendarDayMeaning {
                working: kind == cal::SpecialKind::Work,
                name,
            })
        };
        ImportCalendarYearPayload {
            year: outcome.year,
            calendar_version: outcome.calendar_version,
            recalculated: i32::try_from(outcome.recalculated).unwrap_or(i32::MAX),
            dry_run: outcome.dry_run,
            changed_days: outcome
                .changed_days
                .into_iter()
                .map(|c| CalendarDayChange {
                    date: Date(c.date),
                    before: meaning(c.before),
                    after: meaning(c.after),
                })
                .collect(),
            moved_deadlines: outcome
                .moved
                .into_iter()
                .map(|m| MovedDeadline {
                    item_id: ItemId(m.item_id),
                    serial: m.serial,
                    assignment_id: AssignmentId(m.assignment_id),
                    unit_id: UnitId(m.unit_id),
                    old_due_at: m.old_due_at,
                    new_due_at: m.new_due_at,
                })
                .collect(),
        }
    }
}

/// 设置一个本地放假或上班日
#[derive(async_graphql::InputObject)]
pub struct SetLocalDayInput {
    /// 日期（同一日期再次设置则替换原设置）
    pub date: Date,
    /// true 为本地调休上班，false 为本地放假
    pub working: bool,
    /// 名称，如“区运动会”
    pub name: String,
}

#[derive(Default)]
pub struct CalendarMutation;

#[Object]
impl CalendarMutation {
    /// 设置本地放假或上班日（叠加在国家安排之上），并重新计算受影响的在办期限（系统管理员）
    async fn set_local_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "本地日期设置")] input: SetLocalDayInput,
    ) -> async_graphql::Result<ImportCalendarYearPayload> {
        let state = app_state(ctx)?;
        let outcome = crate::service::calendar::set_local_day(
            &state.db,
            &state.calendar,
            &state.changes,
            &state.deadline_policy,
            super::context::actor(ctx)?,
            state.clock.now(),
            ducha_calendar::LocalOverride {
                date: input.date.0,
                working: input.working,
                name: input.name,
            },
        )
        .await;
        Ok(outcome?.into())
    }

    /// 导入或更正一年的放假安排，并重新计算受影响的在办期限（系统管理员）；可先试算
    async fn import_calendar_year(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "放假安排文件及导入方式")] input: ImportCalendarYearInput,
    ) -> async_graphql::Result<ImportCalendarYearPayload> {
        let state = app_state(ctx)?;
        let actor = super::context::actor(ctx)?;
        let outcome = crate::service::calendar::import_year(
            &state.db,
            &state.calendar,
            &state.changes,
            &state.deadline_policy,
            Some(actor),
            state.clock.now(),
            crate::service::calendar::ImportRequest {
                holiday_cn_json: &input.holiday_cn_json,
                mode: match input.mode {
                    CalendarImportMode::Replace => crate::service::calendar::ImportMode::Replace,
                    CalendarImportMode::Amend => crate::service::calendar::ImportMode::Amend,
                },
                dry_run: input.dry_run,
                force: input.force,
            },
        )
        .await;
        Ok(outcome?.into())
    }
}
