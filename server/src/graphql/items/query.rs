//! The item list, one item, units, people and counts by stage, each within the reader's
//! scope (`service::items::listing`, `service::store::scope`).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::graphql::context::{actor, app_state};
use crate::graphql::enums::{Colour, SourceKind, Stage};
use crate::graphql::ids::{self, GlobalId, ItemId, NodeKind, UnitId};
use crate::graphql::loaders::{PageWants, prime_page};
use crate::graphql::objects::{Item, Node, Person, Unit};
use crate::service::items::listing;
use crate::service::store::{read, scope};

/// 事项筛选条件（均为可选，同时给出时取交集）
#[derive(InputObject, Default)]
pub struct ItemFilter {
    /// 事项阶段（任一即可）
    pub stages: Option<Vec<Stage>>,
    /// 承办单位编号：只看交给该单位（主办或协办）的事项
    pub unit_id: Option<UnitId>,
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
    /// 只看这些事项（全局标识或数据库编号，至多500个），如台账中勾选的事项
    pub ids: Option<Vec<ItemId>>,
}

impl From<ItemFilter> for listing::ItemFilter {
    fn from(f: ItemFilter) -> Self {
        listing::ItemFilter {
            stages: f.stages.map(|s| s.into_iter().map(Into::into).collect()),
            unit_id: f.unit_id.map(i64::from),
            source_kinds: f
                .source_kinds
                .map(|k| k.into_iter().map(Into::into).collect()),
            overdue: f.overdue,
            due_from: f.due_from,
            due_to: f.due_to,
            text: f.text,
            colours: f.colours.map(|c| c.into_iter().map(Into::into).collect()),
            ids: f.ids.map(|ids| ids.into_iter().map(i64::from).collect()),
        }
    }
}

pub const MAX_PAGE: usize = 100;
/// Most items one `ids` filter names (a selection on the ledger).
pub const MAX_SELECTED: usize = 500;

#[derive(Default)]
pub struct ItemQuery;

