//! The sweep's one read: every open assignment with the facts its colours and rungs depend
//! on, streamed. The board and the live colours read the same rows without the notices.

use std::pin::Pin;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::AssignmentFacts;
use ducha_domain::ladder::{LadderFacts, OnRecord, Rung, RungSet};
use futures_util::Stream;
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult};

use crate::error::AppResult;
use crate::sqlite_reader::Columns;
use entity::AssignmentStatus;

/// One open assignment with every fact its rungs depend on, read in a single pass: the
/// item's stage and report cycle, its rejections and reopens, the assignment's last report
/// and the notices already sent. One narrow query instead of a pass per table is what keeps
/// the sweep near the cost of a plain scan (BENCHMARKS.md).
#[derive(Debug, PartialEq)]
pub struct OpenAssignment {
    pub id: i64,
    pub item_id: i64,
    pub serial: String,
    pub unit_id: i64,
    pub due_at: DateTime<Utc>,
    pub extended_due_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    status: AssignmentStatus,
    stage: Stage,
    report_cycle_days: Option<i32>,
    report_cycle_working_days: bool,
    last_report_at: Option<DateTime<Utc>>,
    feedback_at: Option<DateTime<Utc>>,
    rejections: Option<i64>,
    reopens: Option<i64>,
    sent_bits: Option<i64>,
    last_progress_due: Option<String>,
    last_progress_missed: Option<String>,
    pub lead: bool,
    first_feedback_at: Option<DateTime<Utc>>,
}

impl FromQueryResult for OpenAssignment {
    fn from_query_result(row: &sea_orm::QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        OpenAssignment::decode(row).map_err(DbErr::Type)
    }
}

/// `$1` is the sweep instant: now, or later (a test's clock moved on). The facts from the
/// history are the ones the writes keep on the item and assignment rows (migration 8), so
/// the pass no longer aggregates the report and audit tables. The notices on record (sent
/// or skipped) are summed as the bits of `RungSet`; the progress levels sort by date ("DUE
/// 2026-10-15"), so the greatest one on record is the latest cycle.
static OPEN_ASSIGNMENTS_SQL: LazyLock<String> = LazyLock::new(|| open_assignments_query(true));

/// The same rows without the notices on record (their columns NULL): what colours need, for
/// the board and the live colour refresh, which must not pay for the growing notice table.
static OPEN_ASSIGNMENT_FACTS_SQL: LazyLock<String> =
    LazyLock::new(|| open_assignments_query(false));

fn open_assignments_query(with_notices: bool) -> String {
    let bit = |rung: Rung| rung.bit();
    let (notice_columns, notice_join) = if with_notices {
        (
            "n.sent_bits, n.last_progress_due, n.last_progress_missed".to_string(),
            format!(
                "\
LEFT JOIN (SELECT assignment_id, \
                  SUM(CASE WHEN kind = 'ASSIGNMENT' AND level = 'NOTICE' THEN {assigned} \
                           WHEN kind = 'NOT_SIGNED' THEN {not_signed} \
                           WHEN kind = 'COLOUR' AND level = 'BLUE' THEN {blue} \
                           WHEN kind = 'COLOUR' AND level = 'YELLOW' THEN {yellow} \
                           WHEN kind = 'COLOUR' AND level = 'RED' THEN {red} \
                           ELSE 0 END) AS sent_bits, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'DUE %' THEN level END) AS last_progress_due, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'MISSED %' THEN level END) AS last_progress_missed \
           FROM notice GROUP BY assignment_id) n ON n.assignment_id = a.id ",
                assigned = bit(Rung::Assigned),
                not_signed = bit(Rung::NotSigned),
                blue = bit(Rung::Blue),
                yellow = bit(Rung::Yellow),
                red = bit(Rung::Red),
            ),
        )
    } else {
        (
            "CAST(NULL AS BIGINT) AS sent_bits, CAST(NULL AS TEXT) AS last_progress_due, \
             CAST(NULL AS TEXT) AS last_progress_missed"
                .to_string(),
            String::new(),
        )
    };
    format!(
        "\
SELECT a.id, a.item_id, i.serial, a.unit_id, a.due_at, a.extended_due_at, a.created_at, a.signed_at, a.status, \
       i.stage, i.report_cycle_days, i.report_cycle_working_days, a.last_report_at, \
       CASE WHEN i.stage IN ('FEEDBACK_SUBMITTED', 'VERIFIED') THEN i.feedback_at END AS feedback_at, \
       CAST(i.rejections AS BIGINT) AS rejections, \
       CASE WHEN i.reopened THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS reopens, \
       {notice_columns}, a.lead, i.first_feedback_at \
FROM assignment a \
JOIN item i ON i.id = a.item_id \
{notice_join}\
WHERE i.stage IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED', 'VERIFIED') \
  AND a.status <> 'WITHDRAWN' AND a.created_at <= $1"
    )
}

