//! Findings: for every code, items written by the project that must raise it and items that must
//! not; plus property tests that spans always index the text on character boundaries.

use proptest::prelude::*;

use storylens::analysis::{Analyzer, Item, Terms};
use storylens::model::Scores;

const STORY: Scores = Scores {
    story: 0.9,
    task: 0.1,
};
const TASK: Scores = Scores {
    story: 0.1,
    task: 0.9,
};

fn analyzer() -> Analyzer {
    Analyzer::new(Terms::load(None).unwrap())
}

fn codes(text: &str, scores: Scores, criteria: &[&str]) -> Vec<&'static str> {
    let item = Item {
        title: text.to_string(),
        acceptance_criteria: criteria.iter().map(|c| c.to_string()).collect(),
        ..Item::default()
    };
    analyzer()
        .analyze(&item, scores)
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect()
}

fn check(code: &str, raise: &[(&str, Scores)], clean: &[(&str, Scores)]) {
    assert!(
        raise.len() >= 8 && clean.len() >= 8,
        "at least 8 each way for {code}"
    );
    for (text, s) in raise {
        assert!(
            codes(text, *s, &[]).contains(&code),
            "{code} should be raised by: {text}"
        );
    }
    for (text, s) in clean {
        assert!(
            !codes(text, *s, &[]).contains(&code),
            "{code} should not be raised by: {text}"
        );
    }
}

#[test]
fn disguised_task() {
    check(
        "disguised-task",
        &[
            (
                "As a developer, I want to set up CI for the mobile app",
                TASK,
            ),
            (
                "As a DevOps engineer I need Terraform modules for staging",
                TASK,
            ),
            (
                "As the system, I want to purge expired sessions nightly",
                STORY,
            ),
            (
                "As a sysadmin, I want to install the agent on every server",
                STORY,
            ),
            (
                "As a tester, I want a unit test suite for the parser",
                STORY,
            ),
            (
                "As a team member, I want the beta deployed to the cloud",
                TASK,
            ),
            ("As an admin, I want all backups encrypted at rest", STORY),
            (
                "**As a** developer, **I want** to migrate the orders table",
                TASK,
            ),
            (
                "As a data engineer I would like the ETL pipeline to run hourly",
                TASK,
            ),
        ],
        &[
            ("As a shopper, I want to save items to a wishlist", STORY),
            ("As a patient, I want to book appointments online", STORY),
            (
                "As a developer, I want dates shown in the reader's time zone",
                STORY,
            ),
            ("As an admin, I want to ban spammers from the forum", STORY),
            ("Upgrade Spring to 6.1", TASK),
            ("Set up CI for the mobile app", TASK),
            (
                "As a teacher, I need to see who submitted homework late",
                STORY,
            ),
            ("As a traveller I want my boarding pass offline", STORY),
        ],
    );
}

#[test]
fn system_as_user() {
    check(
        "system-as-user",
        &[
            ("As a system, I want to process data", TASK),
            ("As the System I want to send reminder emails at 9am", STORY),
            ("As the backend, I want to validate tokens", TASK),
            ("As the application, I need to cache user profiles", TASK),
            ("As an API, I want to rate limit clients", TASK),
            ("As the database, I want old rows archived", TASK),
            (
                "As the payment service I want to retry failed charges",
                TASK,
            ),
            ("As a scheduler, I want to run jobs in order", TASK),
        ],
        &[
            (
                "As a system administrator, I want to reset user passwords from the console",
                STORY,
            ),
            ("As a shopper, I want to save items to a wishlist", STORY),
            ("As a service desk agent, I want to see open tickets", STORY),
            (
                "As an app user, I want push notifications for replies",
                STORY,
            ),
            ("As the platform owner, I want monthly usage reports", STORY),
            (
                "As a database administrator, I want a slow query report",
                TASK,
            ),
            ("Process data nightly", TASK),
            ("As a site visitor, I want to read the FAQ", STORY),
        ],
    );
}

