// Watch streams over real HTTP and WebSocket, per transport: framings, resume, 410, selectors,
// bookmarks, timeouts and slow watchers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { request } from 'node:http';
import WebSocket from 'ws';
import { unpack } from 'msgpackr';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata: { name?: string; resourceVersion?: string; annotations?: Record<string, string> } };
}

/** Opens a chunked watch and collects its events; `done` resolves when the server ends it. */
function httpWatch(url: string, headers: Record<string, string> = {}) {
  const events: WatchEvent[] = [];
  const raw: string[] = [];
  let status = 0;
  let contentType = '';
  let resolveHeaders: () => void;
  const headersIn = new Promise<void>((r) => (resolveHeaders = r));
  let req: ReturnType<typeof request>;
  let closedByUs = false;
  const done = new Promise<void>((resolve, reject) => {
    req = request(url, { headers }, (res) => {
      status = res.statusCode ?? 0;
      contentType = String(res.headers['content-type']);
      resolveHeaders();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw.push(chunk);
        buf += chunk;
        const sse = contentType.startsWith('text/event-stream');
        const sep = sse ? '\n\n' : '\n';
        let i: number;
        while ((i = buf.indexOf(sep)) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + sep.length);
          if (sse) {
            if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          } else if (line.trim()) events.push(JSON.parse(line));
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => (closedByUs ? resolve() : reject(e)));
    });
    req.on('error', (e) => (closedByUs ? resolve() : reject(e)));
    req.end();
  });
  return {
    events,
    raw,
    done,
    headersIn,
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    close: () => {
      closedByUs = true;
      req.destroy();
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pod = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'i' }] } });

