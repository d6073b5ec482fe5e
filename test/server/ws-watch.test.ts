// WebSocket watches, per transport: JSON text and msgpack binary frames (the subprotocol echoed,
// each event encoded once), resume from a resourceVersion, the README's client
// (examples/watch-client.ts) resuming after a drop and relisting on 410, Origin checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import { unpack } from 'msgpackr';
import { createApi, DEFAULT_MAX_BODY_BYTES, type ApiOptions } from '../../src/server/api.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { MSGPACK_SUBPROTOCOL } from '../../src/server/watch.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import { openStore, TRANSPORTS, type Transport } from '../helpers/server.ts';
import { followPods } from '../../examples/watch-client.ts';

interface Event { type: string; object: { metadata: { name: string; resourceVersion: string }; code?: number } }

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const pod = (name: string) => ({ metadata: { name, namespace: 'default' }, spec: { nodeName: 'none', containers: [{ name: 'c', image: 'i' }] } });

/** A server behind a TCP proxy that can drop every connection and refuse new ones (down) until up. */
async function server(transport: Transport, opts: Partial<ApiOptions> = {}) {
  const s = await openStore();
  const handler = createApi(s.store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...opts });
  const listening: Listening = await listen(handler, '127.0.0.1', 0, transport);
  const sockets = new Set<Socket>();
  const proxy = createNetServer((c) => {
    const u = connect(listening.port, '127.0.0.1');
    for (const x of [c, u]) {
      sockets.add(x);
      x.on('close', () => sockets.delete(x));
      x.on('error', () => {});
    }
    c.pipe(u).pipe(c);
  });
  const listenProxy = (port: number) => new Promise<number>((r) => proxy.listen(port, '127.0.0.1', () => r((proxy.address() as AddressInfo).port)));
  const port = await listenProxy(0);
  return {
    store: s.store,
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    async down() {
      const closed = new Promise((r) => proxy.close(r));
      for (const x of sockets) x.destroy();
      await closed;
    },
    async up() {
      await listenProxy(port);
    },
    async stop() {
      for (const x of sockets) x.destroy();
      if (proxy.listening) proxy.close();
      await listening.close();
      await s.close();
    },
  };
}

function watcher(url: string, protocols?: string | string[], opts?: WebSocket.ClientOptions) {
  const ws = new WebSocket(url, protocols, opts);
  const frames: { data: Buffer; binary: boolean }[] = [];
  ws.on('message', (data, binary) => frames.push({ data: data as Buffer, binary }));
  const open = new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return { ws, frames, open, closed };
}

/** The status of a WebSocket handshake: 101 when accepted. */
const handshake = (url: string, opts: WebSocket.ClientOptions, protocols?: string[]) => new Promise<number>((resolve) => {
  const ws = new WebSocket(url, protocols, opts);
  ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  ws.on('open', () => {
    ws.close();
    resolve(101);
  });
  ws.on('error', () => {});
});

