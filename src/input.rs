//! The one input layer: every item shape storylens accepts (its own items, GitHub issues, Jira
//! issues with Atlassian documents, plain text) becomes an [`Item`] here, for the HTTP routes,
//! `/v1/score`, `classify --input` and the backlog readers alike. Errors name the field.

use serde_json::Value;

use crate::analysis::Item;

/// A parsed item and the tracker's own type for it, when the input says.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub item: Item,
    /// `Story`, `Bug`, `Task`… from the tracker (Jira `issuetype`, a `type` field, a label).
    pub tracker_type: Option<String>,
}

/// Parses one item of any supported shape; `at` names it in errors (`items[3]`, `line 7`).
pub fn parse_item(v: &Value, at: &str) -> Result<Input, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{at} must be an object"))?;
    if let Some(fields) = obj.get("fields") {
        let fields = fields
            .as_object()
            .ok_or_else(|| format!("{at}.fields must be an object"))?;
        let f = |k: &str| format!("{at}.fields.{k}");
        let tracker_type = fields
            .get("issuetype")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        return Ok(Input {
            item: Item {
                id: opt_id(obj.get("key"), &format!("{at}.key"))?,
                title: req_str(fields.get("summary"), &f("summary"))?,
                description: opt_text(fields.get("description"), &f("description"))?,
                acceptance_criteria: criteria(
                    fields.get("acceptance_criteria"),
                    &f("acceptance_criteria"),
                )?,
            },
            tracker_type,
        });
    }
    let (title_key, title) = first(obj, &["title", "text", "summary"]);
    let (desc_key, desc) = first(obj, &["description", "body"]);
    let (id_key, id) = first(obj, &["id", "number", "key"]);
    let labels = obj.get("labels").and_then(Value::as_array).and_then(|ls| {
        ls.iter()
            .filter_map(|l| l.as_str().or_else(|| l.get("name").and_then(Value::as_str)))
            .find(|l| crate::backlog::tracker_label(l).is_some())
            .map(str::to_string)
    });
    let tracker_type = ["type", "issue_type"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str).map(str::to_string))
        .or(labels);
    Ok(Input {
        item: Item {
            id: opt_id(id, &format!("{at}.{id_key}"))?,
            title: req_str(title, &format!("{at}.{title_key}"))?,
            description: opt_text(desc, &format!("{at}.{desc_key}"))?,
            acceptance_criteria: criteria(
                obj.get("acceptance_criteria"),
                &format!("{at}.acceptance_criteria"),
            )?,
        },
        tracker_type,
    })
}

/// The first of `keys` present (not null), and its name; the first name when none is.
fn first<'a>(
    obj: &'a serde_json::Map<String, Value>,
    keys: &[&'static str],
) -> (&'static str, Option<&'a Value>) {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()).map(|v| (*k, Some(v))))
        .unwrap_or((keys[0], None))
}

fn req_str(v: Option<&Value>, at: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Err(format!("{at} is required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{at} is empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{at} must be a string")),
    }
}

/// A plain string, or the text of an Atlassian document.
fn opt_text(v: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(doc @ Value::Object(_)) => Ok(Some(document_text(doc)).filter(|s| !s.is_empty())),
        Some(_) => Err(format!(
            "{at} must be a string or an Atlassian document object"
        )),
    }
}

fn opt_id(v: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("{at} must be a string or a number")),
    }
}

/// Acceptance criteria: an array of strings, or one text (a string or an Atlassian document)
/// with one criterion a line.
fn criteria(v: Option<&Value>, at: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(j, c)| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{at}[{j}] must be a string"))
            })
            .collect(),
        Some(Value::String(s)) => Ok(lines(s)),
        Some(doc @ Value::Object(_)) => Ok(lines(&document_lines(doc))),
        Some(_) => Err(format!(
            "{at} must be an array of strings, a string or an Atlassian document"
        )),
    }
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The text nodes of an Atlassian document, joined by spaces.
pub fn document_text(doc: &Value) -> String {
    document_lines(doc)
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of an Atlassian document, one block (paragraph, list item) a line.
fn document_lines(doc: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(t)) = o.get("text") {
                    out.push_str(t);
                }
                if let Some(c) = o.get("content") {
                    walk(c, out);
                }
                let block = o
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| matches!(t, "paragraph" | "heading" | "listItem"));
                if block && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(doc, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Input, String> {
        parse_item(&v, "items[0]")
    }

    #[test]
    fn every_shape_becomes_the_same_kind_of_item() {
        let own = parse(json!({"id": "P-1", "title": "Export to CSV", "description": "d", "acceptance_criteria": ["a"]})).unwrap();
        assert_eq!(own.item.id.as_deref(), Some("P-1"));
        assert_eq!(own.item.acceptance_criteria, vec!["a"]);
        let text = parse(json!({"text": "Export to CSV"})).unwrap();
        assert_eq!(text.item.title, "Export to CSV");
        let gh = parse(json!({"number": 42, "title": "Crash on start", "body": null, "labels": [{"name": "bug"}, {"name": "enhancement"}]})).unwrap();
        assert_eq!(gh.item.id.as_deref(), Some("42"));
        assert_eq!(gh.item.description, None);
        assert_eq!(gh.tracker_type.as_deref(), Some("enhancement"));
        let jira = parse(json!({"key": "J-7", "fields": {
            "summary": "Upgrade Spring",
            "issuetype": {"name": "Task"},
            "description": {"type": "doc", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "soon"}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "please"}]}]},
            "acceptance_criteria": {"type": "doc", "content": [{"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "builds pass"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "no warnings"}]}]}]}]}
        }}))
        .unwrap();
        assert_eq!(jira.item.id.as_deref(), Some("J-7"));
        assert_eq!(jira.item.description.as_deref(), Some("soon please"));
        assert_eq!(
            jira.item.acceptance_criteria,
            vec!["builds pass", "no warnings"]
        );
        assert_eq!(jira.tracker_type.as_deref(), Some("Task"));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            parse(json!({"title": 3})).unwrap_err(),
            "items[0].title must be a string"
        );
        assert_eq!(
            parse(json!({"text": "  "})).unwrap_err(),
            "items[0].text is empty"
        );
        assert_eq!(
            parse(json!({"key": "A", "fields": {}})).unwrap_err(),
            "items[0].fields.summary is required"
        );
        assert_eq!(
            parse(json!({"title": "a", "acceptance_criteria": [1]})).unwrap_err(),
            "items[0].acceptance_criteria[0] must be a string"
        );
        assert_eq!(
            parse(json!({"number": 1, "title": "a", "body": 5})).unwrap_err(),
            "items[0].body must be a string or an Atlassian document object"
        );
        assert_eq!(parse(json!("x")).unwrap_err(), "items[0] must be an object");
    }
}
