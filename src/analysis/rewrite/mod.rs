//! Refinement: the honest next step for a backlog item. Every item gets a **disposition**:
//! keep it as a clearly worded task, unwrap a task disguised as a story, tie technical work to
//! the user outcome its own text names, reframe a fix as its outcome, or leave a good story as
//! it is. The disposition comes from a head trained on the project's refinement examples (on
//! the classifier's embedding) together with the classifier's label and the item's form; the
//! wording comes from the item's own text, and every suggested story is checked for grounding
//! before it is answered.

mod asks;
pub mod fake;
pub mod fix;
pub mod grounding;
mod kinds;
pub mod report;
mod requests;
pub mod story;
mod symptoms;
pub mod task;
mod triage;
mod unwrap;
mod validate;
pub mod words;

use std::sync::Arc;

use serde::Serialize;

use super::{Analyzer, Code, Item};
use crate::model::refine_head::RefineHeads;
use crate::model::{Label, Scores};
use crate::service::Scorer;
use crate::Result;

pub use grounding::{Grounding, Profile};
pub use kinds::{Category, Disposition};
pub use validate::{looks_english, validate};

/// What `Rewriter::decide` reads of the item besides the scores.
struct DecideInput<'a> {
    title: &'a str,
    text: &'a str,
    /// The title read as a fix, parsed once per item.
    fix: Option<&'a fix::Fix>,
    category: Category,
}

/// Where the answer's wording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Worded from the item's own text.
    Extracted,
    /// The item is already a good story and comes back unchanged.
    Input,
}

/// What was checked on the answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Checks {
    /// The classifier's probability that the suggested story is a story; null without one.
    pub story_probability: Option<f32>,
    /// Finding codes raised on the item.
    pub findings: Vec<Code>,
    /// The checks the answer failed; empty when verified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// The refinement of one item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rewrite {
    /// The item's id, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The item's text as read.
    pub original: String,
    /// The item's label and its probability, as `/v1/classify` reports them.
    pub label: Label,
    pub confidence: f32,
    /// The honest next step.
    pub disposition: Disposition,
    /// The disposition head's probabilities, by disposition name.
    pub disposition_scores: std::collections::BTreeMap<String, f32>,
    /// The kind of technical work; null for stories.
    pub category: Option<Category>,
    /// The work as an honest imperative task title; null for stories.
    pub task: Option<String>,
    /// One line on why this disposition.
    pub why: String,
    /// The suggested story; null when none is suggested.
    pub story: Option<String>,
    pub role: Option<String>,
    pub goal: Option<String>,
    pub benefit: Option<String>,
    /// The work that supports the story (the task), when a story is suggested.
    pub supporting_task: Option<String>,
    /// Criteria a user can check that test the story.
    pub acceptance_criteria: Vec<String>,
    /// Whether the answer passed every check (a story: grounded, read as a story, no
    /// disqualifying finding).
    pub verified: bool,
    pub checks: Checks,
    /// The grounding check of the suggested story.
    pub grounding: Grounding,
    pub source: Source,
    /// A remark for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Anything that refines items: the real refiner, or a fake in router tests.
pub trait RewriteEngine: Send + Sync + 'static {
    /// Refines one item; `profile` overrides the engine's own. Heavy: call it off the async
    /// runtime.
    fn rewrite(&self, item: &Item, profile: Option<&Profile>) -> Result<Rewrite>;
}

/// Finding codes that disqualify a suggested story.
const DISQUALIFYING: [Code; 3] = [
    Code::ImplementationDetail,
    Code::DisguisedTask,
    Code::SystemAsUser,
];

/// A story label below this probability may be overruled by the refinement head.
pub const DOUBT_BELOW: f32 = 0.9;
/// The refinement head overrules a doubtful story label when it gives `already-story` less
/// than this.
pub const HEAD_DOUBTS: f32 = 0.2;

