//! The dashboard (counts by colour, stage and source kind, per unit and overall) and the
//! colour policy an administrator can change (docs/rules.md §3).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use ducha_domain::colour::{Colour as DomainColour, ColourPolicy, unit_measure};

use super::context::{actor, app_state};
use super::enums::{Colour, SourceKind, Stage};
use super::objects::Unit;
use crate::error::{AppError, AppResult};
use crate::service::items::verb::require_duty;
use crate::service::watch::board::board_as_of;
use crate::service::watch::colours::{current_policy, update_policy};
use crate::state::AppState;
use ducha_domain::Duty;

/// 某一颜色的在办事项数
#[derive(SimpleObject)]
pub struct ColourCount {
    /// 颜色
    pub colour: Colour,
    /// 事项数
    pub count: i32,
}

/// 某一阶段的事项数
#[derive(SimpleObject)]
pub struct StageTotal {
    /// 阶段
    pub stage: Stage,
    /// 事项数
    pub count: i32,
}

/// 某一来源的事项数
#[derive(SimpleObject)]
pub struct SourceKindTotal {
    /// 事项来源
    pub source_kind: SourceKind,
    /// 事项数
    pub count: i32,
}

/// 一个单位的颜色和统计
#[derive(SimpleObject)]
pub struct UnitStanding {
    /// 承办单位
    pub unit: Unit,
    /// 单位颜色
    pub colour: Colour,
    /// 颜色的原因，列出相关事项编号
    pub reason: String,
    /// 对应措施：提醒、通报、约谈
    pub measure: String,
    /// 本单位承办（主办或协办）的在办事项数
    pub open_items: i32,
    /// 其中本单位部分为蓝色的事项数
    pub blue: i32,
    /// 其中本单位部分为黄色的事项数
    pub yellow: i32,
    /// 其中本单位部分为红色的事项数
    pub red: i32,
    /// 统计窗口内办结数与按时办结数（按延期后期限）
    pub closed: i32,
    /// 统计窗口内按时办结数（按延期后期限）
    pub closed_on_time: i32,
    /// 按时办结率（%），窗口内无办结事项时为空
    pub on_time_rate: Option<f64>,
}

/// 督查工作看板
#[derive(SimpleObject)]
pub struct Dashboard {
    /// 统计时刻（UTC）
    pub at: DateTime<Utc>,
    /// 所用颜色规则的版本（统计过去时刻时为当时生效的版本）
    pub colour_policy_version: i32,
    /// 在办事项按颜色统计
    pub by_colour: Vec<ColourCount>,
    /// 全部事项按阶段统计（该时刻所处阶段）
    pub by_stage: Vec<StageTotal>,
    /// 全部事项按来源统计
    pub by_source_kind: Vec<SourceKindTotal>,
    /// 各单位的颜色和统计
    pub units: Vec<UnitStanding>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[derive(Default)]
pub struct ColourQuery;

#[Object]
impl ColourQuery {
    /// 看板：某一时刻的颜色分布、阶段与来源统计、各单位颜色（督查室、领导）
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "统计时刻（UTC），不填为现在")] at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Dashboard> {
        let state = app_state(ctx)?;
        let actor = actor(ctx)?;
        require_duty(actor, Duty::ViewDashboard, "看板仅供督查室和区领导查看")?;
        let at = at
            .map(|at| crate::service::store::input::sane_instant(at, "at"))
            .transpose()?;
        Ok(dashboard(state, at).await?)
    }

    /// 当前颜色规则及其版本
    async fn colour_policy(&self, ctx: &Context<'_>) -> async_graphql::Result<ColourPolicyView> {
        let state = app_state(ctx)?;
        actor(ctx)?;
        let (version, policy) = current_policy(&state.db).await?;
        Ok(ColourPolicyView::from((version, policy)))
    }

    /// 颜色规则的全部版本，新的在前（最后为系统默认规则）
    async fn colour_policy_versions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ColourPolicyVersion>> {
        let state = app_state(ctx)?;
        actor(ctx)?;
        let versions = crate::service::watch::colours::policy_versions(&state.db).await?;
        Ok(versions
            .into_iter()
            .map(|(version, policy, created_at)| ColourPolicyVersion {
                rules: ColourPolicyView::from((version, policy)).rules,
                version,
                created_at,
            })
            .collect())
    }
}

