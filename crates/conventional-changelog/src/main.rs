//! `hub-conventional-changelog`: the binary; everything is in the library (`src/lib.rs`).

fn main() -> std::process::ExitCode {
    conventional_changelog::main()
}