#[test]
fn implementation_detail() {
    check(
        "implementation-detail",
        &[
            (
                "As a shopper, I want a wishlist page built using React",
                STORY,
            ),
            ("Show order history from the SQL database", STORY),
            ("Store the reader's theme choice in localStorage", STORY),
            (
                "As a driver I want my route sent via a REST endpoint",
                STORY,
            ),
            (
                "As a manager, I want sales events streamed through Kafka",
                STORY,
            ),
            ("Let users search products with Elasticsearch", STORY),
            ("As a player, I want scores saved in MongoDB", STORY),
            ("Expose the catalogue over GraphQL for customers", STORY),
        ],
        &[
            ("As a shopper, I want to save items to a wishlist", STORY),
            ("Allow users to add reactions to posts", STORY),
            ("Show the rest of the order history on scroll", STORY),
            ("Migrate the orders table to PostgreSQL", TASK),
            ("Upgrade React to 18", TASK),
            ("As a reader, I want larger fonts", STORY),
            ("Cannot pay with PayPal", STORY),
            ("Improve search speed by 50%", STORY),
        ],
    );
}

#[test]
fn missing_role_goal_benefit() {
    check(
        "missing-role",
        &[
            ("I want to export my invoices as PDF", STORY),
            ("I need to reset my password from the app", STORY),
            ("We want to see delivery status on the order page", STORY),
            ("I would like to filter results by price", STORY),
            ("I can sign in with my work account", STORY),
            (
                "I want to get notified when a parcel ships, so that I can plan",
                STORY,
            ),
            ("We need a way to bulk approve timesheets", STORY),
            ("I'd like to compare two plans side by side", STORY),
        ],
        &[
            ("As a shopper, I want to save items", STORY),
            ("As an editor I need to schedule posts", STORY),
            ("Allow users to filter search results", STORY),
            ("Upgrade Spring to 6.1", TASK),
            ("As the finance team, we want invoices emailed", STORY),
            ("Export invoices as PDF", STORY),
            ("As a guest I can browse without an account", STORY),
            ("Cannot pay with PayPal", STORY),
        ],
    );
    check(
        "missing-goal",
        &[
            ("As a shopper", STORY),
            ("As an admin, the user list", STORY),
            ("As a manager, so that I can plan the week", STORY),
            ("As a user, faster pages please", STORY),
            ("As the finance team: invoices", STORY),
            ("As a student, homework reminders", STORY),
            ("As a visitor, a clearer menu", STORY),
            ("As a nurse, shift handover notes", STORY),
        ],
        &[
            ("As a shopper, I want to save items", STORY),
            ("As a nurse, I need to see handover notes", STORY),
            ("As a student I can get homework reminders", STORY),
            ("Upgrade Spring", TASK),
            ("Shift handover notes", STORY),
            ("As a manager I would like weekly plans", STORY),
            ("I want weekly plans", STORY),
            ("As a visitor, I want a clearer menu", STORY),
        ],
    );
    check(
        "missing-benefit",
        &[
            ("As a shopper, I want to save items", STORY),
            ("As a nurse, I need to see handover notes", STORY),
            ("As a student I can get homework reminders", STORY),
            ("As a manager I would like weekly plans", STORY),
            ("I want to export my invoices", STORY),
            ("As a driver, I want my route on the map", STORY),
            ("As an editor, I want to schedule posts", STORY),
            ("As a guest, I want to browse without an account", STORY),
        ],
        &[
            (
                "As a shopper, I want to save items, so that I can buy them later",
                STORY,
            ),
            (
                "As a nurse, I need handover notes in order to start my shift informed",
                STORY,
            ),
            (
                "As a student I can get reminders so I can hand in on time",
                STORY,
            ),
            ("Export invoices as PDF", STORY),
            ("Upgrade Spring", TASK),
            (
                "As a driver, I want my route on the map so that I avoid closures",
                STORY,
            ),
            ("As a shopper", STORY),
            ("Cannot pay with PayPal", STORY),
        ],
    );
}