/// The board of `at`, or of now (this instance's shared board, see `service::watch::board`).
async fn dashboard(state: &AppState, at: Option<DateTime<Utc>>) -> AppResult<Dashboard> {
    let board = match at {
        None => state.board.now(&state.board_sources()).await?,
        Some(at) => {
            let mut rule_set = state.rule_set().await?;
            // The past is judged by the colour policy that was in force then.
            if at < state.clock.now() {
                let (version, policy) =
                    crate::service::watch::colours::policy_at(&state.db, at).await?;
                rule_set.policy = policy;
                rule_set.policy_version = version;
            }
            std::sync::Arc::new(board_as_of(&state.db, &rule_set, at).await?)
        }
    };
    let by_colour = |c: DomainColour| count(board.by_colour.get(&c).copied().unwrap_or(0));
    Ok(Dashboard {
        at: board.at,
        colour_policy_version: board.policy_version,
        by_colour: [
            DomainColour::None,
            DomainColour::Blue,
            DomainColour::Yellow,
            DomainColour::Red,
        ]
        .into_iter()
        .map(|c| ColourCount {
            colour: c.into(),
            count: by_colour(c),
        })
        .collect(),
        by_stage: ducha_domain::Stage::ALL
            .into_iter()
            .map(|s| StageTotal {
                stage: s.into(),
                count: count(board.by_stage.get(&s).copied().unwrap_or(0)),
            })
            .collect(),
        by_source_kind: ducha_domain::SourceKind::ALL
            .into_iter()
            .map(|k| SourceKindTotal {
                source_kind: k.into(),
                count: count(board.by_source_kind.get(&k).copied().unwrap_or(0)),
            })
            .collect(),
        units: board
            .units
            .iter()
            .map(|s| {
                let of = |c: DomainColour| count(s.by_colour.get(&c).copied().unwrap_or(0));
                UnitStanding {
                    colour: s.verdict.colour.into(),
                    measure: unit_measure(s.verdict.colour).to_string(),
                    reason: s.verdict.reason.clone(),
                    open_items: count(s.open_items),
                    blue: of(DomainColour::Blue),
                    yellow: of(DomainColour::Yellow),
                    red: of(DomainColour::Red),
                    closed: count(s.closed),
                    closed_on_time: count(s.closed_on_time),
                    on_time_rate: (s.closed > 0)
                        .then(|| s.closed_on_time as f64 * 100.0 / s.closed as f64),
                    unit: s.unit.clone().into(),
                }
            })
            .collect(),
    })
}

/// 颜色规则（阈值均可由系统管理员调整，每次调整生成新版本，立即生效）
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "ColourPolicyInput")]
pub struct ColourPolicyFields {
    /// 到期前多少个工作日内为蓝色
    pub blue_within_working_days: i32,
    /// 逾期超过多少个工作日为红色（以内为黄色）
    pub red_after_overdue_working_days: i32,
    /// 退回重办几次为黄色、几次为红色
    pub yellow_rejections: i32,
    /// 退回重办几次为红色
    pub red_rejections: i32,
    /// 回头看重新打开是否为红色
    pub reopen_is_red: bool,
    /// 是否计入进展报告的到期与逾期
    pub count_progress_reports: bool,
    /// 单位按时办结率低于多少（%）为蓝、黄、红
    pub unit_blue_below_percent: f64,
    /// 单位按时办结率低于多少（%）为黄色
    pub unit_yellow_below_percent: f64,
    /// 单位按时办结率低于多少（%）为红色
    pub unit_red_below_percent: f64,
    /// 按期办结率至少有几件办结时才计入单位颜色
    pub unit_min_closed_for_rate: i32,
    /// 红黄事项占单位在办事项的比例达到多少（%）为蓝色
    pub unit_blue_share_percent: f64,
    /// 红黄事项占单位在办事项的比例达到多少（%）为黄色
    pub unit_yellow_share_percent: f64,
    /// 红色事项占单位在办事项的比例达到多少（%）为红色
    pub unit_red_share_percent: f64,
    /// 按比例判定黄色、红色时，相应事项至少几个
    pub unit_share_min_items: i32,
    /// 按期办结率的统计窗口（天），看板与月度通报相同
    pub on_time_window_days: i32,
    /// 分解、转办给下级单位的子任务默认比上级期限提前几个工作日（0至20；不填为1）
    #[graphql(default = 1)]
    pub task_buffer_working_days: i32,
    /// 上级交办事项的本区期限默认比上级期限提前几个工作日（0至20；不填为2）
    #[graphql(default = 2)]
    pub upstream_buffer_working_days: i32,
}

