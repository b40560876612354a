//! Units and people (`service::org`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::graphql::context::{actor, app_state};
use crate::graphql::enums::{Role, UnitKind};
use crate::graphql::objects::{Person, Unit};
use crate::service::org;

#[derive(InputObject)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
}

#[derive(InputObject)]
pub struct CreateUnitInput {
    pub name: String,
    pub kind: UnitKind,
    pub head_name: Option<String>,
    #[graphql(default)]
    pub contacts: Vec<ContactInput>,
    pub portfolio_leader_id: Option<i64>,
}

#[derive(SimpleObject)]
pub struct UnitPayload {
    pub unit: Unit,
}

#[derive(InputObject)]
pub struct CreatePersonInput {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
}

#[derive(SimpleObject)]
pub struct PersonPayload {
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
        input: CreateUnitInput,
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
                portfolio_leader_id: input.portfolio_leader_id,
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
        input: CreatePersonInput,
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
                unit_id: input.unit_id,
            },
        )
        .await?;
        Ok(PersonPayload {
            person: created.into(),
            token,
        })
    }
}
