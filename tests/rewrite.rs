//! Refinement with the real models: dispositions, honest task titles, grounded stories, and
//! the generator's tokenizer.

use std::sync::OnceLock;

use storylens::analysis::rewrite::{Disposition, Profile, RewriteEngine, Rewriter, Source};
use storylens::analysis::Item;
use storylens::config::Cli;

fn rewriter() -> &'static Rewriter {
    static R: OnceLock<Rewriter> = OnceLock::new();
    R.get_or_init(|| {
        use clap::Parser;
        let cli = Cli::parse_from(["storylens", "--threads", "1", "rewrite"]);
        cli.model
            .rewriter(None)
            .expect("models set up (scripts/fetch-models)")
    })
}

fn refine(text: &str) -> storylens::analysis::rewrite::Rewrite {
    rewriter().rewrite(&Item::from_text(text), None).unwrap()
}

#[test]
fn generator_tokenizer_round_trips_text_exactly() {
    use clap::Parser;
    let cli = Cli::parse_from(["storylens", "rewrite"]);
    let generator = storylens::model::generator::Generator::load(
        &cli.model.locations(),
        &candle_core::Device::Cpu,
        &[],
    )
    .expect("generator set up (scripts/fetch-models)");
    let tok = generator.tokenizer();
    let texts = [
        "Create a database table for wishlist items",
        "  leading and trailing spaces  ",
        "Tabs\tand\nnew lines\r\nand CRLF",
        "Unicode: café, naïve, Straße, 東京, emoji 🚀🎉, Ελληνικά",
        "Numbers 1234567890 and v1.0.0-alpha2, orders.created_at",
        "<|im_start|>user\nHello<|im_end|>\n",
        "",
    ];
    for t in texts {
        let enc = tok.encode(t, false).unwrap();
        let back = tok.decode(enc.get_ids(), false).unwrap();
        assert_eq!(back, t, "round trip of {t:?}");
    }
    let ids = tok
        .encode("<|im_start|>", false)
        .unwrap()
        .get_ids()
        .to_vec();
    assert_eq!(ids, vec![1]);
    assert_eq!(tok.encode("2024", false).unwrap().get_ids().len(), 4);
}

#[test]
fn maintenance_stays_a_task_with_an_honest_title() {
    for (text, task) in [
        ("chore: bump eslint to v9", "Bump eslint to v9"),
        (
            "Upgrade the PDF library to v5",
            "Upgrade the PDF library to v5",
        ),
        ("Swich from yarn to pnpm", "Switch from yarn to pnpm"),
        (
            "Replace moment.js with date-fns",
            "Replace moment.js with date-fns",
        ),
    ] {
        let r = refine(text);
        assert_eq!(r.disposition, Disposition::KeepTask, "{text}: {r:?}");
        assert_eq!(r.task.as_deref(), Some(task), "{text}");
        assert!(r.story.is_none(), "{text}: no story for maintenance");
        assert!(r.category.is_some());
        assert!(!r.why.is_empty());
    }
}

#[test]
fn disguised_tasks_are_unwrapped() {
    let r = refine("As a developer, I want to add an index on orders.created_at");
    assert_eq!(r.disposition, Disposition::Unwrap);
    assert_eq!(r.task.as_deref(), Some("Add an index on orders.created_at"));
    assert!(
        r.story.is_none(),
        "a builder's benefit gives no story: {r:?}"
    );
}

#[test]
fn outcome_stories_are_grounded_in_the_item() {
    let r = refine("Lazy-load the charts library to cut the dashboard bundle size");
    assert_eq!(r.disposition, Disposition::OutcomeStory, "{r:?}");
    assert_eq!(
        r.story.as_deref(),
        Some("As a user, I want the dashboard to load faster.")
    );
    assert!(r.grounding.unsupported.is_empty(), "{r:?}");
    assert!(r.verified);
    assert_eq!(
        r.supporting_task.as_deref(),
        Some("Lazy-load the charts library")
    );
    assert_eq!(r.acceptance_criteria.len(), 2);
    // No answer about a date library may speak of travel, whatever its disposition.
    let r = refine("Swap the date library for a smaller one");
    let all = serde_json::to_string(&r).unwrap().to_lowercase();
    assert!(!all.contains("travel") && !all.contains("flight"), "{all}");
    assert!(r.story.is_none(), "{r:?}");
}

#[test]
fn good_stories_come_back_unchanged_and_bad_input_is_refused() {
    let story = "As a shopper, I want to save items to a wishlist, so that I can buy them later";
    let r = refine(story);
    assert_eq!(r.disposition, Disposition::AlreadyStory);
    assert_eq!(r.source, Source::Input);
    assert_eq!(r.story.as_deref(), Some(story));
    assert!(r.task.is_none());

    for bad in [
        "   ",
        "\u{200b}\u{200b}",
        "Créer une table pour les articles de la liste de souhaits avec les prix",
    ] {
        assert!(
            rewriter().rewrite(&Item::from_text(bad), None).is_err(),
            "{bad:?}"
        );
    }
    // Over-long text is cut, not refused.
    let long = format!(
        "Migrate the billing tables {}",
        "and more tables ".repeat(2000)
    );
    let r = refine(&long);
    assert!(r.task.is_some());
}

