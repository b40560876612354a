//! The calendar's source facts: which days each State Council notice made days off or
//! make-up working days, and the local overrides layered on top.
//!
//! The national data ships in `data/cn-holidays.toml`, one entry per annual notice
//! (国务院办公厅关于X年部分节假日安排的通知) plus the mid-year amendments. Data can also
//! arrive at runtime in the holiday-cn JSON shape (`{year, papers, days:[{name, date,
//! isOffDay}]}`), which is what operators download when a new notice is published.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::CalendarError;
use crate::statutory;

/// The national data set bundled with the binary.
pub const NATIONAL_TOML: &str = include_str!("../data/cn-holidays.toml");

/// A published document that set days off or working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Full title, e.g. 国务院办公厅关于2026年部分节假日安排的通知.
    pub notice: String,
    /// Document number such as 国办发明电〔2019〕3号, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<NaiveDate>,
    /// Where the text is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An inclusive range of dates, written `2026-10-01..2026-10-07` or as a single date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateRange {
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take_while(move |d| *d <= self.last)
    }
}

impl FromStr for DateRange {
    type Err = CalendarError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parse = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| CalendarError::BadData(format!("日期格式应为 YYYY-MM-DD：{s}")))
        };
        let (first, last) = match text.split_once("..") {
            Some((a, b)) => (parse(a)?, parse(b)?),
            None => {
                let d = parse(text)?;
                (d, d)
            }
        };
        if last < first {
            return Err(CalendarError::BadData(format!("日期范围颠倒：{text}")));
        }
        Ok(DateRange { first, last })
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

impl Serialize for DateRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One holiday of a notice: its days off and the weekend days worked in exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub name: String,
    #[serde(default)]
    pub off: Vec<DateRange>,
    #[serde(default)]
    pub work: Vec<NaiveDate>,
}

/// A later notice that changed a year's arrangement (2019 May Day, 2020 Spring Festival).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    #[serde(flatten)]
    pub notice: Notice,
    pub holidays: Vec<Holiday>,
}

/// Everything one year's notices decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearArrangement {
    pub year: i32,
    #[serde(flatten)]
    pub notice: Notice,
    pub holidays: Vec<Holiday>,
    #[serde(default, rename = "amendment", skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
}

/// A jurisdiction's own day off or day on, e.g. a district's day off for a local festival.
/// It wins over the national arrangement for that date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalOverride {
    pub date: NaiveDate,
    pub working: bool,
    pub name: String,
}

/// What a special day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialKind {
    /// A holiday day off (放假), on a weekday or a weekend.
    Off,
    /// A weekend day declared a working day (调休上班).
    Work,
}

/// Where a special day comes from, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Origin {
    National {
        year: i32,
        notice: String,
    },
    Local,
    /// A statutory holiday (or its assumed 补假) of a year whose notice is not out yet,
    /// computed from the law (see [`crate::statutory`]); the notice's 调休 is still unknown.
    Assumed {
        year: i32,
        law: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: SpecialKind,
    pub name: String,
    pub origin: Origin,
}

impl SpecialDay {
    /// True for a day assumed from the law in a year without a notice.
    pub fn is_assumed(&self) -> bool {
        matches!(self.origin, Origin::Assumed { .. })
    }
}

/// How many years after the last notice get the law's holidays assumed: as far as any
/// deadline rule reaches (ten years, see [`crate::DeadlineRule::check_bounds`]).
pub const ASSUMED_YEARS: i32 = 10;

#[derive(Debug, Deserialize)]
struct DataFile {
    year: Vec<YearArrangement>,
}

/// The facts a [`crate::Calendar`] is built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarData {
    years: BTreeMap<i32, YearArrangement>,
    overrides: Vec<LocalOverride>,
}

