// Our inspection messages are what @statelyai/inspect itself produces and accepts: the same
// messages as its own converter (createInspector) for the same actor system, and a live
// /inspect/events stream read through its own createWebSocketReceiver with the actor tree intact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createInspector, createWebSocketReceiver } from '@statelyai/inspect';
import { assign, createActor, createMachine, enqueueActions, fromPromise, sendTo, setup, type InspectionEvent } from 'xstate';
import { convert, type InspectorMessage } from '../../src/inspect/convert.ts';
import { startInProcess } from '../helpers/inspect.ts';

type Message = Record<string, unknown> & { type: string; sessionId: string; rootId?: string; parentId?: string; name?: string; snapshot?: { value?: unknown; status?: string } };

/** The browser receiver's test (createBrowserReceiver → isStatelyInspectionEvent). */
const accepted = (m: unknown): boolean => typeof m === 'object' && m !== null && typeof (m as Message).type === 'string' && typeof (m as { _version?: unknown })._version === 'string';

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const child = createMachine({
  id: 'child',
  initial: 'Idle',
  context: { n: 0 },
  states: {
    Idle: { on: { GO: { target: 'Working', actions: assign({ n: ({ context }) => context.n + 1 }) } } },
    Working: { invoke: { src: fromPromise(async () => 42), onDone: 'Done' } },
    Done: {},
  },
});

const parent = setup({ actors: { child } }).createMachine({
  id: 'parent',
  initial: 'Running',
  states: {
    Running: {
      entry: enqueueActions(({ enqueue }) => enqueue.spawnChild('child', { id: 'pod/default/a', systemId: 'pod/default/a' })),
      on: { KICK: { actions: sendTo(({ system }) => system.get('pod/default/a'), { type: 'GO' }) } },
    },
  },
});

describe('@statelyai/inspect compatibility', () => {
  it('produces the messages @statelyai/inspect’s own converter produces', async () => {
    const ours: InspectorMessage[] = [];
    const theirs: Message[] = [];
    const official = createInspector({ send: (m) => theirs.push(JSON.parse(JSON.stringify(m)) as Message) });
    const actor = createActor(parent, {
      inspect: (e: InspectionEvent) => {
        const m = convert(e, Date.now());
        if (m) ours.push(JSON.parse(JSON.stringify(m)) as InspectorMessage);
        official.inspect.next?.(e);
      },
    });
    actor.start();
    actor.send({ type: 'KICK' });
    await until('the promise to settle', () => (actor.system.get('pod/default/a')?.getSnapshot() as { value?: string } | undefined)?.value === 'Done');
    actor.stop();
    await new Promise((r) => setTimeout(r, 20)); // createInspector converts on setTimeout(0)
    assert.ok(ours.length >= 10, `only ${ours.length} messages`);
    assert.equal(theirs.length, ours.length, `one message per inspection event, the same events kept:\n${ours.map((m) => m.type + " " + String(m.name ?? "") + JSON.stringify(m.event ?? "")).join("\n")}\n---\n${theirs.map((m) => m.type + " " + String(m.name ?? "") + JSON.stringify(m.event ?? "")).join("\n")}`);
    for (const [i, m] of ours.entries()) {
      const t = theirs[i] as Message;
      assert.ok(accepted(m));
      const where = `message ${i} (${m.type})`;
      assert.equal(m.type, t.type, where);
      assert.deepEqual(Object.keys(m).sort(), Object.keys(t).sort(), `${where}: the same fields`);
      for (const k of ['sessionId', 'rootId', 'parentId', 'sourceId', 'name', '_version', 'id']) assert.deepEqual(m[k], t[k], `${where}: ${k}`);
      if (m.type === '@xstate.actor') {
        // Theirs reads the snapshot a tick later (so it may be a later state); ours at creation.
        assert.deepEqual(JSON.parse(m.definition as string), JSON.parse(t.definition as string), `${where}: definition`);
      } else {
        assert.deepEqual(m.event, t.event, `${where}: event`);
        if (m.type === '@xstate.snapshot') assert.deepEqual(m.snapshot, t.snapshot, `${where}: snapshot`);
      }
    }
  });

  it('a live /inspect/events stream is accepted by createWebSocketReceiver with the actor tree intact', { timeout: 60_000 }, async () => {
    const { cp, stop } = await startInProcess('r1');
    const received: Message[] = [];
    try {
      const receiver = createWebSocketReceiver({ server: `${cp.server.url.replace('http', 'ws')}/inspect/events` });
      receiver.subscribe((m) => received.push(m as unknown as Message));
      await until('the replay', () => received.some((m) => m.name === 'node/r1'));
      await cp.client.create('pods', { metadata: { name: 'tree', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      const pods = (): Message[] => received.filter((m) => m.type === '@xstate.actor' && m.name === 'pod/default/tree');
      await until('the pod to run', () => pods().length > 0 && received.some((m) => m.type === '@xstate.snapshot' && pods().some((p) => p.sessionId === m.sessionId) && JSON.stringify(m.snapshot?.value).includes('Running')));

      // Every message passes the receivers' test; every actor's parent and root were announced first.
      const actors = new Map<string, Message>();
      for (const m of received) {
        assert.ok(accepted(m), `not accepted: ${JSON.stringify(m).slice(0, 200)}`);
        if (m.type === '@xstate.actor') {
          if (m.parentId !== undefined) assert.ok(actors.has(m.parentId), `${m.name}: parent ${m.parentId} not announced before it`);
          else assert.equal(m.rootId, m.sessionId, `${m.name}: a root is its own root`);
          assert.ok(m.rootId === m.sessionId || actors.has(m.rootId as string), `${m.name}: root ${m.rootId} unknown`);
          actors.set(m.sessionId, m);
        } else {
          assert.ok(actors.has(m.sessionId), `${m.type} for an actor never announced (${m.sessionId})`);
        }
      }
      // The pod's chain ends at the agent's root actor (listed by its source name).
      const pod = pods().at(-1) as Message;
      let a: Message | undefined = pod;
      const chain: string[] = [];
      while (a) {
        chain.push(String(a.name));
        a = a.parentId === undefined ? undefined : actors.get(a.parentId);
      }
      assert.deepEqual(chain.at(0), 'pod/default/tree');
      assert.equal(chain.at(-1), 'agent/r1', `chain: ${chain.join(' → ')}`);
      assert.equal(actors.get(pod.rootId as string)?.name, 'agent/r1');
    } finally {
      await stop();
    }
  });
});
