// 1,000 concurrent WebSocket watchers on one server: every watcher gets every event, in order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const WATCHERS = 1000;
const EVENTS = 20;

for (const transport of TRANSPORTS) {
  describe(`${WATCHERS} WebSocket watchers over ${transport}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(transport);
    });
    after(async () => {
      await server.stop();
    });

    it('delivers every event to every watcher, none lost, none out of order', { timeout: 120_000 }, async () => {
      const rv = server.store.revision();
      const seen: string[][] = Array.from({ length: WATCHERS }, () => []);
      const sockets: WebSocket[] = [];
      await Promise.all(seen.map((list, i) => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`);
        ws.on('message', (d) => list.push((JSON.parse(String(d)) as { object: { metadata: { name: string } } }).object.metadata.name));
        ws.once('open', () => resolve());
        ws.once('error', reject);
        sockets[i] = ws;
      })));
      for (let i = 0; i < EVENTS; i++) {
        const res = await fetch(`${server.url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: `p${i}` }, spec: { nodeName: 'none', containers: [{ name: 'c', image: 'i' }] } }) });
        assert.equal(res.status, 201);
      }
      const expected = Array.from({ length: EVENTS }, (_, i) => `p${i}`);
      const deadline = Date.now() + 60_000;
      while (seen.some((l) => l.length < EVENTS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of sockets) ws.close();
      const short = seen.filter((l) => l.length !== EVENTS).length;
      assert.equal(short, 0, `${short} watchers did not get exactly ${EVENTS} events`);
      for (const l of seen) assert.deepEqual(l, expected);
    });
  });
}
