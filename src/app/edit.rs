//! Changes both faces make: clients, contacts, deals, custom fields, notes, links; each is what the CLI command does.
