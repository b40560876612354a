//! Black-box tests of the ducha service over real HTTP, on SQLite and PostgreSQL.

// First, so that its macros are in scope for the others.
#[macro_use]
mod helpers;

mod answers;
mod attachments;
mod board;
mod boundary;
mod browser;
mod browser_import;
mod browser_levels;
mod browser_office;
mod bulk;
mod calendar;
mod calendar_race;
mod channels;
mod colours;
mod concurrency;
mod conformance;
mod dataloader;
mod demo;
mod directory;
mod district;
mod event_notices;
mod health;
mod item_cache;
mod ledger_import;
mod levels;
mod levels_more;
mod levels_rollup;
mod lifecycle;
mod live;
mod meetings;
mod notices;
mod over_http;
mod progress;
mod providers;
mod reassign_due;
mod relay;
mod reports;
mod rewind;
mod rows;
mod schema;
mod signin;
mod smtp;
mod visibility;
mod web;
mod web_admin;
mod web_office;
mod web_reopen;
mod web_unit;
mod websocket;
mod window;
