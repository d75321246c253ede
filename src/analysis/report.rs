//! What storylens reports for one classified item, the same in the CLI and over HTTP.

use serde::Serialize;

use super::{Analysis, Finding, StoryParts};
use crate::model::{Label, Scores};

/// The result for one item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClassifyResult {
    /// The item's id, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub label: Label,
    /// Probability of `label`.
    pub confidence: f32,
    pub scores: Scores,
    /// Whether the text was cut to the token limit.
    pub truncated: bool,
    /// Role, goal and benefit with spans, for story-shaped items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<StoryParts>,
    /// Problems found in the item, most severe first.
    pub findings: Vec<Finding>,
    /// 0–100, from the findings.
    pub quality: u8,
}

impl ClassifyResult {
    /// The report of an analysed item: label and scores are the analysis's final ones.
    pub fn new(id: Option<String>, truncated: bool, analysis: Analysis) -> Self {
        let scores = analysis.scores;
        Self {
            id,
            label: scores.label(),
            confidence: scores.confidence(),
            scores,
            truncated,
            parts: analysis.parts,
            findings: analysis.findings,
            quality: analysis.quality,
        }
    }
}
