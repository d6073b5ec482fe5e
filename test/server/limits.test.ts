// Request limits: concurrent requests (429 + Retry-After), watches per client, URL and header
// size (414/431), and slow clients (slowloris) on both transports.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { guard } from '../../src/server/authorize.ts';
import { Authenticator } from '../../src/server/auth.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Limits, MAX_URL_BYTES, MAX_WS_MESSAGE_BYTES } from '../../src/server/limits.ts';
import { json, type HttpHandler, type HttpReply, type HttpRequest, type Sink } from '../../src/server/http.ts';
import { NODE_TIMEOUTS } from '../../src/server/node.ts';
import { listen } from '../../src/server/listen.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES } from '../../src/server/api.ts';
import { runNamespaceController } from '../../src/control/namespaces.ts';
import { SimulatedClock } from 'xstate';
import { openStore, startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const request = (path: string, query = ''): HttpRequest => ({ method: 'GET', path, query: new URLSearchParams(query), headers: {}, body: Buffer.alloc(0), remote: '10.0.0.1' });

/** Sends raw bytes on a fresh connection; resolves with what came back once the server closes (or `timeoutMs` passed). */
function raw(port: number, data: string, timeoutMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const c = connect(port, '127.0.0.1', () => c.write(data));
    const timer = setTimeout(() => {
      c.destroy();
      resolve({ text, closed: false });
    }, timeoutMs);
    c.on('data', (d) => (text += d.toString()));
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

describe('max requests in flight', () => {
  it('answers 429 with Retry-After and a Status above the limit, and not for watches', async () => {
    const { store, close } = await openStore();
    try {
      const gates: (() => void)[] = [];
      const inner: HttpHandler = {
        maxBodyBytes: 1024,
        handle: (req) =>
          new Promise<HttpReply>((resolve) => {
            if (req.query.get('watch') === '1') {
              resolve({ status: 200, headers: {}, stream: (sink: Sink) => gates.push(() => sink.end()) });
              return;
            }
            gates.push(() => resolve(json(200, { ok: true })));
          }),
        upgrade: () => ({ reply: json(400, {}) }),
      };
      const limits = new Limits({ maxRequestsInflight: 2, maxWatchesPerClient: 2 });
      const h = guard({ limits }, store, inner);
      const a = h.handle(request('/api/v1/namespaces'));
      const b = h.handle(request('/api/v1/namespaces'));
      const c = (await h.handle(request('/api/v1/namespaces'))) as { status: number; headers: Record<string, string>; body: string };
      assert.equal(c.status, 429);
      assert.equal(c.headers['retry-after'], '1');
      const status = JSON.parse(c.body) as { kind: string; reason: string; code: number };
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'TooManyRequests');
      // Watches do not take in-flight slots, but have their own per-client limit.
      const w1 = await h.handle(request('/api/v1/pods', 'watch=1'));
      const w2 = await h.handle(request('/api/v1/pods', 'watch=1'));
      assert.equal(w1.status, 200);
      assert.equal(w2.status, 200);
      assert.equal((await h.handle(request('/api/v1/pods', 'watch=1'))).status, 429);
      assert.equal(limits.watchesOf('10.0.0.1'), 2);
      // Stream the watches: closing one gives its slot back.
      const closers: (() => void)[] = [];
      for (const w of [w1, w2]) {
        if (!('stream' in w)) throw new Error('expected a stream');
        w.stream({ write() {}, buffered: () => 0, end: () => closers.forEach((f) => f()), onClose: (cb) => closers.push(cb) });
      }
      for (const g of gates.splice(0)) g();
      assert.equal((await a).status, 200);
      assert.equal((await b).status, 200);
      assert.equal(limits.current, 0);
      assert.equal(limits.watchesOf('10.0.0.1'), 0);
      const again = h.handle(request('/api/v1/namespaces'));
      for (const g of gates.splice(0)) g();
      assert.equal((await again).status, 200);
    } finally {
      await close();
    }
  });
  it('keeps a budget for node Lease renewals apart: user requests filling the limit do not starve them', async () => {
    const { store, close } = await openStore();
    const dir = mkdtempSync(join(tmpdir(), 'rd-lease-budget-'));
    try {
      const tokens = join(dir, 'tokens.csv');
      writeFileSync(tokens, 'usertoken,alice,1,"system:masters"\nnodetoken,system:node:n1,2,"system:nodes"\n');
      const gates: (() => void)[] = [];
      const inner: HttpHandler = {
        maxBodyBytes: 1024,
        handle: () => new Promise<HttpReply>((resolve) => gates.push(() => resolve(json(200, { ok: true })))),
        upgrade: () => ({ reply: json(400, {}) }),
      };
      const limits = new Limits({ maxRequestsInflight: 1 });
      const h = guard({ limits, authenticator: new Authenticator({ dataDir: dir, tokenFile: tokens }) }, store, inner);
      const as = (token: string, path: string): HttpRequest => ({ ...request(path), method: 'PUT', headers: { authorization: `Bearer ${token}` } });
      const held = h.handle(as('usertoken', '/api/v1/namespaces/default/pods/p'));
      assert.equal((await h.handle(as('usertoken', '/api/v1/namespaces/default/pods/q'))).status, 429);
      // The node's own Lease still goes through while the user's request holds the only slot.
      const renewal = h.handle(as('nodetoken', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1'));
      await new Promise((r) => setImmediate(r));
      assert.equal(gates.length, 2);
      for (const g of gates.splice(0)) g();
      assert.equal((await renewal).status, 200);
      assert.equal((await held).status, 200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await close();
    }
  });
});

for (const transport of TRANSPORTS) {
  describe(`transport limits (${transport})`, () => {
    let s: TestServer;
    const saved = { ...NODE_TIMEOUTS };
    before(async () => {
      Object.assign(NODE_TIMEOUTS, { headersTimeoutMs: 500, requestTimeoutMs: 1_500, checkIntervalMs: 100 });
      s = await startServer(transport);
    });
    after(async () => {
      Object.assign(NODE_TIMEOUTS, saved);
      await s.stop();
    });

    it('refuses long URLs with 414 and large headers with 431, as Status', async () => {
      const long = await fetch(`${s.url}/api/v1/namespaces?labelSelector=${'a'.repeat(MAX_URL_BYTES + 10)}`);
      assert.equal(long.status, 414);
      assert.equal(((await long.json()) as { kind: string }).kind, 'Status');
      const big = await raw(s.listening.port, `GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 5_000);
      assert.match(big.text, /^HTTP\/1\.1 431 /);
      assert.match(big.text, /"kind":"Status"/);
    });

    it('closes a WebSocket watch whose client sends a frame over 64 KiB, and keeps serving', async () => {
      const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/api/v1/pods?watch=1`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.on('error', () => {});
      ws.send(Buffer.alloc(MAX_WS_MESSAGE_BYTES + 1));
      const code = await closed;
      // 1009 Message Too Big (ws); uWS drops the connection (1006) without a close frame.
      assert.ok(code === 1009 || code === 1006, `closed with ${code}`);
      assert.equal((await fetch(`${s.url}/api/v1/namespaces`)).status, 200);
    });

    it('drops clients that send headers too slowly', { timeout: 20_000 }, async () => {
      // node: headersTimeout (shortened here); uWS: its built-in ~10 s idle timeout.
      const r = await raw(s.listening.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 15_000);
      assert.equal(r.closed, true, 'still open after 15 s');
      if (transport === 'node') assert.match(r.text, /^HTTP\/1\.1 408 /);
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`shutdown with a silent WebSocket client (${transport})`, () => {
    it('cuts a client that never answers the close frame once its wait is over, and stops', { timeout: 20_000 }, async () => {
      // The server's waits run on simulated time: only advancing it can end them.
      const clock = new SimulatedClock();
      const { store, close } = await openStore({ clock });
      const stopNs = runNamespaceController(store);
      const listening = await listen(createApi(store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, clock }), '127.0.0.1', 0, transport, undefined, undefined, clock);
      // A hand-made handshake; afterwards the client reads nothing and never answers.
      const sock = connect(listening.port, '127.0.0.1');
      sock.on('error', () => {});
      const cut = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      const upgraded = new Promise<string>((resolve) => sock.once('data', (d) => resolve(d.toString())));
      sock.write(`GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      assert.match(await upgraded, /^HTTP\/1\.1 101 /);
      sock.pause();
      stopNs();
      let stopped = false;
      const stopping = listening.close().then(() => (stopped = true));
      // ws would wait 30 s (its own timer) for the close handshake; the server's bound is 1 s on its clock.
      for (let i = 0; i < 200 && !stopped; i++) {
        clock.increment(100);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(stopped, true, 'the server was still waiting for the silent client after 20 s of its time');
      await stopping;
      // node: reading again, the client finds its connection ended by the server. uWS leaves the
      // socket to the process's exit; what matters there is that stop() did not wait for it.
      sock.resume();
      const wasCut = transport === 'uws' || (await Promise.race([cut.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]));
      sock.destroy();
      await close();
      assert.equal(wasCut, true, 'the silent client was never disconnected');
    });
  });
}
