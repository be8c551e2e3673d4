//! kronika's integration tests: one binary (tantivy and the rest are
//! linked once), one module per area. `common` holds the harnesses.

mod ares;
mod ares_cli;
mod auto_capture;
mod backup;
mod caldav;
mod calendar;
mod calendar_feed;
mod capture;
mod chart;
mod common;
mod deals;
mod directory_cli;
mod documents;
mod dovecot_harness;
mod fuzz_regressions;
mod hardening;
mod imap;
mod invitations;
mod mail_parse;
mod mail_pipeline;
mod notes;
mod oauth;
mod package;
mod person;
mod reminders;
mod search_eval;
mod service;
mod store_matching;
mod upgrade;
mod web;
mod web_browser;
mod web_card;
mod web_edit;
mod web_pages;
mod web_visibility;
