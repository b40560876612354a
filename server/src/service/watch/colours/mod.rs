//! Colours at read time: gather each assignment's facts (deadline, extension, stage,
//! rejections, reopen, progress reports) and let the pure rules in `ducha_domain::colour`
//! decide. Now, the facts are on the item and assignment rows a page reads anyway
//! (`colours_from_rows`); as of a past instant, they are read from the history in a few
//! batched queries (`colours_for_items`). No colour is ever stored.
//!
//! Split by job: `policy` (versions, the one in force, `RuleSet`) ← `facts` (an
//! assignment's facts and colours) ← `as_of` (rows at a past instant) ← `filter` (items of a
//! colour) and `units` (standings and unit colours); `tasks` rolls the tasks handed down into
//! their parts' colours.

mod as_of;
mod facts;
mod filter;
mod policy;
pub mod tasks;
mod units;

pub use as_of::*;
pub use ducha_domain::colour::ItemColours;
pub use facts::*;
pub use filter::*;
pub use policy::*;
pub use units::*;
