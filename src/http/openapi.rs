//! The OpenAPI document, generated from the handlers and types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{error, handlers, types};

/// The storylens API.
#[derive(OpenApi)]
#[openapi(
    info(title = "storylens", description = "Tells user stories from technical tasks in agile backlogs."),
    paths(handlers::classify, super::rewrite::rewrite, super::score::score, super::report::report, super::feedback::post, super::feedback::stats, super::webhooks::github, super::jira_hook::jira, handlers::health, handlers::info, handlers::metrics),
    components(schemas(
        types::ClassifyRequest, types::ItemInput, types::GitHubIssue, types::JiraIssue,
        types::JiraFields, types::OwnItem, types::JiraText, types::AtlassianDocument,
        types::JiraIssueType, types::ClassifyResponse, types::ModelRef,
        types::HealthResponse, handlers::InfoResponse, error::ErrorBody,
        super::rewrite::RewriteResponse, crate::analysis::rewrite::Rewrite,
        crate::analysis::rewrite::Checks, crate::analysis::rewrite::Source,
        crate::analysis::rewrite::Disposition, crate::analysis::rewrite::Category,
        crate::analysis::rewrite::Grounding, crate::analysis::rewrite::Profile,
        crate::analysis::Item, crate::analysis::ClassifyResult, crate::analysis::Finding, crate::analysis::Code,
        crate::analysis::Severity, crate::analysis::Span, crate::analysis::StoryParts,
        crate::model::Label, crate::model::Scores, crate::model::ModelInfo,
        super::report::ReportRequest, super::report::ReportFormat,
        crate::backlog::report::Summary, crate::backlog::report::Worst,
        crate::backlog::duplicates::DuplicateGroup, crate::backlog::duplicates::Member,
        crate::store::Feedback, crate::store::Verdict, crate::store::FeedbackStats, crate::store::Acceptance,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
