//! The same notices by the other channels (docs/rules.md §4, "Channels"): a unit's group
//! robot or webhook takes what its unit is told; the office's robot what the office is told,
//! the office's webhook every notice; a person's mobile what that person is told, from the
//! level they chose (red only, by default). One message per channel per batch, written in the
//! same transaction as the mails. Robots and SMS wait for the next working morning at night
//! and on rest days, unless an item in them is 特急; mail and webhooks go at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::channels::{ChannelKind, Level};
use crate::service::notices::notify::digest::{Entry, mails, sections_of};
use crate::service::notices::notify::readers::Directory;
use crate::service::notices::notify::topics::{Audience, NoticeContext, Topic};
use entity::{channel, outbox};

/// Items a robot's message lists; the rest are counted.
const ROBOT_ITEMS: usize = 10;
/// Characters an SMS keeps to: two segments at most.
const SMS_CHARS: usize = 130;

/// Every message of a batch of notices: a mail per reader ([`mails`]), then one per channel
/// that takes some of them.
pub fn messages(
    cx: &NoticeContext,
    directory: &Directory,
    entries: &[(Entry, i64)],
    now: DateTime<Utc>,
) -> Vec<outbox::ActiveModel> {
    let mut rows = mails(cx, directory, entries, now);
    rows.extend(channel_messages(cx, directory, entries, now));
    rows
}

/// Every channel message for `entries`, as outbox rows.
pub fn channel_messages(
    cx: &NoticeContext,
    directory: &Directory,
    entries: &[(Entry, i64)],
    now: DateTime<Utc>,
) -> Vec<outbox::ActiveModel> {
    channel_lists(directory, entries)
        .into_iter()
        .map(|(c, kind, list)| message(cx, directory, c, kind, &list, now, false))
        .collect()
}

/// The channels that take some of `entries`, each with those it takes.
pub(super) fn channel_lists<'d, 'e>(
    directory: &'d Directory,
    entries: &'e [(Entry, i64)],
) -> Vec<(&'d channel::Model, ChannelKind, Vec<&'e Entry>)> {
    let channels: Vec<(&channel::Model, ChannelKind, Level)> = directory
        .channels
        .iter()
        .filter_map(|c| {
            let kind = ChannelKind::parse(&c.kind)?;
            let level = Level::parse(&c.from_level).unwrap_or(Level::All);
            (!kind.is_sms_platform()).then_some((c, kind, level))
        })
        .collect();
    if channels.is_empty() || entries.is_empty() {
        return Vec::new();
    }
    let has_platform = directory
        .channels
        .iter()
        .any(|c| ChannelKind::parse(&c.kind).is_some_and(ChannelKind::is_sms_platform));
    let mut by_unit: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut by_person: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut office_robots = Vec::new();
    let mut office_hooks = Vec::new();
    for (index, (c, kind, _)) in channels.iter().enumerate() {
        match (c.unit_id, c.person_id) {
            (_, Some(person)) if *kind == ChannelKind::Sms && has_platform => {
                by_person.entry(person).or_default().push(index);
            }
            (_, Some(_)) => {}
            (Some(unit), None) => by_unit.entry(unit).or_default().push(index),
            (None, None) if *kind == ChannelKind::Webhook => office_hooks.push(index),
            (None, None) => office_robots.push(index),
        }
    }
    let mut lists: Vec<Vec<&Entry>> = vec![Vec::new(); channels.len()];
    for (entry, unit_id) in entries {
        let mut take = |index: usize| {
            if entry.topic.level() >= channels[index].2 {
                lists[index].push(entry);
            }
        };
        if !entry.topic.to_office() {
            for &index in by_unit.get(unit_id).into_iter().flatten() {
                take(index);
            }
        }
        office_hooks.iter().for_each(|&index| take(index));
        if !office_robots.is_empty()
            && directory
                .readers(entry.topic, *unit_id)
                .iter()
                .any(|r| r.audience == Audience::Office)
        {
            office_robots.iter().for_each(|&index| take(index));
        }
        if !by_person.is_empty() {
            // Everyone told, with a mail address or without: a phone reaches them either way.
            for person in directory.people_told(entry.topic, *unit_id) {
                for &index in by_person.get(&person).into_iter().flatten() {
                    take(index);
                }
            }
        }
    }
    channels
        .into_iter()
        .zip(lists)
        .filter(|(_, list)| !list.is_empty())
        .map(|((c, kind, _), list)| (c, kind, list))
        .collect()
}

/// When an instant message may go: now during office hours or for a 特急 item, else the next
/// working morning.
fn due_at(
    cx: &NoticeContext,
    kind: ChannelKind,
    list: &[&Entry],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if !kind.is_instant() || list.iter().any(|e| e.urgent) {
        return now;
    }
    let local = now.with_timezone(&cx.time_zone).naive_local();
    cx.calendar
        .current()
        .ok()
        .and_then(|calendar| calendar.next_office_moment(local, cx.office_hours).ok())
        .and_then(|at| at.and_local_timezone(cx.time_zone).earliest())
        .map_or(now, |at| at.with_timezone(&Utc))
}

/// "红色督办2项、催办通知1项": the topics of a list, most urgent first, counting items.
fn summary(list: &[&Entry], each_kind: bool) -> String {
    sections_of(list, each_kind)
        .values()
        .map(|(topic, items)| format!("{}{}项", topic.title(), items.len()))
        .collect::<Vec<_>>()
        .join("、")
}

