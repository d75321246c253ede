//! Findings: what is wrong with an item, located and explained, with a fix. The checks follow
//! the Quality User Story framework (well-formed, atomic, minimal, uniform) and go beyond it to
//! the pitfalls of technical work written as stories.

use serde::Serialize;

use super::parts::{self, Span, StoryParts};
use super::terms::Terms;
use super::Item;
use crate::model::{Label, Scores};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// The finding codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// Story-shaped, but the work is technical.
    DisguisedTask,
    /// The role is the system itself.
    SystemAsUser,
    /// A story names a technology or implementation choice.
    ImplementationDetail,
    MissingRole,
    MissingGoal,
    MissingBenefit,
    /// The benefit restates the goal or says nothing.
    VagueBenefit,
    /// More than one goal in one item.
    NotAtomic,
    /// An acceptance criterion a user cannot observe.
    TechnicalAcceptanceCriteria,
    /// A technical task that names no user outcome it supports.
    TaskWithoutStory,
    /// A fix phrased as the work instead of the outcome.
    OutcomeNotStated,
}

impl Code {
    /// Every code, for documentation.
    pub const ALL: [Code; 11] = [
        Code::DisguisedTask,
        Code::SystemAsUser,
        Code::ImplementationDetail,
        Code::MissingRole,
        Code::MissingGoal,
        Code::MissingBenefit,
        Code::VagueBenefit,
        Code::NotAtomic,
        Code::TechnicalAcceptanceCriteria,
        Code::TaskWithoutStory,
        Code::OutcomeNotStated,
    ];

    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::DisguisedTask => "disguised-task",
            Code::SystemAsUser => "system-as-user",
            Code::ImplementationDetail => "implementation-detail",
            Code::MissingRole => "missing-role",
            Code::MissingGoal => "missing-goal",
            Code::MissingBenefit => "missing-benefit",
            Code::VagueBenefit => "vague-benefit",
            Code::NotAtomic => "not-atomic",
            Code::TechnicalAcceptanceCriteria => "technical-acceptance-criteria",
            Code::TaskWithoutStory => "task-without-story",
            Code::OutcomeNotStated => "outcome-not-stated",
        }
    }
}

/// One problem with an item.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where in the item's title the problem is, when it has a place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// How to fix it.
    pub suggestion: String,
}

/// Parts, findings and quality score of one item.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Analysis {
    /// The final scores: the model's, unless the item is a task or a story by definition (see
    /// [`Analyzer::analyze`]). Reported by callers as the item's label and scores.
    #[serde(skip)]
    pub scores: Scores,
    /// Story parts, for story-shaped items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<StoryParts>,
    pub findings: Vec<Finding>,
    /// 0–100: 100 minus 30 per error, 15 per warning, 5 per info finding.
    pub quality: u8,
}

lazy_regex!(
    /// Roles that are the system, not a person.
    system_role_re,
    r"(?i)^(?:the\s+|our\s+|an?\s+)?(?:[\w-]+\s+)?(?:system|application|app|backend|back-end|server|service|api|database|db|platform|website|site|bot|scheduler|job|cron|module|software|program|frontend|front-end|microservice|pipeline|engine)$"
);

lazy_regex!(
    /// Roles of people who build or run the system rather than use it.
    technical_role_re,
    r"(?i)\b(?:developer|dev|devops|engineer|programmer|sysadmin|system\s+administrator|systems\s+administrator|administrator|admin|tester|qa|dba|architect|ops|sre|maintainer|operator|team\s+member|infrastructure)\b"
);

lazy_regex!(
    /// Roles that make or run the system. A product's own administrators ("site admin", "camp
    /// administrator") are left out: they use the product's screens like any other user.
    maker_role_re,
    r"(?i)\b(?:developer|dev|devops|engineer|programmer|sysadmin|systems?\s+administrator|tester|qa|dba|architect|ops|sre|maintainer|operator|team\s+member|infrastructure|owner)\b"
);

lazy_regex!(
    /// Goals that are build, infrastructure, data or code work.
    technical_goal_re,
    r"(?i)\b(?:deploy\w*|install\w*|set\s*up|setup|configure|upgrade|migrat\w+|refactor\w*|database|schema|table|index\w*|cache|caching|ci|pipeline|build|server|servers|docker|container\w*|kubernetes|script|scripts|log|logs|logging|backup\w*|encrypt\w*|monitor\w*|test\s+suite|unit\s+tests?|tests|dependenc\w+|framework|library|repository|repo|environment|staging|production|cloud|infrastructure|queue|cron|api|endpoint|codebase|code|debug\w*|crypto|network|node|nodes|data\s+model|domain\s+models?)\b"
);

