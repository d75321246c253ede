//! Request and response bodies, and turning the item shapes trackers send into [`Item`]s with
//! error messages that name the bad field.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::analysis::{ClassifyResult, Item};

/// `POST /v1/classify` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClassifyRequest {
    /// Items to classify, at most `--max-items-per-request`.
    pub items: Vec<ItemInput>,
}

/// An item: storylens's own shape, a GitHub issue (`number`, `title`, `body`) or a Jira issue
/// (`key`, `fields.summary`, `fields.description`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ItemInput {
    Item(Item),
    GitHub(GitHubIssue),
    Jira(JiraIssue),
}

/// A GitHub issue as the REST API or `gh` returns it (other fields ignored).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct GitHubIssue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
}

/// A Jira issue as the REST API returns it (other fields ignored).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JiraIssue {
    pub key: String,
    pub fields: JiraFields,
}

/// The Jira fields storylens reads.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JiraFields {
    pub summary: String,
    /// Plain text, or an Atlassian document (its text nodes are read).
    pub description: Option<String>,
}

/// The model that answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

/// `POST /v1/classify` response: results in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassifyResponse {
    pub results: Vec<ClassifyResult>,
    pub model: ModelRef,
}

/// `GET /health` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` or `loading`.
    pub status: String,
}

/// Parses a `{"items": [...]}` body.
pub fn parse_items(body: &Value, max_items: usize) -> Result<Vec<Item>, ApiError> {
    let obj = body.as_object().ok_or_else(|| {
        ApiError::InvalidField("body must be a JSON object with an `items` array".into())
    })?;
    let items = obj
        .get("items")
        .ok_or_else(|| ApiError::InvalidField("`items` is missing".into()))?
        .as_array()
        .ok_or_else(|| ApiError::InvalidField("`items` must be an array".into()))?;
    if items.is_empty() {
        return Err(ApiError::InvalidField("`items` is empty".into()));
    }
    if items.len() > max_items {
        return Err(ApiError::TooLarge(format!(
            "{} items in one request; the limit is {max_items} (send several requests, or use /v1/score)",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| parse_item(v, &format!("items[{i}]")))
        .collect()
}

/// Parses one item of any supported shape; `at` names it in errors (`items[3]`, `line 7`).
pub fn parse_item(v: &Value, at: &str) -> Result<Item, ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::InvalidField(format!("{at} must be an object")))?;
    let item = if let Some(fields) = obj.get("fields") {
        let fields = fields
            .as_object()
            .ok_or_else(|| ApiError::InvalidField(format!("{at}.fields must be an object")))?;
        Item {
            id: opt_id(obj.get("key"), &format!("{at}.key"))?,
            title: req_str(fields.get("summary"), &format!("{at}.fields.summary"))?,
            description: fields.get("description").and_then(document_text),
            acceptance_criteria: Vec::new(),
        }
    } else if obj.contains_key("number") && !obj.contains_key("id") || obj.contains_key("body") {
        Item {
            id: opt_id(obj.get("number").or(obj.get("id")), &format!("{at}.number"))?,
            title: req_str(obj.get("title"), &format!("{at}.title"))?,
            description: opt_str(obj.get("body"), &format!("{at}.body"))?,
            acceptance_criteria: Vec::new(),
        }
    } else {
        let criteria = match obj.get("acceptance_criteria") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    c.as_str().map(str::to_string).ok_or_else(|| {
                        ApiError::InvalidField(format!(
                            "{at}.acceptance_criteria[{j}] must be a string"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ApiError::InvalidField(format!(
                    "{at}.acceptance_criteria must be an array of strings"
                )))
            }
        };
        Item {
            id: opt_id(obj.get("id"), &format!("{at}.id"))?,
            title: req_str(obj.get("title").or(obj.get("text")), &format!("{at}.title"))?,
            description: opt_str(obj.get("description"), &format!("{at}.description"))?,
            acceptance_criteria: criteria,
        }
    };
    Ok(item)
}

fn req_str(v: Option<&Value>, at: &str) -> Result<String, ApiError> {
    match v {
        None | Some(Value::Null) => Err(ApiError::InvalidField(format!("{at} is required"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(ApiError::InvalidField(format!("{at} is empty")))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::InvalidField(format!("{at} must be a string"))),
    }
}

fn opt_str(v: Option<&Value>, at: &str) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::InvalidField(format!("{at} must be a string"))),
    }
}

fn opt_id(v: Option<&Value>, at: &str) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::InvalidField(format!(
            "{at} must be a string or a number"
        ))),
    }
}

/// Text of a Jira description: a plain string, or the text nodes of an Atlassian document.
fn document_text(v: &Value) -> Option<String> {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(t)) = o.get("text") {
                    out.push_str(t);
                    out.push(' ');
                }
                if let Some(c) = o.get("content") {
                    walk(c, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => {
            let mut out = String::new();
            walk(v, &mut out);
            Some(out.trim().to_string()).filter(|s| !s.is_empty())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_three_shapes_parse() {
        let body = json!({"items": [
            {"id": "P-1", "title": "Export to CSV", "description": "d", "acceptance_criteria": ["a"]},
            {"number": 42, "title": "Crash on start", "body": "trace"},
            {"key": "J-7", "fields": {"summary": "Upgrade Spring", "description": {"type": "doc", "content": [{"type": "text", "text": "soon"}]}}}
        ]});
        let items = parse_items(&body, 10).unwrap();
        assert_eq!(items[0].id.as_deref(), Some("P-1"));
        assert_eq!(items[0].acceptance_criteria, vec!["a"]);
        assert_eq!(items[1].id.as_deref(), Some("42"));
        assert_eq!(items[1].description.as_deref(), Some("trace"));
        assert_eq!(items[2].id.as_deref(), Some("J-7"));
        assert_eq!(items[2].title, "Upgrade Spring");
        assert_eq!(items[2].description.as_deref(), Some("soon"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_items(&json!({"items": [{"title": "ok"}, {"title": 3}]}), 10).unwrap_err();
        assert_eq!(e.to_string(), "items[1].title must be a string");
        let e = parse_items(&json!({"items": [{"title": "  "}]}), 10).unwrap_err();
        assert_eq!(e.to_string(), "items[0].title is empty");
        let e = parse_items(&json!({"items": [{"key": "A", "fields": {}}]}), 10).unwrap_err();
        assert_eq!(e.to_string(), "items[0].fields.summary is required");
        assert!(matches!(
            parse_items(&json!({"items": [{"title": "a"}, {"title": "b"}]}), 1),
            Err(ApiError::TooLarge(_))
        ));
    }
}