/// 颜色规则及其版本
#[derive(SimpleObject)]
pub struct ColourPolicyView {
    /// 规则版本号（每次修改加一）
    pub version: i32,
    /// 各项阈值
    pub rules: ColourPolicyFields,
}

impl From<(i32, ColourPolicy)> for ColourPolicyView {
    fn from((version, p): (i32, ColourPolicy)) -> Self {
        let small = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        ColourPolicyView {
            version,
            rules: ColourPolicyFields {
                blue_within_working_days: small(p.blue_within_working_days),
                red_after_overdue_working_days: small(p.red_after_overdue_working_days),
                yellow_rejections: small(p.yellow_rejections),
                red_rejections: small(p.red_rejections),
                reopen_is_red: p.reopen_is_red,
                count_progress_reports: p.count_progress_reports,
                unit_blue_below_percent: p.unit_blue_below_percent,
                unit_yellow_below_percent: p.unit_yellow_below_percent,
                unit_red_below_percent: p.unit_red_below_percent,
                unit_min_closed_for_rate: small(
                    i64::try_from(p.unit_min_closed_for_rate).unwrap_or(i64::MAX),
                ),
                unit_blue_share_percent: p.unit_blue_share_percent,
                unit_yellow_share_percent: p.unit_yellow_share_percent,
                unit_red_share_percent: p.unit_red_share_percent,
                unit_share_min_items: small(
                    i64::try_from(p.unit_share_min_items).unwrap_or(i64::MAX),
                ),
                on_time_window_days: small(p.on_time_window_days),
                task_buffer_working_days: small(p.task_buffer_working_days),
                upstream_buffer_working_days: small(p.upstream_buffer_working_days),
            },
        }
    }
}

/// 颜色规则的一个版本
#[derive(SimpleObject)]
pub struct ColourPolicyVersion {
    /// 规则版本号（0 为系统默认规则）
    pub version: i32,
    /// 各项阈值
    pub rules: ColourPolicyFields,
    /// 生效时刻（UTC）；系统默认规则为空
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ColourMutation;

#[Object]
impl ColourMutation {
    /// 修改颜色规则（系统管理员），生成新版本并立即生效
    async fn update_colour_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "新的颜色规则（各项均须填写）")] input: ColourPolicyFields,
    ) -> async_graphql::Result<ColourPolicyView> {
        let state = app_state(ctx)?;
        let policy = ColourPolicy {
            blue_within_working_days: i64::from(input.blue_within_working_days),
            red_after_overdue_working_days: i64::from(input.red_after_overdue_working_days),
            yellow_rejections: i64::from(input.yellow_rejections),
            red_rejections: i64::from(input.red_rejections),
            reopen_is_red: input.reopen_is_red,
            count_progress_reports: input.count_progress_reports,
            unit_blue_below_percent: input.unit_blue_below_percent,
            unit_yellow_below_percent: input.unit_yellow_below_percent,
            unit_red_below_percent: input.unit_red_below_percent,
            unit_min_closed_for_rate: usize::try_from(input.unit_min_closed_for_rate).unwrap_or(0),
            unit_blue_share_percent: input.unit_blue_share_percent,
            unit_yellow_share_percent: input.unit_yellow_share_percent,
            unit_red_share_percent: input.unit_red_share_percent,
            unit_share_min_items: usize::try_from(input.unit_share_min_items).unwrap_or(0),
            on_time_window_days: i64::from(input.on_time_window_days),
            task_buffer_working_days: i64::from(input.task_buffer_working_days),
            upstream_buffer_working_days: i64::from(input.upstream_buffer_working_days),
        };
        let version = update_policy(
            &state.db,
            &state.changes,
            actor(ctx)?,
            state.clock.now(),
            policy.clone(),
        )
        .await?;
        Ok(ColourPolicyView::from((version, policy)))
    }
}

