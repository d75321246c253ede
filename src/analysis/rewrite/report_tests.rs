//! Unit tests of reading users' reports.
use super::*;

#[test]
fn help_requests_why_questions_and_release_tooling() {
    assert_eq!(
        report("Issues with Running Custom TensorFlow Lite Model in C++"),
        Some(Report::HowTo(
            "Document how to run Custom TensorFlow Lite Model in C++".into()
        ))
    );
    assert_eq!(
        report("Why function as child is not considered as children?"),
        Some(Report::HowTo(
            "Document why function as child is not considered as children".into()
        ))
    );
    assert_eq!(
        report("Need Help with TensorFlow Lite Model Running on GPU - Output Issue"),
        Some(Report::HowTo(
            "Answer the request for help with TensorFlow Lite Model Running on GPU - Output Issue"
                .into()
        ))
    );
    assert_eq!(
        report("Where are the build instructions for opencv 4.6"),
        Some(Report::HowTo(
            "Document the build instructions for opencv 4.6".into()
        ))
    );
    assert_eq!(
        report("Cross compiling ARM64 in Windows x86_64 fails"),
        Some(Report::OwnFailure { build: true })
    );
    assert_eq!(
        report("Choosing `patternSize` parameter in `findChessboardCorners`"),
        Some(Report::HowTo(
            "Document how to choose `patternSize` parameter in `findChessboardCorners`".into()
        ))
    );
    // A problem with a part is a bug report, not a request for help.
    assert!(!matches!(
        report("Issues with the login page"),
        Some(Report::HowTo(_))
    ));
    assert_eq!(
        report(r#"Release process: "does not appear to be a git repository""#),
        Some(Report::OwnFailure { build: true })
    );
}

#[test]
fn bare_names_and_questions_are_too_little() {
    assert!(too_little("music store database").is_some());
    assert!(too_little("Bug in CodeSpace").is_some());
    assert!(too_little("Add accessible view hint").is_none());
    assert!(too_little("Option to prevent sleep").is_none());
    assert!(too_little("Debug stop button doesn't work after restarting session").is_none());
    assert!(too_little("SSH/DevContainer Port Forwarding broken").is_none());
    assert!(too_little("RFE tensorflow-aarch64==2.6.0 build ?").is_none());
    assert!(names_error("Invalid work group size"));
    // "Error handling" is work to do, not an error someone hit.
    assert!(!names_error("Error handling"));
    assert!(too_little("Background theme").is_some());
}

#[test]
fn questions_failures_and_bugs() {
    assert_eq!(
        report("How to find accuracy of a pretrained tflite model"),
        Some(Report::HowTo(
            "Document how to find accuracy of a pretrained tflite model".into()
        ))
    );
    assert_eq!(
        report("How can I profile inference with the profiler?"),
        Some(Report::HowTo(
            "Document how to profile inference with the profiler".into()
        ))
    );
    assert_eq!(
        report("Question: is there any way to export the timings?"),
        Some(Report::HowTo("Document how to export the timings".into()))
    );
    for t in [
        "Android NDK 23b LTS Compile Error",
        "[MSVC] build failed due to fs.h: error C2039",
        "Ubuntu Jammy can't compile fuzz tests with libc++?",
    ] {
        assert_eq!(report(t), Some(Report::OwnFailure { build: true }), "{t}");
    }
    for t in [
        "wallet_taproot.py fails with \"Insufficient funds\"",
        "miniscript_stable fuzz timeout",
        "p2p_permissions intermittent timeout",
        "dnn: wrong results in test case Test_layers.head",
    ] {
        assert_eq!(report(t), Some(Report::OwnFailure { build: false }), "{t}");
    }
    assert_eq!(
        report("What's the difference between sync mode and the old reconciler? Why?"),
        Some(Report::HowTo(
            "Document the difference between sync mode and the old reconciler".into()
        ))
    );
    for t in [
        "[DevTools Bug] Cannot add child because parent node was not found",
        "Updater wastes large amount of disk space logging",
        "icon aria label isn't updated",
    ] {
        assert_eq!(report(t), Some(Report::Bug), "{t}");
    }
    assert_eq!(
        report("Why does the extension need access to history?"),
        Some(Report::HowTo(
            "Document why the extension needs access to history".into()
        ))
    );
    assert_eq!(
        report("Missing jsdoc for `EnvCollection`"),
        Some(Report::HowTo("Add jsdoc for `EnvCollection`".into()))
    );
    assert_eq!(
        report("p2p_disconnect intermittent issue"),
        Some(Report::OwnFailure { build: false })
    );
    assert_eq!(
        report("error: 'Mutex' in namespace 'cv' does not name a type"),
        Some(Report::OwnFailure { build: true })
    );
    for (t, task) in [
        (
            "Question: I have nice widgets. is there a way to use them in an app?",
            "Document how to use them in an app",
        ),
        (
            "What are the requirements for the capture URL?",
            "Document the requirements for the capture URL",
        ),
        (
            "Does the engine support the N100 processor",
            "Document whether the engine supports the N100 processor",
        ),
        (
            "Correct way to implement a loop over tensors",
            "Document the correct way to implement a loop over tensors",
        ),
    ] {
        assert_eq!(report(t), Some(Report::HowTo(task.into())), "{t}");
    }
    assert_eq!(
        report("Rate limits for `ping` RPC\nWhat are the rate limits for the ping RPC?"),
        Some(Report::HowTo("Document rate limits for `ping` RPC".into()))
    );
    // Any other question is answered; a proposal or a failure asked about is not.
    assert_eq!(
        report("tf.keras.metrics.Precision treats label as binary?"),
        Some(Report::HowTo(
            "Answer the question “tf.keras.metrics.Precision treats label as binary?”".into()
        ))
    );
    assert_eq!(report("Should we drop Python 3.8?"), None);
    assert_eq!(report("How about exporting `FromProto` to Python?"), None);
    assert_eq!(
        report("What is the final result of distributed training？"),
        Some(Report::HowTo(
            "Document the final result of distributed training".into()
        ))
    );
    assert_eq!(
        report("libcore.a is referenced by DSO?\n[100%] Linking CXX executable sample2"),
        Some(Report::OwnFailure { build: true })
    );
    assert_eq!(
        report("Slow export\nWhat is going on with the export?"),
        None
    );
    assert_eq!(
        report("How do suspense and subscriptions interact?"),
        Some(Report::HowTo(
            "Document how suspense and subscriptions interact".into()
        ))
    );
    assert_eq!(
        report("protobuf 4 is not supported"),
        Some(Report::Unsupported("Support protobuf 4".into()))
    );
    assert_eq!(
        report("How do I export a report?"),
        Some(Report::HowTo("Document how to export a report".into()))
    );
    assert_eq!(
        report("added argument to print notice in `selector.cpp`"),
        Some(Report::OwnWork)
    );
    assert_eq!(
        report("fuzz: call the parser from a C++ file"),
        Some(Report::OwnWork)
    );
    assert_eq!(report("Add an option to create taproot descriptors"), None);
    assert_eq!(report("As a user, I want to filter results"), None);
}

#[test]
fn fix_tasks() {
    assert_eq!(
        fix_task("Android NDK 23b LTS Compile Error"),
        "Fix Android NDK 23b LTS Compile Error"
    );
    assert_eq!(
        fix_task("RNG generators make python abort in python3.11"),
        "Fix: RNG generators make python abort in python3.11"
    );
    assert_eq!(
        fix_task("OpenCL FP16 tests are broken (MatMul_init_bcast)"),
        "Fix the broken OpenCL FP16 tests (MatMul_init_bcast)"
    );
    assert_eq!(fix_task("Exports are broken"), "Fix the broken exports");
    assert_eq!(
        fix_task("OpenCV 4.5.5 not building with OpenVINO 2021.4"),
        "Fix the build of OpenCV 4.5.5 with OpenVINO 2021.4"
    );
}
