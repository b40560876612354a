//! The simulated district's units: who they are, how many items they lead a month, and how
//! diligent each is. Loads follow the picture of a district: about 20 departments
//! with 5–60 items a month (住建, 城管 and 生态环境 carrying the most) and about 11 streets
//! with 5–25.

use ducha_report::UnitInfo;

use super::args::Scenario;
use super::rng::Rng;

/// A unit and how it works.
#[derive(Debug, Clone)]
pub struct Unit {
    pub info: UnitInfo,
    /// Items it leads, per month (before `--scale`).
    pub intake: f64,
    /// Its factor on the district's late, rework and missed-report rates (mean 1 over
    /// units): districts have better and worse units, and a colour rule should pick out
    /// the worse ones, not colour every unit alike.
    pub diligence: f64,
}

/// Departments, largest first; (name, low, high) monthly intake. The big three are the
/// ones every district names first: construction, city management, environment.
const DEPARTMENTS: [(&str, i64, i64); 20] = [
    ("区住建局", 45, 60),
    ("区城管局", 40, 55),
    ("区生态环境局", 30, 45),
    ("区市场监管局", 20, 35),
    ("区交通运输局", 15, 30),
    ("区自然资源局", 15, 28),
    ("区发改局", 10, 25),
    ("区教育局", 10, 22),
    ("区卫健局", 10, 20),
    ("区水务局", 8, 18),
    ("区民政局", 8, 16),
    ("区人社局", 6, 15),
    ("区商务局", 6, 14),
    ("区应急管理局", 6, 14),
    ("区农业农村局", 5, 12),
    ("区文旅局", 5, 12),
    ("区财政局", 5, 10),
    ("区科技局", 5, 8),
    ("区司法局", 5, 8),
    ("区统计局", 5, 6),
];

const STREETS: [&str; 11] = [
    "东城街道",
    "西城街道",
    "南关街道",
    "北关街道",
    "新华街道",
    "向阳街道",
    "幸福街道",
    "建设街道",
    "胜利街道",
    "滨河街道",
    "开发区街道",
];

/// The district's units: about two departments for each street, as in the 20 + 11.
pub fn units(scenario: &Scenario, seed: u64) -> Vec<Unit> {
    let mut rng = Rng::derive(seed, 1, 0);
    let total = scenario.units;
    let departments = ((total as f64) * 20.0 / 31.0).round().max(1.0) as usize;
    let departments = departments.min(total);
    let mut units = Vec::with_capacity(total);
    for i in 0..total {
        let (name, kind, low, high) = if i < departments {
            match DEPARTMENTS.get(i) {
                Some((name, low, high)) => (name.to_string(), "部门", *low, *high),
                None => (format!("区直部门{}", i + 1), "部门", 5, 15),
            }
        } else {
            let street = i - departments;
            match STREETS.get(street) {
                Some(name) => (name.to_string(), "街道", 5, 25),
                None => (format!("第{}街道", street + 1), "街道", 5, 25),
            }
        };
        let intake = rng.between(low, high) as f64;
        // Lognormal with mean 1: exp(σz − σ²/2).
        let sigma = scenario.unit_spread;
        let diligence = (sigma * rng.normal() - sigma * sigma / 2.0).exp();
        units.push(Unit {
            info: UnitInfo {
                id: i as i64 + 1,
                name,
                kind: kind.into(),
            },
            intake,
            diligence,
        });
    }
    units
}
