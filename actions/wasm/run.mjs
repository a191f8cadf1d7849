#!/usr/bin/env node
// node run.mjs <action> [args…]
//
// Runs one of hub-actions' actions from its WebAssembly build with Node's built-in WASI
// (Node >= 20, no dependency): the same arguments, environment, files and exit code as the
// native `hub-<action>`. Every absolute path means the same file (the module sees `/` as `/`)
// and relative paths resolve from this process's directory. git and HTTP go through the host
// interface in host.mjs. A panic inside the module fails with one readable line (Rust's own
// panic message is printed above it).
//
// The module: $HUB_WASM_MODULE, else hub.wasm next to this file (the release's multi-call
// build), else hub-<action>.wasm next to it.

// Before node:wasi is loaded: it emits an "ExperimentalWarning" on stderr, which is not ours
// to print (the runner would show it on every step).
process.removeAllListeners('warning');

const { existsSync, readFileSync } = await import('node:fs');
const { dirname, join } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { WASI } = await import('node:wasi');
const { hostImports } = await import('./host.mjs');

const [action, ...args] = process.argv.slice(2);
if (!action || !/^[a-z][a-z-]*$/.test(action)) {
  process.stderr.write('usage: node run.mjs <action> [args…]\n');
  process.exit(2);
}
const name = `hub-${action}`;
const here = dirname(fileURLToPath(import.meta.url));
const candidates = [process.env.HUB_WASM_MODULE, join(here, 'hub.wasm'), join(here, `${name}.wasm`)];
const path = candidates.find((p) => p && existsSync(p));
if (!path) {
  process.stderr.write(`error: no WebAssembly module for \`${action}\` (looked for ${candidates.filter(Boolean).join(', ')})\n`);
  process.exit(1);
}

// V8's WebAssembly tiers, set before the module is compiled (bench/wasm/README.md, "Where a
// short run's time goes"): compile each function when first called and validate it then
// (compiling and validating the whole module up front took 40–50 ms of every run, most of
// its code never runs in one action), and keep the baseline compiler's code (Liftoff) — the
// optimising tier's background compiles cost more than they gained on runs of this length:
// semver-bump on angular-cli 288 → 137 ms on Node 20, validate-config on 2,000 files
// 0.83 → 0.31 s. Node has no cache of compiled WebAssembly between processes to use instead.
const { setFlagsFromString } = await import('node:v8');
for (const flag of ['--wasm-lazy-compilation', '--wasm-lazy-validation', '--liftoff-only']) {
  setFlagsFromString(flag);
}

const wasi = new WASI({
  version: 'preview1',
  args: [name, ...args],
  env: process.env,
  preopens: { '/': '/' },
  returnOnExit: true,
});
let memory;
const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(path)), {
  ...wasi.getImportObject(),
  hub: hostImports(() => memory),
});
memory = instance.exports.memory;

let code;
try {
  code = wasi.start(instance);
} catch (e) {
  if (e instanceof WebAssembly.RuntimeError) {
    process.stderr.write(`error: ${name} stopped on an internal error (${e.message} in the WebAssembly module); the panic message above says where — please report it\n`);
    code = 101;
  } else {
    process.stderr.write(`error: ${name} could not run in WebAssembly: ${e && e.message ? e.message : e}\n`);
    code = 1;
  }
}
// Exit now: the module's output went out through synchronous writes (WASI's fd_write), and
// nothing else is pending — the HTTP worker, if one started, is not waited for.
process.exit(code);
