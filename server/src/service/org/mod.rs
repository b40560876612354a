//! Units and people (ADMIN work), tokens and passwords, and the first administrator.

pub mod channels;

use chrono::{DateTime, Utc};
use ducha_domain::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

use crate::auth::password::{self, Password};
use crate::auth::{Actor, hash_token, new_token};
use crate::changes::{Change, ChangeFeed};
use crate::error::{AppError, AppResult};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::{Email, Text};
use entity::{PersonRole, UnitKind};
use entity::{person, unit};

pub struct NewUnit {
    pub name: String,
    pub kind: UnitKind,
    pub head_name: Option<String>,
    pub contacts: Vec<(String, String)>,
    pub portfolio_leader_id: Option<i64>,
    /// The unit it belongs to (a 科室's 局, a 社区's 街道); none for a top-level unit.
    pub parent_id: Option<i64>,
}

/// How deep the organisation goes: district → 街道 → 社区 → 网格 is four; a city over its
/// districts adds two.
pub const MAX_UNIT_DEPTH: usize = 6;

/// The parent a unit may have: an existing unit, not the unit itself nor one below it (the
/// organisation stays a tree), within [`MAX_UNIT_DEPTH`].
async fn checked_parent(
    db: &impl sea_orm::ConnectionTrait,
    unit_id: Option<i64>,
    parent_id: Option<i64>,
) -> AppResult<Option<i64>> {
    let Some(parent_id) = parent_id else {
        return Ok(None);
    };
    let units: std::collections::HashMap<i64, Option<i64>> = unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.parent_id))
        .collect();
    if !units.contains_key(&parent_id) {
        return Err(AppError::NotFound(format!("上级单位 {parent_id} 不存在")));
    }
    let mut depth = 1;
    let mut current = Some(parent_id);
    while let Some(id) = current {
        if Some(id) == unit_id {
            return Err(AppError::BadUserInput(
                "不能把单位设为它自己或它的下级单位的下级".into(),
            ));
        }
        depth += 1;
        if depth > MAX_UNIT_DEPTH + 1 {
            return Err(AppError::BadUserInput(format!(
                "单位层级最多{MAX_UNIT_DEPTH}级"
            )));
        }
        current = units.get(&id).copied().flatten();
    }
    // The levels below the unit itself count too, when it moves.
    let below = unit_id.map_or(0, |id| levels_below(&units, id));
    if depth + below > MAX_UNIT_DEPTH {
        return Err(AppError::BadUserInput(format!(
            "单位层级最多{MAX_UNIT_DEPTH}级"
        )));
    }
    Ok(Some(parent_id))
}

/// How many levels of sub-units hang below `unit_id`.
fn levels_below(units: &std::collections::HashMap<i64, Option<i64>>, unit_id: i64) -> usize {
    let mut level = 0;
    let mut frontier = vec![unit_id];
    while !frontier.is_empty() && level <= MAX_UNIT_DEPTH {
        frontier = units
            .iter()
            .filter(|(_, parent)| parent.is_some_and(|p| frontier.contains(&p)))
            .map(|(id, _)| *id)
            .collect();
        if !frontier.is_empty() {
            level += 1;
        }
    }
    level
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    crate::service::items::verb::require_duty(
        actor,
        ducha_domain::Duty::ManageOrganisation,
        "只有系统管理员可以维护单位和人员",
    )
}

/// Commits a change to people, units or tokens and tells this instance's copies at once
/// (other instances hear its audit row through their live tail).
async fn commit_directory(
    txn: crate::service::store::write::WriteTxn,
    feed: &ChangeFeed,
) -> AppResult<()> {
    Ok(feed.commit(txn.commit(), Change::Directory).await?)
}

