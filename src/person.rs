//! People in mail: display names (titles kept apart, name order
//! normalised), role addresses, and what a signature says (phones,
//! position). Pure.
