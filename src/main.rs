use clap::Parser;

use storylens::config::{Cli, Command};

mod cli;

fn main() -> std::process::ExitCode {
    storylens::tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STORYLENS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Cli::parse();
    let result = match args.command {
        Command::Classify(c) => cli::classify::run(&args.model, &c),
        Command::Eval(c) => cli::eval::run(&args.model, &c),
        Command::Train(c) => cli::train::run(&args.model, &c),
        Command::Serve(c) => cli::serve::run(&args.model, &c),
        Command::Rewrite(c) => cli::rewrite::run(&args.model, &c),
        Command::EvalRewrite(c) => cli::eval_rewrite::run(&args.model, &c),
        Command::EvalDuplicates(c) => cli::eval_duplicates::run(&args.model, &c),
        Command::TrainRefine(c) => cli::train_refine::run(&args.model, &c),
        Command::Score(c) => cli::score::run(&args.model, &c),
        Command::Lint(c) => cli::lint::run(&args.model, &c),
        Command::Feedback(c) => cli::feedback::run(&c),
        Command::Bench(c) => cli::bench::run(&args.model, &c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
