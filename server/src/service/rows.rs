//! Items and assignments read by column position, for the reads every page makes.
//!
//! sea-orm's derived decoding finds each column by its name and, for every NULL, formats
//! that name into an error which it then drops. Issue 14's profile of a page of 50 items
//! with their 75 assignments found a fifth of the request's CPU there. Here the statement
//! names its columns in the order they are decoded (`ByPosition::COLUMNS`), so the two
//! cannot drift apart; a new field fails to compile until it is decoded, and a test holds
//! the decoding to sea-orm's on every row of the demo district.

use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, JoinType, QueryResult, QuerySelect, QueryTrait,
    RelationTrait, Select, TryGetable,
};

use entity::{assignment, item};

/// A model that can be decoded from consecutive columns of a row.
pub trait ByPosition: Sized {
    type Entity: EntityTrait;
    /// The columns, in the order `decode` reads them.
    const COLUMNS: &'static [<Self::Entity as EntityTrait>::Column];
    fn decode(row: &mut Cursor<'_>) -> Result<Self, DbErr>;
}

/// Reads a row's columns one after the other.
pub struct Cursor<'a> {
    row: &'a QueryResult,
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(row: &'a QueryResult) -> Cursor<'a> {
        Cursor { row, at: 0 }
    }

    fn next<T: TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.at);
        self.at += 1;
        value
    }

    /// Skips `n` columns (a joined row that is absent).
    fn skip(&mut self, n: usize) {
        self.at += n;
    }

    /// Whether the column at the cursor is NULL, without moving.
    fn null_here(&self) -> Result<bool, DbErr> {
        Ok(self.row.try_get_by_index::<Option<i64>>(self.at)?.is_none())
    }
}

/// Every row of `select`, decoded by position.
pub async fn all<E>(db: &impl ConnectionTrait, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition<Entity = E>,
{
    let statement = select
        .select_only()
        .columns(E::Model::COLUMNS.iter().copied())
        .build(db.get_database_backend());
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| E::Model::decode(&mut Cursor::new(row)))
        .collect()
}

/// The items of `select` (at most one is expected: a filter on the id) with all their
/// assignments in id order, by a LEFT JOIN: one statement for `item(id)`.
pub async fn items_with_assignments(
    db: &impl ConnectionTrait,
    select: Select<item::Entity>,
) -> Result<Vec<(item::Model, Vec<assignment::Model>)>, DbErr> {
    use sea_orm::QueryOrder;
    let statement = select
        .select_only()
        .columns(item::Model::COLUMNS.iter().copied())
        .columns(assignment::Model::COLUMNS.iter().copied())
        .join(JoinType::LeftJoin, item::Relation::Assignment.def())
        .order_by_asc(item::Column::Id)
        .order_by_asc(assignment::Column::Id)
        .build(db.get_database_backend());
    let mut found: Vec<(item::Model, Vec<assignment::Model>)> = Vec::new();
    for row in db.query_all_raw(statement).await? {
        let mut cursor = Cursor::new(&row);
        let item = item::Model::decode(&mut cursor)?;
        let assignment = if cursor.null_here()? {
            cursor.skip(assignment::Model::COLUMNS.len());
            None
        } else {
            Some(assignment::Model::decode(&mut cursor)?)
        };
        match found.last_mut() {
            Some((held, assignments)) if held.id == item.id => assignments.extend(assignment),
            _ => found.push((item, assignment.into_iter().collect())),
        }
    }
    Ok(found)
}

impl ByPosition for item::Model {
    type Entity = item::Entity;
    const COLUMNS: &'static [item::Column] = {
        use item::Column::*;
        &[
            Id,
            Serial,
            Year,
            Seq,
            Title,
            Requirements,
            SourceKind,
            SourceReference,
            Urgency,
            ResponsibleLeaderId,
            DeadlineRule,
            DeadlineExplicit,
            ReportCycleDays,
            ReportCycleWorkingDays,
            Stage,
            AssignedAt,
            ClosedAt,
            ClosedOnTimeOriginal,
            ClosedOnTimeExtended,
            Version,
            CreatedBy,
            CreatedAt,
            UpdatedAt,
            FeedbackAt,
            Rejections,
            Reopened,
        ]
    };

    fn decode(row: &mut Cursor<'_>) -> Result<Self, DbErr> {
        Ok(item::Model {
            id: row.next()?,
            serial: row.next()?,
            year: row.next()?,
            seq: row.next()?,
            title: row.next()?,
            requirements: row.next()?,
            source_kind: row.next()?,
            source_reference: row.next()?,
            urgency: row.next()?,
            responsible_leader_id: row.next()?,
            deadline_rule: row.next()?,
            deadline_explicit: row.next()?,
            report_cycle_days: row.next()?,
            report_cycle_working_days: row.next()?,
            stage: row.next()?,
            assigned_at: row.next()?,
            closed_at: row.next()?,
            closed_on_time_original: row.next()?,
            closed_on_time_extended: row.next()?,
            version: row.next()?,
            created_by: row.next()?,
            created_at: row.next()?,
            updated_at: row.next()?,
            feedback_at: row.next()?,
            rejections: row.next()?,
            reopened: row.next()?,
        })
    }
}

impl ByPosition for assignment::Model {
    type Entity = assignment::Entity;
    const COLUMNS: &'static [assignment::Column] = {
        use assignment::Column::*;
        &[
            Id,
            ItemId,
            UnitId,
            Lead,
            Status,
            DueAt,
            ExtendedDueAt,
            CalendarVersion,
            Provisional,
            PausedWorkingDays,
            SignedAt,
            SignedBy,
            ReturnReason,
            CreatedAt,
            LastReportAt,
        ]
    };

    fn decode(row: &mut Cursor<'_>) -> Result<Self, DbErr> {
        Ok(assignment::Model {
            id: row.next()?,
            item_id: row.next()?,
            unit_id: row.next()?,
            lead: row.next()?,
            status: row.next()?,
            due_at: row.next()?,
            extended_due_at: row.next()?,
            calendar_version: row.next()?,
            provisional: row.next()?,
            paused_working_days: row.next()?,
            signed_at: row.next()?,
            signed_by: row.next()?,
            return_reason: row.next()?,
            created_at: row.next()?,
            last_report_at: row.next()?,
        })
    }
}