for (const transport of TRANSPORTS) {
  describe(`WebSocket watch over ${transport}`, () => {
    it('sends JSON text frames by default', async () => {
      const s = await server(transport);
      try {
        await s.store.create('pods', pod('a'));
        const w = watcher(`${s.ws}/api/v1/namespaces/default/pods?watch=1`);
        await w.open;
        assert.equal(w.ws.protocol, '');
        await until('initial ADDED', () => w.frames.length === 1);
        await s.store.create('pods', pod('b'));
        await until('live ADDED', () => w.frames.length === 2);
        assert.ok(w.frames.every((f) => !f.binary), 'text frames');
        const events = w.frames.map((f) => JSON.parse(String(f.data)) as Event);
        assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a'], ['ADDED', 'b']]);
        w.ws.close();
      } finally {
        await s.stop();
      }
    });

    it(`sends msgpack binary frames for ${MSGPACK_SUBPROTOCOL}, echoed, each event encoded once`, async () => {
      const s = await server(transport);
      try {
        const seen: StoreEvent[] = [];
        const unwatch = s.store.watch('pods', s.store.revision(), (e) => seen.push(e));
        const ws = [watcher(`${s.ws}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${s.store.revision()}`, MSGPACK_SUBPROTOCOL), watcher(`${s.ws}/api/v1/pods?watch=1&resourceVersion=${s.store.revision()}`, MSGPACK_SUBPROTOCOL)];
        await Promise.all(ws.map((w) => w.open));
        for (const w of ws) assert.equal(w.ws.protocol, MSGPACK_SUBPROTOCOL, 'the subprotocol is echoed in the handshake');
        await s.store.create('pods', pod('m1'));
        const { object: created } = await s.store.update('pods', 'default', 'm1', (cur) => ({ ...(cur as ReturnType<typeof pod>), metadata: { ...(cur as ReturnType<typeof pod>).metadata, labels: { x: 'y' } } }));
        await until('two frames each', () => ws.every((w) => w.frames.length === 2));
        for (const w of ws) {
          assert.ok(w.frames.every((f) => f.binary), 'binary frames');
          const events = w.frames.map((f) => unpack(f.data) as Event);
          assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'm1'], ['MODIFIED', 'm1']]);
          assert.equal(events[1]?.object.metadata.resourceVersion, created.metadata.resourceVersion);
        }
        // Both watchers got the very bytes cached on the store event.
        assert.deepEqual(ws[0]?.frames.map((f) => [...f.data]), ws[1]?.frames.map((f) => [...f.data]));
        for (const e of seen) assert.ok(e.cache.get(`ws-msgpack:${e.type}:`) instanceof Uint8Array, 'cached per event');
        unwatch();
        for (const w of ws) w.ws.close();
      } finally {
        await s.stop();
      }
    });

    it('resumes from a resourceVersion with exactly the events after it', async () => {
      const s = await server(transport);
      try {
        const from = s.store.revision();
        for (let i = 0; i < 5; i++) await s.store.create('pods', pod(`r${i}`));
        const w = watcher(`${s.ws}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${from}`);
        await until('5 events', () => w.frames.length === 5);
        const events = w.frames.map((f) => JSON.parse(String(f.data)) as Event);
        assert.deepEqual(events.map((e) => e.object.metadata.name), ['r0', 'r1', 'r2', 'r3', 'r4']);
        w.ws.close();
        const last = events[2]?.object.metadata.resourceVersion as string;
        const again = watcher(`${s.ws}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${last}`);
        await until('2 events', () => again.frames.length === 2);
        assert.deepEqual(again.frames.map((f) => (JSON.parse(String(f.data)) as Event).object.metadata.name), ['r3', 'r4']);
        again.ws.close();
      } finally {
        await s.stop();
      }
    });

    it('the README client resumes after a dropped connection and relists on 410', { timeout: 30_000 }, async () => {
      const s = await server(transport);
      const log: string[] = [];
      try {
        await s.store.create('pods', pod('before'));
        const follower = await followPods(s.url, 'default', (l) => log.push(l), 20);
        await until('the watch to start', () => follower.pods.has('before') && log.length >= 1);
        await s.store.create('pods', pod('live'));
        await until('live', () => follower.pods.has('live'));

        // Drop: the server goes away; pods change meanwhile; the client resumes, without relisting.
        await s.down();
        await s.store.create('pods', pod('missed'));
        await s.up();
        await until('resume', () => follower.pods.has('missed'));
        assert.equal(log.filter((l) => l.startsWith('listed')).length, 1, `resumed without a relist:\n${log.join('\n')}`);
        assert.ok(log.some((l) => l.startsWith('ADDED missed')), log.join('\n'));

        // 410: the client falls behind its resourceVersion's window (compacted while it was away); it relists.
        await s.down();
        for (let i = 0; i < 3; i++) await s.store.create('pods', pod(`gone${i}`));
        const st = s.store as unknown as { retainEvents: number; retainMs: number };
        st.retainEvents = 1;
        st.retainMs = -1;
        await s.store.compact();
        await s.store.create('pods', pod('after'));
        await s.up();
        await until('relist after 410', () => log.some((l) => l.includes('watch error 410')) && follower.pods.has('after'));
        assert.equal(log.filter((l) => l.startsWith('listed')).length, 2, log.join('\n'));
        const list = s.store.list('pods', { namespace: 'default' });
        assert.deepEqual([...follower.pods.keys()].sort(), list.items.map((p) => p.metadata.name).sort());
        follower.stop();
      } finally {
        await s.stop();
      }
    });

    it('refuses a foreign Origin and accepts --allowed-origins and the server’s own', async () => {
      const s = await server(transport, { allowedOrigins: ['https://console.example', 'http://localhost:3000'] });
      try {
        const url = `${s.ws}/api/v1/pods?watch=1`;
        assert.equal(await handshake(url, { origin: 'http://evil.example' }), 403);
        assert.equal(await handshake(url, { origin: 'https://console.example.evil' }), 403);
        assert.equal(await handshake(url, { origin: 'null' }), 403);
        assert.equal(await handshake(url, { origin: s.url }), 101, 'same origin as the Host header');
        assert.equal(await handshake(url, { origin: 'https://console.example' }), 101);
        assert.equal(await handshake(url, { origin: 'http://localhost:3000' }), 101);
        assert.equal(await handshake(url, {}), 101, 'no Origin: not a browser');
        assert.equal(await handshake(url, {}, ['a', 'b']), 400);
      } finally {
        await s.stop();
      }
    });
  });
}
