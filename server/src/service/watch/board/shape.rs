//! What the board is, and what it is computed from: shared by the whole pass (`parts`), the
//! held board (`cache`) and the board as of an instant (`board_as_of`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_domain::colour::Colour;
use ducha_domain::{SourceKind, Stage};
use sea_orm::DatabaseConnection;

use crate::calendar_store::CalendarStore;
use crate::clock::Clock;
use crate::service::watch::colours::UnitStanding;

/// The board at one instant.
#[derive(Debug, Clone)]
pub struct Board {
    pub at: DateTime<Utc>,
    /// The colour policy's version it was judged by.
    pub policy_version: i32,
    /// Open items by their colour (the worst of their units').
    pub by_colour: HashMap<Colour, usize>,
    /// Every item (closed and cancelled too) by stage.
    pub by_stage: HashMap<Stage, usize>,
    pub by_source_kind: HashMap<SourceKind, usize>,
    /// Every unit, in the order of their ids.
    pub units: Vec<UnitStanding>,
    /// The open items that have a colour, and which, by ascending id: where a colour
    /// filter looks first.
    pub coloured_items: Vec<(i64, Colour)>,
}

/// What the board is computed from.
pub struct BoardSources<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a CalendarStore,
    pub time_zone: Tz,
    pub clock: &'a Clock,
    /// How long a board stays current when nothing is written (the colour refresh).
    pub fresh_for: Duration,
}
