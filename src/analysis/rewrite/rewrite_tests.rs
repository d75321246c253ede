//! Unit tests of `mod.rs` (the rewriter).
use super::*;

#[test]
fn language_and_letters() {
    assert!(looks_english("Create a database table for wishlist items"));
    assert!(!looks_english(
        "Créer une table pour les articles de la liste de souhaits avec les prix"
    ));
    assert!(!looks_english("ウィッシュリストのテーブルを作成する"));
    assert!(validate(&Item::from_text("\u{200b}\u{200b}")).is_err());
    assert!(validate(&Item::from_text("\0\0\0")).is_err());
    assert!(validate(&Item::from_text("   ")).is_err());
}

#[test]
fn names_round_trip() {
    for d in Disposition::ALL {
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j.trim_matches('"'), d.as_str());
    }
    for c in Category::ALL {
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j.trim_matches('"'), c.as_str());
    }
}
