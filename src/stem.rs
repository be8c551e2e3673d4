//! Stemming for the search index and name matching: Czech (the light
//! stemmer of Dolamic and Savoy, as Lucene's `CzechStemmer`) and English.
//! Pure.
