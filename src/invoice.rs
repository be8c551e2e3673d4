//! Invoices found in mail: ISDOC (`.isdoc` XML, `.isdocx` packages) and
//! PDF text that clearly states an invoice. Pure.
