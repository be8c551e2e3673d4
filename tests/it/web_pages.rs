//! The read pages over HTTP: Today, search, brief.
