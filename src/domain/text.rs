//! Which characters free text shown to people may hold (full names, service
//! names, descriptions, rejection reasons). The one list of refused
//! characters is here, so that every such field refuses the same things.
//!
//! The threat: text that an admin reads in the console or a person reads on
//! the phone must look like what it is. Text-direction controls reorder
//! what follows them ("Trojan Source"), invisible characters make two names
//! that look the same differ (or hide text), and unassigned code points may
//! render as anything once a font learns them.
//!
//! Control characters (Cc) are left to the caller: a name refuses them all,
//! a description keeps its line breaks.

use icu_properties::props::{
    CanonicalCombiningClass, DefaultIgnorableCodePoint, EmojiModifier, ExtendedPictographic,
    GeneralCategory, GeneralCategoryGroup, JoiningType,
};
use icu_properties::{CodePointMapData, CodePointSetData};

use crate::domain::FieldError;

/// Why a text was refused, with the first offending character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A bidi control: it changes the order in which the text around it is shown.
    TextDirection(char),
    /// A character that shows nothing (or only blank space where a letter
    /// seems to be), where it is not needed.
    Invisible(char),
    /// Unassigned, a noncharacter or private use: no agreed glyph.
    Unassigned(char),
    /// A combining mark with no character before it to sit on: it would
    /// stack onto whatever is shown before the field.
    LeadingMark(char),
    /// Nothing but marks and spaces.
    NoVisibleText,
}

impl Refusal {
    /// The message at the field: says what was found, by code point (the
    /// character itself would be as invisible in the message as in the text).
    pub fn message(self) -> String {
        match self {
            Refusal::TextDirection(c) => format!(
                "must not contain invisible or text-direction characters \
                 (found U+{:04X}, a text-direction control)",
                u32::from(c)
            ),
            Refusal::Invisible(c) => format!(
                "must not contain invisible or text-direction characters \
                 (found U+{:04X}, an invisible character)",
                u32::from(c)
            ),
            Refusal::Unassigned(c) => format!(
                "must not contain unassigned or private-use characters (found U+{:04X})",
                u32::from(c)
            ),
            Refusal::LeadingMark(c) => format!(
                "must not begin with a combining mark (found U+{:04X})",
                u32::from(c)
            ),
            Refusal::NoVisibleText => {
                "must contain visible characters, not only marks or spaces".to_owned()
            }
        }
    }
}

/// The bidi controls of UAX #9: embeddings, overrides and isolates (which
/// reorder whatever follows), and the implicit marks ALM, LRM and RLM. A
/// name, a service name or a reason is one short run of text whose
/// direction the Unicode bidi algorithm gets right from its letters; the
/// marks are only needed to fix up punctuation in long mixed paragraphs,
/// and they are as invisible as the overrides.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'                       // ARABIC LETTER MARK
        | '\u{200E}' | '\u{200F}'        // LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK
        | '\u{202A}'..='\u{202E}'        // LRE, RLE, PDF, LRO, RLO
        | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
    )
}

/// Variation selectors pick a glyph for the character before them (text or
/// emoji style, a CJK variant, a Mongolian form): kept after a base
/// character, refused standalone, where they select nothing and only hide.
fn is_variation_selector(c: char) -> bool {
    matches!(
        c,
        '\u{FE00}'..='\u{FE0F}'
        | '\u{E0100}'..='\u{E01EF}'
        | '\u{180B}'..='\u{180D}'
        | '\u{180F}' // Mongolian free variation selectors
    )
}

/// Characters of a visible category that show as blank space: the
/// invisible-name tricks that Default_Ignorable_Code_Point does not cover.
/// (The Hangul fillers U+115F, U+1160, U+3164 and U+FFA0 are covered.)
fn looks_blank(c: char) -> bool {
    matches!(c, '\u{2800}') // BRAILLE PATTERN BLANK
}

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// `check` for the field `field` of a request: the refusal as that
/// field's error.
pub fn check_field(field: &str, text: &str) -> Result<(), FieldError> {
    check(text).map_err(|refusal| FieldError::new(field, refusal.message()))
}

