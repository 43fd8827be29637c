//! Checks on a JSON body that run before and right after it is parsed, so
//! hostile input is refused cheaply: nesting deeper than [`MAX_DEPTH`] is
//! found by a byte scan before serde builds anything in memory, and NUL
//! characters, which no field of this API has a use for and which C-based
//! tools downstream (logs, mail, terminals) truncate at, are refused at the
//! field that holds them.

use serde_json::Value;

/// The deepest nesting of objects and arrays a body may have. The deepest
/// body of the API is 3 levels; 32 leaves room and stops a 64 KiB body of
/// `[[[[…` from costing a parse.
pub const MAX_DEPTH: usize = 32;

/// Whether `bytes` nests objects and arrays deeper than `limit`. Brackets
/// inside strings do not count. Not a validator: a body that passes may
/// still be malformed, and serde says so next.
pub fn nests_deeper_than(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Where the first NUL character in a string of `value` is, as a field path
/// (`username`, `days[2]`, `user.name`; `body` for the top level). An object
/// key with a NUL is reported at the object holding it.
pub fn nul_field(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                map.iter().any(|(key, item)| {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    let found = walk(item, path);
                    if !found {
                        path.truncate(len);
                    }
                    found
                })
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_objects_and_arrays_but_not_brackets_in_strings() {
        assert!(!nests_deeper_than(br#"{"a": [1, {"b": 2}]}"#, 3));
        assert!(nests_deeper_than(br#"{"a": [1, {"b": [2]}]}"#, 3));
        assert!(!nests_deeper_than(br#"{"a": "[[[[{{{{"}"#, 1));
        assert!(!nests_deeper_than(br#"{"a": "\"[[[["}"#, 1));
        assert!(nests_deeper_than(&[b'['; 33], MAX_DEPTH));
        assert!(!nests_deeper_than(&[b'['; 32], MAX_DEPTH));
        // Closing more than was opened does not underflow into "shallow".
        assert!(nests_deeper_than(b"]]]][[[", 2));
    }

    #[test]
    fn a_nul_is_found_at_its_field() {
        assert_eq!(
            nul_field(&json!({"username": "jo\u{0}hn"})).as_deref(),
            Some("username")
        );
        assert_eq!(
            nul_field(&json!({"days": ["mon", "t\u{0}ue"]})).as_deref(),
            Some("days[1]")
        );
        assert_eq!(
            nul_field(&json!({"a": {"b": "\u{0}"}})).as_deref(),
            Some("a.b")
        );
        assert_eq!(nul_field(&json!({"x\u{0}": 1})).as_deref(), Some("body"));
        assert_eq!(nul_field(&json!({"a": "b", "n": [1, null, true]})), None);
    }
}
