//! Unit tests of requests worded as stories.
use super::*;

fn story(line: &str) -> Option<String> {
    request_story(line, "user").map(|d| d.story)
}

#[test]
fn requests_become_the_story_they_ask_for() {
    assert_eq!(
        story("Quick diff should not run in diff editor").as_deref(),
        Some("As a user, I want quick diff not to run in diff editor.")
    );
    assert_eq!(
        story("Provide a way to perform a synchronous render into another root").as_deref(),
        Some("As a user, I want a way to perform a synchronous render into another root.")
    );
    assert_eq!(
        story("Support partial warm-start from pretrained checkpoints").as_deref(),
        Some("As a user, I want support for partial warm-start from pretrained checkpoints.")
    );
    assert_eq!(
        story("Add dark mode to the settings page").as_deref(),
        Some("As a user, I want a dark mode in the settings page.")
    );
    assert_eq!(
        story("Add export to CSV").as_deref(),
        Some("As a user, I want export to CSV.")
    );
    assert_eq!(
        story("Export playlists as CSV").as_deref(),
        Some("As a user, I want to export playlists as CSV.")
    );
    assert_eq!(
        story("[Accessibility] Make Alt+F2 work in notification area").as_deref(),
        Some("As a user, I want Alt+F2 to work in notification area.")
    );
    assert_eq!(
        proposal_decision("RFC: Make Refs Opt-in").as_deref(),
        Some("Decide on the proposal “Make Refs Opt-in”")
    );
    assert_eq!(proposal_decision("Make Refs Opt-in"), None);
    assert_eq!(
        sentence_case("Nicer Formatting of SSR Validation"),
        "nicer formatting of SSR validation"
    );
    assert_eq!(story("Nicer Formatting of SSR Validation"), None);
    assert_eq!(
        story("No way to implement getDerivedStateFromProps").as_deref(),
        Some("As a user, I want a way to implement getDerivedStateFromProps.")
    );
    assert_eq!(
        story("<datalist> support").as_deref(),
        Some("As a user, I want <datalist> support.")
    );
    assert_eq!(
        story("Add undistortImagePoints function").as_deref(),
        Some("As a user, I want an undistortImagePoints function.")
    );
    assert_eq!(
        story("Function similar to grid_sample in torch").as_deref(),
        Some("As a user, I want a function similar to grid_sample in torch.")
    );
    assert_eq!(story("Crash on start with empty profile"), None);
    assert_eq!(story("GPU detection src location"), None);
    assert_eq!(story("Creating an ROI on a live video"), None);
    assert_eq!(
        story("The parameter patternSize behaves unexpected in f()"),
        None
    );
    assert!(names_defect("verificationprogress never reaching 1.0"));
    assert_eq!(story("Difference in predictions on GPU vs CPU"), None);
    assert_eq!(
        story("Support for C++ Builder 11.2").as_deref(),
        Some("As a user, I want support for C++ Builder 11.2.")
    );
    assert_eq!(
        story("rpc: pipe support for submitblock").as_deref(),
        Some("As a user, I want pipe support for submitblock.")
    );
    assert_eq!(
        story("Make possible to get component stack").as_deref(),
        Some("As a user, I want to be able to get component stack.")
    );
    assert_eq!(
        proposal_decision("How about exporting `FromProto` to Python API?").as_deref(),
        Some("Decide on exporting `FromProto` to Python API")
    );
    assert_eq!(story("Balance is 0 after send"), None);
    // A title-cased noun after a verb that may be a noun: the thing wanted (blind round 18).
    assert_eq!(
        story("Rotate Parameter for putText() function").as_deref(),
        Some("As a user, I want a rotate parameter for putText() function.")
    );
    assert_eq!(
        story("Test view output needs a space separator between messages").as_deref(),
        Some("As a user, I want test view output to have a space separator between messages.")
    );
    assert_eq!(
        story("RPC: Allow user to supply weight of external input").as_deref(),
        Some("As a user, I want to supply weight of external input.")
    );
    // A statement of what happens is no want, whatever noun it names.
    assert_eq!(
        story("Tab separator setting refers to the same setting twice"),
        None
    );
    assert_eq!(
        story("bitcoin-cli: Compiled without bdb support (required for legacy wallets)"),
        None
    );
    assert!(
        names_defect("Copy and pasting issues"),
        "a symptom, not a user action"
    );
    assert_eq!(
        wish_story("Smooth scrolling on tabs", "user")
            .map(|d| d.story)
            .as_deref(),
        Some("As a user, I want smooth scrolling on tabs.")
    );
    assert!(wish_story("powershell", "user").is_none());
    // The reporter's courtesy and hedge are not part of the request.
    assert_eq!(
        story("Please add a dark mode toggle to the settings page").as_deref(),
        Some("As a user, I want a dark mode toggle in the settings page.")
    );
    assert_eq!(
        story("[Accessibility] consider adding default keybinding to accept completion").as_deref(),
        Some("As a user, I want a default keybinding to accept completion.")
    );
    // Work on the code is no want, whatever it supports.
    assert_eq!(
        story("Reimplementation of element-wise layers with broadcasting support"),
        None
    );
    assert_eq!(
        work_task("Reimplementation of element-wise layers with broadcasting support").as_deref(),
        Some("Reimplement element-wise layers with broadcasting support")
    );
    assert_eq!(
        proposal_decision("Do you have any plans to add a generic pre-trained model?").as_deref(),
        Some("Decide whether to add a generic pre-trained model")
    );
    // A question, or a verb this wording cannot carry: no story.
    assert_eq!(story("Should we drop Python 3.8?"), None);
    assert_eq!(story("Refactor the parser module"), None);
}

#[test]
fn symptoms_are_told_from_requests() {
    assert!(states_symptom(
        "Notebook list view height changes after toggling the panel"
    ));
    assert!(states_symptom(
        "Balance is 0 after send transaction in testnet"
    ));
    assert!(states_symptom("v_round() works with round to nearest"));
    assert!(!states_symptom("Quick diff should not run in diff editor"));
    assert!(!states_symptom("Add dark mode to settings"));
    assert!(!states_symptom("Dark mode for the settings page"));
}