/// Checks `text` (already trimmed) against the rules above.
///
/// What is refused, in one place:
/// - the bidi controls (`is_bidi_control`);
/// - every Default_Ignorable_Code_Point (Unicode's own list of characters
///   shown as nothing: U+200B ZERO WIDTH SPACE, U+2060–U+2064 word joiner
///   and invisible operators, U+FEFF, U+00AD SOFT HYPHEN, U+180E, U+034F,
///   the Hangul fillers U+115F/U+1160/U+3164/U+FFA0, the tag characters
///   U+E0000–U+E007F, …), except the joiners and variation selectors where
///   they do something (below);
/// - every other format character (Cf: e.g. interlinear annotation
///   U+FFF9–U+FFFB), and the line and paragraph separators U+2028/U+2029;
/// - blank-looking visible characters (`looks_blank`);
/// - unassigned code points, noncharacters and private use;
/// - a combining mark at the start, and text of nothing but marks and spaces.
///
/// The two joiners stay where a script needs them, following the
/// IDNA2008 context rules (RFC 5892, appendix A.1/A.2): ZWNJ and ZWJ after
/// a virama (Devanagari, Malayalam, Sinhala … conjunct forms), ZWNJ
/// between Arabic-script letters that would otherwise join (Persian writes
/// it inside words and names); and ZWJ between two emoji, which makes one
/// emoji of them (👩‍💻). Between Latin letters, say, a joiner changes nothing
/// on screen and would only make "John" and "Jo\u{200D}hn" two names.
///
/// Tag characters are refused even after U+1F3F4 (the flags of England,
/// Scotland and Wales are made of them): they are the classic way to hide
/// text in plain sight, and a name loses little without a flag.
pub fn check(text: &str) -> Result<(), Refusal> {
    let category = CodePointMapData::<GeneralCategory>::new();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let chars: Vec<char> = text.chars().collect();

    let mut visible = false;
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let gc = category.get(c);
        if is_bidi_control(c) {
            return Err(Refusal::TextDirection(c));
        }
        if c == ZWNJ || c == ZWJ {
            if !joiner_in_context(&chars, i) {
                return Err(Refusal::Invisible(c));
            }
            continue;
        }
        if is_variation_selector(c) {
            if !before.is_some_and(|b| is_base(category.get(b), b)) {
                return Err(Refusal::Invisible(c));
            }
            continue;
        }
        if i == 0 && GeneralCategoryGroup::Mark.contains(gc) {
            return Err(Refusal::LeadingMark(c));
        }
        if ignorable.contains(c) || looks_blank(c) {
            return Err(Refusal::Invisible(c));
        }
        match gc {
            GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator => return Err(Refusal::Invisible(c)),
            GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate => return Err(Refusal::Unassigned(c)),
            _ => {}
        }
        visible |= is_base(gc, c);
    }
    if visible {
        Ok(())
    } else {
        Err(Refusal::NoVisibleText)
    }
}

/// A character something can attach to: a letter, digit, punctuation or
/// symbol (not a mark, a space, a control or a format character).
fn is_base(gc: GeneralCategory, c: char) -> bool {
    let group = GeneralCategoryGroup::Letter
        .union(GeneralCategoryGroup::Number)
        .union(GeneralCategoryGroup::Punctuation)
        .union(GeneralCategoryGroup::Symbol);
    group.contains(gc) && !looks_blank(c)
}

