//! Items and assignments read by column position, for the reads every page makes.
//!
//! sea-orm's derived decoding finds each column by its name and, for every NULL, formats
//! that name into an error which it then drops. Issue 14's profile of a page of 50 items
//! with their 75 assignments found a fifth of the request's CPU there. Here the statement
//! names its columns in the order they are decoded: both come from one list per entity
//! (`by_position!`), a new field fails to compile until it is listed, and a test holds the
//! decoding to sea-orm's on every row of the demo district.

use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, JoinType, QueryResult, QuerySelect, QueryTrait,
    RelationTrait, Select, TryGetable,
};

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ducha_calendar::Calendar;
use ducha_domain::colour::ItemColours;
use entity::{assignment, item, unit};

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

/// The items of `select` with all their assignments in id order, by a LEFT JOIN, in one
/// statement: what `read::kept_items` reads of the items the instance does not keep.
pub async fn items_with_assignments(
    db: &impl ConnectionTrait,
    select: Select<item::Entity>,
) -> Result<Vec<(item::Model, Vec<assignment::Model>)>, DbErr> {
    Ok(items_with_assignments_and_units(db, select, false)
        .await?
        .into_iter()
        .map(|(item, assignments, _)| (item, assignments))
        .collect())
}

/// [`items_with_assignments`], and with `units` the assignments' units too, joined in the
/// same statement (one per assignment, in its order): an item with its units is one
/// statement when the instance keeps no copy of the units (issue 32).
pub async fn items_with_assignments_and_units(
    db: &impl ConnectionTrait,
    select: Select<item::Entity>,
    units: bool,
) -> Result<Vec<ItemWithUnits>, DbErr> {
    let statement = items_with_units_statement(select, units, db.get_database_backend());
    items_with_units_read(db, statement, units).await
}

/// The statement of [`items_with_assignments_and_units`], for a caller that adjusts it before
/// [`items_with_units_read`] runs it.
pub fn items_with_units_statement(
    select: Select<item::Entity>,
    units: bool,
    backend: sea_orm::DbBackend,
) -> sea_orm::Statement {
    use sea_orm::QueryOrder;
    let mut select = select
        .select_only()
        .columns(item::Model::COLUMNS.iter().copied())
        .columns(assignment::Model::COLUMNS.iter().copied())
        .join(JoinType::LeftJoin, item::Relation::Assignment.def());
    if units {
        select = select
            .columns(unit::Model::COLUMNS.iter().copied())
            .join(JoinType::LeftJoin, assignment::Relation::Unit.def());
    }
    select
        .order_by_asc(item::Column::Id)
        .order_by_asc(assignment::Column::Id)
        .build(backend)
}

/// Runs a statement of [`items_with_units_statement`] and groups its rows by item.
pub async fn items_with_units_read(
    db: &impl ConnectionTrait,
    statement: sea_orm::Statement,
    units: bool,
) -> Result<Vec<ItemWithUnits>, DbErr> {
    let mut found: Vec<ItemWithUnits> = Vec::new();
    for row in db.query_all_raw(statement).await? {
        let mut cursor = Cursor::new(&row);
        let item = item::Model::decode(&mut cursor)?;
        let assignment = if cursor.null_here()? {
            cursor.skip(assignment::Model::COLUMNS.len());
            None
        } else {
            Some(assignment::Model::decode(&mut cursor)?)
        };
        let unit = if units && !cursor.null_here()? {
            Some(unit::Model::decode(&mut cursor)?)
        } else {
            None
        };
        match found.last_mut() {
            Some((held, assignments, units)) if held.id == item.id => {
                assignments.extend(assignment);
                units.extend(unit);
            }
            _ => found.push((
                item,
                assignment.into_iter().collect(),
                unit.into_iter().collect(),
            )),
        }
    }
    Ok(found)
}

/// The item with the live (not withdrawn) assignment of `unit_id` on it, in one statement:
/// `None` when the item does not exist or the unit holds no live part of it. What a verb
/// that adds to the unit's own part (a progress report) begins with: the part implies that
/// the unit sees the item, so nothing else is read (issue 32: a write costs its round trips).
pub async fn item_with_unit_part(
    db: &impl ConnectionTrait,
    item_id: i64,
    unit_id: i64,
) -> Result<Option<(item::Model, assignment::Model)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    // One row at most: an item has one assignment per unit (`ux_assignment_item_unit`), so
    // no `LIMIT` (a bound one makes PostgreSQL plan the statement at every execution).
    let statement = item::Entity::find_by_id(item_id)
        .select_only()
        .columns(item::Model::COLUMNS.iter().copied())
        .columns(assignment::Model::COLUMNS.iter().copied())
        .join(JoinType::InnerJoin, item::Relation::Assignment.def())
        .filter(assignment::Column::UnitId.eq(unit_id))
        .filter(assignment::Column::Status.ne(entity::AssignmentStatus::Withdrawn))
        .build(db.get_database_backend());
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let mut cursor = Cursor::new(&row);
    let item = item::Model::decode(&mut cursor)?;
    let assignment = assignment::Model::decode(&mut cursor)?;
    Ok(Some((item, assignment)))
}

/// An item, its assignments, and (when asked for) their units.
pub type ItemWithUnits = (item::Model, Vec<assignment::Model>, Vec<unit::Model>);