/// Least classifier story probability a suggested story must get.
pub const MIN_STORY_PROBABILITY: f32 = 0.5;

/// The refiner: the scoring core, refinement heads and an optional product profile.
pub struct Rewriter {
    /// Every classification the refiner needs (the item's, each drafted story's) goes through
    /// the core: the same text policy, cache, queue and findings as `/v1/classify`.
    scorer: Arc<Scorer>,
    heads: RefineHeads,
    profile: Option<Profile>,
}

impl Rewriter {
    /// A refiner classifying through `scorer`, whose batcher must be running.
    pub fn new(scorer: Arc<Scorer>, heads: RefineHeads, profile: Option<Profile>) -> Self {
        Self {
            scorer,
            heads,
            profile,
        }
    }

    /// The scoring core, for callers that also classify (so the model is loaded once).
    pub fn scorer(&self) -> &Arc<Scorer> {
        &self.scorer
    }

    fn analyzer(&self) -> &Analyzer {
        self.scorer.analyzer()
    }

    /// The disposition from the heads' probabilities, the label and the item's form: the label
    /// decides story or task (so refinement never contradicts classification), the template
    /// form decides unwrap, and the head decides among the rest.
    fn decide(
        &self,
        scores: Scores,
        template: bool,
        probs: &[f32],
        item: &DecideInput,
    ) -> Disposition {
        let p = |d: Disposition| probs[d.index()];
        // A speed outcome a user feels ("Make rescans faster") is told as an outcome story when
        // the head reads the item as technical work with an outcome, or the item names a speed
        // gain on a part that is not the team's own tooling.
        let speed_outcome = !template
            && !item.category.is_internal()
            && story::outcome_story(item.text, "user").is_some()
            && story::is_speed_title(item.title);
        // The classifier decides story or task, except where it is unsure and the refinement
        // head, trained on the refinement examples, is sure the item is technical work, or where
        // the title is framed as a code change ("fix: …").
        let doubted = (scores.story < DOUBT_BELOW && p(Disposition::AlreadyStory) < HEAD_DOUBTS)
            || task::is_work_framed(item.title);
        if scores.label() == Label::Story && !doubted {
            let outcome_first = scores.story < DOUBT_BELOW
                && p(Disposition::OutcomeStory) > p(Disposition::AlreadyStory);
            return if outcome_first && speed_outcome {
                Disposition::OutcomeStory
            } else {
                Disposition::AlreadyStory
            };
        }
        if template {
            return Disposition::Unwrap;
        }
        if speed_outcome {
            return Disposition::OutcomeStory;
        }
        let mut best = Disposition::KeepTask;
        for d in [Disposition::OutcomeStory, Disposition::Reframe] {
            if p(d) > p(best) {
                best = d;
            }
        }
        // A reframe needs a fix to reframe, of a part the product's users rely on.
        if best == Disposition::Reframe && (item.category.is_internal() || item.fix.is_none()) {
            return Disposition::KeepTask;
        }
        best
    }

