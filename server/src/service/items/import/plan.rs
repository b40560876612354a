//! What each row of an uploaded ledger would become, against the district as it is now: its
//! item (source, urgency, leader, rule), its lead and co-units and the lead's due if
//! assigned now, and each problem beside its cell (docs/rules.md §9). The same evaluation
//! previews and, inside the import's transaction, decides the commit.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ducha_calendar::{Calendar, DayKind, Deadline, DeadlinePolicy, DeadlineRule};
use ducha_domain::deadlines::{DueInputs, assignment_due};
use ducha_domain::similarity::{SIMILAR_TITLE_THRESHOLD, TitleIndex, same_source_reference};
use ducha_domain::{SourceKind, Urgency};
use ducha_report::import::{Field, LedgerLine, date_text, unit_names};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, StreamTrait};

use crate::error::AppResult;
use crate::service::items::register::{not_past, parse_rule};
use crate::service::store::input::{BODY_MAX, TITLE_MAX, Text};
use entity::{AssignmentStatus, ItemStage, PersonRole};
use entity::{assignment, item, person, unit};

/// A shared document number counts toward a duplicate only with titles at least this
/// similar: the rows of one file (a meeting's decisions, a work report's tasks) commonly
/// share one number.
const SAME_REFERENCE_TITLE_THRESHOLD: f64 = 0.5;

/// Possible duplicates kept and said per row.
const MAX_DUPLICATES_KEPT: usize = 5;

/// A problem with a row, beside its cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub message: String,
    /// The row cannot be imported until it is fixed (a warning only unticks it).
    pub blocking: bool,
}

/// A possible duplicate (重复督查): an open item, or an earlier row of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Duplicate {
    Item { serial: String, title: String },
    Row { line: usize },
}

/// One row as it would be imported.
#[derive(Debug, Clone)]
pub struct RowPlan {
    pub line: usize,
    pub title: String,
    pub requirements: String,
    pub source_kind: SourceKind,
    pub source_reference: String,
    pub urgency: Urgency,
    pub leader: Option<(i64, String)>,
    pub lead_unit: Option<(i64, String)>,
    pub co_units: Vec<(i64, String)>,
    /// The rule in force and whether it is the row's own (not the source kind's default).
    pub rule: Option<(DeadlineRule, bool)>,
    /// The lead's due if assigned now; without a lead, the rule's due counted from now.
    pub due: Option<Deadline>,
    pub duplicates: Vec<Duplicate>,
    pub problems: Vec<Problem>,
}

impl RowPlan {
    pub fn importable(&self) -> bool {
        !self.problems.iter().any(|p| p.blocking)
    }

    /// Ticked when first shown: importable and nothing to look at twice.
    pub fn chosen_by_default(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, field: Field, message: impl Into<String>, blocking: bool) {
        self.problems.push(Problem {
            field,
            message: message.into(),
            blocking,
        });
    }
}

/// The district as the rows are read against: units, leaders and open items.
pub struct Known {
    units: Vec<(i64, String)>,
    leaders: HashMap<String, i64>,
    open: Vec<OpenItem>,
    titles: TitleIndex,
}

struct OpenItem {
    serial: String,
    title: String,
    source_reference: String,
    registered: bool,
    units: Vec<i64>,
}

