//! API types of the supervision model, separate from the entities: the API can change
//! shape without a migration and a column can be added without an API change.
//!
//! Split by what they describe: `org` (units, people) ← `records` (reports, attachments, extension requests, audit entries) ← `assignment` ← `item` ← `node` (the Relay interface over all of them).

mod assignment;
mod item;
mod node;
mod org;
mod records;
mod task;

pub use assignment::*;
pub use item::*;
pub use node::*;
pub use org::*;
pub use records::*;
pub use task::*;
