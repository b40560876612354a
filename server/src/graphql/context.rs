//! What a resolver reads besides its arguments: the application's state, who is asking, and
//! the request's DataLoaders.

use async_graphql::Context;

use crate::auth::Actor;
use crate::error::AppError;
use crate::service::items::verb::Cx;
use crate::state::AppState;

/// The application's state. Every schema that serves requests is built with it
/// (`build_schema(Some(state))`); only the SDL export builds one without, and runs nothing.
pub fn app_state<'a>(ctx: &Context<'a>) -> Result<&'a AppState, AppError> {
    ctx.data::<AppState>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("schema built without AppState")))
}

/// The state, for the calendar queries: open to anyone when the office has made them
/// public (`public_calendar`), else to people signed in.
pub fn calendar_reader<'a>(ctx: &Context<'a>) -> Result<&'a AppState, AppError> {
    let state = app_state(ctx)?;
    if !state.http.public_calendar {
        actor(ctx)?;
    }
    Ok(state)
}

/// Who is asking, as resolved from the `Authorization` header for this request.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub actor: Option<Actor>,
    /// Why a presented token was refused, if it was.
    pub refused: Option<String>,
    /// What was presented, so that a long-lived subscription can notice the token being
    /// replaced, or the session ending, and end too.
    pub credential: Option<Credential>,
}

/// The SHA-256 of what a reader presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API client's bearer token.
    Token(String),
    /// A signed-in browser's session cookie.
    Session(String),
}

impl Credential {
    /// Whether `person_id` still holds it. A database that does not answer right now is not
    /// a revocation.
    pub async fn stands(
        &self,
        db: &sea_orm::DatabaseConnection,
        person_id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let held = match self {
            Credential::Token(hash) => crate::auth::holds_token(db, person_id, hash).await,
            Credential::Session(hash) => {
                crate::auth::session::session_stands(db, person_id, hash, now).await
            }
        };
        held.unwrap_or_else(|error| {
            tracing::warn!(?error, "re-checking a subscriber's credential");
            true
        })
    }
}

impl Auth {
    /// Resolves an `Authorization` value (HTTP header or WebSocket `connection_init`). A
    /// refused token is kept as the reason and reported when a resolver needs the actor, so
    /// anonymous calendar queries still work. The token's holder comes from the instance's
    /// directory (`directory::Directory`), read from the database at most every few seconds.
    pub async fn resolve(state: &AppState, header: Option<&str>) -> Auth {
        let found = async {
            let Some(hash) = crate::auth::token_hash_of_header(header)? else {
                return Ok(None);
            };
            let actor = state.directory.actor_of_token(&state.db, &hash).await?;
            let actor = actor.ok_or_else(crate::auth::unknown_token)?;
            Ok::<_, AppError>(Some((actor, Credential::Token(hash))))
        };
        match found.await {
            Ok(found) => {
                let (actor, credential) = found.unzip();
                Auth {
                    actor,
                    refused: None,
                    credential,
                }
            }
            Err(AppError::Internal(e) | AppError::StorageFull(e)) => {
                tracing::error!(error.cause_chain = ?e, "authenticating a request");
                Auth {
                    actor: None,
                    refused: Some("内部错误，请稍后重试".into()),
                    credential: None,
                }
            }
            Err(refused) => Auth {
                actor: None,
                refused: Some(refused.to_string()),
                credential: None,
            },
        }
    }

    /// A reader signed in at the web pages, with the session cookie's value.
    pub fn of_session(actor: Actor, secret: &str) -> Auth {
        Auth {
            actor: Some(actor),
            refused: None,
            credential: Some(Credential::Session(crate::auth::hash_token(secret))),
        }
    }
}

/// The authenticated person, or UNAUTHENTICATED.
pub fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    let auth = ctx.data::<Auth>().ok();
    match auth {
        Some(Auth {
            actor: Some(actor), ..
        }) => Ok(actor),
        Some(Auth {
            refused: Some(why), ..
        }) => Err(AppError::Unauthenticated(why.clone())),
        _ => Err(AppError::Unauthenticated(
            "请先登录：在请求头中提供 Authorization: Bearer <令牌>".into(),
        )),
    }
}

/// What a verb runs with: the state's database, today's calendar and the deadline policy,
/// the person asking, the clock's now, and the notices the verb may write.
pub fn verb_context<'a>(ctx: &Context<'a>) -> Result<Cx<'a>, AppError> {
    let state = app_state(ctx)?;
    Ok(Cx {
        db: &state.db,
        calendar: state.calendar.current()?,
        policy: &state.deadline_policy,
        actor: actor(ctx)?,
        now: state.clock.now(),
        notices: Some(&state.notices),
        changes: &state.changes,
    })
}