/// Implements [`ByPosition`] for an entity's model from one list of its fields and their
/// columns, so that the statement's columns and the decoding are written once, in one order.
macro_rules! by_position {
    ($module:ident { $($field:ident: $column:ident),* $(,)? }) => {
        impl ByPosition for $module::Model {
            type Entity = $module::Entity;
            const COLUMNS: &'static [$module::Column] = &[$($module::Column::$column),*];

            fn decode(row: &mut Cursor<'_>) -> Result<Self, DbErr> {
                Ok($module::Model { $($field: row.next()?),* })
            }
        }
    };
}

by_position!(item {
    id: Id,
    serial: Serial,
    year: Year,
    seq: Seq,
    title: Title,
    requirements: Requirements,
    source_kind: SourceKind,
    source_reference: SourceReference,
    urgency: Urgency,
    responsible_leader_id: ResponsibleLeaderId,
    deadline_rule: DeadlineRule,
    deadline_explicit: DeadlineExplicit,
    report_cycle_days: ReportCycleDays,
    report_cycle_working_days: ReportCycleWorkingDays,
    stage: Stage,
    assigned_at: AssignedAt,
    closed_at: ClosedAt,
    closed_on_time_original: ClosedOnTimeOriginal,
    closed_on_time_extended: ClosedOnTimeExtended,
    version: Version,
    created_by: CreatedBy,
    created_at: CreatedAt,
    updated_at: UpdatedAt,
    feedback_at: FeedbackAt,
    rejections: Rejections,
    reopened: Reopened,
    first_feedback_at: FirstFeedbackAt,
    rectification_rule: RectificationRule,
    rectification_from: RectificationFrom,
    upstream_document: UpstreamDocument,
    upstream_due_at: UpstreamDueAt,
    upstream_buffer_working_days: UpstreamBufferWorkingDays,
    reported_upward_at: ReportedUpwardAt,
    has_tasks: HasTasks,
});

by_position!(assignment {
    id: Id,
    item_id: ItemId,
    unit_id: UnitId,
    lead: Lead,
    status: Status,
    due_at: DueAt,
    extended_due_at: ExtendedDueAt,
    calendar_version: CalendarVersion,
    provisional: Provisional,
    paused_working_days: PausedWorkingDays,
    signed_at: SignedAt,
    signed_by: SignedBy,
    return_reason: ReturnReason,
    created_at: CreatedAt,
    last_report_at: LastReportAt,
});

by_position!(unit {
    id: Id,
    name: Name,
    kind: Kind,
    head_name: HeadName,
    contacts: Contacts,
    portfolio_leader_id: PortfolioLeaderId,
    created_at: CreatedAt,
    parent_id: ParentId,
});

/// An item's row and all its assignments (withdrawn ones too), in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRows {
    pub item: item::Model,
    pub assignments: Vec<assignment::Model>,
    /// The tasks handed down from its parts, in id order, when it has any
    /// (`read::attach_tasks`): their colours roll into the parts' (docs/rules.md §8).
    pub tasks: Vec<TaskRow>,
    /// Their colours, once computed, for as long as they hold.
    pub kept_colours: KeptColours,
}

impl ItemRows {
    pub fn new(item: item::Model, assignments: Vec<assignment::Model>) -> ItemRows {
        ItemRows {
            item,
            assignments,
            tasks: Vec::new(),
            kept_colours: KeptColours::default(),
        }
    }
}

/// A task as the colour rules read it: its row and the name of the sub-unit holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task: entity::task::Model,
    pub unit_name: String,
}

/// Colours computed from an item's rows (`service::watch::colours::colours_from_rows`), kept beside
/// them with what they were computed by and the stretch of time over which they hold. Rows
/// are never changed in place (a change is new rows), so what is kept goes with them.
/// Derived data: not part of the rows' equality, and not copied with them.
#[derive(Default)]
pub struct KeptColours(Mutex<Option<ColoursHeld>>);

struct ColoursHeld {
    calendar: Arc<Calendar>,
    policy_version: i32,
    holds: std::ops::Range<DateTime<Utc>>,
    colours: Arc<ItemColours>,
}

impl KeptColours {
    /// The colours kept, if they were computed on this calendar (the very one: a change to
    /// the calendar builds a new one) with this policy and hold at `at`; with the instant
    /// they hold until.
    pub fn get(
        &self,
        calendar: &Arc<Calendar>,
        policy_version: i32,
        at: DateTime<Utc>,
    ) -> Option<(Arc<ItemColours>, DateTime<Utc>)> {
        let held = self.0.lock().ok()?;
        held.as_ref()
            .filter(|held| {
                Arc::ptr_eq(&held.calendar, calendar)
                    && held.policy_version == policy_version
                    && held.holds.contains(&at)
            })
            .map(|held| (Arc::clone(&held.colours), held.holds.end))
    }

    pub fn keep(
        &self,
        calendar: &Arc<Calendar>,
        policy_version: i32,
        holds: std::ops::Range<DateTime<Utc>>,
        colours: &Arc<ItemColours>,
    ) {
        if let Ok(mut held) = self.0.lock() {
            *held = Some(ColoursHeld {
                calendar: Arc::clone(calendar),
                policy_version,
                holds,
                colours: Arc::clone(colours),
            });
        }
    }
}

impl Clone for KeptColours {
    fn clone(&self) -> Self {
        KeptColours::default()
    }
}

impl PartialEq for KeptColours {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for KeptColours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptColours")
    }
}