    /// The checks a drafted story must pass. `inherited` are findings the item itself already
    /// has: a bug's outcome title ("Shallow renderer supports React.memo") is not refused for
    /// naming the same code part its report named. `min_story` is the story probability the
    /// draft needs.
    fn story_checks(
        &self,
        draft: &story::StoryDraft,
        text: &str,
        profile: Option<&Profile>,
        inherited: &[Code],
        min_story: f32,
    ) -> Result<(Grounding, Option<f32>, Vec<String>)> {
        let parts: Vec<&str> = [&draft.role, &draft.goal, &draft.benefit]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let parts = if parts.is_empty() {
            vec![draft.story.as_str()]
        } else {
            parts
        };
        let g = grounding::check(&parts, text, profile);
        let mut failed = Vec::new();
        if !g.is_grounded() {
            failed.push(format!(
                "not grounded in the item: {}",
                g.unsupported.join(", ")
            ));
        }
        let a = self
            .scorer
            .score_blocking(&[Item::from_text(&draft.story)])?
            .results
            .remove(0)?
            .analysis;
        let p = a.scores.story;
        if p < min_story {
            failed.push(format!("story probability {p:.2} < {min_story:.2}"));
        }
        for f in a
            .findings
            .iter()
            .filter(|f| DISQUALIFYING.contains(&f.code) && !inherited.contains(&f.code))
        {
            failed.push(format!("finding {}", f.code.as_str()));
        }
        if draft
            .role
            .as_deref()
            .is_some_and(|r| self.analyzer().is_builder_role(r))
        {
            failed.push("the role builds or runs the system".into());
        }
        Ok((g, Some(p), failed))
    }
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

impl RewriteEngine for Rewriter {
    fn rewrite(&self, item: &Item, profile: Option<&Profile>) -> Result<Rewrite> {
        let text = validate(item)?;
        let profile = profile.or(self.profile.as_ref());
        let scored = self
            .scorer
            .score_features_blocking(std::slice::from_ref(item))?
            .results
            .remove(0)?;
        let features = scored
            .features
            .ok_or_else(|| crate::Error::Internal("the queue returned no features".into()))?;
        let analysis = scored.analysis;
        let label = analysis.scores.label();
        let dprobs = self.heads.disposition.probabilities(&features);
        let cprobs = self.heads.category.probabilities(&features);
        let parts = analysis.parts.clone().unwrap_or_default();
        let template = parts.role.is_some() && parts.goal.is_some();
        let category = Category::named_in(&item.title).unwrap_or(Category::ALL[argmax(&cprobs)]);
        let report = report::report(&item.title).filter(|_| !template);
        let fix = fix::reframe(&item.title);
        let disposition = self.decide(
            analysis.scores,
            template,
            &dprobs,
            &DecideInput {
                title: &item.title,
                text: &text,
                fix: fix.as_ref(),
                category,
            },
        );
        // A story-labelled how-to question or failure of the team's own build or code is work,
        // not a capability: answered as the docs or fix task it is.
        let (disposition, category, why) = match (&report, disposition) {
            (Some(report::Report::HowTo(_)), Disposition::AlreadyStory | Disposition::KeepTask) => (
                Disposition::KeepTask,
                Category::Docs,
                Some("A user's question on how to use it: answer it, and write the answer into the docs; it asks for no new behaviour."),
            ),
            (Some(report::Report::OwnFailure { build }), Disposition::AlreadyStory) => (
                Disposition::KeepTask,
                if *build { Category::BuildCi } else { Category::Fix },
                Some(if *build {
                    "A failure of the project's own build; fixing it is the team's work, so it is a task."
                } else {
                    "A failure in the team's own code (a named source or test file); fixing it is a task."
                }),
            ),
            (Some(report::Report::Unsupported(_)), Disposition::AlreadyStory) => (
                Disposition::KeepTask,
                Category::Dependency,
                Some("A dependency version the project does not support yet; supporting it is the team's work, so it is a task."),
            ),
            (Some(report::Report::OwnWork), Disposition::AlreadyStory) => (
                Disposition::KeepTask,
                if category.is_internal() { category } else { Category::Other },
                Some("A change to the team's own code or tests, written as the change; keep it as a task."),
            ),
            _ => (disposition, category, None),
        };
        // The classifier read it as a story and the head as an outcome, but no outcome can be
        // worded from its text: it is answered as the story it asks for ("Change the keybinding
        // for screen reader users"), not as a task that "names no outcome".
        let disposition = if disposition == Disposition::OutcomeStory
            && label == Label::Story
            && story::outcome_story(&text, "user").is_none()
        {
            Disposition::AlreadyStory
        } else {
            disposition
        };
        let findings: Vec<Code> = analysis.findings.iter().map(|f| f.code).collect();
        let disposition_scores = Disposition::ALL
            .iter()
            .map(|d| (d.as_str().to_string(), dprobs[d.index()]))
            .collect();
        let mut out = Rewrite {
            id: item.id.clone(),
            original: text.clone(),
            label,
            confidence: analysis.scores.confidence(),
            disposition,
            disposition_scores,
            category: None,
            task: None,
            why: String::new(),
            story: None,
            role: None,
            goal: None,
            benefit: None,
            supporting_task: None,
            acceptance_criteria: Vec::new(),
            verified: true,
            checks: Checks {
                story_probability: None,
                findings,
                failed: Vec::new(),
            },
            grounding: Grounding::default(),
            source: Source::Extracted,
            note: None,
        };
        if disposition == Disposition::AlreadyStory {
            out.why = if template && out.checks.findings.contains(&Code::MissingBenefit) {
                "It states what a user wants; keep it as a story, and add the benefit (\"so that …\") before refinement.".into()
            } else if template {
                "It states value a user sees; keep it as a story.".into()
            } else {
                // A request in a tracker's words ("XLA tf.bincount support") is a story by what
                // users get, but not yet written as one.
                "It asks for something users see, so it is a story; before refinement, write who wants it and what they gain.".into()
            };
            out.source = Source::Input;
            let first_line = item.title.lines().next().unwrap_or("").trim();
            out.story = Some(asks::without_kind_tag(first_line).to_string());
            let get = |s: &Option<super::Span>| s.as_ref().map(|s| s.text.clone());
            (out.role, out.goal, out.benefit) =
                (get(&parts.role), get(&parts.goal), get(&parts.benefit));
            out.acceptance_criteria = item.acceptance_criteria.clone();
            out.checks.story_probability = Some(analysis.scores.story);
            if !out.checks.findings.is_empty() {
                out.note = Some("a story; see its findings for what to improve".into());
            }
            // A user's bug report is a story by its label; below, unless it is a person's story
            // in the template, it is answered as its fix.
            if report == Some(report::Report::Bug) {
                out.why = "A problem users hit, so it stays a story; retitle it as the behaviour users should see, not the symptom.".into();
                out.note = Some("a bug report: state the outcome users expect".into());
            }
            let triage = triage::triage(first_line);
            let template = template || triage::opens_as_template(first_line);
            if !template && (!triage::described(item) || triage::untitled(first_line)) {
                if let Some((why, task)) = triage {
                    out.answer_as_task(Disposition::KeepTask, Category::Other, task, why);
                    out.note = Some("too little to refine: ask the reporter".into());
                    out.source = Source::Extracted;
                    return Ok(out);
                }
            }
            if !template {
                let bug = report == Some(report::Report::Bug);
                self.reword_report(&mut out, item, &text, profile, bug, triage.is_some())?;
            }
            return Ok(out);
        }
        out.category = Some(category);
        let title = match &report {
            Some(report::Report::HowTo(task) | report::Report::Unsupported(task))
                if disposition == Disposition::KeepTask =>
            {
                task.clone()
            }
            // A reported problem, or a symptom the category head calls a fix ("restoring
            // checkpoint loads weights partially"), is worded as the fix.
            _ if category == Category::Fix
                || matches!(
                    report,
                    Some(report::Report::Bug | report::Report::OwnFailure { .. })
                ) =>
            {
                task::as_fix(task::task_title(&item.title, category))
            }
            _ => task::task_title(&item.title, category),
        };
        out.task = Some(title.clone());
        let item_role = parts
            .role
            .as_ref()
            .map(|r| r.text.as_str())
            .filter(|r| !self.analyzer().is_builder_role(r));
        let role = story::story_role(item_role, profile.and_then(Profile::persona));
        let draft = match disposition {
            Disposition::OutcomeStory => story::outcome_story(&text, &role),
            Disposition::Reframe => match &fix {
                Some(fix::Fix::Outcome(d)) => Some(d.clone()),
                _ => None,
            },
            Disposition::Unwrap => parts
                .benefit
                .as_ref()
                .filter(|b| self.benefit_is_for_users(&b.text, item_role.is_some()))
                .and_then(|b| story::benefit_story(&b.text, &role)),
            _ => None,
        };
        let mut told = None;
        if let Some(d) = draft {
            let (g, p, failed) =
                self.story_checks(&d, &text, profile, &[], MIN_STORY_PROBABILITY)?;
            out.grounding = g;
            out.checks.story_probability = p;
            if failed.is_empty() {
                let work = task::without_purpose(&title);
                out.task = Some(work.clone());
                out.supporting_task = Some(work);
                out.story = Some(d.story);
                (out.role, out.goal, out.benefit) = (d.role, d.goal, d.benefit);
                out.acceptance_criteria = d
                    .acceptance_criteria
                    .into_iter()
                    .filter(|c| self.analyzer().criterion_is_observable(c))
                    .take(3)
                    .collect();
            } else {
                out.checks.failed = failed;
                told = Some("a story was drafted but failed its checks, so none is suggested");
            }
        }
        // An outcome with no story to show is answered as what it then is: a task. A reframe
        // stays one: the fix is of a part users rely on, even when its words state no outcome.
        let hinted = out.story.is_none() && out.disposition == Disposition::OutcomeStory;
        if hinted {
            out.disposition = Disposition::KeepTask;
            told = told.or(Some(
                "its text hints at a user outcome, but no story could be worded from its own words; tie the task to the story it serves",
            ));
        }
        out.verified = out.checks.failed.is_empty();
        out.note = told.map(str::to_string);
        if label == Label::Story {
            out.note = Some(match report {
                Some(report::Report::HowTo(_)) => "a user's question, not a capability".into(),
                Some(
                    report::Report::OwnFailure { .. }
                    | report::Report::OwnWork
                    | report::Report::Unsupported(_),
                ) => {
                    "reported like a user's problem, but it is the team's own build or code".into()
                }
                _ => "worded much like a story, but it reads as technical work".into(),
            });
        }
        out.why = if let Some(why) = why {
            why.to_string()
        } else {
            match (out.disposition, out.story.is_some()) {
            (Disposition::Unwrap, true) => {
                "A task in the story template; its benefit names an outcome users see.".into()
            }
            (Disposition::Unwrap, false) => format!(
                "{} written as a story; the work is for the system, not for a user, so it is a task.",
                category.phrase()
            ),
            (Disposition::OutcomeStory, _) => {
                "Technical work whose text names an outcome users see.".into()
            }
            (Disposition::Reframe, true) => {
                "A fix framed as the work; the outcome is what users notice.".into()
            }
            (Disposition::Reframe, false) => match &fix {
                Some(fix::Fix::Part(part)) => format!(
                    "A fix of {part}, which the product's users rely on; write its story as the behaviour they will notice."
                ),
                _ => "A fix of behaviour the product's users rely on; write its story as what they will notice.".into(),
            },
            _ if hinted => format!(
                "{}; it hints at an effect users may notice but states none to promise, so it stays a task.",
                category.phrase()
            ),
            _ => format!(
                "{}; the item names no outcome a user sees, so it stays a task.",
                category.phrase()
            ),
            }
        };
        Ok(out)
    }
}

impl Rewriter {
    /// Whether a disguised template's benefit is about the product's users rather than its
    /// builders: the asker is a user, or the benefit names users; and it names no system part.
    fn benefit_is_for_users(&self, benefit: &str, user_role: bool) -> bool {
        lazy_regex!(
            users_re,
            r"(?i)\b(?:users?|customers?|visitors?|people|members?|shoppers?|players?|the public|citizens?|clients?)\b"
        );
        (user_role || users_re().is_match(benefit)) && !self.analyzer().names_system_part(benefit)
    }
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod tests;
