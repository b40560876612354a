//! One error type for the API. Its `code` is the machine-readable `extensions.code`; its
//! message is for people and in Chinese. Internal errors are logged here, once, and reach
//! the client only as "内部错误" — a database error's text never leaves the server (the
//! `custom-error-conversion` feature of async-graphql makes the compiler enforce that).

use async_graphql::ErrorExtensions;
use ducha_calendar::CalendarError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("内部错误，请稍后重试")]
    Internal(#[source] anyhow::Error),
    /// The database could not write: its disk is full or refuses writes. Nothing was saved.
    #[error(
        "服务器存储暂时无法写入（如磁盘已满），本次操作未保存；请稍后重试，并请系统管理员检查磁盘"
    )]
    StorageFull(#[source] anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Conflict(_) => "CONFLICT",
            AppError::InvalidTransition(_) => "INVALID_TRANSITION",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
            AppError::StorageFull(_) => "SERVICE_UNAVAILABLE",
        }
    }
}

impl From<CalendarError> for AppError {
    fn from(error: CalendarError) -> Self {
        AppError::BadUserInput(error.to_string())
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        // Two writers racing for the same unique slot (a serial number, an item × unit pair)
        // is a conflict the client can retry, not a server fault.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
            return AppError::Conflict("数据已被他人修改，请刷新后重试".into());
        }
        // SQLite's SQLITE_FULL ("database or disk is full") and a write refused by the file
        // system (SQLITE_IOERR_WRITE, "disk I/O error"); PostgreSQL's disk_full (53100).
        let text = error.to_string();
        if [
            "database or disk is full",
            "disk I/O error",
            "No space left on device",
            "53100",
        ]
        .iter()
        .any(|sign| text.contains(sign))
        {
            return AppError::StorageFull(error.into());
        }
        AppError::Internal(error.into())
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(error: sea_orm::TransactionError<AppError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl From<ducha_domain::TransitionError> for AppError {
    fn from(error: ducha_domain::TransitionError) -> Self {
        AppError::InvalidTransition(error.to_string())
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        if let AppError::Internal(inner) | AppError::StorageFull(inner) = &error {
            tracing::error!(error.cause_chain = ?inner, "internal error");
        }
        let code = error.code();
        async_graphql::Error::new(error.to_string()).extend_with(|_, ext| ext.set("code", code))
    }
}

pub type AppResult<T> = Result<T, AppError>;
