//! The store on both backends (issue 19): ingestion, re-matching, events and the contacts and invoices captured from mail, on SQLite and on
//! PostgreSQL alike (see `common::stores`).

use crate::common::stores;
