//! Visibility of mail: owners see their own, others what the source allows.
