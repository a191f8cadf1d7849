//! `hub-canary-gate`: the binary; everything is in the library (`src/lib.rs`).

fn main() -> std::process::ExitCode {
    canary_gate::main()
}
