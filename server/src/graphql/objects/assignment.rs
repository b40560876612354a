//! 交办记录: a unit's part of an item.

use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::org::Unit;
use crate::error::AppResult;
use crate::graphql::enums::*;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::*;
use crate::service::watch::colours::ItemColours;
use entity::assignment;
use std::borrow::Cow;
use std::sync::Arc;

/// 交办记录：一个事项交给一个单位（主办或协办），各有期限
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Assignment {
    #[graphql(skip)]
    pub id: i64,
    /// 是否主办单位
    pub lead: bool,
    /// 交办记录状态
    pub status: AssignmentStatus,
    /// 原期限
    pub due_at: DateTime<Utc>,
    /// 批准延期后的期限（原期限保留）
    pub extended_due_at: Option<DateTime<Utc>>,
    /// 计算期限所用的日历版本
    pub calendar_version: String,
    /// 期限依赖尚无放假通知的年份
    pub provisional: bool,
    /// 挂起期间暂停的工作日数
    pub paused_working_days: i32,
    /// 签收时刻（UTC）；未签收为空
    pub signed_at: Option<DateTime<Utc>>,
    /// 退回理由（单位申请退回时填写）
    pub return_reason: Option<String>,
    /// 交办时刻（UTC），期限自此起算
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub unit_id: i64,
    #[graphql(skip)]
    pub item_id: i64,
    /// Its item's colours, when the item's reader computed them.
    #[graphql(skip)]
    pub item_colours: Option<Arc<ItemColours>>,
}

impl Assignment {
    /// Its verdict, as `pick` takes from it (none for a withdrawn assignment).
    async fn verdict<T>(
        &self,
        ctx: &Context<'_>,
        pick: impl FnOnce(Option<&ducha_domain::colour::Verdict>) -> T,
    ) -> AppResult<T> {
        match &self.item_colours {
            Some(colours) => Ok(pick(colours.by_assignment.get(&self.id))),
            None => Ok(pick(
                item_colours(ctx, self.item_id)
                    .await?
                    .by_assignment
                    .get(&self.id),
            )),
        }
    }
}

impl From<assignment::Model> for Assignment {
    fn from(a: assignment::Model) -> Self {
        Assignment {
            id: a.id,
            lead: a.lead,
            status: a.status.into(),
            due_at: a.due_at,
            extended_due_at: a.extended_due_at,
            calendar_version: a.calendar_version,
            provisional: a.provisional,
            paused_working_days: a.paused_working_days,
            signed_at: a.signed_at,
            return_reason: a.return_reason,
            created_at: a.created_at,
            unit_id: a.unit_id,
            item_id: a.item_id,
            item_colours: None,
        }
    }
}

#[ComplexObject]
impl Assignment {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Assignment, self.id)
    }

    /// 交办记录编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 该单位承办部分的颜色
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(self
            .verdict(ctx, |v| {
                v.map_or(ducha_domain::colour::Colour::None, |v| v.colour)
            })
            .await?
            .into())
    }

    /// 该单位承办部分颜色的原因
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Cow<'_, str>> {
        // A withdrawn assignment has no verdict: it was reassigned.
        const REASSIGNED: &str = "已改派";
        match &self.item_colours {
            Some(colours) => Ok(Cow::Borrowed(
                colours
                    .by_assignment
                    .get(&self.id)
                    .map_or(REASSIGNED, |v| v.reason.as_str()),
            )),
            None => Ok(Cow::Owned(
                self.verdict(ctx, |v| v.map_or(REASSIGNED, |v| &v.reason).to_string())
                    .await?,
            )),
        }
    }

    /// 承办单位
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_unit(ctx, self.unit_id).await?.map(Unit::from))
    }

    /// 当前有效期限（延期后的，或原期限）
    async fn effective_due_at(&self) -> DateTime<Utc> {
        self.extended_due_at.unwrap_or(self.due_at)
    }
}