#[test]
fn vague_benefit() {
    check(
        "vague-benefit",
        &[
            (
                "As a user, I want to export reports, so that it works",
                STORY,
            ),
            ("As a user, I want a search box so that I can use it", STORY),
            ("As an admin, I want audit logs so that it is done", STORY),
            (
                "As a shopper, I want to export invoices so that I can export invoices",
                STORY,
            ),
            ("As a user I want dark mode so that it is better", STORY),
            (
                "As a player, I want a leaderboard so that the leaderboard exists",
                STORY,
            ),
            ("As a user, I want filters, so that everything works", STORY),
            (
                "As a manager, I want a weekly report so that I have it",
                STORY,
            ),
        ],
        &[
            (
                "As a shopper, I want to save items, so that I can buy them later",
                STORY,
            ),
            (
                "As a user, I want dark mode so that reading at night strains my eyes less",
                STORY,
            ),
            (
                "As an admin, I want audit logs so that I can trace who changed prices",
                STORY,
            ),
            (
                "As a manager, I want a weekly report so that I can plan staffing",
                STORY,
            ),
            (
                "As a player, I want a leaderboard so that I can compare with friends",
                STORY,
            ),
            ("As a user, I want to export reports", STORY),
            ("Export reports", STORY),
            (
                "As a nurse, I need handover notes in order to start my shift informed",
                STORY,
            ),
        ],
    );
}

#[test]
fn not_atomic() {
    check(
        "not-atomic",
        &[
            (
                "As a shopper, I want to save items and share my wishlist",
                STORY,
            ),
            (
                "As an admin, I want to create users, delete users and reset passwords",
                STORY,
            ),
            (
                "As a reader I want to bookmark articles or download them",
                STORY,
            ),
            (
                "As a driver, I want to see my route and report delays",
                STORY,
            ),
            (
                "As a teacher, I want to grade homework and also send feedback",
                STORY,
            ),
            ("I want to upload photos, edit captions", STORY),
            (
                "As a user, I want to filter results as well as export them",
                STORY,
            ),
            (
                "As a manager I want to approve timesheets and view overtime",
                STORY,
            ),
        ],
        &[
            ("As a shopper, I want to save items to a wishlist", STORY),
            (
                "As a chef, I want salt and pepper options on recipes",
                STORY,
            ),
            ("As a user, I want black and white printing", STORY),
            (
                "As a driver, I want my route, so that I can see closures and delays",
                STORY,
            ),
            ("Save items and share wishlist", STORY),
            ("As a reader I want articles from friends and family", STORY),
            ("As a teacher I want to grade homework", STORY),
            ("As a manager I want to approve timesheets", STORY),
        ],
    );
}

#[test]
fn technical_acceptance_criteria() {
    let story = "As a shopper, I want to save items, so that I can buy them later";
    let raise = [
        "The log file contains a wishlist_saved entry",
        "The wishlist schema has a created_at column",
        "Running `make test` passes",
        "Code review approved by two developers",
        "The endpoint returns 200",
        "A database table wishlist_items exists",
        "Unit tests cover the save handler",
        "The migration script runs without errors",
    ];
    let clean = [
        "The shopper sees a confirmation after saving",
        "Saved items appear on the wishlist page",
        "The shopper can log in and still see the wishlist",
        "The shopper sees a table of saved items with prices",
        "Removing an item takes one click",
        "The wishlist loads in under a second",
        "A shopper who is signed out is asked to sign in",
        "An empty wishlist shows a hint to add items",
    ];
    for c in raise {
        assert!(
            codes(story, STORY, &[c]).contains(&"technical-acceptance-criteria"),
            "{c}"
        );
    }
    for c in clean {
        assert!(
            !codes(story, STORY, &[c]).contains(&"technical-acceptance-criteria"),
            "{c}"
        );
    }
}

