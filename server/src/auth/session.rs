//! Signed-in browsers. Signing in checks an account's password (with the account's bad
//! tries counted in the database, so every instance sharing it counts the same) and opens a
//! session: a random secret in an HttpOnly cookie, of which only the SHA-256 is stored. A
//! session ends when it is idle too long, at its absolute end, at sign-out, or when the
//! person's password changes. API clients keep their bearer tokens (`super`).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::password;
use super::{Actor, hash_token, new_token};
use crate::error::{AppError, AppResult};
use entity::{person, web_session};

/// Bad passwords in a row before an account refuses passwords for a while.
pub const MAX_FAILURES: i32 = 5;
/// How long an account refuses passwords after [`MAX_FAILURES`].
pub const BLOCKED_FOR: Duration = Duration::minutes(15);
/// A session's last use is written at most this often, not on every page.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// How long sessions last (`HttpSettings::session_idle`, `session_lifetime`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub lifetime: Duration,
}

/// Why a sign-in was refused, in words for the person at the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("账号或密码不正确")]
    BadCredentials,
    #[error("密码连续输错次数过多，该账号已暂停登录，请于{0}后再试")]
    Blocked(String),
}

/// A new session: the cookie's value (shown to the browser once) and when it ends at most.
#[derive(Debug)]
pub struct Opened {
    pub secret: String,
    pub actor: Actor,
    pub expires_at: DateTime<Utc>,
}

/// The account name as people type it: trimmed, case-insensitive.
pub fn normalise_account(raw: &str) -> String {
    raw.trim().to_lowercase()
}

fn local_clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M")
        .to_string()
}

