// Graceful shutdown (issue 7): SIGTERM or SIGINT to a busy `reddwarf up` stops accepting, lets
// the writes already in the server finish with their answer, ends watch streams cleanly (ndjson
// stream completes, WebSocket closes with 1000), leaves the zones running, and exits 0 (not the
// forced exit 1 of its own 5 s deadline). bench/lifecycle.ts times it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { readMockHost } from '../helpers/mock-host.ts';
import { pollUntil, sleep, startUp, type ServeTransport } from '../helpers/process.ts';

const WRITERS = 6;

const pod = (name: string, nodeName?: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] } });

interface Outcome {
  /** Sent before the signal was. */
  beforeSignal: boolean;
  status?: number;
  reason?: string;
  error?: string;
  name: string;
}

async function create(url: string, name: string, out: Outcome[], signalled: () => boolean): Promise<boolean> {
  const o: Outcome = { beforeSignal: !signalled(), name };
  out.push(o);
  try {
    const res = await fetch(`${url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: pod(name, 'elsewhere'), signal: AbortSignal.timeout(8_000) });
    o.status = res.status;
    o.reason = (JSON.parse(await res.text()) as { reason?: string }).reason;
    return res.status === 201;
  } catch (e) {
    o.error = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    return false;
  }
}

const nameOf = (line: string): string => (JSON.parse(line) as { object: { metadata: { name: string } } }).object.metadata.name;

/** An ndjson watch: resolves with the pods it saw and how it ended, once the server ends it. */
async function ndjsonWatch(url: string): Promise<{ seen: Set<string>; end: 'done' | string }> {
  const seen = new Set<string>();
  try {
    const res = await fetch(`${url}/api/v1/pods?watch=1`, { signal: AbortSignal.timeout(30_000) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { seen, end: buf.trim() === '' ? 'done' : `done mid-line: ${buf}` };
      buf += decoder.decode(value, { stream: true });
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) seen.add(nameOf(l));
    }
  } catch (e) {
    return { seen, end: `error: ${(e as Error).message}` };
  }
}

/** A WebSocket watch: the pods it saw and the close code. */
function wsWatch(url: string): { opened: Promise<void>; closed: Promise<{ code: number; seen: Set<string> }> } {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/pods?watch=1`);
  const seen = new Set<string>();
  ws.on('message', (d) => seen.add(nameOf(String(d))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; seen: Set<string> }>((resolve) => ws.once('close', (code) => resolve({ code, seen })));
  return { opened, closed };
}

const cases: { transport: ServeTransport; signal: NodeJS.Signals }[] = [
  { transport: 'uws', signal: 'SIGTERM' },
  { transport: 'node', signal: 'SIGINT' },
];

for (const { transport, signal } of cases) {
  describe(`graceful shutdown of reddwarf up (${transport}, ${signal})`, () => {
    it('finishes in-flight writes, ends watches cleanly, keeps zones running and exits 0 before its deadline', { timeout: 90_000 }, async (t) => {
      const up = await startUp({ transport });
      try {
        // A pod the agent runs: its zone must outlive the shutdown.
        const res = await fetch(`${up.url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: pod('keeper') });
        assert.equal(res.status, 201);
        const running = await pollUntil(async () => {
          const p = (await (await fetch(`${up.url}/api/v1/namespaces/default/pods/keeper`)).json()) as { status?: { phase?: string } };
          return p.status?.phase === 'Running' ? true : undefined;
        }, 20_000);
        assert.ok(running, `the pod never ran\n${up.stderrTail(20)}`);

        const stream = ndjsonWatch(up.url);
        const socket = wsWatch(up.url);
        await socket.opened;

        const outcomes: Outcome[] = [];
        let go = true;
        let signalled = false;
        const writers = Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            for (let i = 0; go; i++) if (!(await create(up.url, `s-${w}-${i}`, outcomes, () => signalled))) return;
          }),
        );
        await sleep(600);
        signalled = true;
        up.child.kill(signal);
        const exited = await pollUntil(() => up.exited(), 10_000, 10);
        go = false;
        await writers;

        assert.ok(exited, `no exit 10 s after ${signal}\n${up.stderrTail(20)}`);
        // Exit 0: the shutdown finished; past its 5 s deadline the process exits 1 and says so.
        assert.equal(up.exitCode(), 0, up.stderrTail(20));
        assert.doesNotMatch(up.stderr(), /shutdown took over/);
        assert.match(up.stderr(), new RegExp(`${signal}: shutting down \\(zones keep running\\)`));

        // Requests sent before the signal were answered: created, or refused with 503 while draining; never cut off.
        const before = outcomes.filter((o) => o.beforeSignal);
        const cut = before.filter((o) => o.status === undefined);
        assert.deepEqual(cut.map((o) => `${o.name}: ${o.error}`), [], 'requests sent before the signal got no answer');
        const odd = outcomes.filter((o) => o.status !== undefined && o.status !== 201 && !(o.status === 503 && o.reason === 'ServiceUnavailable'));
        assert.deepEqual(odd.map((o) => `${o.name}: ${o.status} ${o.reason}`), [], 'answers other than 201 or 503 ServiceUnavailable');
        const acked = outcomes.filter((o) => o.status === 201).map((o) => o.name);
        assert.ok(acked.length > 0, 'no write was acknowledged');

        // Both watches ended cleanly, after delivering every acknowledged create.
        const w = await stream;
        assert.equal(w.end, 'done', 'the ndjson watch did not end cleanly');
        assert.deepEqual(acked.filter((n) => !w.seen.has(n)), [], 'acknowledged creates the ndjson watch never delivered');
        const c = await socket.closed;
        assert.equal(c.code, 1000, 'the WebSocket watch was not closed with 1000');
        assert.deepEqual(acked.filter((n) => !c.seen.has(n)), [], 'acknowledged creates the WebSocket watch never delivered');

        // The zone was left running, and every acknowledged write is there after a restart.
        const host = readMockHost(join(up.dataDir, 'zones'));
        const states = Object.values(host.zones).map((z) => z.state);
        assert.deepEqual(states, ['running']);
        const again = await startUp({ transport, dataDir: up.dataDir });
        try {
          const list = (await (await fetch(`${again.url}/api/v1/namespaces/default/pods`)).json()) as { items: { metadata: { name: string } }[] };
          const names = new Set(list.items.map((p) => p.metadata.name));
          assert.deepEqual(acked.filter((n) => !names.has(n)), [], 'acknowledged creates missing after the restart');
          assert.ok(names.has('keeper'));
        } finally {
          await again.stop();
        }
        const refused = outcomes.filter((o) => o.status === 503).length;
        t.diagnostic(`${transport}/${signal}: exit 0; ${acked.length} creates acknowledged, ${refused} refused with 503, ${outcomes.length - acked.length - refused} not connected after close; ndjson watch saw ${w.seen.size} pods and ended, WebSocket saw ${c.seen.size} and closed 1000`);
      } finally {
        await up.stop();
        up.cleanup();
      }
    });
  });
}
