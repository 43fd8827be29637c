//! Email domains under IDNA: a domain must be valid under UTS 46, is
//! compared (and mailed to) in its ASCII form (`xn--` A-labels), and none of
//! its labels may mix scripts, the shape of a look-alike such as "pаypal"
//! with a Cyrillic "а".

use std::collections::BTreeSet;

use icu_properties::props::Script;
use icu_properties::script::ScriptWithExtensions;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// A domain that passed: both of its forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The ASCII form (lower case, `xn--` labels): the one compared and the
    /// one mail goes to.
    pub ascii: String,
    /// The Unicode form (lower case, normalised), the one the script rule reads.
    pub unicode: String,
}

/// Why a domain was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRefusal {
    /// Not a domain name under UTS 46 (forbidden characters, a bad `xn--`
    /// label, a label or the whole over the DNS lengths, a hyphen at a
    /// label's edge, fewer than two labels).
    Invalid,
    /// This label (in Unicode form) mixes scripts.
    MixedScript(String),
}

impl DomainRefusal {
    /// The message at the field; `what` names the part ("domain", "host").
    pub fn message(&self, what: &str) -> String {
        match self {
            DomainRefusal::Invalid => format!("must have a valid {what}, like example.com"),
            DomainRefusal::MixedScript(label) => format!(
                "must not mix scripts within a part of the {what} (\"{label}\" mixes \
                 letters of different alphabets, as look-alike domains do)"
            ),
        }
    }
}

/// Checks a domain as typed and gives its two forms.
///
/// UTS 46 with the strict settings a mail domain needs: the STD3 rules
/// (letters, digits and hyphens only, after mapping), no hyphen at the
/// start or end of a label, and the DNS lengths (63 per label, 253 in
/// all). It maps the domain first (upper to lower case, full-width to
/// ASCII, NFC), so `Bücher.Example`, `bücher.example` and
/// `xn--bcher-kva.example` come out as one ASCII form.
pub fn check_domain(raw: &str) -> Result<Domain, DomainRefusal> {
    let uts46 = Uts46::new();
    let ascii = uts46
        .to_ascii(
            raw.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Verify,
        )
        .map_err(|_| DomainRefusal::Invalid)?
        .into_owned();
    if ascii.split('.').count() < 2 {
        return Err(DomainRefusal::Invalid);
    }
    let (unicode, result) = uts46.to_unicode(
        ascii.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::CheckFirstLast,
    );
    result.map_err(|_| DomainRefusal::Invalid)?;
    let unicode = unicode.into_owned();
    if let Some(label) = unicode.split('.').find(|l| !is_single_script(l)) {
        return Err(DomainRefusal::MixedScript(label.to_owned()));
    }
    Ok(Domain { ascii, unicode })
}

/// The scripts a character counts for, as UTS 39 (section 5.1) resolves
/// them: its Script_Extensions, where Han, Hiragana, Katakana, Hangul and
/// Bopomofo also count for the writing systems that combine them (Japanese
/// writes Han with kana, Korean Han with Hangul), so that "日本語かな" is one
/// script and "pаypal" is two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Writing {
    Script(Script),
    Japanese,
    Korean,
    HanWithBopomofo,
}

/// Whether every letter of `label` belongs to one script (UTS 39's
/// "single script": the intersection of the resolved script sets is not
/// empty). Digits and the hyphen are Common and fit any script; so do
/// combining marks (Inherited) that take the script of their letter.
fn is_single_script(label: &str) -> bool {
    if label.is_ascii() {
        // ASCII letters are all Latin.
        return true;
    }
    let scripts = ScriptWithExtensions::new();
    let mut common: Option<BTreeSet<Writing>> = None;
    for c in label.chars() {
        let extensions = scripts.get_script_extensions_val(c);
        if extensions.contains(&Script::Common) || extensions.contains(&Script::Inherited) {
            continue;
        }
        let mut set = BTreeSet::new();
        for script in extensions.iter() {
            set.insert(Writing::Script(script));
            match script {
                Script::Han => {
                    set.extend([Writing::Japanese, Writing::Korean, Writing::HanWithBopomofo]);
                }
                Script::Hiragana | Script::Katakana => {
                    set.insert(Writing::Japanese);
                }
                Script::Hangul => {
                    set.insert(Writing::Korean);
                }
                Script::Bopomofo => {
                    set.insert(Writing::HanWithBopomofo);
                }
                _ => {}
            }
        }
        let next: BTreeSet<Writing> = match common {
            None => set,
            Some(so_far) => so_far.intersection(&set).copied().collect(),
        };
        if next.is_empty() {
            return false;
        }
        common = Some(next);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_and_ascii_forms_of_one_domain_are_one() {
        let typed = check_domain("Bücher.Example").unwrap();
        assert_eq!(typed.ascii, "xn--bcher-kva.example");
        assert_eq!(typed.unicode, "bücher.example");
        let punycode = check_domain("xn--bcher-kva.example").unwrap();
        assert_eq!(punycode, typed);
        // Full-width letters and an ideographic full stop map to ASCII.
        assert_eq!(
            check_domain("ｅｘａｍｐｌｅ。com").unwrap().ascii,
            "example.com"
        );
        assert_eq!(check_domain("Example.COM").unwrap().ascii, "example.com");
    }

    #[test]
    fn single_script_unicode_domains_pass() {
        for ok in [
            "bücher.example",
            "яндекс.рф",
            "例え.テスト",
            "日本語かな.jp",
            "한국어.kr",
            "παράδειγμα.δοκιμή",
            "مثال.إختبار",
            "xn--80ak6aa92e.com", // "аррӏе" all Cyrillic: one script (see docs/security.md)
            "münchen-2.de",
        ] {
            assert!(check_domain(ok).is_ok(), "{ok:?} should pass");
        }
    }

    #[test]
    fn a_label_mixing_scripts_is_refused() {
        // "pаypal" with U+0430 CYRILLIC SMALL LETTER A.
        assert_eq!(
            check_domain("p\u{0430}ypal.com"),
            Err(DomainRefusal::MixedScript("p\u{0430}ypal".to_owned()))
        );
        // The same look-alike typed as its A-label.
        let punycode = check_domain("p\u{0430}ypal.com").err();
        assert!(punycode.is_some());
        let ascii = Uts46::new()
            .to_ascii(
                "p\u{0430}ypal.com".as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::Allow,
                DnsLength::Ignore,
            )
            .unwrap()
            .into_owned();
        assert!(ascii.starts_with("xn--"));
        assert!(matches!(
            check_domain(&ascii),
            Err(DomainRefusal::MixedScript(_))
        ));
        // Greek omicron inside a Latin word.
        assert!(check_domain("g\u{03BF}\u{03BF}gle.com").is_err());
        // Each label alone may be of its own script.
        assert!(check_domain("bücher.рф").is_ok());
    }

    #[test]
    fn invalid_domains_are_refused() {
        for bad in [
            "example",
            "exa_mple.com",
            "-example.com",
            "example-.com",
            "example..com",
            "xn--a.com", // not valid punycode
            "ex ample.com",
            "exam\u{202E}ple.com",
            "example.com.",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}.com", vec!["a".repeat(60); 5].join(".")),
        ] {
            assert_eq!(
                check_domain(bad),
                Err(DomainRefusal::Invalid),
                "{bad:?} should be refused"
            );
        }
    }
}
