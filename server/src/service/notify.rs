//! Who hears of a notice, and the one mail each reader gets for a batch of them.
//!
//! A notice is recorded on its own (at most once per assignment × kind × level), but mail
//! goes per reader: one digest per sweep listing every new notice for that person, grouped
//! by kind, each item once; and one mail per reader for the notices a verb writes (交办,
//! 改派, 延期审批, 退回重办), in the same transaction as the change. Every mail is addressed to
//! its reader (a unit by its name, a person by theirs) and asks of them only what is theirs
//! to do: a 红色督办 asks the unit head to act, the 分管 leader to press the unit, the office
//! to follow up (docs/rules.md §4, [000 Art.68]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_domain::ladder::Rung;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::audit::Audit;
use crate::error::AppResult;
use crate::mail::{Digest, DigestItem, DigestSection, DigestUnit, Rendered};
use entity::{AssignmentStatus, ItemStage, PersonRole};
use entity::{assignment, audit_event, item, notice, outbox, person, unit};

/// Notice states (`notice.state`).
pub const SKIPPED: &str = "SKIPPED";
pub const DIGEST: &str = "DIGEST";
pub const MAILED: &str = "MAILED";

/// Items listed per section of one mail; a reader with more is told how many more.
const ITEMS_LISTED: usize = 50;

/// What mails need besides the data: where links point and which clock face dates use.
#[derive(Clone)]
pub struct NoticeContext {
    pub public_url: String,
    pub time_zone: Tz,
    /// Woken after a commit that wrote mail, so the sender delivers within seconds.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl NoticeContext {
    /// The item's stable address, the target of every mail link.
    pub fn item_link(&self, item_id: i64) -> String {
        format!("{}/items/{item_id}", self.public_url.trim_end_matches('/'))
    }
}

/// What a notice is about: a rung of the ladder, or the outcome of a verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Rung(Rung),
    /// 退回重办: the office rejected the completion report.
    Rework,
    /// 延期审批结果.
    Extension {
        approved: bool,
    },
    /// The office's answer to a unit's 退回: reassigned elsewhere, or kept with the unit.
    ReturnResolved {
        reassigned: bool,
    },
    /// 领导批示 on an item the unit holds.
    Instruction,
}

impl Topic {
    pub fn title(self) -> &'static str {
        match self {
            Topic::Rung(rung) => rung.title(),
            Topic::Rework => "退回重办通知",
            Topic::Extension { .. } => "延期审批结果",
            Topic::ReturnResolved { .. } => "退回申请处理结果",
            Topic::Instruction => "领导批示",
        }
    }

    /// Sections run most urgent first.
    fn rank(self) -> u8 {
        match self {
            Topic::Rung(rung) => 10 + rung as u8,
            Topic::Rework => 20,
            Topic::Extension { .. } => 5,
            Topic::ReturnResolved { .. } => 4,
            Topic::Instruction => 6,
        }
    }

    /// The stored kind of an event notice (rungs have their own).
    pub fn kind(self) -> &'static str {
        match self {
            Topic::Rung(rung) => rung.kind(),
            Topic::Rework => "REWORK",
            Topic::Extension { .. } => "EXTENSION",
            Topic::ReturnResolved { .. } => "RETURN",
            Topic::Instruction => "INSTRUCTION",
        }
    }

    /// What the reader is asked to do, as their role allows.
    fn ask(self, audience: Audience) -> &'static str {
        match (self, audience) {
            (Topic::Rung(Rung::Red), Audience::Leader) => {
                "以下事项由您分管的单位承办，已列为红色督办，请督促承办单位主要负责人抓好落实。"
            }
            (Topic::Rung(Rung::Red), Audience::Office) => {
                "以下事项已列为红色督办，请跟进督办，必要时约谈承办单位主要负责人。"
            }
            (Topic::Rung(Rung::Red), Audience::Unit) => {
                "以下事项列为红色督办，请单位主要负责人亲自抓落实，并向分管区领导报告。"
            }
            (Topic::Rung(Rung::Assigned), _) => {
                "以下事项已交办你单位，请于1个工作日内签收，并按办理要求在期限内落实；主办单位负责汇总、反馈办理结果，协办单位按分工配合。"
            }
            (Topic::Rung(Rung::NotSigned), _) => {
                "以下事项交办已超过1个工作日仍未签收，请尽快签收办理；如不属本单位职责，请说明理由申请退回。"
            }
            (Topic::Rung(Rung::ProgressDue), _) => {
                "以下事项本期进展报告即将到期，请按时报送阶段性办理进展。"
            }
            (Topic::Rung(Rung::ProgressMissed), _) => {
                "以下事项本期进展报告已超过报送期限仍未报送，请单位负责人督促经办人立即报送。"
            }
            (Topic::Rung(Rung::Blue), _) => {
                "以下事项即将到期，请抓紧办理并按期反馈；确需延期的，请在期限届满前提出申请。"
            }
            (Topic::Rung(Rung::Yellow), _) => {
                "以下事项已逾期或办结反馈被退回，请单位主要负责人督促落实，尽快反馈办理结果。"
            }
            (Topic::Rework, _) => {
                "以下事项的办结反馈经核查未通过，已退回重办，请按核查意见继续办理，办结后重新反馈。"
            }
            (Topic::Extension { approved: true }, _) => {
                "以下事项的延期申请已获批准，请按新的期限办理。"
            }
            (Topic::Extension { approved: false }, _) => {
                "以下事项的延期申请未获批准，请按原期限抓紧办理。"
            }
            (Topic::ReturnResolved { reassigned: true }, _) => {
                "你单位对以下事项的退回申请已同意，事项已改派其他单位办理。"
            }
            (Topic::ReturnResolved { reassigned: false }, _) => {
                "你单位对以下事项的退回申请未获同意，请继续办理。"
            }
            (Topic::Instruction, _) => {
                "区领导对以下事项作出批示，请认真研究落实，并在进展报告中反映落实情况。"
            }
        }
    }
}

