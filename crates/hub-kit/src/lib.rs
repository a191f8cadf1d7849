//! The GitHub Actions runtime kit shared by every hub-actions binary.
//!
//! It mirrors the names people know from `@actions/core` — inputs, outputs, annotations,
//! groups, masks, the step summary — with the runner's exact escaping, and improves on it
//! in three ways: the environment is a value ([`Env`]) built once in `main`, so tests never
//! touch the process environment; outputs always use the heredoc form with a random
//! delimiter that is checked against the value; and untrusted text (commit messages, PR
//! titles, config values) has its own path, [`Runner::log_untrusted`], that no workflow
//! command can escape from.
//!
//! Outside Actions (`GITHUB_ACTIONS` unset) the same calls print plain human text, so the
//! binaries are ordinary CLIs on a laptop.
//!
//! ```
//! use hub_kit::{Env, Runner, command::Annotation};
//!
//! let env = Env::from_pairs([("INPUT_TAG-PREFIX", " v ")]);
//! assert_eq!(hub_kit::input::get_input(&env, "tag-prefix"), Some("v"));
//!
//! let mut runner = Runner::with_writers(env, Box::new(Vec::new()), Box::new(Vec::new()));
//! runner.set_output("next-version", "1.3.0").unwrap();
//! runner.error("bad value", &Annotation::at("config.yml", 3, 7)).unwrap();
//! assert_eq!(runner.outputs()[0], ("next-version".into(), "1.3.0".into()));
//! ```

pub mod argv;
pub mod cli;
pub mod command;
pub mod env;
pub mod files;
pub mod input;
/// Markdown with the escaping of untrusted text: the `hub-md` crate, which engines use too.
pub use hub_md as md;
pub mod runner;

/// Every hub-actions binary built for musl — the static release archives the actions
/// download — allocates with mimalloc. musl's own allocator made a release run (semver-bump
/// on a 200-commit range) about 10 % slower in CPU time than mimalloc (`bench/floor`:
/// 4.67 against 4.18 ms), and it takes a global lock that the validator's worker threads
/// would contend on. On glibc each binary chooses: semver-bump keeps glibc's allocator
/// (there mimalloc's start-up cost more than it saved, 4.93 against 4.29 ms), the
/// validator declares mimalloc itself. mimalloc is built without transparent huge pages
/// (`no_thp`, workspace `Cargo.toml`): with them each run's first allocations faulted in and
/// zeroed whole 2 MiB pages — 0.25–0.4 ms of start-up (bench/README.md, "Start-up, profiled").
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use command::{Annotation, Level};
pub use env::{Env, vars};

pub use runner::Runner;

/// The system's temporary directory, also under WebAssembly, where `std::env::temp_dir`
/// panics (`hub_wasi::temp_dir`: `$TMPDIR`, else `/tmp`).
#[must_use]
pub fn temp_dir() -> std::path::PathBuf {
    #[cfg(target_os = "wasi")]
    {
        hub_wasi::temp_dir()
    }
    #[cfg(not(target_os = "wasi"))]
    {
        std::env::temp_dir()
    }
}
