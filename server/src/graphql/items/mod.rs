//! The item API, mirroring `service::items`: queries, then one mutation object per verb
//! group, merged into the schema's `Mutation`. Each mutation takes an `input` object and
//! returns a payload with the changed object; errors carry `extensions.code`.

pub mod assign;
pub mod extension;
pub mod feedback;
pub mod import;
pub mod instruct;
pub mod meetings;
pub mod org;
pub mod pause;
pub mod query;
pub mod register;
pub mod shared;
pub mod tasks;
