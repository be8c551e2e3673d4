//! Who may see what: each mail source's owner and the visibility of its mail for everyone else.