#[tracing::instrument(skip_all)]
pub async fn create_unit(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewUnit,
) -> AppResult<unit::Model> {
    require_admin(actor)?;
    let name = Text::parse("单位名称", &input.name, 100)?;
    let head = Text::optional("主要负责人", input.head_name.as_deref(), 50)?;
    let contacts = checked_contacts(input.contacts)?;
    let txn = crate::service::store::write::begin_write(db).await?;
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
    let parent_id = checked_parent(&txn, None, input.parent_id).await?;
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
        parent_id: Set(parent_id),
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
            json!({ "unitId": created.id, "name": created.name, "parentId": created.parent_id }),
        ),
    )
    .await?;
    commit_directory(txn, feed).await?;
    Ok(created)
}

/// What an administrator changes of a unit: every field as it should be now, and its parent
/// when named.
pub struct UnitChanges {
    pub name: String,
    pub kind: UnitKind,
    pub head_name: Option<String>,
    pub contacts: Vec<(String, String)>,
    /// The unit above it; `None` keeps the one it has, `Some(None)` makes it top-level.
    pub parent_id: Option<Option<i64>>,
}

fn checked_contacts(contacts: Vec<(String, String)>) -> AppResult<Vec<serde_json::Value>> {
    let mut checked = Vec::new();
    for (name, email) in contacts {
        let name = Text::parse("联系人", &name, 50)?.into_inner();
        let email = Email::parse(&email)?.into_inner();
        checked.push(json!({ "name": name, "email": email }));
    }
    Ok(checked)
}

/// Renames a unit, changes its kind, head or contact addresses; audited with what it was.
#[tracing::instrument(skip_all, fields(unit_id))]
pub async fn update_unit(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: &Actor,
    now: DateTime<Utc>,
    unit_id: i64,
    changes: UnitChanges,
) -> AppResult<unit::Model> {
    require_admin(actor)?;
    let name = Text::parse("单位名称", &changes.name, 100)?;
    let head = Text::optional("主要负责人", changes.head_name.as_deref(), 50)?;
    let contacts = checked_contacts(changes.contacts)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = unit::Entity::find_by_id(unit_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))?;
    let parent_id = match changes.parent_id {
        Some(parent) => checked_parent(&txn, Some(unit_id), parent).await?,
        None => found.parent_id,
    };
    let taken = unit::Entity::find()
        .filter(unit::Column::Name.eq(name.as_str()))
        .filter(unit::Column::Id.ne(unit_id))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!("单位“{}”已存在", name.as_str())));
    }
    let before = json!({
        "name": found.name, "kind": found.kind, "headName": found.head_name,
        "contacts": found.contacts, "parentId": found.parent_id,
    });
    let mut active: unit::ActiveModel = found.into();
    active.name = Set(name.into_inner());
    active.kind = Set(changes.kind);
    active.head_name = Set(head.map(Text::into_inner));
    active.contacts = Set(json!(contacts));
    active.parent_id = Set(parent_id);
    let updated = active.update(&txn).await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            "UPDATE_UNIT",
            json!({
                "unitId": unit_id,
                "from": before,
                "to": {
                    "name": updated.name, "kind": updated.kind, "headName": updated.head_name,
                    "contacts": updated.contacts, "parentId": updated.parent_id,
                },
            }),
        ),
    )
    .await?;
    commit_directory(txn, feed).await?;
    Ok(updated)
}

/// A unit role belongs to a unit; the office, leaders and administrators to none.
fn unit_of_role(role: Role, unit_id: Option<i64>) -> AppResult<Option<i64>> {
    match (role.is_unit_role(), unit_id) {
        (true, None) => Err(AppError::BadUserInput("单位人员必须指定所属单位".into())),
        (false, Some(_)) => Err(AppError::BadUserInput(
            "督查室、领导和管理员不属于承办单位".into(),
        )),
        (_, unit_id) => Ok(unit_id),
    }
}

fn optional_email(email: Option<&str>) -> AppResult<Option<String>> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Ok(Some(Email::parse(e)?.into_inner())),
        None => Ok(None),
    }
}

/// What an administrator changes of a person: every field as it should be now.
pub struct PersonChanges {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
}

