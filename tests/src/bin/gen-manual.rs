//! `gen-manual OUT_DIR`: man pages and shell completions for `airlock` and `airlock-bundle`, made
//! from their clap definitions so they cannot drift from the real options.
//!
//! Writes `OUT_DIR/man/NAME.1` (one page per tool and per subcommand, `airlock-verify.1`, ...) and
//! `OUT_DIR/completions/{bash/NAME, zsh/_NAME, fish/NAME.fish}`. Used by `scripts/package-deb`.

use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// airlock-bundle's command line lives in its binary; compile that file here as a module (its
// `main` and helpers are unused in this program) rather than restructure the crate.
#[allow(dead_code)]
#[path = "../../../bundle-tool/src/main.rs"]
mod airlock_bundle;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-manual OUT_DIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    let tools = [
        airlock_cli::command(),
        <airlock_bundle::Cli as clap::CommandFactory>::command(),
    ];
    for cmd in tools {
        if let Err(e) = generate(cmd, &out) {
            eprintln!("gen-manual: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn generate(cmd: clap::Command, out: &Path) -> std::io::Result<()> {
    let name = cmd.get_name().to_string();
    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(cmd.clone(), &man)?;
    // File names where each shell looks them up lazily by command name.
    for (shell, dir, file) in [
        (Shell::Bash, "bash", name.clone()),
        (Shell::Zsh, "zsh", format!("_{name}")),
        (Shell::Fish, "fish", format!("{name}.fish")),
    ] {
        let dir = out.join("completions").join(dir);
        std::fs::create_dir_all(&dir)?;
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), &name, &mut text);
        std::fs::write(dir.join(file), text)?;
    }
    Ok(())
}