#[test]
fn task_without_story() {
    check(
        "task-without-story",
        &[
            ("Upgrade Spring to 6.1", TASK),
            ("Refactor the billing module", TASK),
            ("Create a database table for wishlist items", TASK),
            ("Set up CI for the mobile app", TASK),
            ("Migrate sessions to Redis", TASK),
            ("Remove jQuery from the admin bundle", TASK),
            ("Spike: evaluate message brokers", TASK),
            ("Add unit tests for the parser", TASK),
        ],
        &[
            (
                "Create a database table for wishlist items (supports SHOP-12)",
                TASK,
            ),
            (
                "Upgrade Spring to 6.1 so that users keep getting security fixes",
                TASK,
            ),
            ("Add an index on orders so users see history faster", TASK),
            ("Refactor checkout, needed for story #412", TASK),
            ("Allow users to filter search results", STORY),
            ("Cannot pay with PayPal", STORY),
            ("Migrate sessions to Redis, part of PAY-77", TASK),
            ("Set up CI, required for the mobile release story", TASK),
        ],
    );
}

#[test]
fn outcome_not_stated() {
    check(
        "outcome-not-stated",
        &[
            ("Fix login bug", STORY),
            ("Fix: export button does nothing on Safari", STORY),
            ("Bugfix - crash when saving a draft", STORY),
            ("Hotfix payment timeout", STORY),
            ("Resolve search error for accented names", STORY),
            ("[Bug] Invoices show the wrong month", STORY),
            ("Fixes broken image upload", STORY),
            ("Patch the password reset flow", TASK),
        ],
        &[
            ("Improve login reliability", STORY),
            ("Make export work on Safari", STORY),
            ("Fixed-price plans for small teams", STORY),
            ("Invoices show the right month", STORY),
            ("Cannot pay with PayPal", STORY),
            ("Allow users to filter search results", STORY),
            ("Upgrade Spring to 6.1", TASK),
            ("As a shopper, I want fixtures listed by date", STORY),
        ],
    );
}

#[test]
fn quality_score_follows_findings() {
    let a = analyzer();
    let good = a.analyze(
        &Item::from_text("As a shopper, I want to save items, so that I can buy them later"),
        STORY,
    );
    assert_eq!(good.quality, 100);
    let bad = a.analyze(
        &Item::from_text("As a system, I want to process data"),
        TASK,
    );
    // system-as-user (error) + disguised-task (error) + missing-benefit (info)
    assert_eq!(bad.quality, 100 - 30 - 30 - 5);
}

#[test]
fn the_template_decides_when_its_role_and_goal_are_clear() {
    let a = analyzer();
    let label =
        |text: &str, scores: Scores| a.analyze(&Item::from_text(text), scores).scores.label();
    // A person using the product, asking for something that names no part of the system (the model
    // said task).
    for text in [
        "As a librarian, I want to reorder my reading list by dragging titles",
        "As a site admin, I want to see who changed a page last",
        "As a camp counselor, I want to print the cabin roster",
    ] {
        assert_eq!(label(text, TASK), storylens::model::Label::Story, "{text}");
    }
    // A maker's role, or a goal that names the system, keeps the model's answer or a task.
    for text in [
        "As a developer, I want to set up the CI server",
        "As a maintainer, I want the release notes generated",
        "As a shopper, I want the orders table indexed",
    ] {
        assert_eq!(label(text, TASK), storylens::model::Label::Task, "{text}");
    }
    assert_eq!(
        label("As a developer, I want to set up the CI server", STORY),
        storylens::model::Label::Task
    );
}

proptest! {
    #[test]
    fn spans_fall_on_char_boundaries(
        prefix in "(As an? |As the |\\*\\*As a\\*\\* |I want |)",
        body in "\\PC{0,80}",
        mid in "( I want to | so that | and | using React | in SQL |, )",
        tail in "\\PC{0,40}",
    ) {
        let text = format!("{prefix}{body}{mid}{tail}");
        let a = analyzer();
        for scores in [STORY, TASK] {
            let analysis = a.analyze(&Item::from_text(text.clone()), scores);
            let mut spans: Vec<_> = analysis.findings.iter().filter_map(|f| f.span.clone()).collect();
            if let Some(p) = &analysis.parts {
                spans.extend([p.role.clone(), p.goal.clone(), p.benefit.clone()].into_iter().flatten());
            }
            for s in spans {
                prop_assert!(s.start < s.end && s.end <= text.len());
                prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
                prop_assert_eq!(&text[s.start..s.end], s.text.as_str());
            }
        }
    }
}
