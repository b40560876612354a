//! 单位与人员: units, their contacts, people.

use async_graphql::{ComplexObject, Context, SimpleObject};

use crate::graphql::context::app_state;
use crate::graphql::enums::*;
use crate::graphql::ids::{GlobalId, NodeKind};
use crate::graphql::loaders::*;
use crate::service::store::scope;
use entity::{person, unit};

/// 联系人
#[derive(SimpleObject, Clone)]
pub struct Contact {
    /// 姓名
    pub name: String,
    /// 邮箱
    pub email: String,
}

/// A unit, as the instance's directory holds its row: shared rather than copied, since a
/// page names the same few units on many of its assignments.
#[derive(Clone)]
pub struct Unit(pub UnitRow);

impl From<unit::Model> for Unit {
    fn from(u: unit::Model) -> Self {
        Unit(std::sync::Arc::new(u))
    }
}

impl From<UnitRow> for Unit {
    fn from(u: UnitRow) -> Self {
        Unit(u)
    }
}

/// 承办单位（部门、街道、园区、乡镇）
#[async_graphql::Object(name = "Unit")]
impl Unit {
    /// 单位名称
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// 单位类型
    async fn kind(&self) -> UnitKind {
        self.0.kind.into()
    }

    /// 主要负责人
    async fn head_name(&self) -> Option<&str> {
        self.0.head_name.as_deref()
    }

    /// 联系人（接收督办通知和提醒）
    async fn contacts(&self) -> Vec<Contact> {
        self.0
            .contacts
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| {
                        Some(Contact {
                            name: c.get("name")?.as_str()?.to_string(),
                            email: c.get("email")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Unit, self.0.id)
    }

    /// 单位编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.0.id
    }

    /// 上级单位（如科室所属的局、社区所属的街道）；区直接管理的单位为空
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.0.parent_id {
            Some(parent) => Ok(load_unit(ctx, parent).await?.map(Unit::from)),
            None => Ok(None),
        }
    }

    /// 直属下级单位，按名称
    async fn sub_units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let state = app_state(ctx)?;
        crate::graphql::context::actor(ctx)?;
        let mut below: Vec<Unit> = crate::service::items::listing::units(&state.db)
            .await?
            .into_iter()
            .filter(|u| u.parent_id == Some(self.0.id))
            .map(Unit::from)
            .collect();
        below.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(below)
    }

    /// 单位当前颜色（按其在办事项颜色和近期按时办结率）
    async fn colour(&self, ctx: &Context<'_>) -> async_graphql::Result<Colour> {
        Ok(unit_verdict(ctx, self.0.id).await?.0.colour.into())
    }

    /// 颜色的原因，列出相关事项编号（按系统设置，承办单位人员可能只看到本单位的）
    async fn colour_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let state = app_state(ctx)?;
        let reader = crate::graphql::context::actor(ctx)?;
        if state.unit_report_access == crate::config::UnitReportAccess::OwnUnit
            && !scope::sees_unit(reader, self.0.id)
        {
            return Ok("按本系统设置，其他单位的颜色原因不向承办单位公开".into());
        }
        Ok(unit_verdict(ctx, self.0.id).await?.0.reason)
    }

    /// 对应措施：提醒、通报或约谈 [000 Art.68]
    async fn colour_measure(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(
            ducha_domain::colour::unit_measure(unit_verdict(ctx, self.0.id).await?.0.colour)
                .to_string(),
        )
    }

    /// 分管区领导
    async fn portfolio_leader(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_person(ctx, self.0.portfolio_leader_id)
            .await?
            .map(Person::from))
    }
}

/// 用户
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Person {
    #[graphql(skip)]
    pub id: i64,
    /// 姓名
    pub name: String,
    /// 邮箱（接收督办通知和提醒）
    pub email: Option<String>,
    /// 角色
    pub role: Role,
    #[graphql(skip)]
    pub unit_id: Option<i64>,
    /// 网页登录账号；为空表示只能用令牌访问
    pub account: Option<String>,
}

impl From<person::Model> for Person {
    fn from(p: person::Model) -> Self {
        Person {
            id: p.id,
            name: p.name,
            email: p.email,
            role: ducha_domain::Role::from(p.role).into(),
            unit_id: p.unit_id,
            account: p.account,
        }
    }
}

#[ComplexObject]
impl Person {
    /// 全局标识（不透明，可用于 node(id:) 重新取得）
    pub async fn id(&self) -> GlobalId {
        GlobalId::new(NodeKind::Person, self.id)
    }

    /// 人员编号（数据库编号）
    async fn database_id(&self) -> i64 {
        self.id
    }

    /// 所属单位（督查室、区领导、系统管理员为空）
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.unit_id {
            Some(id) => Ok(load_unit(ctx, id).await?.map(Unit::from)),
            None => Ok(None),
        }
    }
}
