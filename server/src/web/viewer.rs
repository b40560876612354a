//! Who is at the browser, and how a page reads and acts: the session cookie, the CSRF token
//! every form carries, a form's fields, and the GraphQL schema run in-process as the reader.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::auth::session::{self, SessionPolicy};
use crate::error::AppResult;
use crate::graphql::{Auth, Schemas};
use crate::state::AppState;

/// The cookie a signed-in browser holds.
pub const SESSION_COOKIE: &str = "ducha_session";

/// The person at the browser, signed in (or a program with an API token, for downloads).
pub struct Viewer {
    pub actor: Actor,
    pub secret: String,
    /// Set when the reader came with `Authorization: Bearer` rather than a session: such a
    /// reader may download, never post a form.
    /// The API's own resolution of it (`Auth::resolve`), which the reader runs as.
    pub token: Option<Auth>,
}

impl Viewer {
    /// The token every form carries: derived from the session's secret, so a page of
    /// another site cannot know it, and nothing more is stored.
    pub fn csrf(&self) -> String {
        let digest = Sha256::digest(format!("csrf:{}", self.secret).as_bytes());
        hex::encode(digest).chars().take(32).collect()
    }

    pub fn checks(&self, presented: &str) -> bool {
        self.token.is_none() && !presented.is_empty() && presented == self.csrf()
    }

    fn auth(&self) -> Auth {
        match &self.token {
            Some(auth) => auth.clone(),
            None => Auth::of_session(self.actor.clone(), &self.secret),
        }
    }

    pub fn is_office(&self) -> bool {
        matches!(
            self.actor.role,
            ducha_domain::Role::Admin | ducha_domain::Role::Supervisor
        )
    }
}

pub fn policy(state: &AppState) -> SessionPolicy {
    SessionPolicy {
        idle: state.http.session_idle,
        lifetime: state.http.session_lifetime,
    }
}

fn cookie(request: &poem::Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_string())
        })
}

/// The session's secret, if the browser presents one (also for `http::ws`).
pub fn session_secret(request: &poem::Request) -> Option<String> {
    cookie(request, SESSION_COOKIE)
}

/// The signed-in reader of `request`, if its session stands.
pub async fn signed_in_reader(
    request: &poem::Request,
    state: &AppState,
) -> AppResult<Option<Viewer>> {
    let Some(secret) = session_secret(request) else {
        return Ok(None);
    };
    let actor =
        session::actor_for_session(&state.db, &secret, state.clock.now(), policy(state)).await?;
    Ok(actor.map(|actor| Viewer {
        actor,
        secret,
        token: None,
    }))
}

/// The reader of a request that presents `Authorization: Bearer <token>` (a program fetching
/// a file it found through the API): `None` without a Bearer token, an error for a token
/// that opens nothing.
pub async fn token_reader(
    request: &poem::Request,
    state: &AppState,
) -> Option<Result<Viewer, crate::error::AppError>> {
    // Only a Bearer token is ours: another scheme (an intranet proxy's Basic) or a bare
    // `Bearer` leaves the reader to the session, as if no header were sent.
    let header = request
        .headers()
        .get(poem::http::header::AUTHORIZATION)?
        .to_str()
        .ok()
        .filter(|h| {
            h.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                && !h[7..].trim().is_empty()
        })?;
    // The token is resolved as the API resolves it: the same holder, the same refusal.
    let auth = Auth::resolve(state, Some(header)).await;
    Some(match auth.actor.clone() {
        Some(actor) => Ok(Viewer {
            actor,
            secret: String::new(),
            token: Some(auth),
        }),
        None => Err(crate::error::AppError::Unauthenticated(
            auth.refused.unwrap_or_else(|| "令牌无效".into()),
        )),
    })
}

/// A GraphQL error as a page shows it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn status(&self) -> poem::http::StatusCode {
        use poem::http::StatusCode;
        match self.code.as_str() {
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "FORBIDDEN" => StatusCode::FORBIDDEN,
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            "CONFLICT" | "INVALID_TRANSITION" => StatusCode::CONFLICT,
            "BAD_USER_INPUT" => StatusCode::UNPROCESSABLE_ENTITY,
            // A form's value the schema does not take (an unknown choice sent by hand).
            "GRAPHQL_VALIDATION_FAILED" | "BAD_REQUEST" => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Runs `query` as the viewer on the main schema.
pub async fn run(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    query: &str,
    variables: Value,
) -> Result<Value, Failure> {
    run_with_files(schemas, state, viewer, query, variables, Vec::new()).await
}

/// [`run`] with files, each put at its variable path (`variables.input.files.0`), as the
/// GraphQL multipart request spec puts a client's.
pub async fn run_with_files(
    schemas: &Schemas,
    state: &AppState,
    viewer: &Viewer,
    query: &str,
    variables: Value,
    files: Vec<(String, async_graphql::UploadValue)>,
) -> Result<Value, Failure> {
    let mut request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    for (path, file) in files {
        request.set_upload(&path, file);
    }
    let response = match crate::graphql::guard::admit(&mut request, state.caches) {
        Ok(_) => {
            schemas
                .main
                .execute(crate::graphql::prepare(request, state, viewer.auth()))
                .await
        }
        Err(refused) => async_graphql::Response::from_errors(vec![refused]),
    };
    if let Some(error) = response.errors.first() {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_string());
        let (code, message) = match code {
            Some(code) => (code, error.message.clone()),
            // No code and no path: the document itself was refused (a value the schema does
            // not take, sent by hand past the form's choices); its words are the library's.
            None if error.path.is_empty() => (
                "GRAPHQL_VALIDATION_FAILED".to_string(),
                "表单中有不被接受的值，请刷新页面后重新填写".to_string(),
            ),
            // A value the input's own type refused (a date typed by hand as 2027-13-45):
            // the scalar's Chinese words, without the library's wrapping.
            None if error.message.starts_with("Failed to parse") => {
                ("BAD_USER_INPUT".to_string(), refused_value(&error.message))
            }
            None => ("INTERNAL_SERVER_ERROR".to_string(), error.message.clone()),
        };
        return Err(Failure { code, message });
    }
    Ok(response.data.into_json().unwrap_or(Value::Null))
}

/// The words of a scalar's refusal inside async-graphql's "Failed to parse \"Date\": … (occurred
/// while parsing …)": ours are Chinese; anything else is said for the form as a whole.
fn refused_value(message: &str) -> String {
    let inner = message
        .split_once("\": ")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split(" (occurred while parsing").next())
        .unwrap_or_default()
        .trim();
    if inner
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    {
        inner.to_string()
    } else {
        "表单中有不被接受的值，请检查后重新填写".to_string()
    }
}

/// A form's fields, read leniently: a field missing is empty.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// A form filled from values already known (an edit form from the record).
    pub fn from_pairs(fields: Vec<(String, String)>) -> Form {
        Form(fields)
    }

    /// The form with `name` set to `value` (added, or replacing what was sent).
    pub fn with(mut self, name: &str, value: &str) -> Form {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.to_string()));
        self
    }

    /// Every value `name` was sent with (checkboxes, multiple selects), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}
