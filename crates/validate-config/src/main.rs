//! `hub-validate-config`: the binary; everything is in the library (`src/lib.rs`).

/// mimalloc: each file's parse tree and report are many small allocations, made and freed on
/// the workers; glibc's malloc spent about a tenth of the run in them. (musl builds get
/// mimalloc from hub-kit, as every binary does there.)
#[cfg(not(any(target_env = "musl", target_family = "wasm")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    validate_config::main()
}