lazy_regex!(
    fix_re,
    r"(?i)^[\s\[\(]*(?:fix(?:es|ed|ing)?|bug\s*fix|bugfix|hotfix|resolve|repair|patch|debug|bug)[\]\)]?(?:[:\s]+|$)"
);

lazy_regex!(
    vague_benefit_re,
    r"(?i)^(?:(?:I|we|it|this|that|they)\s+(?:can\s+)?(?:works?|is\s+done|is\s+better|is\s+good|is\s+improved|is\s+there|exists?|is\s+available|is\s+implemented|have\s+it|use\s+it|do\s+it|get\s+it|can\s+use\s+it)|it\s+works\s+better|everything\s+works|things\s+work|the\s+feature\s+works|the\s+requirement\s+is\s+met)\b|\b(?:exists?|is\s+there|is\s+available|is\s+implemented|is\s+done|works)\W*$"
);

lazy_regex!(
    technical_criterion_re,
    r"(?i)\b(?:log\s+files?|logs|logged|log\s+entr(?:y|ies)|log\s+messages?|schema|database|db\b|database\s+table|db\s+table|columns?\b|migration|command\s+line|the\s+command|(?:runs?|running)\s+`|make\s+\w+|cli\b|terminal|console\s+output|script|code\s+review|reviewed\s+by|unit\s+tests?|integration\s+tests?|test\s+coverage|coverage|endpoint|http\s+\d{3}|status\s+code|returns\s+\d{3}|json\s+(?:payload|response)|stack\s+trace|sql|commit|merged|pull\s+request|deployed|build\s+passes|pipeline|grep|curl|cron|queue|index\s+is|cache\s+is)"
);

lazy_regex!(
    outcome_link_re,
    r"(?i)\b(?:so\s+that|in\s+order\s+to|so\s+users?|for\s+(?:the\s+)?(?:users?|customers?|shoppers?|members?|players?|patients?|students?|visitors?)|users?\s+(?:can|will|see|get)|enables?|supports?\s+(?:story|#)|needed\s+for|required\s+for|blocks?|part\s+of|story\s*[#:]?\s*[A-Z]*-?\d+|[A-Z]{2,}-\d+|#\d+)"
);

/// The analyser: stateless checks plus the implementation-term list.
#[derive(Clone)]
pub struct Analyzer {
    terms: Terms,
}

impl Analyzer {
    /// An analyser with the given implementation terms.
    pub fn new(terms: Terms) -> Self {
        Self { terms }
    }

    /// Whether `role` is the system itself or a person who builds or runs it, rather than
    /// someone who uses the product.
    pub fn is_builder_role(&self, role: &str) -> bool {
        system_role_re().is_match(role.trim()) || technical_role_re().is_match(role)
    }

    /// A person who uses the product asking, in the template, for something that names no part
    /// of the system ("As a librarian, I want to reorder my reading list by dragging titles"): a
    /// story by definition, whatever the model makes of its domain words.
    fn story_by_definition(&self, parts: &StoryParts) -> bool {
        let (Some(role), Some(goal)) = (&parts.role, &parts.goal) else {
            return false;
        };
        !system_role_re().is_match(role.text.trim())
            && !maker_role_re().is_match(&role.text)
            && !self.names_system_part(&goal.text)
    }

    /// Whether text names a part of the system or engineering work (a table, a server, a
    /// build, an implementation term).
    pub fn names_system_part(&self, text: &str) -> bool {
        technical_goal_re().is_match(text) || self.terms.find(text).is_some()
    }

    /// Whether a user could check `criterion` in the product: it names no implementation term
    /// and needs no log, schema, query or command.
    pub fn criterion_is_observable(&self, criterion: &str) -> bool {
        technical_criterion_re().find(criterion).is_none() && self.terms.find(criterion).is_none()
    }

