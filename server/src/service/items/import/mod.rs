//! 台账导入 (docs/rules.md §9): an office's ledger file in, previewed row by row, then the
//! chosen rows registered — and assigned where units are given — in one transaction, or
//! none. The upload is kept (`ledger_import`), so the preview can be opened again on any
//! instance and committed once; after the commit it is the import report.

mod commit;
mod plan;
mod stored;

use ducha_domain::{Action, SourceKind};
use ducha_report::import::Field;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::service::items::verb::Cx;
use crate::service::store::input::{TITLE_MAX, Text};
use entity::ledger_import;

pub use commit::commit;
pub use plan::{Duplicate, Problem, RowPlan};
pub use stored::CreatedRow;
use stored::{created_of, default_source, find, lines_json, lines_of};

/// An upload as kept, with what each row would become now.
pub struct ImportPreview {
    pub import: ledger_import::Model,
    pub passed_over: Vec<String>,
    /// Each read column's letter in the file.
    pub letters: Vec<(Field, String)>,
    pub rows: Vec<RowPlan>,
    /// After the commit: each imported row's line, item id and serial.
    pub created: Vec<CreatedRow>,
}

/// Reads the file and keeps its rows; nothing is registered. A file that cannot be read is
/// refused with why, and nothing is kept.
pub async fn upload(
    cx: Cx<'_>,
    file_name: &str,
    bytes: &[u8],
    default_source: SourceKind,
) -> AppResult<i64> {
    let cx = cx.verb(Action::Register)?.cx;
    let file_name = Text::parse("文件名", file_name, TITLE_MAX)
        .map(Text::into_inner)
        .unwrap_or_else(|_| "台账".into());
    let ledger = ducha_report::import::read_ledger(bytes)
        .map_err(|refusal| AppError::BadUserInput(format!("“{file_name}”：{}", refusal.0)))?;
    // One row, no item: a plain insert, which is its own durable commit.
    let kept = keep(cx.db, cx.actor, cx.now, file_name, &ledger, default_source).await?;
    Ok(kept.id)
}

/// Keeps rows read from a file, or pasted (a meeting's decisions), for their preview.
pub(crate) async fn keep(
    db: &impl sea_orm::ConnectionTrait,
    actor: &crate::auth::Actor,
    now: chrono::DateTime<chrono::Utc>,
    file_name: String,
    ledger: &ducha_report::import::Ledger,
    default_source: SourceKind,
) -> AppResult<ledger_import::Model> {
    Ok(ledger_import::ActiveModel {
        created_by: Set(actor.person_id),
        created_at: Set(now),
        file_name: Set(file_name),
        read_as: Set(ledger.read_as.chars().take(255).collect()),
        default_source: Set(default_source.as_str().to_string()),
        lines: Set(lines_json(&ledger.lines).to_string()),
        columns: Set(json!({
            "letters": ledger.letters.iter().map(|(f, l)| (f.key(), l)).collect::<std::collections::BTreeMap<_, _>>(),
            "passedOver": ledger.passed_over,
        })
        .to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The upload with each row's plan against the district as it is now.
pub async fn preview(cx: Cx<'_>, import_id: i64) -> AppResult<ImportPreview> {
    let cx = cx.verb(Action::Register)?.cx;
    let import = find(cx.db, import_id).await?;
    // Once committed, the upload is its report: its rows would now find themselves.
    let rows = if import.committed_at.is_some() {
        Vec::new()
    } else {
        let lines = lines_of(&import)?;
        let known = plan::Known::load(cx.db).await?;
        plan::plan_rows_apart(
            known,
            cx.calendar.clone(),
            *cx.policy,
            cx.now,
            default_source(&import),
            lines,
        )
        .await?
    };
    let columns: Value = serde_json::from_str(&import.columns).unwrap_or_default();
    Ok(ImportPreview {
        passed_over: serde_json::from_value(columns["passedOver"].clone()).unwrap_or_default(),
        letters: columns["letters"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(key, letter)| Some((Field::from_key(key)?, letter.as_str()?.to_string())))
            .collect(),
        created: created_of(&import),
        import,
        rows,
    })
}