/// Whose eyes a mail is for, which decides what it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Audience {
    Unit,
    Leader,
    Office,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub email: String,
    /// How the mail opens: a unit's contact address by the unit's name, a person by theirs.
    pub salutation: String,
    pub audience: Audience,
}

/// The units and people notices are addressed from.
pub struct Directory {
    units: HashMap<i64, unit::Model>,
    people: Vec<person::Model>,
}

impl Directory {
    /// Every unit and person: a sweep may reach any of them.
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Directory> {
        let units = unit::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let people = person::Entity::find().all(db).await?;
        Ok(Directory { units, people })
    }

    /// The units given and their people: enough for the notices of one verb.
    pub async fn load_units(db: &impl ConnectionTrait, unit_ids: &[i64]) -> AppResult<Directory> {
        let units = unit::Entity::find()
            .filter(unit::Column::Id.is_in(unit_ids.to_vec()))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let people = person::Entity::find()
            .filter(person::Column::UnitId.is_in(unit_ids.to_vec()))
            .all(db)
            .await?;
        Ok(Directory { units, people })
    }

    pub fn unit_name(&self, unit_id: i64) -> String {
        self.units
            .get(&unit_id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("单位{unit_id}"))
    }

    /// Who hears of `topic` for an assignment of `unit_id` (docs/rules.md §4): contacts for the
    /// first notices, the handler (staff) as the due nears, the unit head once it is late,
    /// and for 红色督办 the unit head, the 分管 leader and the office.
    pub fn readers(&self, topic: Topic, unit_id: i64) -> Vec<Reader> {
        let Some(target) = self.units.get(&unit_id) else {
            return Vec::new();
        };
        let contacts: Vec<Reader> = target
            .contacts
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| c.get("email")?.as_str())
                    .map(|email| Reader {
                        email: email.to_string(),
                        salutation: target.name.clone(),
                        audience: Audience::Unit,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let person = |p: &person::Model, audience| {
            p.email.as_ref().map(|email| Reader {
                email: email.clone(),
                salutation: salutation(&p.name),
                audience,
            })
        };
        let of_unit = |role: PersonRole| -> Vec<Reader> {
            self.people
                .iter()
                .filter(|p| p.unit_id == Some(unit_id) && p.role == role)
                .filter_map(|p| person(p, Audience::Unit))
                .collect()
        };
        let mut readers: Vec<Reader> = match topic {
            Topic::Rung(Rung::Assigned | Rung::NotSigned) => {
                if contacts.is_empty() {
                    [
                        of_unit(PersonRole::UnitHead),
                        of_unit(PersonRole::UnitStaff),
                    ]
                    .concat()
                } else {
                    contacts
                }
            }
            Topic::Rung(Rung::Blue | Rung::ProgressDue) => {
                [contacts, of_unit(PersonRole::UnitStaff)].concat()
            }
            Topic::Rung(Rung::ProgressMissed) | Topic::ReturnResolved { .. } => {
                [contacts, of_unit(PersonRole::UnitHead)].concat()
            }
            Topic::Rung(Rung::Yellow)
            | Topic::Rework
            | Topic::Extension { .. }
            | Topic::Instruction => [
                contacts,
                of_unit(PersonRole::UnitStaff),
                of_unit(PersonRole::UnitHead),
            ]
            .concat(),
            Topic::Rung(Rung::Red) => {
                let leader = self
                    .people
                    .iter()
                    .filter(|p| Some(p.id) == target.portfolio_leader_id)
                    .filter_map(|p| person(p, Audience::Leader));
                let office = self
                    .people
                    .iter()
                    .filter(|p| p.role == PersonRole::Supervisor)
                    .filter_map(|p| person(p, Audience::Office));
                // The unit's own address too: a unit whose head has no address of their
                // own must still hear that its item is red.
                [contacts, of_unit(PersonRole::UnitHead)]
                    .concat()
                    .into_iter()
                    .chain(leader)
                    .chain(office)
                    .collect()
            }
        };
        // One address, one reader: a person's own salutation over a unit's.
        readers.sort_by(|a, b| {
            a.email
                .cmp(&b.email)
                .then((a.salutation == target.name).cmp(&(b.salutation == target.name)))
        });
        readers.dedup_by(|later, first| later.email == first.email);
        readers
    }
}

/// How a mail opens for a person: "张伟同志", but a name on record as a title ("陈常务副区长",
/// "王督查") stands alone.
fn salutation(name: &str) -> String {
    const TITLES: [&str; 9] = [
        "长", "主任", "书记", "督查", "员", "主席", "委员", "同志", "领导",
    ];
    if TITLES.iter().any(|t| name.ends_with(t)) {
        name.to_string()
    } else {
        format!("{name}同志")
    }
}

/// One notice as a mail lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub topic: Topic,
    pub item_id: i64,
    pub serial: String,
    pub title: String,
    pub requirements: String,
    pub unit_name: String,
    pub lead: bool,
    pub due_at: DateTime<Utc>,
    pub extended: bool,
    pub situation: String,
    pub signed: bool,
}

