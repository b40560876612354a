//! Black-box tests of the ducha service over real HTTP, on SQLite and PostgreSQL.

mod attachments;
mod calendar;
mod colours;
mod dataloader;
mod demo;
mod district;
mod health;
mod helpers;
mod lifecycle;
mod live;
mod notices;
mod reports;
mod schema;
mod smtp;
