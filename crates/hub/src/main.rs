//! `hub`: the multi-call binary; everything is in the library (`src/lib.rs`).

/// mimalloc on every target, as the musl release build has it through hub-kit (the
/// validator's workers spend a tenth of a run in glibc's malloc; see validate-config).
#[cfg(all(not(target_env = "musl"), not(target_family = "wasm")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hub::main()
}
