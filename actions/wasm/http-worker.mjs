// The HTTP worker of host.mjs: one exchange per message with Node's http/https (no redirect
// followed), and name resolution. It carries bytes; the module decides. The answer is posted
// back, then the shared flag set so the waiting thread takes it.

import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { workerData } from 'node:worker_threads';

const { port, flag } = workerData;

class Failure extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** A CONNECT tunnel through `proxy` to `host:port` (the destination's TLS goes inside). */
function tunnel(proxy, auth, host, port, signal) {
  return new Promise((resolve, reject) => {
    const headers = { host: `${host}:${port}` };
    if (auth) headers['proxy-authorization'] = auth;
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: `${host}:${port}`,
      headers,
      signal,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Failure('connect', `the proxy answered ${res.statusCode} to CONNECT`));
      } else {
        resolve(socket);
      }
    });
    req.on('error', reject);
    req.end();
  });
}

async function exchange(m) {
  const url = new URL(m.url);
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (secure ? 443 : 80);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(1, m.timeout));
  try {
    const headers = [];
    let proxyAuth = '';
    for (const [name, value] of m.headers) {
      if (name === ':proxy-authorization') proxyAuth = value;
      else headers.push(name, value);
    }
    const options = {
      method: m.method,
      host,
      port,
      path: `${url.pathname}${url.search}`,
      headers,
      signal: controller.signal,
      agent: false,
    };
    if (m.address) {
      const family = net.isIP(m.address);
      options.lookup = (_name, opts, callback) =>
        opts && opts.all
          ? callback(null, [{ address: m.address, family }])
          : callback(null, m.address, family);
    }
    if (m.proxy) {
      // Through the proxy's CONNECT tunnel for http:// too, as the native backend does (the
      // proxy then sees the destination's host and port only); the module resolved and
      // checked the name already, the proxy connects to it.
      const proxy = new URL(m.proxy);
      const socket = await tunnel(proxy, proxyAuth, host, port, controller.signal);
      options.createConnection = secure
        ? () => tls.connect({ socket, servername: host })
        : () => socket;
      // Node uses `createConnection` only without an agent: `agent: false` makes a fresh
      // agent, which connects straight to the destination and ignores it.
      delete options.agent;
    }
    return await new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(options, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
          size += chunk.length;
          if (size > m.maxBody) {
            res.destroy();
            reject(new Failure('too-large', `more than ${m.maxBody} bytes`));
          } else {
            chunks.push(chunk);
          }
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.rawHeaders, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(Buffer.from(m.body));
    });
  } catch (e) {
    if (controller.signal.aborted) return { kind: 'timeout', error: `no answer within ${m.timeout} ms` };
    return { kind: e.kind || 'connect', error: e.message || String(e) };
  } finally {
    clearTimeout(timer);
  }
}

async function resolveName(m) {
  try {
    const found = await dns.lookup(m.host, { all: true, verbatim: true });
    return { addresses: found.map((a) => a.address) };
  } catch (e) {
    return { kind: 'connect', error: e.message || String(e) };
  }
}

port.on('message', async (m) => {
  const answer = m.op === 'resolve' ? await resolveName(m) : await exchange(m);
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