/// 一次提醒扫描的结果
#[derive(SimpleObject)]
pub struct SweepResult {
    /// 另一次扫描（本实例或其他实例）正在进行时为 false
    pub ran: bool,
    /// 扫描的交办记录数
    pub assignments: i32,
    /// 新发出的提醒数（每个交办记录每次扫描至多一条）
    pub notices: i32,
    /// 记为跳过、不发邮件的提醒级别数（已越过的较低级别）
    pub skipped: i32,
    /// 写入发件箱的汇总邮件数（每人每次扫描一封）
    pub emails: i32,
}

/// 重新排队的结果
#[derive(SimpleObject)]
pub struct RequeueResult {
    /// 重新排队的邮件数
    pub requeued: i32,
}

/// 一次发信的结果
#[derive(SimpleObject)]
pub struct DeliveryResult {
    /// 已发出的邮件数
    pub sent: i32,
    /// 暂时未能发出、稍后自动重试的邮件数
    pub retried: i32,
    /// 被邮件服务器永久拒收的邮件数
    pub failed: i32,
}

/// 待发、已发或发送失败的邮件
#[derive(SimpleObject)]
pub struct OutboxMessage {
    /// 邮件编号（数据库主键）
    pub id: i64,
    /// 渠道：MAIL 邮件，WECOM_ROBOT、DINGTALK_ROBOT、WEBHOOK、SMS
    pub channel: String,
    /// 收件人：邮箱，或渠道的名称（手机号脱敏）
    pub recipient: String,
    /// 邮件主题
    pub subject: String,
    /// PENDING 待发，SENT 已发，FAILED 失败
    pub status: String,
    /// 已尝试发送的次数
    pub attempts: i32,
    /// 下次尝试发送的时刻（UTC）
    pub next_attempt_at: DateTime<Utc>,
    /// 最近一次发送失败的原因
    pub last_error: Option<String>,
    /// 发出时刻（UTC）
    pub sent_at: Option<DateTime<Utc>>,
    /// 写入发件箱的时刻（UTC）
    pub created_at: DateTime<Utc>,
}

/// The office's duties over mail and sweeps (the domain's table of duties).
fn require_office(actor: &crate::auth::Actor, duty: Duty) -> AppResult<()> {
    require_duty(actor, duty, "只有督查室和系统管理员可以执行此操作")
}

#[derive(Default)]
pub struct NoticeQuery;

/// 一次按计划执行的提醒扫描
#[derive(SimpleObject)]
pub struct SweepRun {
    /// 计划的扫描时刻（UTC）
    pub slot_at: DateTime<Utc>,
    /// 实际执行时刻（UTC）
    pub ran_at: DateTime<Utc>,
    /// 执行的实例
    pub holder: String,
    /// 写出的提醒数
    pub notices: i64,
}

