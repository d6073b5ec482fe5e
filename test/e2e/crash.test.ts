// Crash safety end to end: concurrent writers against a real `reddwarf serve`, SIGKILL mid-stream,
// restart on the same data dir; every create that was acknowledged (201) must have survived, the
// revision must not go backwards, and a watch from an acknowledged revision must replay the later
// acknowledged creates in order. Three kill/restart cycles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { makeTempDir, sleep, startServe, type ServeProcess } from '../helpers/process.ts';

const WRITERS = 8;
const WRITE_FOR_MS = 1_500;
const CYCLES = 3;
const NS = 'default';

interface Ack {
  name: string;
  rv: number;
  uid: string;
  cycle: number;
}

interface PodLike {
  metadata: { name: string; resourceVersion: string; uid: string };
}

interface WatchEvent {
  type: string;
  object: { kind?: string; metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string; message?: string };
}

function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'crash' } },
    // Bound to a node no agent runs: the scheduler leaves it alone, so the only writes to these
    // pods are the test's own creates (the watch replay then holds exactly ADDED events).
    spec: { nodeName: 'crash-test-node', containers: [{ name: 'c', image: 'busybox' }] },
  });
}

/** Writer loops creating pods until `stop()` is true or the server stops answering. */
async function writeUntilDead(url: string, cycle: number, stop: () => boolean, acks: Ack[], unexpected: string[], inFlight: { n: number }): Promise<void> {
  const hardDeadline = Date.now() + 10_000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; !stop() && Date.now() < hardDeadline; i++) {
        const name = `c${cycle}-w${w}-${i}`;
        inFlight.n++;
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${url}/api/v1/namespaces/${NS}/pods`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: podBody(name),
            signal: AbortSignal.timeout(5_000),
          });
          text = await res.text();
        } catch {
          return; // the server is gone (killed): this request was never acknowledged
        } finally {
          inFlight.n--;
        }
        if (res.status !== 201) {
          unexpected.push(`POST ${name} → ${res.status} ${text.slice(0, 300)}`);
          continue;
        }
        const pod = JSON.parse(text) as PodLike;
        acks.push({ name, rv: Number(pod.metadata.resourceVersion), uid: pod.metadata.uid, cycle });
      }
    }),
  );
}

/** Reads a watch until `enough(events)` or `timeoutMs`, then aborts it. */
async function readWatch(url: string, enough: (events: WatchEvent[]) => boolean, timeoutMs: number): Promise<{ status: number; events: WatchEvent[]; ended: boolean }> {
  const ac = new AbortController();
  const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(timeoutMs)]);
  const events: WatchEvent[] = [];
  let status = 0;
  let ended = false;
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
    status = res.status;
    if (!res.body) return { status, events, ended: true };
    const decoder = new TextDecoder();
    let buf = '';
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
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
  return { status, events, ended };
}

describe('reddwarf serve survives SIGKILL (uws)', () => {
  it(`keeps every acknowledged create over ${CYCLES} kill/restart cycles`, { timeout: 45_000 }, async (t) => {
    const started = Date.now();
    const dataDir = makeTempDir('reddwarf-crash-');
    const all: Ack[] = [];
    let server: ServeProcess | undefined = await startServe({ transport: 'uws', dataDir });
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const srv: ServeProcess = server;
        const acks: Ack[] = [];
        const unexpected: string[] = [];
        const inFlight = { n: 0 };
        let stopped = false;
        const writers = writeUntilDead(srv.url, cycle, () => stopped, acks, unexpected, inFlight);

        // Let the writers run, then kill the server under them.
        const killAt = Date.now() + WRITE_FOR_MS;
        while (Date.now() < killAt) await sleep(25);
        const inFlightAtKill = inFlight.n;
        await srv.kill9();
        await writers;
        stopped = true;

        assert.deepEqual(unexpected, [], `cycle ${cycle}: non-201 answers before the kill\n${srv.stderrTail(20)}`);
        assert.ok(acks.length > 0, `cycle ${cycle}: no create was acknowledged in ${WRITE_FOR_MS} ms\n${srv.stderrTail(20)}`);
        assert.ok(inFlightAtKill > 0, `cycle ${cycle}: no request was in flight when the server was killed`);
        const prevMax = all.reduce((m, a) => Math.max(m, a.rv), 0);
        const cycleMin = Math.min(...acks.map((a) => a.rv));
        assert.ok(cycleMin > prevMax, `cycle ${cycle}: revision went backwards after restart: first ack ${cycleMin} ≤ earlier ack ${prevMax}`);
        const rvs = new Set<number>();
        for (const a of acks) {
          assert.ok(Number.isSafeInteger(a.rv) && a.rv > 0, `cycle ${cycle}: ${a.name} acknowledged with resourceVersion ${a.rv}`);
          assert.ok(!rvs.has(a.rv), `cycle ${cycle}: two creates acknowledged with resourceVersion ${a.rv}`);
          rvs.add(a.rv);
        }
        all.push(...acks);

        // Restart on the same data dir.
        server = undefined;
        const restartAt = Date.now();
        server = await startServe({ transport: 'uws', dataDir });
        const restartMs = Date.now() - restartAt;
        const next: ServeProcess = server;

        // Every acknowledged pod (this cycle and earlier ones) is there, with its uid.
        const listRes = await fetch(`${next.url}/api/v1/namespaces/${NS}/pods`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
        const listText = await listRes.text();
        assert.equal(listRes.status, 200, `GET /api/v1/namespaces/${NS}/pods → ${listRes.status} ${listText.slice(0, 500)}`);
        const list = JSON.parse(listText) as { metadata: { resourceVersion: string; continue?: string }; items: PodLike[] };
        assert.ok(!list.metadata.continue, 'the list without limit was paged');
        const present = new Map(list.items.map((p) => [p.metadata.name, p]));
        const missing = all.filter((a) => !present.has(a.name));
        assert.deepEqual(
          missing.map((a) => `${a.name}@${a.rv}`),
          [],
          `cycle ${cycle}: ${missing.length} of ${all.length} acknowledged pods lost after SIGKILL + restart`,
        );
        for (const a of all) assert.equal(present.get(a.name)?.metadata.uid, a.uid, `cycle ${cycle}: ${a.name} came back with another uid`);
        const maxAck = Math.max(...all.map((a) => a.rv));
        const listRv = Number(list.metadata.resourceVersion);
        assert.ok(listRv >= maxAck, `cycle ${cycle}: list resourceVersion ${list.metadata.resourceVersion} < highest acknowledged ${maxAck}`);

        // A watch from a revision acknowledged before the kill replays every later acknowledged create, in order.
        const sorted = [...acks].sort((a, b) => a.rv - b.rv);
        const from = sorted[Math.floor(sorted.length / 2)] as Ack;
        const expected = sorted.filter((a) => a.rv > from.rv);
        const want = new Set(expected.map((a) => a.name));
        const watchUrl = `${next.url}/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=${from.rv}`;
        let scanned = 0;
        const w = await readWatch(
          watchUrl,
          (events) => {
            for (; scanned < events.length; scanned++) {
              const n = events[scanned]?.object.metadata?.name;
              if (n !== undefined) want.delete(n);
            }
            return want.size === 0;
          },
          8_000,
        );
        assert.equal(w.status, 200, `GET ${watchUrl} → ${w.status}`);
        const errors = w.events.filter((e) => e.type === 'ERROR');
        assert.deepEqual(errors, [], `GET ${watchUrl}: the watch failed`);
        let last = from.rv;
        for (const e of w.events) {
          assert.equal(e.type, 'ADDED', `GET ${watchUrl}: unexpected ${e.type} for ${e.object.metadata?.name}`);
          const rv = Number(e.object.metadata?.resourceVersion);
          assert.ok(rv > last, `GET ${watchUrl}: resourceVersion ${e.object.metadata?.resourceVersion} (${e.object.metadata?.name}) after ${last}: not strictly increasing`);
          last = rv;
        }
        const byName = new Map(w.events.map((e) => [e.object.metadata?.name, Number(e.object.metadata?.resourceVersion)]));
        const notReplayed = expected.filter((a) => byName.get(a.name) !== a.rv);
        assert.deepEqual(
          notReplayed.map((a) => `${a.name}@${a.rv} (got ${String(byName.get(a.name))})`),
          [],
          `GET ${watchUrl}: acknowledged creates after ${from.rv} missing from the replay (${w.events.length} events, stream ${w.ended ? 'ended' : 'open'})`,
        );
        t.diagnostic(`cycle ${cycle}: ${acks.length} creates acknowledged (rv ${cycleMin}..${maxAck}), ${inFlightAtKill} in flight at SIGKILL, restart ${restartMs} ms, ${list.items.length} pods listed at rv ${listRv}, watch from ${from.rv} replayed ${w.events.length} events`);
      }
      t.diagnostic(`${CYCLES} cycles in ${Date.now() - started} ms`);
    } finally {
      if (server) await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
