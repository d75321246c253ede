//! Request and response bodies, and turning the item shapes trackers send into [`Item`]s with
//! error messages that name the bad field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::analysis::{ClassifyResult, Item};

/// `POST /v1/classify` (and `/v1/rewrite`) body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"items": [
    {"id": "P-1", "title": "As a shopper, I want to save items to a wishlist", "acceptance_criteria": ["Saved items survive a log-out"]},
    {"text": "Upgrade the build to the latest toolchain"},
    {"number": 42, "title": "Export button does nothing on Safari", "body": "Clicking it shows no dialog."},
    {"key": "SHOP-7", "fields": {"summary": "Migrate the orders table", "issuetype": {"name": "Task"}, "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Move to the new schema."}]}]}}}
]}))]
pub struct ClassifyRequest {
    /// Items to classify, at most `--max-items-per-request`.
    pub items: Vec<ItemInput>,
}

/// An item in any shape storylens reads (see `storylens::input`): its own, a GitHub issue or a
/// Jira issue; other fields are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ItemInput {
    Jira(JiraIssue),
    GitHub(GitHubIssue),
    Own(OwnItem),
}

/// storylens's own shape: `title` or `text`, optional description and criteria.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OwnItem {
    /// Echoed back.
    #[schema(value_type = Option<String>)]
    pub id: Option<Value>,
    /// The item's title; one of `title` and `text` is required.
    pub title: Option<String>,
    /// The item's text, when it has no separate title.
    pub text: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub acceptance_criteria: Vec<String>,
    /// The tracker's own type (`Story`, `Bug`…), compared with the label.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A GitHub issue as the REST API or `gh` returns it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GitHubIssue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
}

/// A Jira issue as the REST API (Cloud or Data Center) returns it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JiraIssue {
    pub key: String,
    pub fields: JiraFields,
}

/// The Jira fields storylens reads.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JiraFields {
    pub summary: String,
    pub description: Option<JiraText>,
    pub acceptance_criteria: Option<JiraText>,
    pub issuetype: Option<JiraIssueType>,
}

/// Jira text: wiki text (Data Center) or an Atlassian document (Cloud; its text is read).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum JiraText {
    Plain(String),
    Document(AtlassianDocument),
}

/// An Atlassian document (Jira Cloud rich text): its text nodes are read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AtlassianDocument {
    /// `doc`.
    #[serde(rename = "type")]
    pub kind: String,
    pub version: Option<u32>,
    /// Paragraphs, lists and other nodes.
    #[schema(value_type = Vec<Object>)]
    pub content: Vec<Value>,
}

/// A Jira issue type.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JiraIssueType {
    pub name: String,
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
        .map(|(i, v)| {
            crate::input::parse_item(v, &format!("items[{i}]"))
                .map(|input| input.item)
                .map_err(ApiError::InvalidField)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_and_errors_name_the_field() {
        let e = parse_items(&json!({"items": [{"title": "ok"}, {"title": 3}]}), 10).unwrap_err();
        assert_eq!(e.to_string(), "items[1].title must be a string");
        assert!(matches!(
            parse_items(&json!({"items": [{"title": "a"}, {"title": "b"}]}), 1),
            Err(ApiError::TooLarge(_))
        ));
        assert!(parse_items(&json!({"items": []}), 1).is_err());
    }

    /// The published schema types and the parser accept the same documented example.
    #[test]
    fn the_documented_example_parses_both_ways() {
        let schema = <ClassifyRequest as utoipa::PartialSchema>::schema();
        let example = serde_json::to_value(&schema).unwrap()["example"].clone();
        assert!(example["items"].as_array().is_some_and(|a| a.len() == 4));
        let typed: ClassifyRequest = serde_json::from_value(example.clone()).unwrap();
        assert!(matches!(typed.items[0], ItemInput::Own(_)));
        assert!(matches!(typed.items[1], ItemInput::Own(_)));
        assert!(matches!(typed.items[2], ItemInput::GitHub(_)));
        assert!(matches!(typed.items[3], ItemInput::Jira(_)));
        let items = parse_items(&example, 10).unwrap();
        assert_eq!(items[1].title, "Upgrade the build to the latest toolchain");
        assert_eq!(
            items[3].description.as_deref(),
            Some("Move to the new schema.")
        );
    }
}
