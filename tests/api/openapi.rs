//! The served `/openapi.json` as tests read it: its operations, and a form of
//! it that is the same text whenever the document is the same. Tests that
//! walk "every route" take the routes from here, so a new route is covered
//! the day it is documented and no list kept by hand can fall behind.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::harness::{Api, expect_json};

/// The methods an OpenAPI path item can hold an operation for.
const METHODS: [Method; 8] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
    Method::TRACE,
];

/// One documented operation: a method on a path template.
pub struct Operation {
    pub method: Method,
    /// The template as documented, e.g. `/api/admin/approve/{user_id}`.
    pub path: String,
    /// The operation object of the document.
    pub spec: Value,
}

impl Operation {
    /// `get /api/services`, as messages name it.
    pub fn name(&self) -> String {
        format!("{} {}", self.method.as_str().to_lowercase(), self.path)
    }

    /// The names of the `{parameters}` in the path, in order.
    pub fn path_parameters(&self) -> Vec<&str> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// The names of the documented query parameters.
    pub fn query_parameters(&self) -> Vec<&str> {
        self.spec["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect()
    }

    /// The security schemes any one of whose requirements opens this
    /// operation, e.g. `["admin"]`; empty when it is public.
    pub fn security_schemes(&self) -> Vec<&str> {
        self.spec["security"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|requirement| requirement.keys().map(String::as_str))
            .collect()
    }
}

/// GET /openapi.json, answered 200.
pub async fn document(api: &Api) -> Value {
    expect_json(api.get("/openapi.json").await, StatusCode::OK).await
}

/// Every operation of `doc`, by path and then method.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths object in the document"));
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            let spec = &item[method.as_str().to_lowercase()];
            if spec.is_object() {
                operations.push(Operation {
                    method,
                    path: path.clone(),
                    spec: spec.clone(),
                });
            }
        }
    }
    assert!(!operations.is_empty(), "the document lists no operation");
    operations
}

/// `value` with the keys of every object in sorted order, whatever map type
/// serde_json was built with (its `preserve_order` feature keeps insertion
/// order, which another crate in the build could switch on).
pub fn sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted_keys(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

/// The text a snapshot of `doc` holds: sorted keys, pretty-printed, one
/// trailing newline.
pub fn snapshot_text(doc: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted_keys(doc)).unwrap();
    text.push('\n');
    text
}

/// What differs between two documents, one line per change: `+`/`-` for an
/// operation, schema or top-level entry that `new` adds or removes, `~` for
/// one it changes (with the fields that differ).
pub fn changes(old: &Value, new: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let ops = |doc: &Value| -> Vec<(String, Value)> {
        if doc["paths"].is_object() {
            operations(doc)
                .into_iter()
                .map(|op| (op.name(), op.spec))
                .collect()
        } else {
            Vec::new()
        }
    };
    diff_entries(&mut lines, &ops(old), &ops(new));
    // Path-level fields beside the operations (e.g. shared parameters).
    let path_fields = |doc: &Value| -> Vec<(String, Value)> {
        let mut fields = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (key, value) in item.as_object().into_iter().flatten() {
                let is_method = METHODS.iter().any(|m| m.as_str().eq_ignore_ascii_case(key));
                if !is_method {
                    fields.push((format!("paths.{path}.{key}"), value.clone()));
                }
            }
        }
        fields
    };
    diff_entries(&mut lines, &path_fields(old), &path_fields(new));
    let components = |doc: &Value| -> Vec<(String, Value)> {
        let mut entries = Vec::new();
        for (kind, group) in doc["components"].as_object().into_iter().flatten() {
            for (name, value) in group.as_object().into_iter().flatten() {
                entries.push((format!("components.{kind}.{name}"), value.clone()));
            }
        }
        entries
    };
    diff_entries(&mut lines, &components(old), &components(new));
    let top_level = |doc: &Value| -> Vec<(String, Value)> {
        doc.as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| *key != "paths" && *key != "components")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    };
    diff_entries(&mut lines, &top_level(old), &top_level(new));
    lines
}

fn diff_entries(lines: &mut Vec<String>, old: &[(String, Value)], new: &[(String, Value)]) {
    let find = |entries: &[(String, Value)], name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    for (name, value) in new {
        match find(old, name) {
            None => lines.push(format!("+ {name}")),
            Some(before) if before != *value => {
                lines.push(format!("~ {name}{}", changed_fields(&before, value)));
            }
            Some(_) => {}
        }
    }
    for (name, _) in old {
        if find(new, name).is_none() {
            lines.push(format!("- {name}"));
        }
    }
}

/// `: summary, responses`: the fields that differ when both are objects.
fn changed_fields(old: &Value, new: &Value) -> String {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return String::new();
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    let changed: Vec<&str> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(String::as_str)
        .collect();
    format!(": {}", changed.join(", "))
}
