//! Queries behind the web pages and their CLI twins: today, search, brief.
