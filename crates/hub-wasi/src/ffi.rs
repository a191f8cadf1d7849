//! The wasm imports of module `hub` and the one place that calls them: the crate's only
//! unsafe code. The ABI is described in the crate's documentation (`lib.rs`) and implemented
//! on the other side by `actions/wasm/host.mjs`.
#![allow(unsafe_code)]

use crate::HostError;

/// The host's operations, one import each.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Git,
    Http,
    Resolve,
    Cwd,
}

#[cfg(target_os = "wasi")]
mod imports {
    #[link(wasm_import_module = "hub")]
    unsafe extern "C" {
        pub(super) fn git(request: *const u8, len: u32) -> i32;
        pub(super) fn http(request: *const u8, len: u32) -> i32;
        pub(super) fn resolve(request: *const u8, len: u32) -> i32;
        pub(super) fn cwd(request: *const u8, len: u32) -> i32;
        pub(super) fn take(destination: *mut u8);
    }
}

/// Sends `request` to the host's `op` and copies the answer out: `Ok(Ok(result))` when the
/// operation succeeded, `Ok(Err(message))` when the host reports a failure.
#[cfg(target_os = "wasi")]
pub(crate) fn call(op: Op, request: &[u8]) -> Result<Result<Vec<u8>, String>, HostError> {
    let len =
        u32::try_from(request.len()).map_err(|_| HostError::Malformed("request over 4 GiB"))?;
    // SAFETY: the host reads `len` bytes at `request`, which this slice holds for the whole
    // call, and keeps the answer in its own memory until `take`.
    let answer = unsafe {
        match op {
            Op::Git => imports::git(request.as_ptr(), len),
            Op::Http => imports::http(request.as_ptr(), len),
            Op::Resolve => imports::resolve(request.as_ptr(), len),
            Op::Cwd => imports::cwd(request.as_ptr(), len),
        }
    };
    let (ok, size) = if answer >= 0 {
        (true, answer)
    } else {
        (false, -1 - answer)
    };
    let size = usize::try_from(size).map_err(|_| HostError::Malformed("negative length"))?;
    let mut out = vec![0u8; size];
    // SAFETY: the host writes exactly the `size` bytes it announced into `out`, which is
    // that long, and forgets the answer.
    unsafe { imports::take(out.as_mut_ptr()) };
    if ok {
        Ok(Ok(out))
    } else {
        Ok(Err(String::from_utf8_lossy(&out).into_owned()))
    }
}

/// Outside WebAssembly there is no host to ask.
#[cfg(not(target_os = "wasi"))]
pub(crate) fn call(_op: Op, _request: &[u8]) -> Result<Result<Vec<u8>, String>, HostError> {
    Err(HostError::NoHost)
}
