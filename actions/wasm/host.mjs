// The host side of the WebAssembly module's imports (wasm module `hub`). The ABI is defined
// in crates/hub-wasi/src/lib.rs, its only other implementation:
//
//   git(ptr, len) / http(ptr, len) / resolve(ptr, len) / cwd(ptr, len) -> i32
//     The request is `len` bytes at `ptr` in the module's memory: fields, each a 32-bit
//     little-endian length and its bytes. The host answers n >= 0 when the operation
//     succeeded and its result (fields again) is n bytes long, or -1 - n when it failed and
//     its message (UTF-8, "kind: text") is n bytes long.
//   take(dst)
//     Copies that pending answer to `dst` (the module allocated n bytes) and forgets it.
//
// Nothing here decides anything: which git command, which URL, redirects, retries, the
// address policy and the proxy's choice are the module's. This file carries bytes.

import { spawnSync } from 'node:child_process';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** Splits a request into its fields (Uint8Array views of a private copy). */
export function decodeFields(bytes) {
  const fields = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error('truncated request');
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > bytes.length) throw new Error('truncated request');
    fields.push(bytes.subarray(at, at + len));
    at += len;
  }
  return fields;
}

/** Joins fields (strings or bytes) into one answer. */
export function encodeFields(fields) {
  const parts = fields.map((f) => (typeof f === 'string' ? encoder.encode(f) : f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** The HTTP worker: Node's http/https are asynchronous, the module's call is not. One worker
 * makes the exchanges; this thread waits on a shared flag and takes the answer off the port
 * synchronously. Started on the first request, and never keeps the process alive. */
class HttpWorker {
  constructor() {
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./http-worker.mjs', import.meta.url), {
      workerData: { port: port2, flag: this.flag },
      transferList: [port2],
    });
    this.worker.unref();
  }

  call(message) {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(message);
    for (;;) {
      Atomics.wait(this.flag, 0, 0, 1000);
      const received = receiveMessageOnPort(this.port);
      if (received) return received.message;
    }
  }
}

/** The `hub` import object for a module whose memory `memory()` gives once instantiated. */
export function hostImports(memory) {
  let pending = null;
  let worker = null;
  const http = () => (worker ??= new HttpWorker());
  const request = (ptr, len) =>
    decodeFields(new Uint8Array(memory().buffer, ptr, len).slice());
  const answer = (fields) => {
    pending = encodeFields(fields);
    return pending.length;
  };
  const fail = (kind, message) => {
    pending = encoder.encode(`${kind}: ${message}`);
    return -1 - pending.length;
  };
  const guarded = (op) => (ptr, len) => {
    try {
      return op(request(ptr, len));
    } catch (e) {
      return fail('host', e && e.message ? e.message : String(e));
    }
  };

  return {
    git: guarded(([cwd, stdin, count, ...rest]) => {
      const n = Number(utf8.decode(count));
      const env = { ...process.env };
      for (const pair of rest.slice(0, n)) {
        const text = utf8.decode(pair);
        const eq = text.indexOf('=');
        env[text.slice(0, eq)] = text.slice(eq + 1);
      }
      const argv = rest.slice(n).map((a) => utf8.decode(a));
      const ran = spawnSync('git', argv, {
        cwd: cwd.length ? utf8.decode(cwd) : undefined,
        env,
        input: stdin,
        maxBuffer: Infinity,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      if (ran.error) return fail('spawn', ran.error.message);
      const code = ran.status === null ? 'signal' : String(ran.status);
      return answer([code, ran.stdout, ran.stderr]);
    }),

    http: guarded(([method, url, timeout, maxBody, address, proxy, body, ...headers]) => {
      const pairs = [];
      for (let i = 0; i + 1 < headers.length; i += 2) {
        pairs.push([utf8.decode(headers[i]), Buffer.from(headers[i + 1]).toString('latin1')]);
      }
      const got = http().call({
        op: 'http',
        method: utf8.decode(method),
        url: utf8.decode(url),
        timeout: Number(utf8.decode(timeout)),
        maxBody: Number(utf8.decode(maxBody)),
        address: utf8.decode(address),
        proxy: utf8.decode(proxy),
        body,
        headers: pairs,
      });
      if (got.error) return fail(got.kind, got.error);
      const fields = [String(got.status), got.body];
      for (let i = 0; i + 1 < got.headers.length; i += 2) {
        fields.push(got.headers[i].toLowerCase(), Buffer.from(got.headers[i + 1], 'latin1'));
      }
      return answer(fields);
    }),

    resolve: guarded(([host]) => {
      const got = http().call({ op: 'resolve', host: utf8.decode(host) });
      if (got.error) return fail(got.kind, got.error);
      return answer(got.addresses);
    }),

    cwd: guarded(() => answer([process.cwd()])),

    take(dst) {
      new Uint8Array(memory().buffer, dst, pending.length).set(pending);
      pending = null;
    },
  };
}
