// Unfiltered lists served from the current objects the watch hub keeps: every write shows in the
// next list, in store order, scoped to the namespace; resources over the bound read the store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/model/types.ts';
import { CurrentObjects } from '../../src/server/current.ts';
import { EncodedObjects } from '../../src/server/encoded.ts';
import { openStore } from '../helpers/server.ts';

const pod = (name: string, namespace = 'default') => ({ metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'i' }] } }) as KubeObject;
const objects = (r: { items: Buffer } | undefined): KubeObject[] => JSON.parse(`[${r?.items.toString() ?? ''}]`) as KubeObject[];
const names = (r: { items: Buffer } | undefined): string[] => objects(r).map((o) => o.metadata.name as string);

describe('current objects', () => {
  it('follows creates, updates and deletes, in store order and per namespace', async () => {
    const { store, close } = await openStore();
    const current = new CurrentObjects(store, new EncodedObjects());
    try {
      for (const ns of ['default2', 'a-b']) await store.create('namespaces', { metadata: { name: ns } } as KubeObject);
      await store.create('pods', pod('b'));
      assert.deepEqual(names(current.list('pods', 'default')), ['b']);
      await store.create('pods', pod('a'));
      await store.create('pods', pod('c', 'default2'));
      await store.create('pods', pod('z', 'a-b'));
      const modified = await store.update('pods', 'default', 'b', (cur) => ({ ...(cur as KubeObject), metadata: { ...(cur as KubeObject).metadata, labels: { v: '2' } } }));
      assert.deepEqual(names(current.list('pods', 'default')), ['a', 'b'], 'default/ holds neither default2/ nor a-b/');
      const all = current.list('pods');
      assert.deepEqual(names(all), store.list('pods').items.map((p) => p.metadata.name), 'the store order');
      assert.equal(all?.revision, store.revision());
      const b = objects(current.list('pods', 'default')).find((p) => p.metadata.name === 'b');
      assert.equal(b?.metadata.resourceVersion, modified.object.metadata.resourceVersion, 'the new version, not the cached old one');
      await store.finalize('pods', 'default', 'a');
      assert.deepEqual(names(current.list('pods', 'default')), ['b']);
    } finally {
      current.close();
      await close();
    }
  });

  it('answers the same list document until the store moves on', async () => {
    const { store, close } = await openStore();
    const current = new CurrentObjects(store, new EncodedObjects());
    try {
      await store.create('pods', pod('d1'));
      const doc = current.document('pods', 'default', 'v1', 'PodList');
      const parsed = JSON.parse(doc?.toString() ?? '{}') as { kind: string; metadata: { resourceVersion: string }; items: KubeObject[] };
      assert.equal(parsed.kind, 'PodList');
      assert.equal(parsed.metadata.resourceVersion, String(store.revision()));
      assert.deepEqual(parsed.items.map((p) => p.metadata.name), ['d1']);
      assert.equal(current.document('pods', 'default', 'v1', 'PodList'), doc, 'the very same bytes');
      // A write elsewhere moves the list's resourceVersion, not its items.
      await store.create('namespaces', { metadata: { name: 'elsewhere' } } as KubeObject);
      const moved = JSON.parse(current.document('pods', 'default', 'v1', 'PodList')?.toString() ?? '{}') as typeof parsed;
      assert.equal(moved.metadata.resourceVersion, String(store.revision()));
      assert.deepEqual(moved.items, parsed.items);
    } finally {
      current.close();
      await close();
    }
  });

  it('leaves resources above its bound to the store', async () => {
    const { store, close } = await openStore();
    const current = new CurrentObjects(store, new EncodedObjects(), 2);
    try {
      await store.create('pods', pod('x'));
      assert.deepEqual(names(current.list('pods')), ['x']);
      await store.create('pods', pod('y'));
      await store.create('pods', pod('w'));
      assert.equal(current.list('pods'), undefined, 'over the bound: read the store');
    } finally {
      current.close();
      await close();
    }
  });
});
