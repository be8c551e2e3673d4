//! Search for the faces: the query language of `kronika search`, filters, highlighted snippets.
