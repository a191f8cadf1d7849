//! `hub-release-pr`: the release-pr action's binary (see the library, `release_pr`).

use std::process::ExitCode;

fn main() -> ExitCode {
    release_pr::main()
}
