//! The two astronomical facts the Chinese calendar rests on: when the Moon is new, and when
//! the Sun reaches a given apparent longitude (the 24 solar terms are every 15°).
//!
//! Methods from Meeus, *Astronomical Algorithms* (2nd ed.): chapter 49 for the new moon,
//! chapter 25 with VSOP87 (see `vsop87`) for the Sun, chapter 22's short series for
//! nutation. Both are computed in Terrestrial Time (TT), the uniform time of the
//! ephemerides; civil dates need Universal Time, which differs by ΔT (about 70 s in 2025,
//! growing to minutes by 2100 — see [`delta_t_seconds`]). The calendar's dates are those
//! of China Standard Time, UTC+8, by GB/T 33661-2017 《农历的编算和颁行》.
//!
//! Accuracy, against modern ephemerides: new moons within about half a minute, solar terms
//! within about half a minute, plus whatever ΔT turns out to be in the future. A date is
//! therefore only in doubt when the event lies within a minute or two of midnight, which
//! the tests list for 2004–2100.

use chrono::{Datelike, NaiveDate};

use super::vsop87;

/// Julian Day of 2000-01-01 12:00 TT (J2000.0).
const J2000: f64 = 2451545.0;
/// `NaiveDate::num_days_from_ce` + this = the Julian Day of that date's midnight (UT).
const JD_OF_CE_DAY_ZERO: f64 = 1721424.5;
/// China Standard Time is UTC+8 all year (no daylight saving since 1991).
const CST_OFFSET_DAYS: f64 = 8.0 / 24.0;
/// Mean synodic month, days (Meeus 49.1).
pub(super) const SYNODIC_MONTH: f64 = 29.530588861;
/// Mean tropical year, days.
const TROPICAL_YEAR: f64 = 365.24219;

/// A moment as a Julian Day in Terrestrial Time.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(super) struct Tt(pub f64);

impl Tt {
    /// The date in China Standard Time on which this moment falls.
    pub(super) fn cst_date(self) -> Option<NaiveDate> {
        let ut = self.0 - delta_t_seconds(self.0) / 86400.0;
        date_of_jd(ut + CST_OFFSET_DAYS)
    }

    /// Minutes from this moment to the nearest midnight in China Standard Time: how far
    /// the date is from flipping. Used to find the cases worth a second look.
    #[cfg(test)]
    pub(super) fn minutes_from_cst_midnight(self) -> f64 {
        let ut = self.0 - delta_t_seconds(self.0) / 86400.0;
        let local = ut + CST_OFFSET_DAYS + 0.5;
        let fraction = local - local.floor();
        fraction.min(1.0 - fraction) * 24.0 * 60.0
    }
}

/// The Julian Day (UT) of a date's midnight in China Standard Time, as TT.
pub(super) fn cst_midnight(date: NaiveDate) -> Tt {
    let ut = f64::from(date.num_days_from_ce()) + JD_OF_CE_DAY_ZERO - CST_OFFSET_DAYS;
    Tt(ut + delta_t_seconds(ut) / 86400.0)
}

/// The civil date of a Julian Day (the day that contains it; days start at midnight).
fn date_of_jd(jd: f64) -> Option<NaiveDate> {
    let days = (jd - JD_OF_CE_DAY_ZERO).floor();
    if !days.is_finite() || days < 1.0 || days > f64::from(i32::MAX) {
        return None;
    }
    // In range by the check above.
    NaiveDate::from_num_days_from_ce_opt(days as i32)
}

/// ΔT = TT − UT in seconds, from the polynomial fits of Espenak & Meeus (NASA's Five
/// Millennium Canon of Solar Eclipses, 2006). The years after the last measurement are
/// extrapolations: the real ΔT of 2100 may differ by a minute or more, which only matters
/// for an event within that much of midnight.
pub(super) fn delta_t_seconds(jd: f64) -> f64 {
    let y = 2000.0 + (jd - J2000) / 365.25;
    if y < 2005.0 {
        let t = y - 2000.0;
        63.86 + 0.3345 * t - 0.060374 * t.powi(2)
            + 0.0017275 * t.powi(3)
            + 0.000651814 * t.powi(4)
            + 0.00002373599 * t.powi(5)
    } else if y < 2050.0 {
        let t = y - 2000.0;
        62.92 + 0.32217 * t + 0.005589 * t * t
    } else {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u - 0.5628 * (2150.0 - y)
    }
}