for (const transport of TRANSPORTS) {
  describe(`watch over ${transport}`, () => {
    let server: TestServer;
    const post = (path: string, body: unknown) => fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const patch = (path: string, body: unknown) => fetch(server.url + path, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
    before(async () => {
      server = await startServer(transport, { watchLimits: { maxBufferedBytes: 256 * 1024, bookmarkEveryMs: 100, sseKeepAliveMs: 15_000 }, allowedOrigins: ['https://console.example'] });
    });
    after(async () => {
      await server.stop();
    });

    it('sends headers before the first event, then ADDED for existing objects and live changes', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w1' } });
      await post('/api/v1/namespaces/w1/pods', pod('a'));
      const w = httpWatch(`${server.url}/api/v1/namespaces/w1/pods?watch=1`);
      await w.headersIn;
      assert.equal(w.status, 200);
      assert.equal(w.contentType, 'application/json');
      await until(() => w.events.length === 1, 'initial ADDED');
      assert.equal(w.events[0]?.type, 'ADDED');
      await patch('/api/v1/namespaces/w1/pods/a', { metadata: { labels: { x: 'y' } } });
      await fetch(`${server.url}/api/v1/namespaces/w1/pods/a`, { method: 'DELETE' });
      await until(() => w.events.length === 3, 'MODIFIED and DELETED');
      assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      w.close();
    });

    it('answers HEAD on a watch with its headers only, keeping the connection usable', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const call = (method: string, path: string) =>
        new Promise<{ status: number; type?: string; body: string }>((resolve, reject) => {
          const r = http.request(`${server.url}${path}`, { method, agent }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
          });
          r.on('error', reject);
          r.end();
        });
      try {
        const head = await call('HEAD', '/api/v1/pods?watch=1');
        assert.deepEqual(head, { status: 200, type: 'application/json', body: '' });
        // The same socket then serves a normal request: no stray watch bytes on it.
        const list = await call('GET', '/api/v1/namespaces');
        assert.equal(list.status, 200);
        assert.equal((JSON.parse(list.body) as { kind: string }).kind, 'NamespaceList');
      } finally {
        agent.destroy();
      }
    });

    it('resumes from a resourceVersion with exactly the missed events (bug 11)', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w2' } });
      const list = await (await fetch(`${server.url}/api/v1/namespaces/w2/pods`)).json() as { metadata: { resourceVersion: string } };
      for (let i = 0; i < 50; i++) await post('/api/v1/namespaces/w2/pods', pod(`p${i}`));
      const w = httpWatch(`${server.url}/api/v1/namespaces/w2/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
      await until(() => w.events.length === 50, '50 replayed events');
      assert.deepEqual(w.events.map((e) => e.object.metadata.name), Array.from({ length: 50 }, (_, i) => `p${i}`));
      const revs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual([...revs].sort((a, b) => a - b), revs);
      w.close();
    });

    it('sends an in-stream 410 Expired and closes when the resourceVersion is too old', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w3' } });
      const first = await (await post('/api/v1/namespaces/w3/pods', pod('old'))).json() as { metadata: { resourceVersion: string } };
      // Push the pod log past what is kept, then compact.
      const old = server.store;
      for (let i = 0; i < 3; i++) await post('/api/v1/namespaces/w3/pods', pod(`n${i}`));
      (old as unknown as { retainEvents: number; retainMs: number }).retainEvents = 1;
      (old as unknown as { retainMs: number }).retainMs = -1;
      await old.compact();
      const w = httpWatch(`${server.url}/api/v1/namespaces/w3/pods?watch=1&resourceVersion=${Number(first.metadata.resourceVersion) - 1}`);
      await w.done;
      assert.equal(w.status, 200);
      assert.equal(w.events.length, 1);
      assert.equal(w.events[0]?.type, 'ERROR');
      assert.equal(w.events[0]?.object.code, 410);
      assert.equal(w.events[0]?.object.reason, 'Expired');
      (old as unknown as { retainEvents: number; retainMs: number }).retainEvents = 10_000;
      (old as unknown as { retainMs: number }).retainMs = 300_000;
    });

    it('applies field and label selectors, with selector transitions as ADDED/DELETED', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w4' } });
      await post('/api/v1/namespaces/w4/pods', pod('x', { app: 'a' }));
      const byName = httpWatch(`${server.url}/api/v1/pods?watch=1&fieldSelector=metadata.name%3Dx`);
      const byLabel = httpWatch(`${server.url}/api/v1/namespaces/w4/pods?watch=1&labelSelector=app%3Db`);
      await until(() => byName.events.length === 1, 'initial x');
      await post('/api/v1/namespaces/w4/pods', pod('y', { app: 'b' }));
      await patch('/api/v1/namespaces/w4/pods/x', { metadata: { labels: { app: 'b' } } });
      await patch('/api/v1/namespaces/w4/pods/y', { metadata: { labels: { app: 'c' } } });
      await until(() => byLabel.events.length === 3, 'label events');
      assert.deepEqual(byLabel.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED y', 'ADDED x', 'DELETED y']);
      await until(() => byName.events.length === 2, 'x modified');
      assert.deepEqual(byName.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED x', 'MODIFIED x']);
      byName.close();
      byLabel.close();
    });

    it('streams Server-Sent Events when asked for text/event-stream', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w5' } });
      const w = httpWatch(`${server.url}/api/v1/namespaces/w5/pods?watch=1`, { accept: 'text/event-stream' });
      await w.headersIn;
      assert.equal(w.contentType, 'text/event-stream');
      await post('/api/v1/namespaces/w5/pods', pod('sse'));
      await until(() => w.events.length === 1, 'SSE event');
      assert.equal(w.events[0]?.object.metadata.name, 'sse');
      // Only SSE syntax on the wire: comment lines and data frames.
      assert.match(w.raw.join(''), /^(:\n\n)?data: \{.*\}\n\n$/s);
      w.close();
    });

    it('streams one JSON event per WebSocket text frame on upgrade', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w6' } });
      await post('/api/v1/namespaces/w6/pods', pod('before'));
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/namespaces/w6/pods?watch=1`);
      const frames: { data: string; binary: boolean }[] = [];
      ws.on('message', (data, binary) => frames.push({ data: String(data), binary }));
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      await post('/api/v1/namespaces/w6/pods', pod('after'));
      await until(() => frames.length === 2, 'two frames');
      assert.deepEqual(frames.map((f) => (JSON.parse(f.data) as WatchEvent).object.metadata.name), ['before', 'after']);
      assert.ok(frames.every((f) => !f.binary));
      ws.close();
    });

    it('sends msgpack binary frames for the reddwarf.msgpack.v1 subprotocol', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'wmp' } });
      await post('/api/v1/namespaces/wmp/pods', pod('mp1'));
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/namespaces/wmp/pods?watch=1`, ['reddwarf.msgpack.v1']);
      const frames: { data: Buffer; binary: boolean }[] = [];
      ws.on('message', (data, binary) => frames.push({ data: data as Buffer, binary }));
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      assert.equal(ws.protocol, 'reddwarf.msgpack.v1');
      await post('/api/v1/namespaces/wmp/pods', pod('mp2'));
      await until(() => frames.length === 2, 'two msgpack frames');
      assert.ok(frames.every((f) => f.binary));
      const events = frames.map((f) => unpack(f.data) as WatchEvent);
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED mp1', 'ADDED mp2']);
      ws.close();
    });

    it('refuses a WebSocket from a foreign Origin and more than one subprotocol', async () => {
      const refused = (url: string, opts: WebSocket.ClientOptions, protocols?: string[]) => new Promise<number>((resolve) => {
        const ws = new WebSocket(url, protocols, opts);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => { ws.close(); resolve(101); });
        ws.on('error', () => {});
      });
      const base = `${server.url.replace('http', 'ws')}/api/v1/pods?watch=1`;
      assert.equal(await refused(base, { origin: 'http://evil.example' }), 403);
      assert.equal(await refused(base, {}, ['a', 'b']), 400);
      assert.equal(await refused(base, { origin: server.url }), 101);
      assert.equal(await refused(base, { origin: 'https://console.example' }), 101, '--allowed-origins lets that page in');
    });

    it('sends bookmarks when allowed and ends at timeoutSeconds', async () => {
      const w = httpWatch(`${server.url}/api/v1/nodes?watch=1&allowWatchBookmarks=true&timeoutSeconds=1`);
      await w.done;
      const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
      assert.ok(bookmarks.length >= 2, `got ${bookmarks.length} bookmarks`);
      assert.equal(bookmarks[0]?.object.kind, 'Node');
      assert.ok(bookmarks[0]?.object.metadata.resourceVersion);
    });

    it('marks the end of initial events for sendInitialEvents', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w7' } });
      await post('/api/v1/namespaces/w7/pods', pod('i1'));
      const w = httpWatch(`${server.url}/api/v1/namespaces/w7/pods?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
      await until(() => w.events.length >= 2, 'initial events and bookmark');
      assert.equal(w.events[0]?.type, 'ADDED');
      assert.equal(w.events[1]?.type, 'BOOKMARK');
      assert.equal(w.events[1]?.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
      w.close();
    });

    it('cuts off a watcher that stops reading with a 410, never skipping events silently', async () => {
      await post('/api/v1/namespaces', { metadata: { name: 'w8' } });
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/namespaces/w8/pods?watch=1`);
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      // Stop reading: the socket's receive buffer and then the server's send buffer fill up.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = 'x'.repeat(60_000);
      for (let i = 0; i < 120; i++) await post('/api/v1/namespaces/w8/pods', { ...pod(`b${i}`), metadata: { name: `b${i}`, annotations: { big } } });
      const frames: WatchEvent[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      const closed = new Promise((r) => ws.once('close', r));
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await closed;
      const last = frames[frames.length - 1];
      assert.equal(last?.type, 'ERROR');
      assert.equal(last?.object.code, 410);
      // Whatever arrived before the cut is a gap-free prefix.
      const names = frames.slice(0, -1).map((f) => f.object.metadata.name);
      assert.deepEqual(names, names.map((_, i) => `b${i}`));
      assert.ok(names.length < 120);
    });
  });
}