    /// Analyses an item the classifier has scored.
    ///
    /// An item in the story template whose role is the system, or whose role builds or runs the
    /// system (developer, DevOps, tester, admin…) and whose goal is build, infrastructure or data
    /// work, is a technical task by definition, whatever its wording. The model sees the wording,
    /// so this rule has the last word: the task probability becomes at least
    /// `1 - p(story) * (1 - RULE_WEIGHT)`. The mirror rule: a person who uses the product, asking
    /// for something that names no part of the system, is a story by definition, and the story
    /// probability becomes at least `1 - p(task) * (1 - RULE_WEIGHT)`.
    pub fn analyze(&self, item: &Item, scores: Scores) -> Analysis {
        let text = item.title.as_str();
        let parts = parts::parse(text);
        let scores = if task_by_definition(&parts) {
            let story = scores.story * (1.0 - RULE_WEIGHT);
            Scores {
                story,
                task: 1.0 - story,
            }
        } else if self.story_by_definition(&parts) {
            let task = scores.task * (1.0 - RULE_WEIGHT);
            Scores {
                story: 1.0 - task,
                task,
            }
        } else {
            scores
        };
        let label = scores.label();
        let mut findings = Vec::new();
        if parts.is_story_shaped() {
            self.story_checks(text, &parts, scores, &mut findings);
        } else if label == Label::Task {
            task_checks(item, &mut findings);
        }
        if let Some(m) = fix_re().find(text) {
            let rest = text[m.end()..]
                .trim()
                .trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
            let rest = [
                "bug", "bugs", "issue", "issues", "error", "errors", "problem", "crash",
            ]
            .iter()
            .find_map(|w| rest.strip_suffix(w))
            .unwrap_or(rest)
            .trim();
            findings.push(Finding {
                code: Code::OutcomeNotStated,
                severity: Severity::Info,
                message: "the item names the fix, not the outcome users get".into(),
                span: Span::new(text, m.start(), m.end()),
                suggestion: format!(
                    "state the outcome, e.g. \"Make {} work reliably\" or \"Improve {} reliability\"",
                    if rest.is_empty() { "it" } else { rest },
                    if rest.is_empty() { "its" } else { rest }
                ),
            });
        }
        if label == Label::Story || parts.is_story_shaped() {
            if let Some(span) = self.terms.find(text) {
                if label == Label::Story {
                    findings.push(Finding {
                        code: Code::ImplementationDetail,
                        severity: Severity::Warning,
                        message: format!("the story names an implementation choice: \"{}\"", span.text),
                        span: Some(span),
                        suggestion: "say what the user gets; leave the technology to the team (a sub-task or a note)".into(),
                    });
                }
            }
        }
        for (i, ac) in item.acceptance_criteria.iter().enumerate() {
            if let Some(m) = technical_criterion_re().find(ac) {
                findings.push(Finding {
                    code: Code::TechnicalAcceptanceCriteria,
                    severity: Severity::Warning,
                    message: format!(
                        "acceptance criterion {} checks \"{}\", which a user cannot observe",
                        i + 1,
                        m.as_str()
                    ),
                    span: None,
                    suggestion: "rewrite it as something a user can see or do (\"Given …, when …, then the user sees …\")".into(),
                });
            }
        }
        findings.sort_by_key(|f| f.severity);
        let penalty: u32 = findings
            .iter()
            .map(|f| match f.severity {
                Severity::Error => 30,
                Severity::Warning => 15,
                Severity::Info => 5,
            })
            .sum();
        Analysis {
            scores,
            parts: parts.is_story_shaped().then_some(parts),
            quality: 100u32.saturating_sub(penalty) as u8,
            findings,
        }
    }