impl Known {
    /// Reads what the rows are checked against, in three statements (four with the open
    /// items' units), whatever the number of rows.
    pub async fn load(db: &(impl ConnectionTrait + StreamTrait)) -> AppResult<Known> {
        let units = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .column(unit::Column::Name)
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?;
        let leaders = person::Entity::find()
            .filter(person::Column::Role.eq(PersonRole::Leader))
            .select_only()
            .column(person::Column::Name)
            .column(person::Column::Id)
            .into_tuple::<(String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        // Streamed, so that a district of a hundred thousand open items is never held twice
        // (as rows and as what is kept of them).
        let mut units_of: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut parts = assignment::Entity::find()
            .filter(assignment::Column::Status.ne(AssignmentStatus::Withdrawn))
            .inner_join(item::Entity)
            .filter(item::Column::Stage.is_in(ItemStage::open()))
            .select_only()
            .column(assignment::Column::ItemId)
            .column(assignment::Column::UnitId)
            .into_tuple::<(i64, i64)>()
            .stream(db)
            .await?;
        while let Some(part) = parts.next().await {
            let (item_id, unit_id) = part?;
            units_of.entry(item_id).or_default().push(unit_id);
        }
        drop(parts);
        let mut titles = TitleIndex::default();
        let mut open = Vec::new();
        let mut items = item::Entity::find()
            .filter(item::Column::Stage.is_in(ItemStage::open()))
            .select_only()
            .column(item::Column::Id)
            .column(item::Column::Serial)
            .column(item::Column::Title)
            .column(item::Column::SourceReference)
            .column(item::Column::Stage)
            .into_tuple::<(i64, String, String, String, ItemStage)>()
            .stream(db)
            .await?;
        while let Some(found) = items.next().await {
            let (id, serial, title, source_reference, stage) = found?;
            titles.add(&title);
            open.push(OpenItem {
                serial,
                title,
                source_reference,
                registered: stage == ItemStage::Registered,
                units: units_of.remove(&id).unwrap_or_default(),
            });
        }
        drop(items);
        Ok(Known {
            units,
            leaders,
            open,
            titles,
        })
    }

    /// A unit by its full name, or by a part of it that names exactly one ("住建局" for
    /// "区住建局").
    fn unit(&self, name: &str) -> Result<(i64, String), String> {
        if let Some((id, full)) = self.units.iter().find(|(_, n)| n == name) {
            return Ok((*id, full.clone()));
        }
        let partial: Vec<&(i64, String)> = self
            .units
            .iter()
            .filter(|(_, n)| {
                n.contains(name) || (name.contains(n.as_str()) && n.chars().count() >= 2)
            })
            .collect();
        match partial.as_slice() {
            [(id, full)] => Ok((*id, full.clone())),
            [] => Err(format!(
                "没有名为“{name}”的单位，请填写单位全称（见模板“填写说明”）"
            )),
            several => Err(format!(
                "“{name}”可以是{}，请填写单位全称",
                several
                    .iter()
                    .take(5)
                    .map(|(_, n)| format!("“{n}”"))
                    .collect::<Vec<_>>()
                    .join("或")
            )),
        }
    }
}

/// A source kind by its label, code, or a part of its label that names exactly one.
fn source_kind(text: &str) -> Result<SourceKind, String> {
    if let Some(kind) = SourceKind::parse(text) {
        return Ok(kind);
    }
    if let Some(kind) = SourceKind::ALL.into_iter().find(|k| k.label() == text) {
        return Ok(kind);
    }
    // "领导批示" is 领导批示交办, not 上级领导批示: a label the text begins first.
    let starting: Vec<SourceKind> = SourceKind::ALL
        .into_iter()
        .filter(|k| k.label().starts_with(text))
        .collect();
    if let [kind] = starting.as_slice() {
        return Ok(*kind);
    }
    let partial: Vec<SourceKind> = SourceKind::ALL
        .into_iter()
        .filter(|k| k.label().contains(text) || text.contains(k.label()))
        .collect();
    match partial.as_slice() {
        [kind] => Ok(*kind),
        _ => Err(format!(
            "来源“{text}”无法识别，应为：{}",
            SourceKind::ALL.map(|k| k.label()).join("、")
        )),
    }
}

fn urgency(text: &str) -> Result<Urgency, String> {
    match text {
        "" | "一般" | "普通" | "平件" | "NORMAL" => Ok(Urgency::Normal),
        "急" | "加急" | "紧急" | "急件" | "URGENT" => Ok(Urgency::Urgent),
        "特急" | "特提" | "CRITICAL" => Ok(Urgency::Critical),
        other => Err(format!("紧急程度“{other}”无法识别，应为一般、急或特急")),
    }
}

/// Where the rows are evaluated: the calendar, the office's policy, and now.
pub struct When<'a> {
    pub calendar: &'a Calendar,
    pub policy: &'a DeadlinePolicy,
    pub now: DateTime<Utc>,
}

/// [`plan_rows`] on a blocking thread: thousands of rows take CPU for a second or more,
/// which must not hold up the runtime's workers and the requests they serve.
pub async fn plan_rows_apart(
    known: Known,
    calendar: std::sync::Arc<Calendar>,
    policy: DeadlinePolicy,
    now: DateTime<Utc>,
    default_source: SourceKind,
    lines: Vec<LedgerLine>,
) -> crate::error::AppResult<Vec<RowPlan>> {
    tokio::task::spawn_blocking(move || {
        let when = When {
            calendar: &calendar,
            policy: &policy,
            now,
        };
        plan_rows(&known, &when, default_source, &lines)
    })
    .await
    .map_err(|e| crate::error::AppError::Internal(e.into()))
}

