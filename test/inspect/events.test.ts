// Live inspection over /inspect/events, with the control plane and an agent in one process as
// `reddwarf up` runs them: message shapes, replay for late pages, filters, nothing when idle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startInProcess } from '../helpers/inspect.ts';

interface Message {
  type: string;
  name?: string;
  sessionId: string;
  parentId?: string;
  rootId: string;
  definition?: string;
  snapshot?: { value: unknown };
  _version: string;
}


async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

function page(url: string): { messages: Message[]; ws: WebSocket; open: Promise<void> } {
  const ws = new WebSocket(url);
  const messages: Message[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Message));
  return { messages, ws, open: new Promise((r, j) => { ws.once('open', () => r()); ws.once('error', j); }) };
}

describe('live inspection', () => {
  it('streams pod actors through Provisioning to Running, replays live actors to a late page, and filters', { timeout: 60_000 }, async () => {
    const { cp, stop } = await startInProcess('n1');
    const ws = cp.server.url.replace('http', 'ws');
    try {
      assert.equal(cp.server.inspect.observing, false, 'no page, no observer');
      const html = await (await fetch(`${cp.server.url}/inspect`)).text();
      assert.match(html, /<iframe id="inspector" src="https:\/\/stately.ai\/inspect">/);
      assert.match(html, /\/inspect\/events/);

      const first = page(`${ws}/inspect/events`);
      await first.open;
      assert.equal(cp.server.inspect.observing, true);
      await cp.client.create('pods', { metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      const podSession = (): string | undefined => first.messages.find((m) => m.type === '@xstate.actor' && m.name === 'pod/default/web')?.sessionId;
      await until('Running snapshot', () => first.messages.some((m) => m.type === '@xstate.snapshot' && m.sessionId === podSession() && String(JSON.stringify(m.snapshot?.value)).includes('Running')));
      const actor = first.messages.find((m) => m.sessionId === podSession() && m.type === '@xstate.actor') as Message;
      assert.equal(actor._version, '0.7.2');
      assert.ok(actor.parentId, 'the pod actor hangs under its cluster actor');
      assert.equal(JSON.parse(actor.definition ?? '{}').id, 'pod');
      const values = first.messages.filter((m) => m.sessionId === podSession() && m.snapshot).map((m) => String(JSON.stringify(m.snapshot?.value)));
      assert.ok(values.some((v) => v.includes('Provisioning')), `states seen: ${values.join(', ')}`);
      assert.ok(first.messages.some((m) => m.type === '@xstate.event' && m.sessionId === podSession()));

      // A page opened later gets every live actor first.
      const late = page(`${ws}/inspect/events`);
      await late.open;
      await until('replay', () => late.messages.some((m) => m.name === 'pod/default/web'));
      const replayed = late.messages.find((m) => m.name === 'pod/default/web');
      assert.match(JSON.stringify(replayed?.snapshot?.value), /Running/);
      assert.ok(late.messages.some((m) => m.name === 'node/n1'), 'the node actor is replayed too');

      // ?actor= narrows the stream to that actor (roots kept for the tree).
      const narrow = page(`${ws}/inspect/events?actor=node/n1`);
      await narrow.open;
      await until('narrow replay', () => narrow.messages.some((m) => m.name === 'node/n1'));
      assert.ok(!narrow.messages.some((m) => m.name === 'pod/default/web'));

      for (const p of [first, late, narrow]) p.ws.close();
      await until('observers detached', () => !cp.server.inspect.observing);
    } finally {
      await stop();
    }
  });
});
