//! Editing from the web: clients (ARES fill), contacts, deals, custom fields, notes, links.