/// Every row's plan, in the file's order. Duplicates are looked for among open items and
/// among the rows above.
pub fn plan_rows(
    known: &Known,
    when: &When<'_>,
    default_source: SourceKind,
    lines: &[LedgerLine],
) -> Vec<RowPlan> {
    let mut rows_index = TitleIndex::default();
    let mut plans: Vec<RowPlan> = Vec::with_capacity(lines.len());
    for line in lines {
        let mut plan = plan_row(known, when, default_source, line);
        find_duplicates(known, &rows_index, &plans, &mut plan);
        rows_index.add(&plan.title);
        plans.push(plan);
    }
    plans
}

fn plan_row(
    known: &Known,
    when: &When<'_>,
    default_source: SourceKind,
    line: &LedgerLine,
) -> RowPlan {
    let mut plan = RowPlan {
        line: line.line,
        title: line.get(Field::Title).trim().to_string(),
        requirements: String::new(),
        source_kind: default_source,
        source_reference: line.get(Field::SourceReference).trim().to_string(),
        urgency: Urgency::Normal,
        leader: None,
        lead_unit: None,
        co_units: Vec::new(),
        rule: None,
        due: None,
        duplicates: Vec::new(),
        problems: Vec::new(),
    };
    if let Err(e) = Text::parse("事项", &plan.title, TITLE_MAX) {
        plan.problem(Field::Title, e.to_string(), true);
    }
    let requirements = line.get(Field::Requirements).trim();
    plan.requirements = if requirements.is_empty() {
        plan.title.clone()
    } else {
        requirements.to_string()
    };
    if let Err(e) = Text::parse("办理要求", &plan.requirements, BODY_MAX) {
        plan.problem(Field::Requirements, e.to_string(), true);
    }
    if let Err(e) = Text::optional("来源文号", Some(&plan.source_reference), TITLE_MAX) {
        plan.problem(Field::SourceReference, e.to_string(), true);
    }
    match line.get(Field::Source).trim() {
        "" => {}
        text => match source_kind(text) {
            Ok(kind) => plan.source_kind = kind,
            Err(message) => plan.problem(Field::Source, message, true),
        },
    }
    match urgency(line.get(Field::Urgency).trim()) {
        Ok(u) => plan.urgency = u,
        Err(message) => plan.problem(Field::Urgency, message, true),
    }
    match line.get(Field::Leader).trim() {
        "" => {}
        name => match known.leaders.get(name) {
            Some(id) => plan.leader = Some((*id, name.to_string())),
            None => plan.problem(
                Field::Leader,
                format!("“{name}”不是系统中的区领导，责任领导应填区领导姓名"),
                true,
            ),
        },
    }
    units(known, line, &mut plan);
    rule_and_due(when, line, &mut plan);
    plan
}

fn units(known: &Known, line: &LedgerLine, plan: &mut RowPlan) {
    let leads = unit_names(line.get(Field::LeadUnit));
    match leads.as_slice() {
        [] => {}
        [name] => match known.unit(name) {
            Ok(found) => plan.lead_unit = Some(found),
            Err(message) => plan.problem(Field::LeadUnit, message, true),
        },
        _ => plan.problem(
            Field::LeadUnit,
            "主办单位只能填一个，其余单位请填入“协办单位”",
            true,
        ),
    }
    let mut seen: HashSet<i64> = plan.lead_unit.iter().map(|(id, _)| *id).collect();
    for name in unit_names(line.get(Field::CoUnits)) {
        match known.unit(&name) {
            Ok(found) if seen.insert(found.0) => plan.co_units.push(found),
            Ok(found) => plan.problem(
                Field::CoUnits,
                format!("{}重复填写，主办单位也不能同时为协办单位", found.1),
                true,
            ),
            Err(message) => plan.problem(Field::CoUnits, message, true),
        }
    }
    if plan.lead_unit.is_none() && !plan.co_units.is_empty() {
        plan.problem(Field::LeadUnit, "填了协办单位，也要填主办单位", true);
    }
}

