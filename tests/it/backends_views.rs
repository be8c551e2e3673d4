//! The store on both backends (issue 19): the read side: views, timelines, the index feed, reminders, proposals and visibility, on SQLite and on
//! PostgreSQL alike (see `common::stores`).

use crate::common::stores;
