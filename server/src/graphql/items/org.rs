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

impl ContactInput {
    fn pairs(contacts: Vec<ContactInput>) -> Vec<(String, String)> {
        contacts.into_iter().map(|c| (c.name, c.email)).collect()
    }
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
    /// 上级单位（如科室所属的局、社区所属的街道）；不填为区直接管理的单位
    pub parent_unit_id: Option<UnitId>,
}

/// 新建单位的结果
#[derive(SimpleObject)]
pub struct UnitPayload {
    /// 新建的单位
    pub unit: Unit,
}

/// 修改单位：名称、类型、主要负责人和联系人按填写的内容保存
#[derive(InputObject)]
pub struct UpdateUnitInput {
    /// 单位（全局标识或数据库编号）
    pub unit_id: UnitId,
    /// 单位名称（不能与其他单位重名）
    pub name: String,
    /// 单位类型
    pub kind: UnitKind,
    /// 主要负责人姓名
    pub head_name: Option<String>,
    /// 联系人（整体替换）
    #[graphql(default)]
    pub contacts: Vec<ContactInput>,
    /// 上级单位（不能是它自己或它的下级单位）；填 null 为区直接管理的单位，不填则不改
    #[graphql(default)]
    pub parent_unit_id: async_graphql::MaybeUndefined<UnitId>,
}

/// 修改人员：姓名、邮箱、角色和所属单位按填写的内容保存
#[derive(InputObject)]
pub struct UpdatePersonInput {
    /// 人员（全局标识或数据库编号）
    pub person_id: PersonId,
    /// 姓名
    pub name: String,
    /// 邮箱，接收督办通知和提醒；不填为无
    pub email: Option<String>,
    /// 角色（不能修改自己的角色）
    pub role: Role,
    /// 所属单位编号：承办单位人员必填，督查室、区领导和系统管理员不填
    pub unit_id: Option<UnitId>,
}

/// 修改人员的结果
#[derive(SimpleObject)]
pub struct UpdatePersonPayload {
    /// 修改后的人员
    pub person: Person,
}

/// 重新生成访问令牌
#[derive(InputObject)]
pub struct ReissueTokenInput {
    /// 人员（全局标识或数据库编号）
    pub person_id: PersonId,
}

/// 重新生成访问令牌的结果
#[derive(SimpleObject)]
pub struct ReissueTokenPayload {
    /// 新令牌，仅此一次显示；原令牌立即失效
    pub token: String,
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
    /// 网页登录账号（3至32位字母、数字或“._-”）；不填则只能用令牌访问
    pub account: Option<String>,
    /// 初始密码（至少8位，含字母、数字、符号中的两类）；须同时填写登录账号
    pub password: Option<String>,
}

/// 新建人员的结果
#[derive(SimpleObject)]
pub struct PersonPayload {
    /// 新建的人员
    pub person: Person,
    /// 访问令牌，仅此一次显示，请妥善转交本人
    pub token: String,
}

/// 设置登录密码
#[derive(InputObject)]
pub struct SetPasswordInput {
    /// 人员（全局标识或数据库编号）；本人修改时为自己
    pub person_id: PersonId,
    /// 当前密码：本人修改自己的密码时必填；系统管理员为他人设置时不填
    pub current_password: Option<String>,
    /// 新密码（至少8位，含字母、数字、符号中的两类）
    pub new_password: String,
}

/// 设置密码的结果
#[derive(SimpleObject)]
pub struct SetPasswordPayload {
    /// 被设置密码的人员；其已登录的网页会话全部失效
    pub person: Person,
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
            &state.changes,
            actor(ctx)?,
            state.clock.now(),
            org::NewUnit {
                name: input.name,
                kind: input.kind.into(),
                head_name: input.head_name,
                contacts: ContactInput::pairs(input.contacts),
                portfolio_leader_id: input.portfolio_leader_id.map(i64::from),
                parent_id: input.parent_unit_id.map(i64::from),
            },
        )
        .await?;
        Ok(UnitPayload {
            unit: created.into(),
        })
    }

    /// 修改单位的名称、类型、主要负责人和联系人（系统管理员）
    async fn update_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "单位及其新的信息")] input: UpdateUnitInput,
    ) -> async_graphql::Result<UnitPayload> {
        let state = app_state(ctx)?;
        let updated = org::update_unit(
            &state.db,
            &state.changes,
            actor(ctx)?,
            state.clock.now(),
            i64::from(input.unit_id),
            org::UnitChanges {
                name: input.name,
                kind: input.kind.into(),
                head_name: input.head_name,
                contacts: ContactInput::pairs(input.contacts),
                parent_id: match input.parent_unit_id {
                    async_graphql::MaybeUndefined::Undefined => None,
                    async_graphql::MaybeUndefined::Null => Some(None),
                    async_graphql::MaybeUndefined::Value(parent) => Some(Some(parent.0)),
                },
            },
        )
        .await?;
        Ok(UnitPayload {
            unit: updated.into(),
        })
    }

    /// 修改人员的姓名、邮箱、角色和所属单位（系统管理员）；新的权限在各实例10秒内生效
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "人员及其新的信息")] input: UpdatePersonInput,
    ) -> async_graphql::Result<UpdatePersonPayload> {
        let state = app_state(ctx)?;
        let updated = org::update_person(
            &state.db,
            &state.changes,
            actor(ctx)?,
            state.clock.now(),
            i64::from(input.person_id),
            org::PersonChanges {
                name: input.name,
                email: input.email,
                role: input.role.into(),
                unit_id: input.unit_id.map(i64::from),
            },
        )
        .await?;
        Ok(UpdatePersonPayload {
            person: updated.into(),
        })
    }

    /// 重新生成某人的访问令牌（系统管理员）；原令牌立即失效，新令牌仅此一次显示
    async fn reissue_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "人员")] input: ReissueTokenInput,
    ) -> async_graphql::Result<ReissueTokenPayload> {
        let state = app_state(ctx)?;
        let token = org::reissue_token(
            &state.db,
            &state.changes,
            actor(ctx)?,
            state.clock.now(),
            i64::from(input.person_id),
        )
        .await?;
        Ok(ReissueTokenPayload { token })
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
            &state.changes,
            Some(actor(ctx)?),
            state.clock.now(),
            org::NewPerson {
                name: input.name,
                email: input.email,
                role: input.role.into(),
                unit_id: input.unit_id.map(i64::from),
                account: input.account,
                password: input.password,
            },
        )
        .await?;
        Ok(PersonPayload {
            person: created.into(),
            token,
        })
    }

    /// 设置网页登录密码：系统管理员可为任何有账号的人设置；本人凭当前密码修改自己的。
    /// 设置后该人员已登录的网页会话全部失效
    async fn set_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "人员、当前密码和新密码")] input: SetPasswordInput,
    ) -> async_graphql::Result<SetPasswordPayload> {
        let state = app_state(ctx)?;
        let person = org::set_password(
            &state.db,
            actor(ctx)?,
            state.clock.now(),
            i64::from(input.person_id),
            input.current_password.as_deref(),
            &input.new_password,
        )
        .await?;
        Ok(SetPasswordPayload {
            person: person.into(),
        })
    }
}