pub(super) fn message(
    cx: &NoticeContext,
    directory: &Directory,
    c: &channel::Model,
    kind: ChannelKind,
    list: &[&Entry],
    now: DateTime<Utc>,
    each_kind: bool,
) -> outbox::ActiveModel {
    let owner = match (c.unit_id, c.person_id) {
        (Some(unit), _) => directory.unit_name(unit),
        (None, Some(_)) => c.name.clone(),
        (None, None) => "督查室".to_string(),
    };
    let summary = summary(list, each_kind);
    let subject = format!("【督查督办】{owner}：{summary}");
    let (recipient, text, payload) = match kind {
        ChannelKind::Sms => (
            format!("短信 {}（{}）", masked_phone(&c.address), c.name),
            sms_text(cx, &owner, &summary, list),
            None,
        ),
        ChannelKind::Webhook => (
            format!("Webhook：{}", c.name),
            summary.clone(),
            Some(webhook_payload(cx, c, list, now)),
        ),
        _ => (
            format!("{}：{}", kind.label(), c.name),
            robot_markdown(cx, &subject, list, each_kind),
            None,
        ),
    };
    let at = due_at(cx, kind, list, now);
    crate::service::notices::outbox::queued(
        crate::service::notices::outbox::Queued {
            channel: kind.as_str(),
            channel_id: Some(c.id),
            recipient,
            subject,
            text,
            payload,
            due: at,
            waits_because: (at > now).then(|| "非工作时间，等待下一个工作日上班后发送".to_string()),
        },
        now,
    )
}

fn due_text(cx: &NoticeContext, entry: &Entry) -> String {
    entry
        .due_at
        .with_timezone(&cx.time_zone)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn role(entry: &Entry) -> &'static str {
    match entry.topic {
        Topic::Task(_) => "子任务",
        _ if entry.lead => "主办",
        _ => "协办",
    }
}

/// A group robot's markdown: the topics with their items (ten at most), each with its unit,
/// due and situation, and a link.
fn robot_markdown(cx: &NoticeContext, subject: &str, list: &[&Entry], each_kind: bool) -> String {
    use std::fmt::Write;
    let mut text = format!("### {}\n", markdown_safe(subject));
    let mut shown = 0;
    let mut hidden = 0;
    for (topic, items) in sections_of(list, each_kind).values() {
        let _ = write!(text, "\n**{}（{}项）**\n", topic.title(), items.len());
        for group in items {
            let first = group[0];
            // A sweep fills in the texts of the items its mails list only.
            if shown >= ROBOT_ITEMS || first.serial.is_empty() {
                hidden += 1;
                continue;
            }
            shown += 1;
            let _ = writeln!(
                text,
                "> [{} {}]({})",
                markdown_safe(&first.serial),
                markdown_safe(&one_line(&first.title, 40)),
                cx.item_link(first.item_id)
            );
            for e in group {
                let _ = writeln!(
                    text,
                    "> {}（{}），期限 {}；{}",
                    markdown_safe(&e.unit_name),
                    role(e),
                    due_text(cx, e),
                    markdown_safe(&one_line(&e.situation, 60))
                );
            }
        }
    }
    if hidden > 0 {
        let _ = write!(text, "\n另有{hidden}项未列出。\n");
    }
    let _ = write!(
        text,
        "\n[登录督查督办系统查看]({})",
        cx.public_url.trim_end_matches('/')
    );
    text
}

/// An SMS: who, what, the first item, where to look.
fn sms_text(cx: &NoticeContext, owner: &str, summary: &str, list: &[&Entry]) -> String {
    let first = list.iter().find(|e| !e.serial.is_empty());
    let example = first.map_or(String::new(), |e| {
        let items: std::collections::BTreeSet<i64> = list.iter().map(|e| e.item_id).collect();
        let more = if items.len() > 1 { "等" } else { "" };
        format!("（{}{}{more}）", e.serial, one_line(&e.title, 16))
    });
    let text = format!(
        "【督查督办】{owner}：{summary}{example}，请及时办理。详见 {}",
        cx.public_url.trim_end_matches('/')
    );
    text.chars().take(SMS_CHARS).collect()
}

/// The JSON a webhook receives: every notice of the batch with its item, unit and due.
fn webhook_payload(
    cx: &NoticeContext,
    c: &channel::Model,
    list: &[&Entry],
    now: DateTime<Utc>,
) -> String {
    let notices: Vec<serde_json::Value> = list
        .iter()
        .map(|e| {
            json!({
                "kind": e.topic.kind(),
                "title": e.topic.title(),
                "level": match e.topic.level() {
                    Level::All => "NORMAL",
                    level => level.as_str(),
                },
                "itemId": e.item_id,
                "serial": e.serial,
                "itemTitle": e.title,
                "unitName": e.unit_name,
                "role": role(e),
                "dueAt": e.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "situation": e.situation,
                "urgent": e.urgent,
                "link": cx.item_link(e.item_id),
            })
        })
        .collect();
    json!({
        "type": "notices.created",
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": { "channelId": c.id, "notices": notices },
    })
    .to_string()
}

/// Text people wrote (a title, a 催办's line, a unit's name) as plain text in a robot's
/// markdown: the characters that would make a link, a tag, emphasis or a heading are
/// written as their full-width forms, so nobody's words turn into a link in a group chat.
fn markdown_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '<' => '＜',
            '>' => '＞',
            '*' => '＊',
            '`' => '｀',
            '#' => '＃',
            '_' => '＿',
            '~' => '～',
            other => other,
        })
        .collect()
}

/// One line of at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut cut: String = line.chars().take(max).collect();
    if line.chars().count() > max {
        cut.push('…');
    }
    cut
}

/// 138****0000: a number shown in lists without giving it away.
pub fn masked_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.trim().chars().collect();
    if digits.len() < 7 {
        return "****".into();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}
