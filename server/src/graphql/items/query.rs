//! The item list, one item, units, people and counts by stage, each within the reader's
//! scope (`service::listing`, `service::scope`).

use async_graphql::connection::{Connection, Edge, EmptyFields, query};
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::context::{actor, app_state};
use crate::graphql::enums::{Colour, SourceKind, Stage};
use crate::graphql::loaders::{PageWants, prime_page};
use crate::graphql::objects::{Item, Person, Unit};
use crate::service::{listing, scope};

/// 事项筛选条件（均为可选，同时给出时取交集）
#[derive(InputObject, Default)]
pub struct ItemFilter {
    /// 事项阶段（任一即可）
    pub stages: Option<Vec<Stage>>,
    /// 承办单位编号：只看交给该单位（主办或协办）的事项
    pub unit_id: Option<i64>,
    /// 事项来源（任一即可）
    pub source_kinds: Option<Vec<SourceKind>>,
    /// 仅逾期（当前有效期限已过且未办结）
    pub overdue: Option<bool>,
    /// 有效期限不早于
    pub due_from: Option<DateTime<Utc>>,
    /// 有效期限不晚于
    pub due_to: Option<DateTime<Utc>>,
    /// 在标题、办理要求、编号、来源文号中查找
    pub text: Option<String>,
    /// 事项当前颜色（任一即可），如只看红色：[RED]
    pub colours: Option<Vec<Colour>>,
}

impl From<ItemFilter> for listing::ItemFilter {
    fn from(f: ItemFilter) -> Self {
        listing::ItemFilter {
            stages: f.stages.map(|s| s.into_iter().map(Into::into).collect()),
            unit_id: f.unit_id,
            source_kinds: f
                .source_kinds
                .map(|k| k.into_iter().map(Into::into).collect()),
            overdue: f.overdue,
            due_from: f.due_from,
            due_to: f.due_to,
            text: f.text,
            colours: f.colours.map(|c| c.into_iter().map(Into::into).collect()),
        }
    }
}

pub const MAX_PAGE: usize = 100;

#[derive(Default)]
pub struct ItemQuery;

#[Object]
impl ItemQuery {
    /// 当前登录用户
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        let state = app_state(ctx)?;
        Ok(listing::me(&state.db, actor(ctx)?).await?.into())
    }

    /// 督办事项列表（游标分页，first 不超过100）
    async fn items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "筛选条件；不填为全部可见事项")] filter: Option<ItemFilter>,
        #[graphql(desc = "每页条数（1至100），默认20")] first: Option<i32>,
        #[graphql(desc = "上一页的 endCursor；不填从第一条开始")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Item, EmptyFields, EmptyFields>> {
        let state = app_state(ctx)?;
        let actor = actor(ctx)?.clone();
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE as i32).contains(&first) {
            return Err(AppError::BadUserInput(format!("first 应在1至{MAX_PAGE}之间")).into());
        }
        let filter = filter.map(listing::ItemFilter::from).unwrap_or_default();
        let now = state.clock.now();
        query(
            after,
            None,
            Some(first),
            None,
            |after: Option<String>, _: Option<String>, first, _| async move {
                let after_id = match after {
                    Some(cursor) => Some(
                        cursor
                            .parse::<i64>()
                            .map_err(|_| AppError::BadUserInput("游标无效".into()))?,
                    ),
                    None => None,
                };
                let page = listing::items_page(
                    &state.db,
                    &actor,
                    &filter,
                    after_id,
                    first.unwrap_or(20) as u64,
                    async || state.rule_set().await,
                    now,
                )
                .await?;
                prime_page(ctx, &page.rows, PageWants::of_connection(ctx)).await?;
                let (rows, has_next) = (page.rows, page.has_next);
                let mut connection = Connection::new(after_id.is_some(), has_next);
                for row in rows {
                    connection
                        .edges
                        .push(Edge::new(row.id.to_string(), Item::try_from(row)?));
                }
                Ok::<_, AppError>(connection)
            },
        )
        .await
    }

    /// 一个事项（承办单位只能查看本单位承办的事项）
    async fn item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项编号（数据库主键）")] id: i64,
    ) -> async_graphql::Result<Item> {
        let state = app_state(ctx)?;
        let found = scope::visible_item(&state.db, actor(ctx)?, id).await?;
        Ok(Item::try_from(found)?)
    }

    /// 单位列表
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let state = app_state(ctx)?;
        actor(ctx)?;
        let rows = listing::units(&state.db).await?;
        Ok(rows.into_iter().map(Unit::from).collect())
    }

    /// 人员列表（承办单位人员只能看到本单位人员及区领导、督查室）
    async fn people(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Person>> {
        let state = app_state(ctx)?;
        let rows = listing::people(&state.db, actor(ctx)?).await?;
        Ok(rows.into_iter().map(Person::from).collect())
    }

    /// 各阶段事项数（按当前用户可见范围）
    async fn item_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StageCount>> {
        let state = app_state(ctx)?;
        let counts = listing::stage_counts(&state.db, actor(ctx)?).await?;
        Ok(counts
            .into_iter()
            .map(|(stage, count)| StageCount {
                stage: stage.into(),
                count: i32::try_from(count).unwrap_or(i32::MAX),
            })
            .collect())
    }
}

/// 某阶段的事项数
#[derive(SimpleObject)]
pub struct StageCount {
    /// 阶段
    pub stage: Stage,
    /// 事项数
    pub count: i32,
}
