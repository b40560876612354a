//! Units and people (ADMIN work), tokens, and the first administrator.

use chrono::{DateTime, Utc};
use ducha_domain::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

use super::audit::{Audit, audit};
use super::input::{Email, Text};
use crate::auth::{Actor, hash_token, new_token};
use crate::error::{AppError, AppResult};
use entity::{PersonRole, UnitKind};
use entity::{person, unit};

pub struct NewUnit {
    pub name: String,
    pub kind: UnitKind,
    pub head_name: Option<String>,
    pub contacts: Vec<(String, String)>,
    pub portfolio_leader_id: Option<i64>,
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    super::verb::require_duty(
        actor,
        ducha_domain::Duty::ManageOrganisation,
        "只有系统管理员可以维护单位和人员",
    )
}

#[tracing::instrument(skip_all)]
pub async fn create_unit(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewUnit,
) -> AppResult<unit::Model> {
    require_admin(actor)?;
    let name = Text::parse("单位名称", &input.name, 100)?;
    let head = Text::optional("主要负责人", input.head_name.as_deref(), 50)?;
    let mut contacts = Vec::new();
    for (name, email) in input.contacts {
        let name = Text::parse("联系人", &name, 50)?.into_inner();
        let email = Email::parse(&email)?.into_inner();
        contacts.push(json!({ "name": name, "email": email }));
    }
    let txn = super::sql::begin_write(db).await?;
    if let Some(leader_id) = input.portfolio_leader_id {
        let leader = person::Entity::find_by_id(leader_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("人员 {leader_id} 不存在")))?;
        if leader.role != PersonRole::Leader {
            return Err(AppError::BadUserInput(format!(
                "{}不是区领导，不能作为分管领导",
                leader.name
            )));
        }
    }
    let taken = unit::Entity::find()
        .filter(unit::Column::Name.eq(name.as_str()))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!("单位“{}”已存在", name.as_str())));
    }
    let created = unit::ActiveModel {
        name: Set(name.into_inner()),
        kind: Set(input.kind),
        head_name: Set(head.map(Text::into_inner)),
        contacts: Set(json!(contacts)),
        portfolio_leader_id: Set(input.portfolio_leader_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            "CREATE_UNIT",
            json!({ "unitId": created.id, "name": created.name }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub struct NewPerson {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
}

/// Creates a person and returns them with their first token (shown once).
#[tracing::instrument(skip_all)]
pub async fn create_person(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    input: NewPerson,
) -> AppResult<(person::Model, String)> {
    if let Some(actor) = actor {
        require_admin(actor)?;
    }
    let name = Text::parse("姓名", &input.name, 50)?;
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(Email::parse(e)?.into_inner()),
        None => None,
    };
    let unit_id = match (input.role.is_unit_role(), input.unit_id) {
        (true, None) => return Err(AppError::BadUserInput("单位人员必须指定所属单位".into())),
        (false, Some(_)) => {
            return Err(AppError::BadUserInput(
                "督查室、领导和管理员不属于承办单位".into(),
            ));
        }
        (_, unit_id) => unit_id,
    };
    let txn = super::sql::begin_write(db).await?;
    if let Some(unit_id) = unit_id {
        unit::Entity::find_by_id(unit_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))?;
    }
    let token = new_token()?;
    let created = person::ActiveModel {
        name: Set(name.into_inner()),
        email: Set(email),
        role: Set(input.role.into()),
        unit_id: Set(unit_id),
        token_hash: Set(Some(hash_token(&token))),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit::admin(
            actor,
            now,
            "CREATE_PERSON",
            json!({ "personId": created.id, "name": created.name, "role": created.role }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((created, token))
}

/// Replaces a person's token (the old one stops working) and returns the new one.
pub async fn rotate_token(db: &impl ConnectionTrait, person_id: i64) -> AppResult<String> {
    let found = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("人员 {person_id} 不存在")))?;
    let token = new_token()?;
    let mut active: person::ActiveModel = found.into();
    active.token_hash = Set(Some(hash_token(&token)));
    active.update(db).await?;
    Ok(token)
}

/// On a database with no administrator, creates one and returns their token, so the first
/// start can print how to get in. Later starts return `None`.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let txn = super::sql::begin_write(db).await?;
    let admins = person::Entity::find()
        .filter(person::Column::Role.eq(PersonRole::Admin))
        .count(&txn)
        .await?;
    txn.commit().await?;
    if admins > 0 {
        return Ok(None);
    }
    let (_, token) = create_person(
        db,
        None,
        now,
        NewPerson {
            name: "系统管理员".into(),
            email: None,
            role: Role::Admin,
            unit_id: None,
        },
    )
    .await?;
    Ok(Some(token))
}
