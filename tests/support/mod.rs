//! What the end-to-end test files share: starting `storylens serve` on a free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts `storylens serve --port 0 ARGS` with `envs`, and returns the process and its base
/// URL once it has printed where it listens. Its stderr keeps being drained, so the server
/// never blocks on a full pipe.
pub fn spawn_serve(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storylens"))
        .args(["serve", "--port", "0"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STORYLENS_LOG", "warn")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("storylens: listening on ") {
            break addr.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}
