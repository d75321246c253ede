//! The generator's tokenizer and the rewriter, with the real models.

use std::sync::OnceLock;

use storylens::analysis::rewrite::{RewriteEngine, RewriteOptions, Rewriter, Source};
use storylens::analysis::Item;
use storylens::config::Cli;

fn rewriter() -> &'static Rewriter {
    static R: OnceLock<Rewriter> = OnceLock::new();
    R.get_or_init(|| {
        use clap::Parser;
        let cli = Cli::parse_from(["storylens", "--threads", "1", "rewrite"]);
        cli.model
            .rewriter(RewriteOptions::default())
            .expect("models set up (scripts/fetch-models)")
    })
}

#[test]
fn rebuilt_tokenizer_round_trips_text_exactly() {
    let tok = rewriter().generator().tokenizer();
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
    // Chat markers are single special tokens; digits are split one by one.
    let ids = tok
        .encode("<|im_start|>", false)
        .unwrap()
        .get_ids()
        .to_vec();
    assert_eq!(ids, vec![1]);
    let digits = tok.encode("2024", false).unwrap().get_ids().len();
    assert_eq!(digits, 4);
}

#[test]
fn technical_items_get_well_formed_user_drafts() {
    let re = regex::Regex::new(r"^As an? [^,]+, I want to [^,]+, so that [^,]+\.$").unwrap();
    for (title, task) in [
        (
            "Create a database table for wishlist items",
            "Create a database table for wishlist items",
        ),
        (
            "As a developer, I want to add an index on orders.created_at",
            "Add an index on orders.created_at",
        ),
        (
            "Upgrade the PDF library to v5",
            "Upgrade the PDF library to v5",
        ),
    ] {
        let r = rewriter().rewrite(&Item::from_text(title)).unwrap();
        assert!(re.is_match(&r.story), "malformed: {}", r.story);
        assert_eq!(r.source, Source::Model, "{title}");
        assert_eq!(r.supporting_task, task);
        assert!(!r.role.to_lowercase().contains("developer"), "{}", r.story);
        assert!(!r.acceptance_criteria.is_empty() && r.acceptance_criteria.len() <= 3);
        assert!(r.candidates >= 1);
        if r.verified {
            assert!(r.checks.failed.is_empty());
            assert!(r.checks.story_probability >= 0.8, "{r:?}");
        } else {
            assert!(!r.checks.failed.is_empty());
        }
    }
}

#[test]
fn good_stories_come_back_unchanged_and_bad_input_is_refused() {
    let story = "As a shopper, I want to save items to a wishlist, so that I can buy them later";
    let r = rewriter().rewrite(&Item::from_text(story)).unwrap();
    assert_eq!(r.source, Source::Input);
    assert_eq!(r.story, story);
    assert!(r.note.is_some());

    let err = rewriter().rewrite(&Item::from_text("   ")).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let err = rewriter()
        .rewrite(&Item::from_text(
            "Créer une table pour les articles de la liste de souhaits avec les prix",
        ))
        .unwrap_err();
    assert!(err.to_string().contains("English"), "{err}");
    // Over-long text is cut, not refused.
    let long = format!(
        "Migrate the billing tables {}",
        "and more tables ".repeat(2000)
    );
    let r = rewriter().rewrite(&Item::from_text(long)).unwrap();
    assert!(r.story.starts_with("As "));
}