/// Checks `password` for `account` and opens a session. The password is checked even for
/// an account that does not exist, so the time taken does not tell; a blocked account, or
/// one whose tries are all being checked, is refused without looking at the password.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    account: &str,
    password: &str,
    now: DateTime<Utc>,
    policy: SessionPolicy,
) -> AppResult<Result<Opened, Refused>> {
    let account = normalise_account(account);
    let found = if account.is_empty() {
        None
    } else {
        person::Entity::find()
            .filter(person::Column::Account.eq(account.as_str()))
            .one(db)
            .await?
    };
    if let Some(until) = found.as_ref().and_then(|p| p.sign_in_blocked_until)
        && until > now
    {
        return Ok(Err(Refused::Blocked(local_clock(until))));
    }
    let Some(person) = found else {
        // Checked all the same, so the time taken does not tell the account is unknown.
        password::verify(None, password).await?;
        return Ok(Err(Refused::BadCredentials));
    };
    // The try is counted before its password is checked, in one statement that refuses
    // once the account has had its tries: parallel tries (on any instance) cannot all be
    // checked while the first ones still hash. A good password gives its try back below.
    let counted = person::Entity::update_many()
        .col_expr(
            person::Column::SignInFailures,
            Expr::col(person::Column::SignInFailures).add(1),
        )
        .filter(person::Column::Id.eq(person.id))
        .filter(person::Column::SignInFailures.lt(MAX_FAILURES))
        .filter(
            sea_orm::Condition::any()
                .add(person::Column::SignInBlockedUntil.is_null())
                .add(person::Column::SignInBlockedUntil.lte(now)),
        )
        .exec(db)
        .await?
        .rows_affected;
    if counted == 0 {
        // The tries are used up. When no pause is in force they were counted by tries that
        // never finished (a client that hung up while its password hashed): the pause
        // starts now, in one statement, rather than the count standing at the limit with
        // nothing to ever reset it.
        person::Entity::update_many()
            .col_expr(person::Column::SignInFailures, Expr::value(0))
            .col_expr(
                person::Column::SignInBlockedUntil,
                Expr::value(now + BLOCKED_FOR),
            )
            .filter(person::Column::Id.eq(person.id))
            .filter(person::Column::SignInFailures.gte(MAX_FAILURES))
            .filter(
                sea_orm::Condition::any()
                    .add(person::Column::SignInBlockedUntil.is_null())
                    .add(person::Column::SignInBlockedUntil.lte(now)),
            )
            .exec(db)
            .await?;
        let until = person::Entity::find_by_id(person.id)
            .one(db)
            .await?
            .and_then(|p| p.sign_in_blocked_until)
            .filter(|until| *until > now)
            .unwrap_or(now + BLOCKED_FOR);
        return Ok(Err(Refused::Blocked(local_clock(until))));
    }
    let good = password::verify(person.password_hash.clone(), password).await?;
    if !good {
        let failures = person::Entity::find_by_id(person.id)
            .one(db)
            .await?
            .map_or(0, |p| p.sign_in_failures);
        if failures >= MAX_FAILURES {
            let until = now + BLOCKED_FOR;
            person::Entity::update_many()
                .col_expr(person::Column::SignInFailures, Expr::value(0))
                .col_expr(person::Column::SignInBlockedUntil, Expr::value(until))
                .filter(person::Column::Id.eq(person.id))
                .exec(db)
                .await?;
            tracing::warn!(person_id = person.id, "account blocked after bad passwords");
            return Ok(Err(Refused::Blocked(local_clock(until))));
        }
        return Ok(Err(Refused::BadCredentials));
    }
    // The right password: the count starts again (this try's own count included).
    person::Entity::update_many()
        .col_expr(person::Column::SignInFailures, Expr::value(0))
        .col_expr(
            person::Column::SignInBlockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(person::Column::Id.eq(person.id))
        .exec(db)
        .await?;
    // Sessions that ended are swept here rather than by a job: sign-ins are rare enough.
    web_session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(web_session::Column::ExpiresAt.lte(now))
                .add(web_session::Column::LastSeenAt.lte(now - policy.idle)),
        )
        .exec(db)
        .await?;
    let secret = new_token()?;
    let expires_at = now + policy.lifetime;
    web_session::ActiveModel {
        token_hash: Set(hash_token(&secret)),
        person_id: Set(person.id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let actor = Actor::of(person)?;
    Ok(Ok(Opened {
        secret,
        actor,
        expires_at,
    }))
}

/// The person behind a session cookie, if the session still stands; its last use moves to
/// `now` (at most once a minute).
pub async fn actor_for_session(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
    policy: SessionPolicy,
) -> AppResult<Option<Actor>> {
    let Some(session) = web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(hash_token(secret)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at <= now || session.last_seen_at + policy.idle <= now {
        return Ok(None);
    }
    let Some(person) = person::Entity::find_by_id(session.person_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        web_session::Entity::update_many()
            .col_expr(web_session::Column::LastSeenAt, Expr::value(now))
            .filter(web_session::Column::Id.eq(session.id))
            .exec(db)
            .await?;
    }
    Actor::of(person).map(Some)
}

/// Whether the session whose hash is `hash` still stands for `person_id` (a live board
/// keeps its page fresh, so only the absolute end and sign-out end its subscription).
pub async fn session_stands(
    db: &impl ConnectionTrait,
    person_id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .is_some_and(|s| s.person_id == person_id && s.expires_at > now))
}

/// Sign-out: the session is gone, whatever the browser keeps.
pub async fn sign_out(db: &impl ConnectionTrait, secret: &str) -> AppResult<()> {
    web_session::Entity::delete_many()
        .filter(web_session::Column::TokenHash.eq(hash_token(secret)))
        .exec(db)
        .await?;
    Ok(())
}

/// Every session of a person ends (their password changed).
pub async fn end_sessions_of(db: &impl ConnectionTrait, person_id: i64) -> AppResult<()> {
    web_session::Entity::delete_many()
        .filter(web_session::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A password is set as its hash; the account's bad tries are forgiven and its sessions end.
pub async fn store_password(
    db: &impl ConnectionTrait,
    person_id: i64,
    password_hash: String,
) -> AppResult<()> {
    let found = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("人员 {person_id} 不存在")))?;
    let mut active: person::ActiveModel = found.into();
    active.password_hash = Set(Some(password_hash));
    active.sign_in_failures = Set(0);
    active.sign_in_blocked_until = Set(None);
    active.update(db).await?;
    end_sessions_of(db, person_id).await
}
