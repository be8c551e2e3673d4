//! Which sources a user may read whole, by subject, or by metadata only.
