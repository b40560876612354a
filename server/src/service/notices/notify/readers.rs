//! Who hears of a notice: the people and addresses of each unit and person, and how each is addressed.

use std::collections::HashMap;

use ducha_domain::ladder::Rung;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::notices::notify::topics::{Audience, OfficeNews, Reader, TaskNews, Topic};
use entity::PersonRole;
use entity::{channel, person, unit};

/// The units and people notices are addressed from.
pub struct Directory {
    units: HashMap<i64, unit::Model>,
    people: Vec<person::Model>,
    /// Every channel in use besides mail (a handful per unit at most).
    pub channels: Vec<channel::Model>,
    /// Indices into `people`: a sweep asks who hears of each of its notices, and a scan of
    /// every person each time cost a first sweep a tenth of its time with phones registered.
    by_unit: HashMap<i64, Vec<usize>>,
    office: Vec<usize>,
    by_id: HashMap<i64, usize>,
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
        let channels = enabled_channels(db).await?;
        Ok(Directory::new(units, people, channels))
    }

    /// The units given, their people, the office's and the leaders: enough for the notices of
    /// one verb.
    pub async fn load_units(db: &impl ConnectionTrait, unit_ids: &[i64]) -> AppResult<Directory> {
        let units = unit::Entity::find()
            .filter(unit::Column::Id.is_in(unit_ids.to_vec()))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let people = person::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(person::Column::UnitId.is_in(unit_ids.to_vec()))
                    .add(person::Column::Role.eq(PersonRole::Supervisor))
                    .add(person::Column::Role.eq(PersonRole::Leader)),
            )
            .all(db)
            .await?;
        let channels = enabled_channels(db).await?;
        Ok(Directory::new(units, people, channels))
    }

    fn new(
        units: HashMap<i64, unit::Model>,
        people: Vec<person::Model>,
        channels: Vec<channel::Model>,
    ) -> Directory {
        let mut by_unit: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut office = Vec::new();
        let mut by_id = HashMap::new();
        for (index, p) in people.iter().enumerate() {
            if let Some(unit) = p.unit_id {
                by_unit.entry(unit).or_default().push(index);
            }
            if p.role == PersonRole::Supervisor {
                office.push(index);
            }
            by_id.insert(p.id, index);
        }
        Directory {
            units,
            people,
            channels,
            by_unit,
            office,
            by_id,
        }
    }

    /// The office's people (督查室).
    fn supervisors(&self) -> impl Iterator<Item = &person::Model> {
        self.office.iter().map(|&i| &self.people[i])
    }

    fn person(&self, id: Option<i64>) -> Option<&person::Model> {
        id.and_then(|id| self.by_id.get(&id))
            .map(|&i| &self.people[i])
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
        self.readers_of(topic, unit_id, false)
    }

    /// The people who hear of `topic` for an assignment of `unit_id`, whether or not they
    /// have a mail address: their other channels (a mobile) reach them all the same.
    pub fn people_told(&self, topic: Topic, unit_id: i64) -> Vec<i64> {
        self.readers_of(topic, unit_id, true)
            .into_iter()
            .filter_map(|r| r.person_id)
            .collect()
    }

    /// The readers; with `unaddressed`, people without a mail address too (an empty one).
    fn readers_of(&self, topic: Topic, unit_id: i64, unaddressed: bool) -> Vec<Reader> {
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
                        person_id: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let person = |p: &person::Model, audience| {
            let email = match &p.email {
                Some(email) => Some(email.clone()),
                None if unaddressed => Some(String::new()),
                None => None,
            };
            email.map(|email| Reader {
                email,
                salutation: salutation(&p.name),
                audience,
                person_id: Some(p.id),
            })
        };
        let of_unit = |role: PersonRole| -> Vec<Reader> {
            self.by_unit
                .get(&unit_id)
                .into_iter()
                .flatten()
                .map(|&i| &self.people[i])
                .filter(|p| p.role == role)
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
            Topic::Rung(Rung::ProgressMissed)
            | Topic::ReturnResolved { .. }
            | Topic::Task(
                TaskNews::FeedbackIn
                | TaskNews::Waived
                | TaskNews::Returned
                | TaskNews::Red
                | TaskNews::ExtensionAsked
                | TaskNews::ExtensionApproved
                | TaskNews::ExtensionRefused,
            ) => [contacts, of_unit(PersonRole::UnitHead)].concat(),
            // The unit's own people heard on the rungs below; now the office.
            Topic::Task(TaskNews::RedToOffice)
            | Topic::Office(OfficeNews::FeedbackIn | OfficeNews::ReturnAsked) => self
                .supervisors()
                .filter_map(|p| person(p, Audience::Office))
                .collect(),
            // The office decides; beyond its limit a leader must approve: the item's 责任领导,
            // or, for an item without one, the unit's 分管 leader.
            Topic::Office(OfficeNews::ExtensionAsked { long, leader }) => {
                let approver = long
                    .then(|| leader.or(target.portfolio_leader_id))
                    .flatten();
                self.supervisors()
                    .filter_map(|p| person(p, Audience::Office))
                    .chain(
                        self.person(approver)
                            .and_then(|p| person(p, Audience::Leader)),
                    )
                    .collect()
            }
            Topic::Rung(Rung::Yellow)
            | Topic::Rework
            | Topic::Extension { .. }
            | Topic::Instruction
            | Topic::Item(_)
            | Topic::Urge
            | Topic::Task(TaskNews::HandedDown | TaskNews::Rework) => [
                contacts,
                of_unit(PersonRole::UnitStaff),
                of_unit(PersonRole::UnitHead),
            ]
            .concat(),
            Topic::Rung(Rung::Red) => {
                let leader = self
                    .person(target.portfolio_leader_id)
                    .and_then(|p| person(p, Audience::Leader));
                let office = self
                    .supervisors()
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
        // Mailboxes do not tell case apart: `Unit14@` and `unit14@` are one reader.
        // A person without an address is one reader by who they are.
        let key = |r: &Reader| {
            if r.email.is_empty() {
                format!("#{}", r.person_id.unwrap_or_default())
            } else {
                r.email.to_lowercase()
            }
        };
        readers.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then((a.salutation == target.name).cmp(&(b.salutation == target.name)))
        });
        readers.dedup_by(|later, first| key(later) == key(first));
        readers
    }
}

async fn enabled_channels(db: &impl ConnectionTrait) -> AppResult<Vec<channel::Model>> {
    Ok(channel::Entity::find()
        .filter(channel::Column::Enabled.eq(true))
        .all(db)
        .await?)
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