impl CalendarData {
    /// The national data 2004–2026 bundled with the binary.
    pub fn national() -> Self {
        // The bundled file is checked by the crate's tests, so a parse failure here can only
        // be a build from a corrupted tree; an empty calendar (all provisional) is the
        // honest fallback rather than a panic in a server.
        Self::from_toml(NATIONAL_TOML).unwrap_or_default()
    }

    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let file: DataFile =
            toml::from_str(text).map_err(|e| CalendarError::BadData(e.to_string()))?;
        let mut data = CalendarData::default();
        for year in file.year {
            data.insert_year(year)?;
        }
        Ok(data)
    }

    /// Adds or replaces one year's arrangement (a newly published notice, or a correction).
    pub fn insert_year(&mut self, year: YearArrangement) -> Result<(), CalendarError> {
        validate_year(&year)?;
        self.years.insert(year.year, year);
        Ok(())
    }

    pub fn add_override(&mut self, local: LocalOverride) {
        self.overrides.retain(|o| o.date != local.date);
        self.overrides.push(local);
    }

    pub fn years(&self) -> impl Iterator<Item = &YearArrangement> {
        self.years.values()
    }

    pub fn year(&self, year: i32) -> Option<&YearArrangement> {
        self.years.get(&year)
    }

    pub fn overrides(&self) -> &[LocalOverride] {
        &self.overrides
    }

    /// Every special day that was published or set: notices in order (annual notice, then
    /// amendments, year by year) and local overrides last, so for any date the latest word
    /// wins. The days assumed for years without a notice are not among them: see
    /// [`Self::effective_days`] for everything a calendar counts.
    pub fn special_days(&self) -> BTreeMap<NaiveDate, SpecialDay> {
        let mut days = self.notice_days();
        self.apply_overrides(&mut days);
        days
    }

    /// The years that get the law's holidays assumed: the [`ASSUMED_YEARS`] after the last
    /// year with a notice (never before the first notice, never a year with one), as far
    /// as the holidays can be computed (2100). `None` without any notice.
    pub fn assumed_years(&self) -> Option<std::ops::RangeInclusive<i32>> {
        let last = *self.years.keys().next_back()?;
        let first = last.checked_add(1)?;
        let end = last.saturating_add(ASSUMED_YEARS).min(statutory::LAST_YEAR);
        (first <= end).then_some(first..=end)
    }

    /// The statutory days off of the [`Self::assumed_years`], by the 《全国年节及纪念日放假办法》
    /// in force each year, with a holiday that falls on a weekend made up on the following
    /// weekdays (补假) — the law's holidays without the notice's 调休.
    pub fn assumed_days(&self) -> BTreeMap<NaiveDate, SpecialDay> {
        let mut days = BTreeMap::new();
        for year in self.assumed_years().into_iter().flatten() {
            for day in statutory::statutory_days_off(year) {
                days.insert(
                    day.date,
                    SpecialDay {
                        date: day.date,
                        kind: SpecialKind::Off,
                        name: day.name,
                        origin: Origin::Assumed {
                            year,
                            law: statutory::LAW.to_string(),
                        },
                    },
                );
            }
        }
        days
    }

    /// Every special day a calendar counts: the notices, then the assumed days of years
    /// without one (which no notice names), then local overrides, which win over both.
    pub fn effective_days(&self) -> BTreeMap<NaiveDate, SpecialDay> {
        let mut days = self.notice_days();
        for (date, day) in self.assumed_days() {
            days.entry(date).or_insert(day);
        }
        self.apply_overrides(&mut days);
        days
    }

    fn notice_days(&self) -> BTreeMap<NaiveDate, SpecialDay> {
        let mut days = BTreeMap::new();
        for year in self.years.values() {
            let notices = std::iter::once((&year.notice, &year.holidays))
                .chain(year.amendments.iter().map(|a| (&a.notice, &a.holidays)));
            for (notice, holidays) in notices {
                for holiday in holidays {
                    let origin = Origin::National {
                        year: year.year,
                        notice: notice.notice.clone(),
                    };
                    let offs = holiday.off.iter().flat_map(|r| r.days());
                    for date in offs {
                        days.insert(
                            date,
                            SpecialDay {
                                date,
                                kind: SpecialKind::Off,
                                name: holiday.name.clone(),
                                origin: origin.clone(),
                            },
                        );
                    }
                    for &date in &holiday.work {
                        days.insert(
                            date,
                            SpecialDay {
                                date,
                                kind: SpecialKind::Work,
                                name: holiday.name.clone(),
                                origin: origin.clone(),
                            },
                        );
                    }
                }
            }
        }
        days
    }

    fn apply_overrides(&self, days: &mut BTreeMap<NaiveDate, SpecialDay>) {
        for local in &self.overrides {
            days.insert(
                local.date,
                SpecialDay {
                    date: local.date,
                    kind: if local.working {
                        SpecialKind::Work
                    } else {
                        SpecialKind::Off
                    },
                    name: local.name.clone(),
                    origin: Origin::Local,
                },
            );
        }
    }

    /// Parses one year in the holiday-cn JSON shape and turns it into an arrangement:
    /// consecutive days of the same name become one range, as a notice words them.
    pub fn parse_holiday_cn(json: &str) -> Result<YearArrangement, CalendarError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Day {
            name: String,
            date: NaiveDate,
            is_off_day: bool,
        }
        #[derive(Deserialize)]
        struct File {
            year: i32,
            #[serde(default)]
            papers: Vec<String>,
            days: Vec<Day>,
        }
        let file: File = serde_json::from_str(json)
            .map_err(|e| CalendarError::BadData(format!("holiday-cn 格式有误：{e}")))?;
        let mut holidays: Vec<Holiday> = Vec::new();
        let mut days = file.days;
        days.sort_by_key(|d| d.date);
        for day in days {
            let index = match holidays.iter().position(|h| h.name == day.name) {
                Some(i) => i,
                None => {
                    holidays.push(Holiday {
                        name: day.name.clone(),
                        off: Vec::new(),
                        work: Vec::new(),
                    });
                    holidays.len() - 1
                }
            };
            let holiday = &mut holidays[index];
            if day.is_off_day {
                match holiday.off.last_mut() {
                    Some(range) if range.last.succ_opt() == Some(day.date) => range.last = day.date,
                    _ => holiday.off.push(DateRange {
                        first: day.date,
                        last: day.date,
                    }),
                }
            } else {
                holiday.work.push(day.date);
            }
        }
        let year = YearArrangement {
            year: file.year,
            notice: Notice {
                notice: format!("国务院办公厅关于{}年部分节假日安排的通知", file.year),
                document: None,
                issued: None,
                source: file.papers.first().cloned(),
            },
            holidays,
            amendments: Vec::new(),
        };
        validate_year(&year)?;
        Ok(year)
    }
}

