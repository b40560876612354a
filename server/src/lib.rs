//! The ducha service: configuration, database, GraphQL API and command line. The domain
//! logic it serves lives in pure crates (`ducha-calendar`) with no I/O.

pub mod calendar_store;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod startup;
pub mod telemetry;
