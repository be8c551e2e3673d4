//! Arbitrary text → `kronika::stem`: the stemmers, the verb forms, the
//! language detection and the index's stemming analysis never panic, the
//! light stemmer never lengthens a word, and the analysis keeps each
//! word's byte range on the text's char boundaries (snippets slice by it).
#![no_main]

use kronika::stem::{Lang, analyze, czech, czech_light, czech_verb_forms, detect, english};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = detect(&text);
    for word in text.split_whitespace().take(64).chain(std::iter::once(text.as_ref())) {
        let light = czech_light(word);
        assert!(light.chars().count() <= word.chars().count(), "{word:?} → {light:?}");
        let _ = (czech(word), english(word));
        for form in czech_verb_forms(word) {
            let _ = czech(&form);
        }
    }
    for lang in [Lang::Czech, Lang::English] {
        for (stem, range) in analyze(&text, lang) {
            assert!(text.get(range.clone()).is_some(), "{stem:?} at {range:?} in {text:?}");
        }
    }
});
