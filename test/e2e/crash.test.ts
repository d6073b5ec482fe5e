// Crash safety end to end (issue 7): a steady stream of creates and updates against a real
// `reddwarf up`, SIGKILL mid-stream, restart on the same data dir, ten times, alternating the
// uWebSockets.js and node:http transports. After each restart every acknowledged write is there
// (creates with their uid, updates with at least their acknowledged value), revisions never go
// backwards, and a watch from an acknowledged pre-kill revision replays every later acknowledged
// write with its own revision, in order, without gaps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { makeTempDir, sleep, startUp, type ServeProcess, type ServeTransport } from '../helpers/process.ts';

const WRITERS = 8;
const WRITE_FOR_MS = 1_200;
const CYCLES = 10;
const NS = 'default';

/** One acknowledged write: a create (gen 0) or a label update to `gen`. */
interface Ack {
  name: string;
  rv: number;
  uid: string;
  gen: number;
}

interface PodLike {
  metadata: { name: string; resourceVersion: string; uid: string; labels?: Record<string, string> };
}

interface WatchEvent {
  type: string;
  object: { kind?: string; metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> }; code?: number; message?: string };
}

function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'crash', gen: '0' } },
    // Bound to a node no agent runs: scheduler and agent leave it alone, so the only writes to
    // these pods are the test's own (the watch replay then holds exactly them).
    spec: { nodeName: 'crash-test-node', containers: [{ name: 'c', image: 'busybox' }] },
  });
}

interface Run {
  acks: Ack[];
  unexpected: string[];
  inFlight: number;
}

/**
 * Writer loops until `stop()` or the server is gone: each writer creates pods and, every other
 * step, bumps the `gen` label of one of its own pods (one writer per pod, so its acknowledged
 * values only grow).
 */
async function writeUntilDead(url: string, cycle: number, stop: () => boolean, run: Run): Promise<void> {
  const hardDeadline = Date.now() + 10_000;
  const send = async (method: string, path: string, body: string, type: string): Promise<{ status: number; text: string } | undefined> => {
    run.inFlight++;
    try {
      const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': type, accept: 'application/json' }, body, signal: AbortSignal.timeout(5_000) });
      return { status: res.status, text: await res.text() };
    } catch {
      return undefined; // killed under us: never acknowledged
    } finally {
      run.inFlight--;
    }
  };
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const mine: { name: string; gen: number }[] = [];
      for (let i = 0; !stop() && Date.now() < hardDeadline; i++) {
        if (i % 2 === 1 && mine.length > 0) {
          const pod = mine[i % mine.length] as { name: string; gen: number };
          const gen = pod.gen + 1;
          const r = await send('PATCH', `/api/v1/namespaces/${NS}/pods/${pod.name}`, JSON.stringify({ metadata: { labels: { gen: String(gen) } } }), 'application/merge-patch+json');
          if (!r) return;
          if (r.status !== 200) {
            run.unexpected.push(`PATCH ${pod.name} → ${r.status} ${r.text.slice(0, 300)}`);
            continue;
          }
          pod.gen = gen;
          const p = JSON.parse(r.text) as PodLike;
          run.acks.push({ name: pod.name, rv: Number(p.metadata.resourceVersion), uid: p.metadata.uid, gen });
          continue;
        }
        const name = `c${cycle}-w${w}-${i}`;
        const r = await send('POST', `/api/v1/namespaces/${NS}/pods`, podBody(name), 'application/json');
        if (!r) return;
        if (r.status !== 201) {
          run.unexpected.push(`POST ${name} → ${r.status} ${r.text.slice(0, 300)}`);
          continue;
        }
        const p = JSON.parse(r.text) as PodLike;
        mine.push({ name, gen: 0 });
        run.acks.push({ name, rv: Number(p.metadata.resourceVersion), uid: p.metadata.uid, gen: 0 });
      }
    }),
  );
}

/** Reads an ndjson watch until `enough(events)` or `timeoutMs`, then aborts it. */
async function readWatch(url: string, enough: (events: WatchEvent[]) => boolean, timeoutMs: number): Promise<{ status: number; events: WatchEvent[] }> {
  const ac = new AbortController();
  const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(timeoutMs)]);
  const events: WatchEvent[] = [];
  let status = 0;
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
    status = res.status;
    if (!res.body) return { status, events };
    const decoder = new TextDecoder();
    let buf = '';
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) events.push(JSON.parse(line) as WatchEvent);
      }
      if (enough(events)) break;
    }
    ac.abort();
  } catch (e) {
    if (!signal.aborted) throw e;
  }
  return { status, events };
}

const transportOf = (cycle: number): ServeTransport => (cycle % 2 === 1 ? 'uws' : 'node');

