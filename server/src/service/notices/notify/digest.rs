//! One reader's mail: the notices for them grouped by topic, each item once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ducha_domain::ladder::Rung;

use crate::mail::{Digest, DigestItem, DigestSection, DigestUnit, Rendered};
use crate::service::notices::notify::readers::Directory;
use crate::service::notices::notify::topics::{
    ITEMS_LISTED, NoticeContext, Reader, TaskNews, Topic,
};
use entity::{assignment, item, outbox};

/// One notice as a mail lists it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// The item is 特急: instant messages go at once, even at night.
    pub urgent: bool,
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
            urgent: current.urgency == "CRITICAL",
        }
    }
}

/// A mail's sections, most urgent first: each item once, under its most urgent topic, with
/// the entries of every unit it concerns (the lead's first); items in the order of their ids.
/// Keyed by rank and title, so that two kinds of one rank stay two sections.
pub(super) type Sections<'e> =
    BTreeMap<(std::cmp::Reverse<u8>, &'static str), (Topic, Vec<Vec<&'e Entry>>)>;

pub(super) fn sections<'e>(entries: &[&'e Entry]) -> Sections<'e> {
    sections_of(entries, false)
}

/// As [`sections`]; with `each_kind`, an item is listed under every kind it has (a held
/// message joins different asks about one item: a 交办 and a 催办, an extension asked and
/// a 办结反馈), each kind's entries only.
pub(super) fn sections_of<'e>(entries: &[&'e Entry], each_kind: bool) -> Sections<'e> {
    let mut by_item: BTreeMap<(i64, &'static str), Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        let kind = if each_kind { entry.topic.title() } else { "" };
        by_item
            .entry((entry.item_id, kind))
            .or_default()
            .push(entry);
    }
    let mut sections: Sections<'e> = BTreeMap::new();
    for (_, mut group) in by_item {
        group.sort_by_key(|e| (std::cmp::Reverse(e.topic.rank()), !e.lead));
        let topic = group[0].topic;
        sections
            .entry((std::cmp::Reverse(topic.rank()), topic.title()))
            .or_insert_with(|| (topic, Vec::new()))
            .1
            .push(group);
    }
    sections
}

/// One mail for one reader, listing `entries` (all of them theirs). Only the first
/// `ITEMS_LISTED` items of a section show their serial, title and requirements
/// ([`listed_items`]).
pub fn render_for(
    cx: &NoticeContext,
    reader: &Reader,
    entries: &[&Entry],
    now: DateTime<Utc>,
) -> Rendered {
    render_sections(cx, reader, sections(entries), now)
}

/// As [`render_for`], each item under every kind it has ([`sections_of`]).
pub(super) fn render_by_kind(
    cx: &NoticeContext,
    reader: &Reader,
    entries: &[&Entry],
    now: DateTime<Utc>,
) -> Rendered {
    render_sections(cx, reader, sections_of(entries, true), now)
}

fn render_sections(
    cx: &NoticeContext,
    reader: &Reader,
    sections: Sections<'_>,
    now: DateTime<Utc>,
) -> Rendered {
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
                    role: match e.topic {
                        Topic::Task(_) => "子任务",
                        _ if e.lead => "主办",
                        _ => "协办",
                    },
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
        Topic::Rung(Rung::Red) | Topic::Task(TaskNews::Red | TaskNews::RedToOffice) => "#cf222e",
        _ => "#222",
    }
}

/// Each reader's entries, by address: a person who reads for several units gets one mail.
pub(super) fn by_reader<'e>(
    directory: &Directory,
    entries: &'e [(Entry, i64)],
) -> BTreeMap<String, (Reader, Vec<&'e Entry>)> {
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
}

/// The items whose serial, title and requirements the mails of `entries` show: the first
/// `ITEMS_LISTED` of each section of each reader's mail. A sweep reads those texts only:
/// a first sweep's mails mention far more items than they list.
pub fn listed_items(directory: &Directory, entries: &[(Entry, i64)]) -> Vec<i64> {
    let mut listed = std::collections::BTreeSet::new();
    for (_, list) in by_reader(directory, entries).values() {
        for (_, items) in sections(list).values() {
            listed.extend(
                items
                    .iter()
                    .take(ITEMS_LISTED)
                    .map(|group| group[0].item_id),
            );
        }
    }
    listed.into_iter().collect()
}

/// Groups `entries` by reader and renders one mail each, as outbox rows due now.
pub fn mails(
    cx: &NoticeContext,
    directory: &Directory,
    entries: &[(Entry, i64)],
    now: DateTime<Utc>,
) -> Vec<outbox::ActiveModel> {
    by_reader(directory, entries)
        .into_values()
        .map(|(reader, list)| {
            let rendered = render_for(cx, &reader, &list, now);
            crate::service::notices::outbox::pending(None, &reader.email, &rendered, now)
        })
        .collect()
}