/// A notice for year Y only ever names days of Y and the last days of Y-1 (元旦 arrangements
/// such as 2007-12-29..2008-01-01); anything else is a typo in the data.
fn validate_year(year: &YearArrangement) -> Result<(), CalendarError> {
    if !(1949..=9999).contains(&year.year) {
        return Err(CalendarError::BadData(format!(
            "年份超出范围：{}",
            year.year
        )));
    }
    let titles = std::iter::once(&year.notice).chain(year.amendments.iter().map(|a| &a.notice));
    for notice in titles {
        let texts = [
            Some(&notice.notice),
            notice.document.as_ref(),
            notice.source.as_ref(),
        ];
        for text in texts.into_iter().flatten() {
            if text.chars().count() > 200 || text.chars().any(char::is_control) {
                return Err(CalendarError::BadData(
                    "通知标题、文号和出处应不超过200个字，且不含控制字符".into(),
                ));
            }
        }
    }
    // Within one notice a date has one meaning; a later amendment may change it.
    let notices =
        std::iter::once(&year.holidays).chain(year.amendments.iter().map(|a| &a.holidays));
    for holidays in notices {
        let mut meaning: BTreeMap<NaiveDate, (&str, bool)> = BTreeMap::new();
        for holiday in holidays {
            let offs = holiday
                .off
                .iter()
                .flat_map(|r| r.days())
                .map(|d| (d, false));
            let works = holiday.work.iter().map(|d| (*d, true));
            for (date, working) in offs.chain(works) {
                if let Some((name, was_working)) =
                    meaning.insert(date, (holiday.name.as_str(), working))
                    && (name != holiday.name || was_working != working)
                {
                    return Err(CalendarError::BadData(format!(
                        "{date}在同一通知中有两种安排（“{name}”与“{}”）",
                        holiday.name
                    )));
                }
            }
        }
    }
    let holidays = year
        .holidays
        .iter()
        .chain(year.amendments.iter().flat_map(|a| a.holidays.iter()));
    for holiday in holidays {
        let name_ok = !holiday.name.trim().is_empty()
            && holiday.name.chars().count() <= 30
            && !holiday.name.chars().any(char::is_control);
        if !name_ok {
            return Err(CalendarError::BadData(
                "节日名称应为1至30个字，且不含控制字符".into(),
            ));
        }
        let dates = holiday
            .off
            .iter()
            .flat_map(|r| [r.first, r.last])
            .chain(holiday.work.iter().copied());
        for date in dates {
            let in_year = date.year() == year.year;
            let late_december = date.year() == year.year - 1 && date.month() == 12;
            if !in_year && !late_december {
                return Err(CalendarError::BadData(format!(
                    "{}年安排中的“{}”日期 {} 不属于该年",
                    year.year, holiday.name, date
                )));
            }
        }
    }
    Ok(())
}