#[test]
fn a_profile_lends_its_persona() {
    let p = Profile {
        name: "Ledgerly".into(),
        description: "Invoicing for freelancers".into(),
        personas: vec!["freelancer".into()],
        glossary: vec![],
    };
    let r = rewriter()
        .rewrite(
            &Item::from_text("Add a read replica so the invoices page stops timing out"),
            Some(&p),
        )
        .unwrap();
    assert_eq!(r.role.as_deref(), Some("freelancer"), "{r:?}");
    assert_eq!(
        r.story.as_deref(),
        Some("As a freelancer, I want the invoices page to open without timing out.")
    );
    assert_eq!(r.supporting_task.as_deref(), Some("Add a read replica"));
}

#[test]
fn users_reports_are_answered_as_what_they_are() {
    // A how-to question is not a capability: answered, it is docs work.
    let r = refine("How to export a playlist as CSV?");
    assert_eq!(r.disposition, Disposition::KeepTask, "{r:?}");
    assert_eq!(
        r.task.as_deref(),
        Some("Document how to export a playlist as CSV")
    );
    assert!(r.story.is_none());
    // A failure of the project's own build is the team's fix, whatever the classifier reads.
    let r = refine("Windows build fails with linker error LNK2019");
    assert_eq!(r.disposition, Disposition::KeepTask, "{r:?}");
    assert_eq!(
        r.task.as_deref(),
        Some("Fix: Windows build fails with linker error LNK2019")
    );
    // A bug users hit is answered as its fix, not as its negated title given as the story:
    // blind panels kept 78 % of such fixes and 50 % of the negated titles (rounds 14-18).
    for (text, task) in [
        (
            "The export button doesn't work on Safari",
            "Fix: The export button doesn't work on Safari",
        ),
        (
            "TF-lite model with a Conv2DTranspose layer is fail to run on mobile gpu",
            "Fix: TF-lite model with a Conv2DTranspose layer is fail to run on mobile gpu",
        ),
        (
            "configure: error: cannot figure out how to use std::filesystem",
            "Fix the configure error “cannot figure out how to use std::filesystem”",
        ),
    ] {
        let r = refine(text);
        assert_eq!(r.disposition, Disposition::Reframe, "{r:?}");
        assert_eq!(r.task.as_deref(), Some(task), "{text}");
        assert!(r.story.is_none(), "{r:?}");
    }
    // A label alone is no title.
    let r = refine("Bug:");
    assert_eq!(
        r.task.as_deref(),
        Some("Ask the reporter for a title that says what the item is about")
    );
    // A title too bare to act on, or only a runtime's message, is the team's triage.
    for (text, task) in [
        ("Background theme", "Ask the reporter what “Background theme” should do"),
        (
            "TypeError: Cannot convert 0.1 to EagerTensor of dtype int64",
            "Ask the reporter for the steps that raise “TypeError: Cannot convert 0.1 to EagerTensor of dtype int64”",
        ),
    ] {
        let r = refine(text);
        assert_eq!(r.disposition, Disposition::KeepTask, "{r:?}");
        assert_eq!(r.task.as_deref(), Some(task));
        assert!(r.story.is_none());
    }
    // The same thin title with a description that says what happened is acted on, not asked
    // about; a symptom whose words give no outcome is answered as its fix, never unchanged.
    let mut item = Item::from_text("Background theme");
    item.description = Some(
        "After switching to the dark background theme in settings the sidebar text stays black, so it cannot be read at all.".into(),
    );
    let r = rewriter().rewrite(&item, None).unwrap();
    let task = r.task.as_deref().unwrap_or("");
    assert!(!task.starts_with("Ask the reporter"), "{r:?}");
    assert_ne!(r.story.as_deref(), Some("Background theme"), "{r:?}");
    let r = refine("React 16 does not lowercase HTML attributes in generated HTML");
    assert_eq!(r.disposition, Disposition::Reframe, "{r:?}");
    assert_eq!(
        r.task.as_deref(),
        Some("Fix: React 16 does not lowercase HTML attributes in generated HTML")
    );
    assert!(r.story.is_none(), "{r:?}");
    // A proposal is the team's decision; a request in a tracker's words becomes the story it
    // asks for, never its title returned unchanged; a person's template story stays a story.
    let r = refine("RFC: Make Refs Opt-in");
    assert_eq!(r.disposition, Disposition::KeepTask, "{r:?}");
    assert_eq!(
        r.task.as_deref(),
        Some("Decide on the proposal “Make Refs Opt-in”")
    );
    let r = refine("Provide a way to export playlists as CSV");
    assert_eq!(r.disposition, Disposition::AlreadyStory, "{r:?}");
    assert_eq!(
        r.story.as_deref(),
        Some("As a user, I want a way to export playlists as CSV.")
    );
    let text = "As an Archivist, I don't want to overwrite someone else's changes to a record.";
    let r = refine(text);
    assert_eq!(r.disposition, Disposition::AlreadyStory, "{r:?}");
    assert!(r.task.is_none(), "{r:?}");
}