impl OpenAssignment {
    /// A row of the query by column position (its `SELECT` list), from either reader: the
    /// SQLite file's (`sqlite_reader`) or the pool's. An unknown stage or status is an
    /// error naming its column, not a guess.
    fn decode(row: &impl Columns) -> Result<OpenAssignment, String> {
        use sea_orm::ActiveEnum;
        let status = row.required(8, Columns::text)?;
        let status = AssignmentStatus::try_from_value(&status)
            .map_err(|_| format!("column 8: unknown assignment status {status:?}"))?;
        let stage = row.required(9, Columns::text)?;
        let stage =
            Stage::parse(&stage).ok_or_else(|| format!("column 9: unknown stage {stage:?}"))?;
        let int32 = |at: usize| -> Result<Option<i32>, String> {
            row.int(at)?
                .map(|n| i32::try_from(n).map_err(|_| format!("column {at}: {n} out of range")))
                .transpose()
        };
        Ok(OpenAssignment {
            id: row.required(0, Columns::int)?,
            item_id: row.required(1, Columns::int)?,
            serial: row.required(2, Columns::text)?,
            unit_id: row.required(3, Columns::int)?,
            due_at: row.required(4, Columns::time)?,
            extended_due_at: row.time(5)?,
            created_at: row.required(6, Columns::time)?,
            signed_at: row.time(7)?,
            status,
            stage,
            report_cycle_days: int32(10)?,
            report_cycle_working_days: row.required(11, Columns::flag)?,
            last_report_at: row.time(12)?,
            feedback_at: row.time(13)?,
            rejections: row.int(14)?,
            reopens: row.int(15)?,
            sent_bits: row.int(16)?,
            last_progress_due: row.text(17)?,
            last_progress_missed: row.text(18)?,
            lead: row.required(19, Columns::flag)?,
            first_feedback_at: row.time(20)?,
        })
    }

    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OpenAssignment> {
        OpenAssignment::decode(row).map_err(|why| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, why.into())
        })
    }

    /// What the colour rules need of this assignment.
    pub fn facts(&self) -> AssignmentFacts {
        AssignmentFacts {
            stage: self.stage,
            due_at: self.due_at,
            extended_due_at: self.extended_due_at,
            rejections: self.rejections.unwrap_or(0),
            reopened: self.reopens.unwrap_or(0) > 0,
            report_cycle_days: self.report_cycle_days,
            report_cycle_working_days: self.report_cycle_working_days,
            last_report_or_assigned_at: self.last_report_at.unwrap_or(self.created_at),
            feedback_at: self.feedback_at,
            lead: self.lead,
            first_feedback_at: self.first_feedback_at,
            own_report_at: self.last_report_at,
        }
    }

    /// What the ladder needs of this assignment.
    pub fn ladder_facts(&self) -> LadderFacts {
        LadderFacts {
            colour: self.facts(),
            assigned_at: self.created_at,
            live: self.status == AssignmentStatus::Active,
            signed: self.signed_at.is_some(),
        }
    }

    /// The notices on record for this assignment, sent or skipped.
    pub fn on_record(&self) -> OnRecord {
        let cycle = |level: &Option<String>| {
            level
                .as_deref()
                .and_then(|l| l.split_once(' '))
                .and_then(|(_, d)| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        OnRecord {
            rungs: RungSet::from_bits(
                u8::try_from(self.sent_bits.unwrap_or(0) & 0x7f).unwrap_or_default(),
            ),
            progress_due: cycle(&self.last_progress_due),
            progress_missed: cycle(&self.last_progress_missed),
        }
    }
}

/// The sweep's query (`$1` the sweep instant), for benchmarks that time the database's own
/// client reading the same rows.
pub fn open_assignments_sql() -> &'static str {
    &OPEN_ASSIGNMENTS_SQL
}

/// Rows of `open_assignments`, as they arrive.
pub type OpenAssignments<'a> =
    Pin<Box<dyn Stream<Item = Result<OpenAssignment, sea_orm::DbErr>> + Send + 'a>>;

/// Every open item's live assignments with the facts their colours and notices depend on,
/// as of `now`, in one query, streamed: the sweep decides each row as it arrives (deciding
/// overlaps the transfer, and rows are not kept), and live dashboards recompute colours
/// from the same rows.
pub async fn open_assignments(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    stream_of(db, &OPEN_ASSIGNMENTS_SQL, now).await
}

/// As [`open_assignments`], without the notices on record (`on_record` is empty): the facts
/// of the open assignments' colours, for readers that do not send anything.
pub async fn open_assignment_facts(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    stream_of(db, &OPEN_ASSIGNMENT_FACTS_SQL, now).await
}

/// The rows of [`open_assignment_facts`] of the items `among` only: the board's, for the
/// items a change touched.
pub async fn open_assignment_facts_among(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    among: &[i64],
) -> AppResult<Vec<OpenAssignment>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "{} AND a.item_id IN {}",
        *OPEN_ASSIGNMENT_FACTS_SQL,
        crate::service::store::sql::json_ids_in(backend, 2)
    );
    Ok(
        OpenAssignment::find_by_statement(crate::service::store::sql::statement(
            backend,
            &sql,
            vec![now.into(), crate::service::store::sql::json_ids(among)],
        ))
        .all(db)
        .await?,
    )
}

/// The sweep's rows through the connection pool, also on SQLite: what a database in
/// memory is read with, and what the file reader must agree with.
pub async fn open_assignments_from_pool(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    through_pool(db, &OPEN_ASSIGNMENTS_SQL, now).await
}

/// On SQLite with a file, the rows come from `sqlite_reader` (a blocking thread, in
/// batches: within 2× of the `sqlite3` client, where sqlx's row-by-row hand-over took
/// 3–8×); otherwise through the pool.
async fn stream_of<'a>(
    db: &'a DatabaseConnection,
    sql: &str,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'a>> {
    if let Some(file) = crate::sqlite_reader::database_file(db).await? {
        return Ok(crate::sqlite_reader::rows(
            file,
            sql.replace('$', "?"),
            vec![crate::sqlite_reader::timestamp_parameter(now)],
            OpenAssignment::from_sqlite_row,
        ));
    }
    through_pool(db, sql, now).await
}

async fn through_pool<'a>(
    db: &'a DatabaseConnection,
    sql: &str,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'a>> {
    Ok(
        OpenAssignment::find_by_statement(crate::service::store::sql::statement(
            db.get_database_backend(),
            sql,
            vec![now.into()],
        ))
        .stream(db)
        .await?,
    )
}