fn rule_and_due(when: &When<'_>, line: &LedgerLine, plan: &mut RowPlan) {
    let rule_text = line.get(Field::Rule).trim();
    let due_text = line.get(Field::Due).trim();
    let (field, parsed) = if !rule_text.is_empty() {
        // "2026年12月31日" in the rule's column is a date too.
        let text = date_text(rule_text).unwrap_or_else(|| rule_text.to_string());
        (Field::Rule, Some(parse_rule(&text).map(|r| (r, true))))
    } else if !due_text.is_empty() {
        // The due column holds a date; a rule written there ("5个工作日") is read as one.
        let text = date_text(due_text).unwrap_or_else(|| due_text.to_string());
        (Field::Due, Some(parse_rule(&text).map(|r| (r, true))))
    } else {
        (Field::Rule, None)
    };
    let rule = match parsed {
        None => (plan.source_kind.default_deadline(), false),
        Some(Ok(rule)) => rule,
        Some(Err(e)) => {
            plan.problem(field, e.to_string(), true);
            return;
        }
    };
    let today = when.now.with_timezone(&when.policy.time_zone).date_naive();
    if let Err(e) = not_past(rule.0, today) {
        plan.problem(field, e.to_string(), true);
        return;
    }
    if let DeadlineRule::FixedDate(date) = rule.0 {
        let rest = match when.calendar.day_kind(date).value {
            DayKind::Holiday(name) => Some(format!("{name}假期")),
            DayKind::Weekend => Some("周末".to_string()),
            DayKind::Workday | DayKind::MakeupWorkday(_) => None,
        };
        if let Some(rest) = rest {
            plan.problem(
                field,
                format!("期限日期{date}是休息日（{rest}），请改为工作日"),
                true,
            );
            return;
        }
    }
    plan.rule = Some(rule);
    let due = match plan.lead_unit {
        Some(_) => assignment_due(
            when.calendar,
            when.policy,
            DueInputs {
                assigned_at: when.now,
                rule: rule.0,
                lead: true,
                paused_working_days: 0,
            },
        )
        .map_err(|e| e.to_string()),
        None => when
            .calendar
            .deadline(when.policy, when.now, rule.0)
            .map_err(|e| e.to_string()),
    };
    match due {
        Ok(due) => plan.due = Some(due),
        Err(message) => plan.problem(field, message, true),
    }
}

/// Open items and rows above that look like this row: a similar title, or the same document
/// number with a somewhat similar title. Among open items only those of the row's units (or
/// not assigned yet) count, as at 立项.
fn find_duplicates(known: &Known, rows_index: &TitleIndex, above: &[RowPlan], plan: &mut RowPlan) {
    if plan.title.is_empty() {
        return;
    }
    let units: Vec<i64> = plan
        .lead_unit
        .iter()
        .chain(&plan.co_units)
        .map(|(id, _)| *id)
        .collect();
    let same_reference = |other: &str| same_source_reference(&plan.source_reference, other);
    let mut found: Vec<(f64, Duplicate)> = Vec::new();
    for (n, similarity) in known
        .titles
        .similar(&plan.title, SAME_REFERENCE_TITLE_THRESHOLD)
    {
        let open = &known.open[n];
        let in_scope =
            units.is_empty() || open.registered || open.units.iter().any(|u| units.contains(u));
        if in_scope
            && (similarity >= SIMILAR_TITLE_THRESHOLD || same_reference(&open.source_reference))
        {
            found.push((
                similarity,
                Duplicate::Item {
                    serial: open.serial.clone(),
                    title: open.title.clone(),
                },
            ));
        }
    }
    for (n, similarity) in rows_index.similar(&plan.title, SAME_REFERENCE_TITLE_THRESHOLD) {
        let other = &above[n];
        if similarity >= SIMILAR_TITLE_THRESHOLD || same_reference(&other.source_reference) {
            found.push((similarity, Duplicate::Row { line: other.line }));
        }
    }
    // The most alike first, and a few only: a file of near-identical rows would otherwise
    // keep every pair.
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    plan.duplicates = found
        .into_iter()
        .take(MAX_DUPLICATES_KEPT)
        .map(|(_, d)| d)
        .collect();
    let said: Vec<String> = plan
        .duplicates
        .iter()
        .take(3)
        .map(|d| match d {
            Duplicate::Item { serial, title } => format!("在办事项{serial}“{title}”"),
            Duplicate::Row { line } => format!("本表第{line}行"),
        })
        .collect();
    if !said.is_empty() {
        plan.problem(
            Field::Title,
            format!(
                "可能与{}重复，请核实，避免重复督查、多头督查；确认无误可勾选导入",
                said.join("、")
            ),
            false,
        );
    }
}