impl Entry {
    pub fn new(
        topic: Topic,
        current: &item::Model,
        a: &assignment::Model,
        unit_name: String,
        situation: String,
    ) -> Entry {
        Entry {
            topic,
            item_id: current.id,
            serial: current.serial.clone(),
            title: current.title.clone(),
            requirements: current.requirements.clone(),
            unit_name,
            lead: a.lead,
            due_at: a.extended_due_at.unwrap_or(a.due_at),
            extended: a.extended_due_at.is_some(),
            situation,
            signed: a.signed_at.is_some(),
        }
    }
}

/// One mail for one reader, listing `entries` (all of them theirs).
pub fn render_for(
    cx: &NoticeContext,
    reader: &Reader,
    entries: &[&Entry],
    now: DateTime<Utc>,
) -> Rendered {
    // Each item once, under its most urgent topic, naming every unit it concerns.
    let mut by_item: BTreeMap<i64, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        by_item.entry(entry.item_id).or_default().push(entry);
    }
    let mut sections: BTreeMap<std::cmp::Reverse<u8>, (Topic, Vec<Vec<&Entry>>)> = BTreeMap::new();
    for (_, mut group) in by_item {
        group.sort_by_key(|e| (std::cmp::Reverse(e.topic.rank()), !e.lead));
        let topic = group[0].topic;
        sections
            .entry(std::cmp::Reverse(topic.rank()))
            .or_insert_with(|| (topic, Vec::new()))
            .1
            .push(group);
    }
    let total: usize = sections.values().map(|(_, items)| items.len()).sum();
    let subject = match (sections.len(), sections.values().next()) {
        (1, Some((topic, items))) if items.len() == 1 => {
            let first = items[0][0];
            format!("【{}】{} {}", topic.title(), first.serial, first.title)
        }
        _ => format!(
            "【督查督办提醒】{}",
            sections
                .values()
                .map(|(topic, items)| format!("{}{}项", topic.title(), items.len()))
                .collect::<Vec<_>>()
                .join("、")
        ),
    };
    let tz = cx.time_zone;
    let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let listed = sections
        .values()
        .enumerate()
        .map(|(index, (topic, items))| {
            let heading = if sections.len() == 1 {
                format!("{}（{}项）", topic.title(), items.len())
            } else {
                format!(
                    "{}、{}（{}项）",
                    numerals.get(index).copied().unwrap_or("十"),
                    topic.title(),
                    items.len()
                )
            };
            DigestSection {
                heading,
                ask: topic.ask(reader.audience).to_string(),
                colour: colour_css(*topic),
                items: items
                    .iter()
                    .take(ITEMS_LISTED)
                    .map(|group| digest_item(cx, tz, group))
                    .collect(),
                more: (items.len() > ITEMS_LISTED).then(|| {
                    format!(
                        "另有{}项未列出，请登录督查督办系统查看。",
                        items.len() - ITEMS_LISTED
                    )
                }),
            }
        })
        .collect();
    let intro = if total == 1 {
        "请阅知以下督办事项：".to_string()
    } else {
        format!("请阅知以下督办事项，共{total}项：")
    };
    Digest {
        subject,
        salutation: reader.salutation.clone(),
        intro,
        sections: listed,
        sent_at: now.with_timezone(&tz).format("%Y年%m月%d日").to_string(),
    }
    .render()
}

