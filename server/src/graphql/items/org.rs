//! Units and people (`service::org`).

use crate::graphql::ids::{PersonId, UnitId};
use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::graphql::context::{actor, app_state};
use crate::graphql::enums::{Role, UnitKind};
use crate::graphql::objects::{Person, Unit};
use crate::service::org;

/// 联系人
#[derive(InputObject)]
pub struct ContactInput {
    /// 姓名
    pub name: String,
    /// 邮箱，接收督办通知和提醒
    pub email: String,
}

/// 新建单位
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// 单位名称（不能与已有单位重名）
    pub name: String,
    /// 单位类型
    pub kind: UnitKind,
    /// 主要负责人姓名
    pub head_name: Option<String>,
    /// 联系人
    #[graphql(default)]
    pub contacts: Vec<ContactInput>,
    /// 分管区领导的人员编号（须为区领导）
    pub portfolio_leader_id: Option<PersonId>,
}

/// 新建单位的结果
#[derive(SimpleObject)]
pub struct UnitPayload {
    /// 新建的单位
    pub unit: Unit,
}

/// 新建人员
#[derive(InputObject)]
pub struct CreatePersonInput {
    /// 姓名
    pub name: String,
    /// 邮箱，接收督办通知和提醒
    pub email: Option<String>,
    /// 角色
    pub role: Role,
    /// 所属单位编号：承办单位人员必填，督查室、区领导和系统管理员不填
    pub unit_id: Option<UnitId>,
}

/// 新建人员的结果
#[derive(SimpleObject)]
pub struct PersonPayload {
    /// 新建的人员
    pub person: Person,
    /// 访问令牌，仅此一次显示，请妥善转交本人
    pub token: String,
}

#[derive(Default)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// 新建单位（系统管理员）
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "单位信息")] input: CreateUnitInput,
    ) -> async_graphql::Result<UnitPayload> {
        let state = app_state(ctx)?;
        let created = org::create_unit(
            &state.db,
            actor(ctx)?,
            state.clock.now(),
            org::NewUnit {
                name: input.name,
                kind: input.kind.into(),
                head_name: input.head_name,
                contacts: input
                    .contacts
                    .into_iter()
                    .map(|c| (c.name, c.email))
                    .collect(),
                portfolio_leader_id: input.portfolio_leader_id.map(i64::from),
            },
        )
        .await?;
        Ok(UnitPayload {
            unit: created.into(),
        })
    }

    /// 新建人员并生成访问令牌（系统管理员）
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "人员信息")] input: CreatePersonInput,
    ) -> async_graphql::Result<PersonPayload> {
        let state = app_state(ctx)?;
        let (created, token) = org::create_person(
            &state.db,
            Some(actor(ctx)?),
            state.clock.now(),
            org::NewPerson {
                name: input.name,
                email: input.email,
                role: input.role.into(),
                unit_id: input.unit_id.map(i64::from),
            },
        )
        .await?;
        Ok(PersonPayload {
            person: created.into(),
            token,
        })
    }
}