/// Changes a person's name, mail address, role or unit; audited with what they were. An
/// administrator does not change their own role (nobody would be left to undo it).
#[tracing::instrument(skip_all, fields(person_id))]
pub async fn update_person(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: &Actor,
    now: DateTime<Utc>,
    person_id: i64,
    changes: PersonChanges,
) -> AppResult<person::Model> {
    require_admin(actor)?;
    let name = Text::parse("姓名", &changes.name, 50)?;
    let email = optional_email(changes.email.as_deref())?;
    let unit_id = unit_of_role(changes.role, changes.unit_id)?;
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = person::Entity::find_by_id(person_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("人员 {person_id} 不存在")))?;
    let role: PersonRole = changes.role.into();
    if person_id == actor.person_id && role != found.role {
        return Err(AppError::BadUserInput(
            "不能修改自己的角色，请由其他系统管理员修改".into(),
        ));
    }
    if let Some(unit_id) = unit_id {
        unit::Entity::find_by_id(unit_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))?;
    }
    let before = json!({
        "name": found.name, "email": found.email, "role": found.role, "unitId": found.unit_id,
    });
    let mut active: person::ActiveModel = found.into();
    active.name = Set(name.into_inner());
    active.email = Set(email);
    active.role = Set(role);
    active.unit_id = Set(unit_id);
    let updated = active.update(&txn).await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            "UPDATE_PERSON",
            json!({
                "personId": person_id,
                "from": before,
                "to": {
                    "name": updated.name, "email": updated.email, "role": updated.role,
                    "unitId": updated.unit_id,
                },
            }),
        ),
    )
    .await?;
    commit_directory(txn, feed).await?;
    Ok(updated)
}

pub struct NewPerson {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<i64>,
    /// The name to sign in to the web pages with, if the person uses them.
    pub account: Option<String>,
    /// Their first password (with `account`).
    pub password: Option<String>,
}

/// Creates a person and returns them with their first token (shown once).
#[tracing::instrument(skip_all)]
pub async fn create_person(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    input: NewPerson,
) -> AppResult<(person::Model, String)> {
    if let Some(actor) = actor {
        require_admin(actor)?;
    }
    let name = Text::parse("姓名", &input.name, 50)?;
    let email = optional_email(input.email.as_deref())?;
    let unit_id = unit_of_role(input.role, input.unit_id)?;
    let account = input.account.as_deref().map(Account::parse).transpose()?;
    let password_hash = match (&account, input.password.as_deref()) {
        (Some(_), Some(raw)) => Some(password::hash(&Password::parse(raw)?).await?),
        (None, Some(_)) => {
            return Err(AppError::BadUserInput("设置密码须同时指定登录账号".into()));
        }
        (_, None) => None,
    };
    let txn = crate::service::store::write::begin_write(db).await?;
    if let Some(account) = &account {
        account_is_free(&txn, account).await?;
    }
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
        account: Set(account.map(Account::into_inner)),
        password_hash: Set(password_hash),
        sign_in_failures: Set(0),
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
            json!({
                "personId": created.id,
                "name": created.name,
                "role": created.role,
                "account": created.account,
            }),
        ),
    )
    .await?;
    commit_directory(txn, feed).await?;
    Ok((created, token))
}

/// A sign-in name: 3 to 32 of a–z, 0–9, `.`, `_`, `-`, kept in lower case (people type
/// it in either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account(String);

impl Account {
    pub fn parse(raw: &str) -> AppResult<Account> {
        let account = crate::auth::session::normalise_account(raw);
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !(3..=32).contains(&account.len()) || !account.chars().all(allowed) {
            return Err(AppError::BadUserInput(
                "登录账号应为3至32位字母、数字或“._-”".into(),
            ));
        }
        Ok(Account(account))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

async fn account_is_free(db: &impl ConnectionTrait, account: &Account) -> AppResult<()> {
    let taken = person::Entity::find()
        .filter(person::Column::Account.eq(account.0.as_str()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "登录账号“{}”已被使用",
            account.0
        )));
    }
    Ok(())
}

