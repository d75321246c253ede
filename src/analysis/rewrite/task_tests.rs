//! Unit tests of `task.rs`.
use super::*;
use Category::*;

#[test]
fn keeps_plain_imperatives() {
    assert_eq!(
        task_title("Upgrade angular version to 1.6.6", Dependency),
        "Upgrade angular version to 1.6.6"
    );
    assert_eq!(
        task_title("Replace wrench with fs-extra", Dependency),
        "Replace wrench with fs-extra"
    );
    assert_eq!(
        task_title("Fixes pixel info colour for dark themes", Fix),
        "Fix pixel info colour for dark themes"
    );
}

#[test]
fn questions_about_future_versions_are_decisions_and_pull_requests_are_work() {
    assert_eq!(
        task_title("Will there a MLP model in the future version?", Spike),
        "Decide whether to provide a MLP model in the future version"
    );
    assert_eq!(
        task_title("rpc: add timing fields to getdescriptorinfo (#2345)", Other),
        "rpc: Add timing fields to getdescriptorinfo"
    );
    assert!(is_work_framed("rpc: add timing fields (#2345)"));
    assert!(!is_work_framed("Add timing fields to the export #2345"));
    assert_eq!(
        as_fix("Don't ignore errors from the config loader".into()),
        "Don't ignore errors from the config loader"
    );
    assert_eq!(
        as_fix("Collapse forwardRef and memo component stacks".into()),
        "Collapse forwardRef and memo component stacks"
    );
    assert_eq!(
        task_title("restoring checkpoint loads weights partially", Fix),
        "Restoring checkpoint loads weights partially"
    );
    assert_eq!(
        task_title("Adding unit tests for the parser", Test),
        "Add unit tests for the parser"
    );
    assert_eq!(
        task_title("Adding retries to the upload step", Fix),
        "Add retries to the upload step"
    );
    assert_eq!(
        as_fix(r#"Release process: "does not appear to be a git repository""#.into()),
        r#"Fix the release process error: "does not appear to be a git repository""#
    );
    assert_eq!(
        as_fix(
            r#"Undefined symbols for architecture arm64: "cv::DISOpticalFlow::create(int)", referenced from: ..."#
                .into()
        ),
        r#"Fix the Undefined symbols for architecture arm64 error: "cv::DISOpticalFlow::create(int)""#
    );
    assert_eq!(
        as_fix("Abort when running tensorflow.python.ops.nn_ops.pool".into()),
        "Fix the abort when running tensorflow.python.ops.nn_ops.pool"
    );
    assert_eq!(
        as_fix("restoring checkpoint loads weights partially".into()),
        "Fix: Restoring checkpoint loads weights partially"
    );
    assert_eq!(
        as_fix("Fail to build `libmultiprocess` for arm".into()),
        "Fix the failure to build `libmultiprocess` for arm"
    );
    assert_eq!(
        as_fix("Tabulate useEffect cleanups".into()),
        "Tabulate useEffect cleanups"
    );
}

#[test]
fn strips_tracker_noise_and_questions() {
    assert_eq!(
        task_title("chore: bump eslint to v9", Dependency),
        "Bump eslint to v9"
    );
    assert_eq!(
        task_title("[infra] Terraform staging", Infra),
        "Set up Terraform staging"
    );
    assert_eq!(task_title("Switch to ruff?", BuildCi), "Switch to ruff");
    assert_eq!(
        task_title("cv::VideoCapture will affect GPU performance?", Spike),
        "cv::VideoCapture will affect GPU performance?"
    );
    assert_eq!(
        task_title("resize source code", Other),
        "Resize source code"
    );
    assert_eq!(
        task_title("Fuzz: mitigate timeout in CalculateFees", Test),
        "Fuzz: Mitigate timeout in CalculateFees"
    );
    assert_eq!(
        task_title("Removed the last two uses of sprintf", Refactor),
        "Remove the last two uses of sprintf"
    );
    assert_eq!(
        task_title("Should we drop Python 3.8?", BuildCi),
        "Drop Python 3.8"
    );
    assert_eq!(
        task_title("SHOP-41: Swich from yarn to pnpm", BuildCi),
        "Switch from yarn to pnpm"
    );
    assert_eq!(
        task_title("SPIKE - Research ASP.Net Identity", Spike),
        "Research ASP.Net Identity"
    );
    assert_eq!(
        task_title(
            "appcd-core: Upgrade to latest Node.js 12 LTS release",
            Dependency
        ),
        "appcd-core: Upgrade to latest Node.js 12 LTS release"
    );
    assert_eq!(
        task_title("Nightly backups", Infra),
        "Set up nightly backups"
    );
    assert_eq!(task_title("fatal error", Infra), "Fatal error");
    assert_eq!(
        task_title("fix(ci): flaky windows job", BuildCi),
        "Fix flaky windows job"
    );
    assert_eq!(
        task_title("Task to populate blobCreated dates", Data),
        "Populate blobCreated dates"
    );
    assert_eq!(
        task_title("Platform Support: remove Ubuntu 12.04 builds", BuildCi),
        "Platform Support: Remove Ubuntu 12.04 builds"
    );
    assert_eq!(
        task_title(
            "CVE-2012-2459, possible code and performance improvement",
            Security
        ),
        "CVE-2012-2459, possible code and performance improvement"
    );
    assert_eq!(
        task_title(
            "Apple Silicon massive performance degradation in function tests",
            Test
        ),
        "Apple Silicon massive performance degradation in function tests"
    );
    assert_eq!(
        task_title("Cannot convert the model to tflite", Fix),
        "Cannot convert the model to tflite"
    );
    assert_eq!(
        task_title("Split XML Editor plugin into core and UI plugins", Refactor),
        "Split XML Editor plugin into core and UI plugins"
    );
}

#[test]
fn work_framed_prefixes() {
    assert!(is_work_framed(
        "fix: preserve the writeable flag in outputs"
    ));
    assert!(is_work_framed("ci(windows): retry flaky job"));
    assert!(!is_work_framed("feat: export to CSV"));
    assert!(!is_work_framed("Let users export to CSV"));
}

#[test]
fn outcome_clauses_leave_the_work() {
    assert_eq!(
        without_purpose("Add a read replica so the invoices page stops timing out"),
        "Add a read replica"
    );
    assert_eq!(
        without_purpose("Lazy-load the charts library to cut the dashboard bundle"),
        "Lazy-load the charts library"
    );
    assert_eq!(without_purpose("Upgrade angular"), "Upgrade angular");
}

#[test]
fn unwraps_story_templates() {
    assert_eq!(
        task_title(
            "As a developer, I want to have created database indexes, so that the queries run as fast as possible.",
            Performance
        ),
        "Create database indexes"
    );
    assert_eq!(
        task_title(
            "As an Agency user, I want FABS deployed into production, so I can submit my data.",
            Infra
        ),
        "Deploy FABS into production"
    );
    assert_eq!(
        task_title("As a DevOps engineer, I want New Relic to provide useful data across all applications.", Infra),
        "Ensure New Relic provides useful data across all applications"
    );
    assert_eq!(
        task_title(
            "As a system administrator, I want to have a managed backup protocol for the system.",
            Infra
        ),
        "Set up a managed backup protocol for the system"
    );
    assert_eq!(
        task_title(
            "As a team member, I want to see the first iteration of beta up on cloud.gov.",
            Infra
        ),
        "See the first iteration of beta up on cloud.gov"
    );
    assert_eq!(
        task_title("As a Developer, I want D Files generation requests to be managed and cached, so that duplicate requests do not cause performance issues.", Performance),
        "Manage and cache D Files generation requests"
    );
    assert_eq!(
        task_title("As an app developer, I want to ensure that when I deploy a new version the deployment fails on a version conflict.", Other),
        "Ensure that when the team deploys a new version the deployment fails on a version conflict"
    );
    assert_eq!(
        task_title("As a developer, I want to have the subdomain beta.example.org be set up, so that I can deploy a beta site to it.", Infra),
        "Set up the subdomain beta.example.org"
    );
    assert_eq!(
        task_title(
            "As a Developer , I want my domain models to be indexed properly",
            Performance
        ),
        "Index the domain models properly"
    );
}