    fn story_checks(&self, text: &str, parts: &StoryParts, scores: Scores, out: &mut Vec<Finding>) {
        let role = parts.role.as_ref();
        let goal_text = parts.goal.as_ref().map(|g| g.text.as_str()).unwrap_or("");
        let system_role = role.is_some_and(|r| system_role_re().is_match(&r.text));
        if system_role {
            out.push(Finding {
                code: Code::SystemAsUser,
                severity: Severity::Error,
                message: format!("the role \"{}\" is the system, not a person who uses it", role.map(|r| r.text.as_str()).unwrap_or("")),
                span: role.cloned(),
                suggestion: "name the person who benefits (\"As a shopper …\"), or write it as a technical task".into(),
            });
        }
        if scores.label() == Label::Task || task_by_definition(parts) {
            out.push(Finding {
                code: Code::DisguisedTask,
                severity: Severity::Error,
                message: "written as a story, but the work is technical: no user sees it".into(),
                span: parts.goal.clone().or_else(|| role.cloned()),
                suggestion: "track it as a technical task under the story it enables, or rewrite it around the user outcome".into(),
            });
        } else if scores.task >= SUSPECT_TASK_PROBABILITY {
            out.push(Finding {
                code: Code::DisguisedTask,
                severity: Severity::Warning,
                message: format!(
                    "written as a story, but it reads partly like technical work (task probability {:.2})",
                    scores.task
                ),
                span: parts.goal.clone().or_else(|| role.cloned()),
                suggestion: "check that a user sees the result; if not, track it as a technical task under the story it enables".into(),
            });
        }
        if role.is_none() {
            out.push(Finding {
                code: Code::MissingRole,
                severity: Severity::Warning,
                message: "the story does not say who it is for".into(),
                span: None,
                suggestion: "start with \"As a ‹user›, …\"".into(),
            });
        }
        match &parts.goal {
            None => out.push(Finding {
                code: Code::MissingGoal,
                severity: Severity::Error,
                message: "the story does not say what the user wants".into(),
                span: None,
                suggestion: "add \"I want ‹goal›\"".into(),
            }),
            Some(goal) => {
                if let Some(span) = second_goal(text, goal) {
                    out.push(Finding {
                        code: Code::NotAtomic,
                        severity: Severity::Warning,
                        message: "the story holds more than one goal".into(),
                        span: Some(span),
                        suggestion: "split it into one story per goal".into(),
                    });
                }
            }
        }
        match &parts.benefit {
            None if parts.goal.is_some() => out.push(Finding {
                code: Code::MissingBenefit,
                severity: Severity::Info,
                message: "the story does not say why it matters".into(),
                span: None,
                suggestion: "add \"so that ‹benefit›\"".into(),
            }),
            Some(b) if vague_benefit_re().is_match(&b.text) || restates(goal_text, &b.text) => out.push(Finding {
                code: Code::VagueBenefit,
                severity: Severity::Warning,
                message: "the benefit restates the goal or says nothing".into(),
                span: Some(b.clone()),
                suggestion: "say what changes for the user (time saved, a mistake avoided, a decision made)".into(),
            }),
            _ => {}
        }
    }
}

/// A story-shaped item the model gives at least this task probability is flagged as a possible
/// disguised task even when its label stays `story`: a warning should be more sensitive than the
/// label.
const SUSPECT_TASK_PROBABILITY: f32 = 0.3;

/// How strongly a role-and-goal rule overrides the model's story probability.
const RULE_WEIGHT: f32 = 0.8;

/// "As the system …", or a technical role asking for technical work.
fn task_by_definition(parts: &StoryParts) -> bool {
    let Some(role) = &parts.role else {
        return false;
    };
    let goal = parts.goal.as_ref().map(|g| g.text.as_str()).unwrap_or("");
    system_role_re().is_match(&role.text)
        || (technical_role_re().is_match(&role.text) && technical_goal_re().is_match(goal))
}

fn task_checks(item: &Item, out: &mut Vec<Finding>) {
    let all = format!(
        "{}\n{}",
        item.title,
        item.description.as_deref().unwrap_or("")
    );
    if !outcome_link_re().is_match(&all) {
        out.push(Finding {
            code: Code::TaskWithoutStory,
            severity: Severity::Info,
            message: "a technical task that names no user outcome it supports".into(),
            span: None,
            suggestion: "link it to the story it enables, or say which user outcome it protects"
                .into(),
        });
    }
}

lazy_regex!(
    /// A second goal's joint: "and"/"or"/a comma followed by a verb-like word.
    second_goal_re,
    r"(?i)(?:,\s*(?:and\s+|or\s+)?|\s+and\s+(?:also\s+)?|\s+or\s+|\s+as\s+well\s+as\s+)(?:to\s+)?(?:add|allow|be\s+able\s+to|browse|cancel|change|check|choose|create|delete|download|edit|export|filter|find|get|import|invite|manage|modify|print|receive|remove|see|search|select|send|share|sort|submit|track|update|upload|view|pay|book|save|set|sign|log|rate|review|report|reset|compare|display|show|list|access|assign|approve|archive)\b"
);

/// A second goal joined by "and"/"or"/a comma, where both sides start with a verb-like word.
fn second_goal(text: &str, goal: &Span) -> Option<Span> {
    let re = second_goal_re();
    let g = &text[goal.start..goal.end];
    re.find(g)
        .and_then(|m| Span::new(text, goal.start + m.start(), goal.end))
}

/// Whether the benefit mostly repeats the goal's words.
fn restates(goal: &str, benefit: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 3)
            .map(str::to_lowercase)
            .collect()
    };
    let g = words(goal);
    let b = words(benefit);
    if b.is_empty() {
        return true;
    }
    let shared = b.iter().filter(|w| g.contains(w)).count();
    shared * 10 >= b.len() * 8
}