/// Whether the joiner at `chars[i]` does something there (see [`check`]).
fn joiner_in_context(chars: &[char], i: usize) -> bool {
    let ccc = CodePointMapData::<CanonicalCombiningClass>::new();
    let joining = CodePointMapData::<JoiningType>::new();
    let before = i.checked_sub(1).map(|j| chars[j]);
    let after = chars.get(i + 1).copied();
    if before.is_some_and(|b| ccc.get(b) == CanonicalCombiningClass::Virama) {
        return true;
    }
    if chars[i] == ZWNJ {
        // (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D})
        let left = chars[..i]
            .iter()
            .rev()
            .map(|&c| joining.get(c))
            .find(|&jt| jt != JoiningType::Transparent);
        let right = chars[i + 1..]
            .iter()
            .map(|&c| joining.get(c))
            .find(|&jt| jt != JoiningType::Transparent);
        let joins_left = matches!(
            left,
            Some(JoiningType::LeftJoining | JoiningType::DualJoining)
        );
        let joins_right = matches!(
            right,
            Some(JoiningType::RightJoining | JoiningType::DualJoining)
        );
        return joins_left && joins_right;
    }
    // ZWJ in an emoji sequence: the emoji before may carry a skin tone or
    // an emoji-style selector (🏳️‍🌈 is U+1F3F3 U+FE0F ZWJ U+1F308).
    let pictographic = CodePointSetData::new::<ExtendedPictographic>();
    let modifier = CodePointSetData::new::<EmojiModifier>();
    let emoji_before = chars[..i]
        .iter()
        .rev()
        .find(|&&c| c != '\u{FE0F}' && !modifier.contains(c))
        .is_some_and(|&c| pictographic.contains(c));
    emoji_before && after.is_some_and(|c| pictographic.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_in_many_scripts_pass() {
        for ok in [
            "John Smith",
            "Zoë Saldaña-Perez",
            "Nguyễn Văn An",
            "Ιωάννης Παπαδόπουλος",
            "Иван Петров",
            "محمد علي",
            "דוד כהן",
            "山田 太郎",
            "김민준",
            "देवनागरी नाम",
            "O'Brien, Jr.",
            "Ana 🌸",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok:?} should pass");
        }
    }

    #[test]
    fn bidi_controls_are_refused() {
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let text = format!("John{c}Smith");
            assert_eq!(check(&text), Err(Refusal::TextDirection(c)), "{c:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for c in [
            '\u{200B}',  // zero width space
            '\u{2060}',  // word joiner
            '\u{2061}',  // function application
            '\u{2062}',  // invisible times
            '\u{2063}',  // invisible separator
            '\u{2064}',  // invisible plus
            '\u{FEFF}',  // zero width no-break space
            '\u{00AD}',  // soft hyphen
            '\u{180E}',  // Mongolian vowel separator
            '\u{3164}',  // Hangul filler
            '\u{FFA0}',  // halfwidth Hangul filler
            '\u{115F}',  // Hangul choseong filler
            '\u{1160}',  // Hangul jungseong filler
            '\u{034F}',  // combining grapheme joiner
            '\u{E0001}', // language tag
            '\u{E0041}', // tag latin capital letter A
            '\u{E007F}', // cancel tag
            '\u{FFF9}',  // interlinear annotation anchor
            '\u{2028}',  // line separator
            '\u{2029}',  // paragraph separator
            '\u{2800}',  // braille pattern blank
        ] {
            let text = format!("John{c}Smith");
            assert_eq!(check(&text), Err(Refusal::Invisible(c)), "{c:?}");
        }
    }

    #[test]
    fn unassigned_and_private_use_are_refused() {
        for c in ['\u{E000}', '\u{F8FF}', '\u{10FFFD}', '\u{FFFF}', '\u{0378}'] {
            let text = format!("John{c}");
            assert_eq!(check(&text), Err(Refusal::Unassigned(c)), "{c:?}");
        }
    }

    #[test]
    fn joiners_stay_where_a_script_or_emoji_needs_them() {
        // Persian: ZWNJ between two joining letters (mi-khaham).
        assert_eq!(check("می\u{200C}خواهم"), Ok(()));
        // Devanagari: ZWJ and ZWNJ after a virama (half forms).
        assert_eq!(check("क्\u{200D}ष"), Ok(()));
        assert_eq!(check("क्\u{200C}ष"), Ok(()));
        // Emoji ZWJ sequences, with a skin tone and with an emoji selector.
        assert_eq!(check("Ana 👩\u{200D}💻"), Ok(()));
        assert_eq!(check("Ana 👩🏽\u{200D}🚀"), Ok(()));
        assert_eq!(check("Ana 🏳\u{FE0F}\u{200D}🌈"), Ok(()));
    }

    #[test]
    fn joiners_between_latin_letters_or_at_the_edges_are_refused() {
        assert_eq!(check("Jo\u{200D}hn"), Err(Refusal::Invisible(ZWJ)));
        assert_eq!(check("Jo\u{200C}hn"), Err(Refusal::Invisible(ZWNJ)));
        assert_eq!(check("John\u{200D}"), Err(Refusal::Invisible(ZWJ)));
        assert_eq!(check("\u{200C}John"), Err(Refusal::Invisible(ZWNJ)));
        assert_eq!(check("👩\u{200D}a"), Err(Refusal::Invisible(ZWJ)));
        // Persian ZWNJ after a letter that never joins to its left (reh).
        assert_eq!(check("ر\u{200C}ب"), Err(Refusal::Invisible(ZWNJ)));
    }

    #[test]
    fn variation_selectors_only_after_a_base_character() {
        assert_eq!(check("Ana ❤\u{FE0F}"), Ok(()));
        assert_eq!(check("葛\u{E0100}城"), Ok(()));
        assert_eq!(check("\u{FE0F}Ana"), Err(Refusal::Invisible('\u{FE0F}')));
        assert_eq!(check("Ana \u{FE0F}"), Err(Refusal::Invisible('\u{FE0F}')));
        assert_eq!(
            check("Ana❤\u{FE0F}\u{FE0E}"),
            Err(Refusal::Invisible('\u{FE0E}'))
        );
    }

    #[test]
    fn marks_and_spaces_alone_are_not_a_name() {
        assert_eq!(
            check("\u{0301}\u{0301}"),
            Err(Refusal::LeadingMark('\u{0301}'))
        );
        assert_eq!(check("\u{0301}John"), Err(Refusal::LeadingMark('\u{0301}')));
        assert_eq!(check("\u{00A0}\u{3000}"), Err(Refusal::NoVisibleText));
        assert_eq!(check(""), Err(Refusal::NoVisibleText));
        // A mark on a letter is a letter.
        assert_eq!(check("Jose\u{0301}"), Ok(()));
    }

    #[test]
    fn the_message_names_the_code_point() {
        let m = Refusal::TextDirection('\u{202E}').message();
        assert!(m.starts_with("must not contain invisible or text-direction characters"));
        assert!(m.contains("U+202E"), "{m}");
        assert!(
            Refusal::Invisible('\u{E0041}')
                .message()
                .contains("U+E0041")
        );
    }
}
