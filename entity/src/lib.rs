//! sea-orm entities: the tables' shape only. Behaviour and scoping live in `ducha-server`.

pub mod calendar_override;