/// Sets a person's password: the administrator for anyone, anyone for themselves with their
/// current password. Their other sessions end (a password changed because it leaked must
/// shut out whoever used it).
#[tracing::instrument(skip_all, fields(person_id))]
pub async fn set_password(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    person_id: i64,
    current: Option<&str>,
    new: &str,
) -> AppResult<person::Model> {
    let own = actor.person_id == person_id;
    if !own {
        require_admin(actor)?;
    }
    let found = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("人员 {person_id} 不存在")))?;
    if found.account.is_none() {
        return Err(AppError::BadUserInput(
            "该人员没有登录账号，不能设置密码".into(),
        ));
    }
    let new = Password::parse(new)?;
    // One's own password needs the current one, the administrator's too: a session left
    // open must not be enough to take over the account.
    if own {
        let current = current.unwrap_or_default();
        if !password::verify(found.password_hash.clone(), current).await? {
            return Err(AppError::BadUserInput("当前密码不正确".into()));
        }
    }
    let hash = password::hash(&new).await?;
    let txn = crate::service::store::write::begin_write(db).await?;
    crate::auth::session::store_password(&txn, person_id, hash).await?;
    audit(
        &txn,
        Audit::admin(
            Some(actor),
            now,
            "SET_PASSWORD",
            json!({ "personId": person_id }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(found)
}

/// Replaces a person's token (the old one stops working) and returns the new one. Audited,
/// so that every instance hears it and forgets the old token (`directory`); the row names
/// the person, never the token.
pub async fn rotate_token(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    now: DateTime<Utc>,
    person_id: i64,
) -> AppResult<String> {
    rotate(db, feed, None, now, person_id).await
}

/// [`rotate_token`] asked for by an administrator in the pages or the API: the row names
/// who reissued it.
pub async fn reissue_token(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: &Actor,
    now: DateTime<Utc>,
    person_id: i64,
) -> AppResult<String> {
    require_admin(actor)?;
    rotate(db, feed, Some(actor), now, person_id).await
}

async fn rotate(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
    person_id: i64,
) -> AppResult<String> {
    let txn = crate::service::store::write::begin_write(db).await?;
    let found = person::Entity::find_by_id(person_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("人员 {person_id} 不存在")))?;
    let token = new_token()?;
    let mut active: person::ActiveModel = found.into();
    active.token_hash = Set(Some(hash_token(&token)));
    active.update(&txn).await?;
    audit(
        &txn,
        Audit::admin(actor, now, "ROTATE_TOKEN", json!({ "personId": person_id })),
    )
    .await?;
    commit_directory(txn, feed).await?;
    Ok(token)
}

/// How the first administrator gets in, shown once: a token for the API, and the account
/// `admin` with a password for the web pages.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub token: String,
    pub account: String,
    pub password: String,
}

/// On a database with no administrator, creates one and returns how to get in, so the first
/// start can print it. Later starts return `None`.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Option<FirstAdmin>> {
    let txn = crate::service::store::write::begin_write(db).await?;
    let admins = person::Entity::find()
        .filter(person::Column::Role.eq(PersonRole::Admin))
        .count(&txn)
        .await?;
    txn.commit().await?;
    if admins > 0 {
        return Ok(None);
    }
    let password = Password::generate()?;
    // Before the first request: no copy holds anything the administrator could change.
    let (created, token) = create_person(
        db,
        &ChangeFeed::default(),
        None,
        now,
        NewPerson {
            name: "系统管理员".into(),
            email: None,
            role: Role::Admin,
            unit_id: None,
            account: Some("admin".into()),
            password: Some(password.expose().to_string()),
        },
    )
    .await?;
    Ok(Some(FirstAdmin {
        token,
        account: created.account.unwrap_or_default(),
        password: password.expose().to_string(),
    }))
}
