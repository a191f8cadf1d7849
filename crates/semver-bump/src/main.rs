//! `hub-semver-bump`: the binary; everything is in the library (`src/lib.rs`).

fn main() -> std::process::ExitCode {
    semver_bump::main()
}