describe('reddwarf up survives SIGKILL', () => {
  it(`keeps every acknowledged create and update over ${CYCLES} kill/restart cycles`, { timeout: 150_000 }, async (t) => {
    const dataDir = makeTempDir('reddwarf-crash-');
    const all: Ack[] = [];
    let server: ServeProcess | undefined = await startUp({ transport: transportOf(1), dataDir });
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const srv: ServeProcess = server;
        const run: Run = { acks: [], unexpected: [], inFlight: 0 };
        let stopped = false;
        const writers = writeUntilDead(srv.url, cycle, () => stopped, run);
        await sleep(WRITE_FOR_MS);
        const inFlightAtKill = run.inFlight;
        await srv.kill9();
        await writers;
        stopped = true;
        const acks = run.acks;

        assert.deepEqual(run.unexpected, [], `cycle ${cycle}: unexpected answers before the kill\n${srv.stderrTail(20)}`);
        assert.ok(acks.some((a) => a.gen === 0) && acks.some((a) => a.gen > 0), `cycle ${cycle}: no create and update acknowledged in ${WRITE_FOR_MS} ms\n${srv.stderrTail(20)}`);
        assert.ok(inFlightAtKill > 0, `cycle ${cycle}: no request was in flight when the server was killed`);
        const prevMax = all.reduce((m, a) => Math.max(m, a.rv), 0);
        const cycleMin = Math.min(...acks.map((a) => a.rv));
        assert.ok(cycleMin > prevMax, `cycle ${cycle}: revision went backwards after restart: first ack ${cycleMin} ≤ earlier ack ${prevMax}`);
        assert.equal(new Set(acks.map((a) => a.rv)).size, acks.length, `cycle ${cycle}: two writes acknowledged with one resourceVersion`);
        all.push(...acks);

        server = undefined;
        server = await startUp({ transport: transportOf(cycle + 1), dataDir });
        const next: ServeProcess = server;

        // Every acknowledged pod is there with its uid, holding at least its last acknowledged update.
        const listRes = await fetch(`${next.url}/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dcrash`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
        const listText = await listRes.text();
        assert.equal(listRes.status, 200, `list after restart → ${listRes.status} ${listText.slice(0, 500)}`);
        const list = JSON.parse(listText) as { metadata: { resourceVersion: string }; items: PodLike[] };
        const present = new Map(list.items.map((p) => [p.metadata.name, p]));
        const last = new Map<string, Ack>();
        for (const a of all) if ((last.get(a.name)?.rv ?? 0) < a.rv) last.set(a.name, a);
        const lost = [...last.values()].filter((a) => {
          const p = present.get(a.name);
          return !p || p.metadata.uid !== a.uid || Number(p.metadata.labels?.gen) < a.gen || Number(p.metadata.resourceVersion) < a.rv;
        });
        assert.deepEqual(lost.map((a) => `${a.name} gen ${a.gen}@${a.rv} (found ${JSON.stringify(present.get(a.name)?.metadata.labels ?? null)})`), [], `cycle ${cycle}: acknowledged writes lost after SIGKILL + restart`);
        const maxAck = Math.max(...all.map((a) => a.rv));
        assert.ok(Number(list.metadata.resourceVersion) >= maxAck, `cycle ${cycle}: list resourceVersion ${list.metadata.resourceVersion} < highest acknowledged ${maxAck}`);

        // A watch from an acknowledged pre-kill revision replays every later acknowledged write.
        const sorted = [...acks].sort((a, b) => a.rv - b.rv);
        const from = sorted[Math.floor(sorted.length / 2)] as Ack;
        const expected = sorted.filter((a) => a.rv > from.rv);
        const want = new Set(expected.map((a) => a.rv));
        const watchUrl = `${next.url}/api/v1/namespaces/${NS}/pods?watch=1&labelSelector=app%3Dcrash&resourceVersion=${from.rv}`;
        let scanned = 0;
        const w = await readWatch(
          watchUrl,
          (events) => {
            for (; scanned < events.length; scanned++) want.delete(Number(events[scanned]?.object.metadata?.resourceVersion));
            return want.size === 0;
          },
          8_000,
        );
        assert.equal(w.status, 200, `GET ${watchUrl} → ${w.status}`);
        let prev = from.rv;
        const byRv = new Map<number, WatchEvent>();
        for (const e of w.events) {
          assert.notEqual(e.type, 'ERROR', `GET ${watchUrl}: the watch failed: ${e.object.message}`);
          const rv = Number(e.object.metadata?.resourceVersion);
          assert.ok(rv > prev, `GET ${watchUrl}: resourceVersion ${rv} after ${prev}: not strictly increasing`);
          prev = rv;
          byRv.set(rv, e);
        }
        const missed = expected.filter((a) => {
          const e = byRv.get(a.rv);
          return !e || e.object.metadata?.name !== a.name || e.type !== (a.gen === 0 ? 'ADDED' : 'MODIFIED') || e.object.metadata?.labels?.gen !== String(a.gen);
        });
        assert.deepEqual(missed.map((a) => `${a.name} gen ${a.gen}@${a.rv}`), [], `GET ${watchUrl}: acknowledged writes missing from the replay (${w.events.length} events)`);
        const updates = acks.filter((a) => a.gen > 0).length;
        t.diagnostic(`cycle ${cycle} (${transportOf(cycle)}): ${acks.length - updates} creates + ${updates} updates acknowledged, ${inFlightAtKill} in flight at SIGKILL, replay of ${w.events.length} events from ${from.rv}`);
      }
    } finally {
      if (server) await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