fn normalize_degrees(x: f64) -> f64 {
    x.rem_euclid(360.0)
}

/// The Sun's apparent geocentric longitude, degrees in [0, 360), referred to the true
/// equinox of date — the longitude the solar terms are defined on.
pub(super) fn sun_apparent_longitude(t: Tt) -> f64 {
    let tau = (t.0 - J2000) / 365250.0;
    let series = [
        vsop87::L0,
        vsop87::L1,
        vsop87::L2,
        vsop87::L3,
        vsop87::L4,
        vsop87::L5,
    ];
    let mut heliocentric = 0.0;
    for series in series.iter().rev() {
        heliocentric = heliocentric * tau + vsop87::sum(series, tau);
    }
    let heliocentric = heliocentric / 1e8;
    let radius = (vsop87::sum(vsop87::R0, tau) + vsop87::sum(vsop87::R1, tau) * tau) / 1e8;
    // The Sun is seen from the Earth opposite the Earth seen from the Sun.
    let geometric = heliocentric.to_degrees() + 180.0;
    // Conversion from the VSOP87 dynamical frame to FK5 (Meeus 25.9): a constant −0.09033″.
    let fk5 = -0.09033 / 3600.0;
    let aberration = -20.4898 / 3600.0 / radius;
    normalize_degrees(geometric + fk5 + nutation_in_longitude(t) + aberration)
}

/// Nutation in longitude, degrees (Meeus ch. 22, the short series good to 0.5″).
fn nutation_in_longitude(t: Tt) -> f64 {
    let c = (t.0 - J2000) / 36525.0;
    let omega = (125.04452 - 1934.136261 * c).to_radians();
    let sun = (280.4665 + 36000.7698 * c).to_radians();
    let moon = (218.3165 + 481267.8813 * c).to_radians();
    let arcsec = -17.20 * omega.sin() - 1.32 * (2.0 * sun).sin() - 0.23 * (2.0 * moon).sin()
        + 0.21 * (2.0 * omega).sin();
    arcsec / 3600.0
}

/// The moment the Sun's apparent longitude is `degrees`, within half a year of `near`.
pub(super) fn sun_reaches(degrees: f64, near: Tt) -> Tt {
    // Newton's method on λ(t) − target; the Sun moves about 360°/year, nearly uniformly,
    // so the mean rate is a good enough slope and each step gains several digits.
    let rate = 360.0 / TROPICAL_YEAR;
    let mut t = near.0;
    for _ in 0..20 {
        let gap = (degrees - sun_apparent_longitude(Tt(t)) + 540.0).rem_euclid(360.0) - 180.0;
        t += gap / rate;
        if gap.abs() < 1e-8 {
            break;
        }
    }
    Tt(t)
}