#[Object]
impl NoticeQuery {
    /// 最近按计划执行的提醒扫描（督查室、系统管理员），新的在前；错过的计划时刻会在恢复后补做
    async fn sweep_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "最多列出多少次（1至200）")] first: i32,
    ) -> async_graphql::Result<Vec<SweepRun>> {
        let state = app_state(ctx)?;
        require_office(actor(ctx)?, Duty::RunSweep)?;
        if !(1..=200).contains(&first) {
            return Err(AppError::BadUserInput("first 应在1至200之间".into()).into());
        }
        let rows = crate::service::watch::sweep::recent_runs(
            &state.db,
            u64::try_from(first).unwrap_or(20),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SweepRun {
                slot_at: r.slot_at,
                ran_at: r.ran_at,
                holder: r.holder,
                notices: r.notices,
            })
            .collect())
    }

    /// 邮件发件箱（督查室、系统管理员），最新的在前
    async fn outbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "只列出该状态的邮件：PENDING 待发，SENT 已发，FAILED 失败；不填为全部")]
        status: Option<String>,
        #[graphql(default = 50, desc = "最多列出多少封（1至500）")] first: i32,
        #[graphql(desc = "只列出编号小于此值的邮件（向前翻页）")] before_id: Option<i64>,
    ) -> async_graphql::Result<Vec<OutboxMessage>> {
        let state = app_state(ctx)?;
        require_office(actor(ctx)?, Duty::ManageOutbox)?;
        if !(1..=500).contains(&first) {
            return Err(AppError::BadUserInput("first 应在1至500之间".into()).into());
        }
        let rows = crate::service::notices::outbox::list(
            &state.db,
            status.as_deref(),
            u64::try_from(first).unwrap_or(50),
            before_id,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxMessage {
                id: r.id,
                channel: r.channel,
                recipient: r.recipient,
                subject: r.subject,
                status: r.status,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
                sent_at: r.sent_at,
                created_at: r.created_at,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct NoticeMutation;

#[Object]
impl NoticeMutation {
    /// 立即执行一次提醒扫描（督查室、系统管理员）
    async fn run_sweep(&self, ctx: &Context<'_>) -> async_graphql::Result<SweepResult> {
        let state = app_state(ctx)?;
        require_office(actor(ctx)?, Duty::RunSweep)?;
        let report = crate::service::watch::sweep::run_sweep(
            &state.sweeper(),
            &state.instance_id,
            state.clock.now(),
        )
        .await?;
        Ok(SweepResult {
            ran: report.ran,
            assignments: count(report.assignments),
            notices: count(report.notices),
            skipped: count(report.skipped),
            emails: count(report.emails),
        })
    }

    /// 立即投递到期的待发邮件（督查室、系统管理员）；retryNow 为 true 时，正在等待重试的邮件也立即重试（如邮件服务器已恢复）
    async fn deliver_outbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "正在等待重试的邮件是否也立即重试")] retry_now: bool,
    ) -> async_graphql::Result<DeliveryResult> {
        let state = app_state(ctx)?;
        require_office(actor(ctx)?, Duty::ManageOutbox)?;
        if retry_now {
            crate::service::notices::outbox::retry_now(&state.db, state.clock.now()).await?;
        }
        // In a task of its own: a client that hangs up must not cut a delivery short between
        // the relay's acceptance and the mark, which would send that message again.
        let owned = state.clone();
        let d = tokio::spawn(async move { owned.sender().deliver_due(500).await })
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("delivery task: {e}")))??;
        Ok(DeliveryResult {
            sent: count(d.sent),
            retried: count(d.retried),
            failed: count(d.failed),
        })
    }

    /// 将发送失败（被邮件服务器永久拒收）的邮件重新排队（督查室、系统管理员）；不指定 ids 时重排全部失败邮件
    async fn requeue_outbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "要重新排队的失败邮件编号；不填为全部失败邮件")] ids: Vec<i64>,
    ) -> async_graphql::Result<RequeueResult> {
        let state = app_state(ctx)?;
        let who = actor(ctx)?;
        require_office(who, Duty::ManageOutbox)?;
        let now = state.clock.now();
        // The one write path: on SQLite, the single writer's queue (a plain BEGIN there meets
        // a busy writer with an error rather than waiting its turn).
        let txn = crate::service::store::write::begin_write(&state.db)
            .await
            .map_err(AppError::from)?;
        let requeued = crate::service::notices::outbox::requeue(&txn, &ids, now).await?;
        crate::service::store::audit::audit(
            &txn,
            crate::service::store::audit::Audit::admin(
                Some(who),
                now,
                "REQUEUE_OUTBOX",
                serde_json::json!({ "ids": ids, "requeued": requeued }),
            ),
        )
        .await?;
        txn.commit().await.map_err(AppError::from)?;
        state.notices.wake.notify_one();
        Ok(RequeueResult {
            requeued: i32::try_from(requeued).unwrap_or(i32::MAX),
        })
    }
}
