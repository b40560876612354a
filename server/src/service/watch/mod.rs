//! What time passing does: colours judged at read time (`colours`), the 蓝黄红 board held
//! per instance (`board`), the reminder sweep (`sweep`), and the live tail of the audit trail
//! that tells dashboards and every kept copy (`live`).

pub mod board;
pub mod colours;
pub mod live;
pub mod sweep;