/// The moment (TT) of the new moon of lunation `k`, counted from the new moon of
/// 2000-01-06 (Meeus ch. 49: the mean phase plus the periodic and planetary terms).
pub(super) fn new_moon(k: i64) -> Tt {
    let k = k as f64;
    let t = k / 1236.85;
    let (t2, t3, t4) = (t * t, t * t * t, t * t * t * t);
    let mean =
        2451550.09766 + SYNODIC_MONTH * k + 0.00015437 * t2 - 0.000000150 * t3 + 0.00000000073 * t4;
    // Eccentricity of the Earth's orbit: terms in the Sun's anomaly shrink with it.
    let e = 1.0 - 0.002516 * t - 0.0000074 * t2;
    let m = (2.5534 + 29.10535670 * k - 0.0000014 * t2 - 0.00000011 * t3).to_radians();
    let mp = (201.5643 + 385.81693528 * k + 0.0107582 * t2 + 0.00001238 * t3 - 0.000000058 * t4)
        .to_radians();
    let f = (160.7108 + 390.67050284 * k - 0.0016118 * t2 - 0.00000227 * t3 + 0.000000011 * t4)
        .to_radians();
    let omega = (124.7746 - 1.56375588 * k + 0.0020672 * t2 + 0.00000215 * t3).to_radians();

    let periodic = -0.40720 * mp.sin()
        + 0.17241 * e * m.sin()
        + 0.01608 * (2.0 * mp).sin()
        + 0.01039 * (2.0 * f).sin()
        + 0.00739 * e * (mp - m).sin()
        - 0.00514 * e * (mp + m).sin()
        + 0.00208 * e * e * (2.0 * m).sin()
        - 0.00111 * (mp - 2.0 * f).sin()
        - 0.00057 * (mp + 2.0 * f).sin()
        + 0.00056 * e * (2.0 * mp + m).sin()
        - 0.00042 * (3.0 * mp).sin()
        + 0.00042 * e * (m + 2.0 * f).sin()
        + 0.00038 * e * (m - 2.0 * f).sin()
        - 0.00024 * e * (2.0 * mp - m).sin()
        - 0.00017 * omega.sin()
        - 0.00007 * (mp + 2.0 * m).sin()
        + 0.00004 * (2.0 * mp - 2.0 * f).sin()
        + 0.00004 * (3.0 * m).sin()
        + 0.00003 * (mp + m - 2.0 * f).sin()
        + 0.00003 * (2.0 * mp + 2.0 * f).sin()
        - 0.00003 * (mp + m + 2.0 * f).sin()
        + 0.00003 * (mp - m + 2.0 * f).sin()
        - 0.00002 * (mp - m - 2.0 * f).sin()
        - 0.00002 * (3.0 * mp + m).sin()
        + 0.00002 * (4.0 * mp).sin();

    // Planetary perturbations (Meeus table 49.A, "additional corrections"):
    // (phase at k = 0, degrees per lunation, amplitude in days).
    const PLANETARY: [(f64, f64, f64); 14] = [
        (299.77, 0.107408, 0.000325),
        (251.88, 0.016321, 0.000165),
        (251.83, 26.651886, 0.000164),
        (349.42, 36.412478, 0.000126),
        (84.66, 18.206239, 0.000110),
        (141.74, 53.303771, 0.000062),
        (207.14, 2.453732, 0.000060),
        (154.84, 7.306860, 0.000056),
        (34.52, 27.261239, 0.000047),
        (207.19, 0.121824, 0.000042),
        (291.34, 1.844379, 0.000040),
        (161.72, 24.198154, 0.000037),
        (239.56, 25.513099, 0.000035),
        (331.55, 3.592518, 0.000023),
    ];
    let planetary: f64 = PLANETARY
        .iter()
        .enumerate()
        .map(|(i, &(phase, rate, amplitude))| {
            // Only the first argument has a secular T² term.
            let secular = if i == 0 { -0.009173 * t2 } else { 0.0 };
            amplitude * (phase + rate * k + secular).to_radians().sin()
        })
        .sum();
    Tt(mean + periodic + planetary)
}

/// The lunation whose mean new moon is the last one at or before `t`.
pub(super) fn lunation_before(t: Tt) -> i64 {
    ((t.0 - 2451550.09766) / SYNODIC_MONTH).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn meeus_worked_examples() {
        // Example 49.a: the new moon of 1977 February, k = −283, JDE 2443192.65118.
        assert!((new_moon(-283).0 - 2443192.65118).abs() < 1e-5);
        // Example 25.b: 1992-10-13 0h TD, apparent longitude 199°54′21.818″ (VSOP87 with
        // the full nutation; ours, with the short series, within 1″).
        let lambda = sun_apparent_longitude(Tt(2448908.5));
        let expected = 199.0 + 54.0 / 60.0 + 21.818 / 3600.0;
        assert!((lambda - expected).abs() * 3600.0 < 1.0, "{lambda}");
    }

    #[test]
    fn the_2000_new_moon_and_the_2025_winter_solstice_fall_on_their_dates() {
        // 2000-01-06 18:14 UT is already 01-07 in Beijing: the date is China's, not UTC's.
        assert_eq!(new_moon(0).cst_date(), Some(date(2000, 1, 7)));
        let solstice = sun_reaches(270.0, cst_midnight(date(2025, 12, 20)));
        // 2025-12-21 23:03 CST.
        assert_eq!(solstice.cst_date(), Some(date(2025, 12, 21)));
    }

    #[test]
    fn delta_t_is_continuous_where_the_fits_meet() {
        let at = |y: f64| delta_t_seconds(J2000 + (y - 2000.0) * 365.25);
        assert!((at(2004.99999) - at(2005.0)).abs() < 0.5);
        assert!((at(2049.99999) - at(2050.0)).abs() < 0.5);
    }
}