/// One item of a digest with the reader's units' parts in it.
fn digest_item(cx: &NoticeContext, tz: chrono_tz::Tz, group: &[&Entry]) -> DigestItem {
    let first = group[0];
    DigestItem {
        serial: first.serial.clone(),
        title: first.title.clone(),
        requirements: first.requirements.chars().take(200).collect(),
        link: cx.item_link(first.item_id),
        units: group
            .iter()
            .map(|e| {
                let due = format!(
                    "{}{}",
                    e.due_at.with_timezone(&tz).format("%Y年%m月%d日 %H:%M"),
                    if e.extended {
                        "（已批准延期）"
                    } else {
                        ""
                    }
                );
                // The signing rungs say it themselves.
                let says_unsigned = matches!(
                    e.topic,
                    Topic::Rung(Rung::Assigned | Rung::NotSigned) | Topic::Rework
                ) || !matches!(e.topic, Topic::Rung(_));
                let situation = if e.signed || says_unsigned {
                    e.situation.clone()
                } else {
                    format!("{}；尚未签收", e.situation)
                };
                DigestUnit {
                    name: e.unit_name.clone(),
                    role: if e.lead { "主办" } else { "协办" },
                    due,
                    situation,
                }
            })
            .collect(),
    }
}

fn colour_css(topic: Topic) -> &'static str {
    match topic {
        Topic::Rung(Rung::Blue | Rung::ProgressDue) => "#1f6feb",
        Topic::Rung(Rung::Yellow | Rung::ProgressMissed) | Topic::Rework => "#b08800",
        Topic::Rung(Rung::Red) => "#cf222e",
        _ => "#222",
    }
}

/// Groups `entries` by reader and renders one mail each, as outbox rows due now.
pub fn mails(
    cx: &NoticeContext,
    directory: &Directory,
    entries: &[(Entry, i64)],
    now: DateTime<Utc>,
) -> Vec<outbox::ActiveModel> {
    let mut by_reader: BTreeMap<String, (Reader, Vec<&Entry>)> = BTreeMap::new();
    let mut unaddressed = 0;
    for (entry, unit_id) in entries {
        let readers = directory.readers(entry.topic, *unit_id);
        unaddressed += usize::from(readers.is_empty());
        for reader in readers {
            let slot = by_reader
                .entry(reader.email.clone())
                .or_insert_with(|| (reader.clone(), Vec::new()));
            // The widest audience decides the asks: an office member who is also a
            // contact reads the office's words.
            if reader.audience > slot.0.audience {
                slot.0 = reader;
            }
            slot.1.push(entry);
        }
    }
    if unaddressed > 0 {
        // Recorded, but nobody could be told: the unit has no address on record.
        tracing::warn!(
            unaddressed,
            "notices for units with no email address on record"
        );
    }
    by_reader
        .into_values()
        .map(|(reader, list)| {
            let rendered = render_for(cx, &reader, &list, now);
            super::outbox::pending(None, &reader.email, &rendered, now)
        })
        .collect()
}

/// A notice a verb writes about one assignment, mailed at once.
pub struct EventNotice<'a> {
    pub topic: Topic,
    /// Unique per event for the assignment (the unique key is assignment × kind × level).
    pub level: String,
    pub item: &'a item::Model,
    pub assignment: &'a assignment::Model,
    pub situation: String,
}

