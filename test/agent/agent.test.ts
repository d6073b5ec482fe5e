// The node agent over the remote client (as `reddwarf agent --server` runs it): when startAgent
// resolves, every pod bound to the node has its actor; stopping the agent leaves the zones running.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RemoteClient } from '../../src/client/remote.ts';
import { startAgent } from '../../src/agent/agent.ts';
import { MockRuntime } from '../../src/runtime/mock.ts';
import type { Pod } from '../../src/api/model/types.ts';
import { startServer } from '../helpers/server.ts';

/** Waits (bounded in rounds) for the agent's effects to make `cond` true. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let round = 0; !(await cond()); round++) {
    if (round > 1000) assert.fail(`never saw ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('node agent over the remote client', () => {
  it('has an actor for every pod bound to it when startAgent resolves, and leaves the zones running when stopped', { timeout: 60_000 }, async () => {
    const server = await startServer('node');
    const client = new RemoteClient({ server: server.url });
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const name of names) await client.create<Pod>('pods', { metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } });
    await client.create<Pod>('pods', { metadata: { name: 'elsewhere', namespace: 'default' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'i' }] } });
    const dataDir = join(server.dataDir, 'agent-n1');
    const agent = await startAgent({
      client, nodeName: 'n1', dataDir, runtime: 'mock', mockStepDelayMs: 0, podCidr: '10.88.0.0/16', systemReservedCpu: '0', systemReservedMemory: '0',
      maxPods: 110, brands: ['lx'], etherstub: 'reddwarf0', zonepathPrefix: '/rpool/zones', log: () => {},
    });
    let stopped = false;
    try {
      const actors = Object.keys(agent.pods.actor.system.getAll()).filter((id) => id.startsWith('pod/')).sort();
      assert.deepEqual(actors, names.map((n) => `pod/default/${n}`));
      await until('every zone running', async () => (await agent.runtime.list()).filter((z) => z.state === 'running').length === names.length);
      await until('every pod Running', async () => (await client.list<Pod>('pods', { namespace: 'default' })).items.filter((p) => p.status?.phase === 'Running').length === names.length);
      const zones = await agent.runtime.list();
      await agent.stop();
      stopped = true;
      // Another agent process finds the zones as they were: stopping the actors stopped no zone.
      assert.deepEqual(await new MockRuntime({ dir: join(dataDir, 'zones'), stepDelayMs: 0 }).list(), zones);
    } finally {
      if (!stopped) await agent.stop();
      await server.stop();
    }
  });
});
