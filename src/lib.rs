//! kronika: every client's history (mail, call and meeting notes, calendar
//! events) captured from its sources and linked to the client.
//!
//! See ARCHITECTURE.md for the data flow and the invariants.

pub mod address;
pub mod app;
pub mod ares;
pub mod backup;
pub mod brief;
pub mod calendar;
pub mod chart;
pub mod cli;
pub mod config;
pub mod csvio;
pub mod daemon;
pub mod directory;
pub mod documents;
pub mod figures;
pub mod http;
pub mod index;
pub mod invoice;
pub mod leases;
pub mod mail;
pub mod matcher;
pub mod model;
pub mod notes;
pub mod notify;
pub mod oauth;
pub mod person;
pub mod pipeline;
pub mod process;
pub mod reminders;
pub mod shutdown;
pub mod sources;
pub mod stem;
pub mod store;
pub mod text;
pub mod tls;
pub mod web;
pub mod xml;
