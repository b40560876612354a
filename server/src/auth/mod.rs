//! Who is asking. API clients present a bearer token, one per person: 32 random bytes shown
//! once (hex), of which only the SHA-256 is stored, so a leaked database does not leak
//! working credentials. People at the web pages sign in with an account and a password
//! (`password`) and hold a session (`session`).

pub mod password;
pub mod session;

use ducha_domain::Role;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// The person making a request, as far as permissions are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: i64,
    pub name: String,
    pub role: Role,
    /// Set for unit roles: the only unit whose assignments they see and act on.
    pub unit_id: Option<i64>,
}

impl Actor {
    /// The permissions of a person as stored.
    pub fn of(person: entity::person::Model) -> AppResult<Actor> {
        Ok(Actor {
            person_id: person.id,
            name: person.name,
            role: Role::from(person.role),
            unit_id: person.unit_id,
        })
    }

    /// The unit a unit role belongs to; office and leaders have none.
    pub fn own_unit(&self) -> Option<i64> {
        if self.role.is_unit_role() {
            self.unit_id
        } else {
            None
        }
    }
}

pub fn new_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a token: {e}")))?;
    Ok(format!("dch_{}", hex::encode(bytes)))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// The SHA-256 of the token in an `Authorization: Bearer <token>` value: none when no token
/// is presented, refused when the value is not a bearer token.
pub fn token_hash_of_header(header: Option<&str>) -> AppResult<Option<String>> {
    // An empty value, or `Bearer ` with nothing after it (GraphiQL's header hint before a
    // token is typed), presents no token: the reader is anonymous, not refused.
    let Some(header) = header
        .map(str::trim)
        .filter(|h| !h.is_empty() && !h.eq_ignore_ascii_case("bearer"))
    else {
        return Ok(None);
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return Err(AppError::Unauthenticated(
            "Authorization 头应为“Bearer <令牌>”".into(),
        ));
    };
    Ok(Some(hash_token(token)))
}

/// The person holding the token whose SHA-256 is `hash`, as stored (`directory::Directory`
/// keeps what this answers for a few seconds).
pub async fn actor_of_token_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> AppResult<Option<Actor>> {
    entity::person::Entity::find()
        .filter(entity::person::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .map(Actor::of)
        .transpose()
}

/// The refusal of a token nobody holds.
pub fn unknown_token() -> AppError {
    AppError::Unauthenticated("令牌无效或已被更换".into())
}

/// Whether the person still holds the token whose hash is `hash` (a replaced token ends the
/// subscriptions opened with it).
pub async fn holds_token(
    db: &sea_orm::DatabaseConnection,
    person_id: i64,
    hash: &str,
) -> AppResult<bool> {
    Ok(entity::person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_some_and(|p| p.token_hash.as_deref() == Some(hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token().expect("token"), new_token().expect("token"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
        assert_eq!(hash_token(&a), hash_token(&format!(" {a} ")));
    }
}