/// Writes the notices of one verb and their mails inside the verb's transaction, so the
/// change and its notice commit together or not at all. Call `cx.wake` after the commit.
pub async fn write_event_notices(
    txn: &DatabaseTransaction,
    cx: &NoticeContext,
    now: DateTime<Utc>,
    events: Vec<EventNotice<'_>>,
) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let unit_ids: Vec<i64> = events.iter().map(|e| e.assignment.unit_id).collect();
    let directory = Directory::load_units(txn, &unit_ids).await?;
    let mut entries = Vec::new();
    for event in &events {
        let inserted = notice::Entity::insert(notice::ActiveModel {
            item_id: Set(event.item.id),
            assignment_id: Set(event.assignment.id),
            unit_id: Set(event.assignment.unit_id),
            kind: Set(event.topic.kind().to_string()),
            level: Set(event.level.clone()),
            created_at: Set(now),
            state: Set(MAILED.to_string()),
            reason: Set(Some(event.situation.clone())),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                notice::Column::AssignmentId,
                notice::Column::Kind,
                notice::Column::Level,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        if inserted == 0 {
            continue;
        }
        let readers = directory.readers(event.topic, event.assignment.unit_id);
        audit_notice(
            txn,
            event.item.id,
            event.assignment.id,
            now,
            event.topic,
            &event.level,
            &readers,
        )
        .await?;
        entries.push((
            Entry::new(
                event.topic,
                event.item,
                event.assignment,
                directory.unit_name(event.assignment.unit_id),
                event.situation.clone(),
            ),
            event.assignment.unit_id,
        ));
    }
    for mail in mails(cx, &directory, &entries, now) {
        outbox::Entity::insert(mail)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

async fn audit_notice(
    txn: &DatabaseTransaction,
    item_id: i64,
    assignment_id: i64,
    now: DateTime<Utc>,
    topic: Topic,
    level: &str,
    readers: &[Reader],
) -> AppResult<()> {
    let recipients: Vec<&str> = readers.iter().map(|r| r.email.as_str()).collect();
    audit_event::Entity::insert(
        Audit {
            item_id: Some(item_id),
            assignment_id: Some(assignment_id),
            actor: None,
            at: now,
            action: "NOTICE",
            from: None,
            to: None,
            reason: Some(topic.title()),
            details: json!({ "kind": topic.kind(), "level": level, "recipients": recipients }),
        }
        .into_model(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A notice waiting for its digest, with what its mail says of the item and assignment.
/// The item's and assignment's columns are NULL only if those rows are gone; such a notice
/// no longer holds and is settled as SKIPPED.
#[derive(Debug, sea_orm::FromQueryResult)]
struct DigestRow {
    id: i64,
    item_id: i64,
    assignment_id: i64,
    kind: String,
    level: String,
    reason: Option<String>,
    serial: Option<String>,
    title: Option<String>,
    requirements: Option<String>,
    stage: Option<ItemStage>,
    unit_id: Option<i64>,
    lead: Option<bool>,
    due_at: Option<DateTime<Utc>>,
    extended_due_at: Option<DateTime<Utc>>,
    signed_at: Option<DateTime<Utc>>,
    status: Option<AssignmentStatus>,
}

/// The oldest notices waiting for their digest (`$1` = DIGEST, `$2` the batch), with their
/// item's and assignment's columns in the same statement: three reads of whole rows took
/// most of a sweep's digest on SQLite.
const DIGEST_SQL: &str = "\
SELECT n.id, n.item_id, n.assignment_id, n.kind, n.level, n.reason, \
       i.serial, i.title, i.requirements, i.stage, \
       a.unit_id, a.lead, a.due_at, a.extended_due_at, a.signed_at, a.status \
FROM notice n \
LEFT JOIN item i ON i.id = n.item_id \
LEFT JOIN assignment a ON a.id = n.assignment_id \
WHERE n.state = $1 \
ORDER BY n.id \
LIMIT $2";

/// The notices a sweep decided and left for their digest, written into mail: per reader
/// one mail listing all of them, in one transaction with marking them MAILED, so a crash
/// either leaves them for the next try or mails them once. Returns the mails written.
#[tracing::instrument(skip_all)]
pub async fn digest_pending(
    db: &sea_orm::DatabaseConnection,
    cx: &NoticeContext,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    use futures_util::TryStreamExt;
    use sea_orm::FromQueryResult;
    // Bounded: a backlog of more than this goes out as a second digest.
    const DIGEST_BATCH: u64 = 20_000;
    let mut written = 0;
    loop {
        let txn = super::sql::begin_write(db).await?;
        let pending = DigestRow::find_by_statement(super::sql::statement(
            txn.get_database_backend(),
            DIGEST_SQL,
            vec![DIGEST.into(), DIGEST_BATCH.into()],
        ))
        // Streamed and decoded as they come: collecting the driver's rows first held every
        // value of the batch twice (a first sweep at 1M peaked 70 MB higher).
        .stream(&txn)
        .await?
        .try_collect::<Vec<_>>()
        .await?;
        if pending.is_empty() {
            txn.commit().await?;
            return Ok(written);
        }
        let directory = Directory::load(&txn).await?;
        // A notice is mailed only if it still holds: its assignment in force and worked on
        // (no sign, reassignment or feedback since it was decided — a crashed sweep's notices
        // may be hours old), and the most urgent one waiting for its assignment.
        let mut latest: HashMap<i64, Rung> = HashMap::new();
        let mut mailable: Vec<(&DigestRow, Rung)> = Vec::new();
        for n in &pending {
            let Some((rung, _)) = Rung::parse(&n.kind, &n.level) else {
                continue;
            };
            let worked_on = matches!(n.stage, Some(ItemStage::Assigned | ItemStage::InProgress));
            let holds = n.status == Some(AssignmentStatus::Active)
                && worked_on
                && !(n.signed_at.is_some() && matches!(rung, Rung::Assigned | Rung::NotSigned));
            if holds {
                let top = latest.entry(n.assignment_id).or_insert(rung);
                *top = (*top).max(rung);
                mailable.push((n, rung));
            }
        }
        let entries: Vec<(Entry, i64)> = mailable
            .iter()
            .filter(|(n, rung)| latest.get(&n.assignment_id) == Some(rung))
            .filter_map(|(n, rung)| {
                let unit_id = n.unit_id?;
                let due_at = n.due_at?;
                Some((
                    Entry {
                        topic: Topic::Rung(*rung),
                        item_id: n.item_id,
                        serial: n.serial.clone()?,
                        title: n.title.clone()?,
                        requirements: n.requirements.clone()?,
                        unit_name: directory.unit_name(unit_id),
                        lead: n.lead?,
                        due_at: n.extended_due_at.unwrap_or(due_at),
                        extended: n.extended_due_at.is_some(),
                        situation: n.reason.clone().unwrap_or_default(),
                        signed: n.signed_at.is_some(),
                    },
                    unit_id,
                ))
            })
            .collect();
        let mails = mails(cx, &directory, &entries, now);
        written += mails.len();
        for chunk in mails.chunks(200) {
            outbox::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        // Every notice taken is settled: MAILED (with its digest) or SKIPPED (no longer true).
        let kept: std::collections::HashSet<i64> = mailable
            .iter()
            .filter(|(n, rung)| latest.get(&n.assignment_id) == Some(rung))
            .map(|(n, _)| n.id)
            .collect();
        let (to_mail, to_skip): (Vec<i64>, Vec<i64>) = pending
            .iter()
            .map(|n| n.id)
            .partition(|id| kept.contains(id));
        let mut settled = 0;
        for (ids, state) in [(to_mail, MAILED), (to_skip, SKIPPED)] {
            for chunk in ids.chunks(super::sql::IN_CHUNK) {
                settled += notice::Entity::update_many()
                    .col_expr(
                        notice::Column::State,
                        sea_orm::sea_query::Expr::value(state),
                    )
                    .filter(notice::Column::Id.is_in(chunk.to_vec()))
                    .filter(notice::Column::State.eq(DIGEST))
                    .exec(&txn)
                    .await?
                    .rows_affected;
            }
        }
        if settled != pending.len() as u64 {
            // Another digest took some of these meanwhile (it should hold the sweep lock, as
            // this one does): mail nothing twice, let the next run settle what is left.
            txn.rollback().await?;
            tracing::error!("a concurrent digest settled these notices; rolled back");
            return Ok(written - mails.len());
        }
        txn.commit().await?;
        cx.wake.notify_one();
        if (pending.len() as u64) < DIGEST_BATCH {
            return Ok(written);
        }
    }
}
