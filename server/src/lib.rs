//! The ducha service: configuration, database, GraphQL API and command line. The domain
//! logic it serves lives in pure crates (`ducha-calendar`, `ducha-domain`, `ducha-report`)
//! with no I/O.

pub mod auth;
pub mod body;
pub mod calendar_store;
pub mod changes;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod error;
pub mod events;
pub mod fonts;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod proxies;
pub mod service;
pub mod sqlite_reader;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
