// RemoteClient: the shared contract over each transport, plus what only a network client has —
// watches that survive a server restart, unreachable servers, timeouts and request headers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { RemoteClient } from '../../src/client/remote.ts';
import { LmdbStore } from '../../src/store/lmdb.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES } from '../../src/server/api.ts';
import { listen, type Listening } from '../../src/server/listen.ts';
import { startServer, tempDir, TRANSPORTS, type Transport } from '../helpers/server.ts';
import { clientContract, compactStore, pod, record, rejectsWith, until } from './contract.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const transport of TRANSPORTS) {
  clientContract(`RemoteClient over ${transport}`, async () => {
    const server = await startServer(transport);
    const client = new RemoteClient({ server: server.url });
    return {
      client,
      compact: () => compactStore(server.store),
      async stop() {
        client.close();
        await server.stop();
      },
    };
  });
}

/** A server assembled as startServer does, but on a data directory and port of our choosing. */
async function serve(dir: string, transport: Transport, port: number): Promise<{ store: LmdbStore; listening: Listening }> {
  const store = new LmdbStore({ path: join(dir, 'store'), compactEveryMs: 0 });
  const listening = await listen(createApi(store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES }), '127.0.0.1', port, transport);
  return { store, listening };
}

/** A port nothing listens on (just released by the OS). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('RemoteClient', () => {
  for (const transport of TRANSPORTS) {
    it(`keeps a watch across a server restart on ${transport} without losing an event`, async () => {
      const { dir, remove } = tempDir();
      // A fixed port from the start: uWS sets SO_REUSEADDR only when asked for a given port, and
      // the old server's closed connections would otherwise block the rebind.
      const port = await closedPort();
      let s = await serve(dir, transport, port);
      const url = `http://127.0.0.1:${port}`;
      const watcher = new RemoteClient({ server: url });
      // Writes use their own clients: the uWS transport's close() leaves idle keep-alive
      // connections served by the old handler and its closed store.
      let writer = new RemoteClient({ server: url });
      try {
        await writer.create('namespaces', { metadata: { name: 'r' } });
        await writer.create('pods', pod('a', 'r'));
        // One watch from the current state, one resuming from a revision.
        const fresh = record(watcher, 'pods', { namespace: 'r' });
        const { resourceVersion } = await writer.list('pods', { namespace: 'r' });
        const resumed = record(watcher, 'pods', { namespace: 'r', resourceVersion });
        await until(() => fresh.events.length === 1, 'initial ADDED');
        await writer.create('pods', pod('b', 'r'));
        await until(() => fresh.events.length === 2 && resumed.events.length === 1, 'b');

        writer.close();
        await s.listening.close();
        // Written while nobody listens: only the resume can deliver it.
        await s.store.create('pods', pod('c', 'r'));
        await s.store.close();
        await pause(300); // a few refused reconnects
        s = await serve(dir, transport, port);
        writer = new RemoteClient({ server: url });
        await s.store.create('pods', pod('d', 'r'));
        await writer.create('pods', pod('e', 'r'));
        await until(() => fresh.events.length === 5 && resumed.events.length === 4, 'c, d and e', 8000);
        assert.deepEqual(fresh.seen, ['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d', 'ADDED e']);
        assert.deepEqual(resumed.seen, ['ADDED b', 'ADDED c', 'ADDED d', 'ADDED e']);
        assert.deepEqual(fresh.closed, []);
        assert.deepEqual(resumed.closed, []);
        fresh.stop();
        resumed.stop();
      } finally {
        watcher.close();
        writer.close();
        await s.listening.close();
        await s.store.close();
        remove();
      }
    });
  }

  it('answers 503 ServiceUnavailable when nothing listens, and its watches keep trying quietly', async () => {
    const port = await closedPort();
    const client = new RemoteClient({ server: `http://127.0.0.1:${port}` });
    const err = await rejectsWith(client.get('pods', 'default', 'x'), 503, 'ServiceUnavailable');
    assert.match(err.message, new RegExp(`^cannot reach the API server at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    await rejectsWith(client.create('pods', pod('x', 'default')), 503, 'ServiceUnavailable');
    const w = record(client, 'pods', {});
    await pause(300);
    assert.deepEqual(w.closed, []);
    w.stop();
    client.close();
  });

  it('gives up on a silent server after timeoutMs with 504 Timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((sock) => sockets.add(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const client = new RemoteClient({ server: `http://127.0.0.1:${port}`, timeoutMs: 100 });
    try {
      const err = await rejectsWith(client.list('pods'), 504, 'Timeout');
      assert.match(err.message, /did not answer GET \/api\/v1\/pods within 100 ms/);
    } finally {
      client.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('sends the bearer token on requests and watches, under a path prefix, and reads non-Status errors', async () => {
    const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
    const http = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    });
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      seen.push({ url: req.url, headers: req.headers });
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'boom' } })));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const client = new RemoteClient({ server: `http://127.0.0.1:${port}/prefix/`, token: 't0ken' });
    try {
      const err = await rejectsWith(client.get('nodes', '', 'n1'), 502, 'Unknown');
      assert.equal(err.message, 'bad gateway');
      const w = record(client, 'pods', { namespace: 'ns', labelSelector: 'a=b' });
      await until(() => w.closed.length === 1, 'closed');
      assert.deepEqual(w.closed, [{ expired: false, message: 'boom' }]);
      assert.equal(seen[0]?.url, '/prefix/api/v1/nodes/n1');
      assert.equal(seen[0]?.headers.authorization, 'Bearer t0ken');
      const watchUrl = new URL(seen[1]?.url ?? '', 'http://x');
      assert.equal(watchUrl.pathname, '/prefix/api/v1/namespaces/ns/pods');
      assert.equal(watchUrl.searchParams.get('watch'), '1');
      assert.equal(watchUrl.searchParams.get('labelSelector'), 'a=b');
      assert.equal(watchUrl.searchParams.get('sendInitialEvents'), 'true');
      assert.equal(seen[1]?.headers.authorization, 'Bearer t0ken');
    } finally {
      client.close();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });

  it('resumes after the network drops the watch connection, with no event lost or repeated', async () => {
    const server = await startServer('uws');
    const proxy = await tcpProxy(Number(new URL(server.url).port));
    const client = new RemoteClient({ server: `http://127.0.0.1:${proxy.port}` });
    try {
      await client.create('pods', pod('a', 'default'));
      const w = record(client, 'pods', { namespace: 'default' });
      await until(() => w.events.length === 1, 'a');
      for (let i = 0; i < 3; i++) {
        proxy.cut();
        await server.store.create('pods', pod(`during${i}`, 'default'));
        await client.create('pods', pod(`after${i}`, 'default'));
      }
      await until(() => w.events.length === 7, 'the events around the cuts');
      assert.deepEqual(w.seen, ['ADDED a', 'ADDED during0', 'ADDED after0', 'ADDED during1', 'ADDED after1', 'ADDED during2', 'ADDED after2']);
      assert.ok(proxy.connections() >= 4, 'the watch reconnected');
      assert.deepEqual(w.closed, []);
      w.stop();
    } finally {
      client.close();
      await proxy.close();
      await server.stop();
    }
  });
});

/** A TCP proxy to 127.0.0.1:`target` whose connections can all be cut at once. */
async function tcpProxy(target: number): Promise<{ port: number; cut(): void; connections(): number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let count = 0;
  const server = createTcpServer((inbound) => {
    count++;
    const outbound = connect(target, '127.0.0.1');
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
      open.add(a);
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      a.on('error', () => {});
      a.pipe(b);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      for (const s of open) s.destroy();
    },
    connections: () => count,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