#[Object]
impl ItemQuery {
    /// 当前登录用户
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        let state = app_state(ctx)?;
        Ok(listing::me(&state.db, actor(ctx)?).await?.into())
    }

    /// 督办事项列表，新登记的在前（Relay 游标分页：first/after 向后翻，last/before 向前翻，每页不超过100条）
    async fn items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "筛选条件（可选）")] filter: Option<ItemFilter>,
        #[graphql(desc = "从 after 之后取前 N 条（0至100，默认20）")] first: Option<i32>,
        #[graphql(desc = "游标：取该条之后（更早登记）的事项")] after: Option<String>,
        #[graphql(desc = "从 before 之前取最后 N 条（0至100）")] last: Option<i32>,
        #[graphql(desc = "游标：取该条之前（更晚登记）的事项")] before: Option<String>,
    ) -> async_graphql::Result<ItemConnection> {
        let state = app_state(ctx)?;
        let actor = actor(ctx)?.clone();
        let count = |n: Option<i32>, name: &str| match n {
            Some(n) if !(0..=MAX_PAGE as i32).contains(&n) => Err(AppError::BadUserInput(format!(
                "{name} 应在0至{MAX_PAGE}之间"
            ))),
            n => Ok(n.map(|n| n as u64)),
        };
        let (first, last) = (count(first, "first")?, count(last, "last")?);
        if first.is_some() && last.is_some() {
            return Err(AppError::BadUserInput("first 与 last 不能同时给出".into()).into());
        }
        let cursor = |c: Option<String>| -> AppResult<Option<i64>> {
            c.map(|c| {
                ids::decode(&c)
                    .filter(|(kind, _)| *kind == NodeKind::Item)
                    .map(|(_, id)| id)
                    .ok_or_else(|| AppError::BadUserInput("游标无效".into()))
            })
            .transpose()
        };
        let (after, before) = (cursor(after)?, cursor(before)?);
        let backward = last.is_some();
        if (backward && after.is_some()) || (!backward && before.is_some()) {
            return Err(AppError::BadUserInput(
                "向后翻页用 first/after，向前翻页用 last/before".into(),
            )
            .into());
        }
        if filter
            .as_ref()
            .and_then(|f| f.ids.as_ref())
            .is_some_and(|ids| ids.len() > MAX_SELECTED)
        {
            return Err(AppError::BadUserInput(format!("一次最多选择{MAX_SELECTED}个事项")).into());
        }
        let filter = filter.map(listing::ItemFilter::from).unwrap_or_default();
        let now = state.clock.now();
        let (rules, board) = match filter.colours {
            Some(_) => (
                Some(state.rule_set().await?),
                state.board.current(&state.board_sources()).await?,
            ),
            None => (None, None),
        };
        let colours = rules.as_ref().map(|rule_set| listing::ColourLookup {
            rule_set,
            board: board.as_deref(),
        });
        // The page reads away from its cursor; the other side of the cursor (the cursor's
        // own item included, if it is still there) tells whether anything precedes.
        let (seek, other_side, limit) = if backward {
            (
                listing::Seek::Newer(before),
                before.map(|b| listing::Seek::Older(Some(b + 1))),
                last.unwrap_or(20),
            )
        } else {
            (
                listing::Seek::Older(after),
                after.map(|a| listing::Seek::Newer(Some(a - 1))),
                first.unwrap_or(20),
            )
        };
        let cache = &state.item_cache;
        let wants = PageWants::of_connection(ctx);
        let asked = listing::PageAsked {
            seek,
            limit,
            // With the copies off, which keep no units, they come in the page's statement.
            units: wants.units && !state.caches.on(),
        };
        let page =
            listing::items_page(&state.db, cache, &actor, &filter, asked, colours, now).await?;
        let beyond_cursor = match other_side {
            Some(seek) => {
                let asked = listing::PageAsked {
                    seek,
                    limit: 0,
                    units: false,
                };
                listing::items_page(&state.db, cache, &actor, &filter, asked, colours, now)
                    .await?
                    .has_more
            }
            None => false,
        };
        let mut rows = page.rows;
        if backward {
            rows.reverse();
        }
        let colours = prime_page(ctx, &rows, wants, page.units).await?;
        let (has_next_page, has_previous_page) = if backward {
            (beyond_cursor, page.has_more)
        } else {
            (page.has_more, beyond_cursor)
        };
        let mut edges = Vec::with_capacity(rows.len());
        for row in rows {
            edges.push(ItemEdge {
                cursor: ids::encode(NodeKind::Item, row.item.id),
                node: Item::of_rows(&row, colours.get(&row.item.id).cloned())?,
            });
        }
        Ok(ItemConnection {
            page_info: PageInfo {
                has_previous_page,
                has_next_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }

    /// 一个事项（承办单位只能查看本单位承办的事项）；不存在或无权查看时为 null，并附 NOT_FOUND 错误
    async fn item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "事项的全局标识，或其数据库编号")] id: ItemId,
    ) -> async_graphql::Result<Option<Item>> {
        // Nullable, so that an item not found (or not visible) is `null` beside its
        // NOT_FOUND error and the request's other fields keep their answers.
        let state = app_state(ctx)?;
        let wants = PageWants::of_item(ctx.look_ahead());
        // The item comes with its assignments, as the instance keeps it or in one statement;
        // with the copies off, which keep no units, their units come in that statement too.
        let (found, units) = scope::visible_item_rows_and_units(
            &state.db,
            &state.item_cache,
            actor(ctx)?,
            id.0,
            wants.units && !state.caches.on(),
        )
        .await?;
        let colours = prime_page(ctx, std::slice::from_ref(&found), wants, units).await?;
        Ok(Some(Item::of_rows(
            &found,
            colours.get(&found.item.id).cloned(),
        )?))
    }

    /// 按全局标识取得任一对象（Relay 规范；与各自的查询一样按用户可见范围）
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "对象的全局标识")] id: GlobalId,
    ) -> async_graphql::Result<Option<Node>> {
        let state = app_state(ctx)?;
        let reader = actor(ctx)?;
        let not_found = || {
            AppError::NotFound(format!(
                "对象 {} 不存在或无权查看",
                ids::encode(id.kind, id.number)
            ))
        };
        let node = match id.kind {
            NodeKind::Item => Node::Item(Item::of_rows(
                &scope::visible_item_rows(&state.db, &state.item_cache, reader, id.number).await?,
                None,
            )?),
            NodeKind::Unit => {
                let unit = listing::units(&state.db)
                    .await?
                    .into_iter()
                    .find(|u| u.id == id.number)
                    .ok_or_else(not_found)?;
                Node::Unit(unit.into())
            }
            NodeKind::Person => {
                let person = listing::people(&state.db, reader)
                    .await?
                    .into_iter()
                    .find(|p| p.id == id.number)
                    .ok_or_else(not_found)?;
                Node::Person(person.into())
            }
            kind => {
                // An object inside an item is found through the item, by the resolvers
                // that list it there, so it is seen exactly as the item's reader sees it.
                let item_id = read::item_of(&state.db, kind.table(), id.number)
                    .await?
                    .ok_or_else(not_found)?;
                let item = scope::visible_item(&state.db, reader, item_id)
                    .await
                    .map_err(|_| not_found())?;
                let item = Item::try_from(item)?;
                let node = match kind {
                    NodeKind::Assignment => item
                        .assignments(ctx)
                        .await?
                        .into_iter()
                        .find(|a| a.id == id.number)
                        .map(Node::Assignment),
                    NodeKind::ExtensionRequest => item
                        .extension_requests(ctx)
                        .await?
                        .into_iter()
                        .find(|e| e.id == id.number)
                        .map(Node::ExtensionRequest),
                    NodeKind::Task => item
                        .tasks(ctx)
                        .await?
                        .into_iter()
                        .find(|t| t.row.id == id.number)
                        .map(Node::Task),
                    NodeKind::Report => item
                        .reports(ctx)
                        .await?
                        .into_iter()
                        .find(|r| r.id == id.number)
                        .map(Node::Report),
                    _ => {
                        let mut found = None;
                        for report in item.reports(ctx).await? {
                            found = report
                                .attachments(ctx)
                                .await?
                                .into_iter()
                                .find(|a| a.id == id.number);
                            if found.is_some() {
                                break;
                            }
                        }
                        found.map(Node::Attachment)
                    }
                };
                node.ok_or_else(not_found)?
            }
        };
        Ok(Some(node))
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

/// 事项列表的一页（Relay 连接）
#[derive(SimpleObject)]
pub struct ItemConnection {
    /// 本页事项及其游标
    pub edges: Vec<ItemEdge>,
    /// 翻页信息
    pub page_info: PageInfo,
}

/// 列表中的一个事项
#[derive(SimpleObject)]
pub struct ItemEdge {
    /// 该事项的游标，用作 after/before
    pub cursor: String,
    /// 事项
    pub node: Item,
}

/// 翻页信息（Relay 规范）
#[derive(SimpleObject)]
pub struct PageInfo {
    /// 本页之前（更晚登记）是否还有事项
    pub has_previous_page: bool,
    /// 本页之后（更早登记）是否还有事项
    pub has_next_page: bool,
    /// 本页第一条的游标
    pub start_cursor: Option<String>,
    /// 本页最后一条的游标
    pub end_cursor: Option<String>,
}
