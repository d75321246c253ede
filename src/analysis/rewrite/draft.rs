//! The deterministic parts of a rewrite: the supporting task, acceptance criteria derived from
//! the story, the template draft used when the model cannot give one, and the input checks.

use super::super::parts;
use super::bank::Example;
use crate::model::generator::capitalise;

/// The original work as an imperative task: a story-template wrapper ("As a developer, I want
/// to …") is removed, tracker prefixes kept, the first letter capitalised.
pub fn supporting_task(title: &str) -> String {
    let text = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let p = parts::parse(&text);
    let core = match (&p.role, &p.goal) {
        (Some(_), Some(goal)) => goal.text.clone(),
        _ => text.clone(),
    };
    let core = core.trim().trim_end_matches(['.', '!']);
    let core = core.strip_prefix("to ").unwrap_or(core);
    capitalise(core)
}

/// First-person words of a goal turned to third person, for criteria about "the ‹role›".
fn third_person(goal: &str) -> String {
    goal.split(' ')
        .map(|w| match w {
            "my" => "their",
            "I" | "we" => "they",
            "me" | "us" => "them",
            "our" => "their",
            "myself" => "themselves",
            "I'm" => "they're",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Criteria a user can observe, from the drafted parts: that the role can do what the goal says,
/// and, when the goal is about seeing or getting something, that it shows.
pub fn acceptance_criteria(role: &str, goal: &str) -> Vec<String> {
    let goal = third_person(goal.trim());
    let mut out = vec![format!("A {role} can {goal}")];
    let first = goal.split(' ').next().unwrap_or("");
    if matches!(first, "see" | "view" | "find" | "get" | "know" | "track") {
        out.push(format!(
            "The {role} sees the result without asking anyone for help"
        ));
    }
    out
}

/// A draft built from the nearest worked example's person and the item's own work, for when the
/// model gives nothing usable. It is marked `source: template` and never claims to be verified.
pub fn template_draft(title: &str, nearest: Option<&Example>) -> (String, String, String) {
    let role = nearest.map_or("user".to_string(), |e| e.role.clone());
    let work = supporting_task(title);
    let goal = format!("benefit from \"{}\"", work.to_lowercase());
    let benefit = nearest.map_or("the product works better for me".to_string(), |e| {
        e.benefit.clone()
    });
    (role, goal, benefit)
}

/// Whether text reads as English: most letters are ASCII and common English words appear.
/// storylens's models are English-only; other languages get a clear answer instead of nonsense.
pub fn looks_english(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    let ascii = letters.iter().filter(|c| c.is_ascii()).count();
    if (ascii as f32) < 0.8 * letters.len() as f32 {
        return false;
    }
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < 4 {
        return true;
    }
    const FOREIGN: &[&str] = &[
        "der", "die", "das", "und", "nicht", "mit", "für", "le", "les", "des", "une", "pour",
        "avec", "el", "los", "las", "para", "con", "una", "het", "een", "voor", "och", "att",
        "och", "il", "di", "che", "per", "não", "uma", "com",
    ];
    let foreign = words
        .iter()
        .filter(|w| FOREIGN.contains(&w.as_str()))
        .count();
    foreign * 5 < words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supporting_task_unwraps_disguised_templates() {
        assert_eq!(
            supporting_task("As a developer, I want to cache the product feed in Redis."),
            "Cache the product feed in Redis"
        );
        assert_eq!(
            supporting_task("Create a database table for wishlist items"),
            "Create a database table for wishlist items"
        );
    }

    #[test]
    fn criteria_speak_of_the_role() {
        let ac = acceptance_criteria("shopper", "see my order history");
        assert_eq!(ac[0], "A shopper can see their order history");
        assert_eq!(ac.len(), 2);
    }

    #[test]
    fn language_check() {
        assert!(looks_english("Create a database table for wishlist items"));
        assert!(!looks_english(
            "Créer une table pour les articles de la liste de souhaits avec les prix"
        ));
        assert!(!looks_english("ウィッシュリストのテーブルを作成する"));
    }
}
