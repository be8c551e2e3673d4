//! The store on both backends (issue 19): clients, contacts, persons and erasure, deals and users, on SQLite and on
//! PostgreSQL alike (see `common::stores`).

use crate::common::stores;
