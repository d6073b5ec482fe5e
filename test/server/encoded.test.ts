// Lists and gets answered from each object version's cached JSON: the same document as
// serialising the objects, never an old version's bytes, and a bounded cache.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/model/types.ts';
import { EncodedObjects } from '../../src/server/encoded.ts';
import { toTable } from '../../src/api/wire/table.ts';

const obj = (uid: string, rv: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: uid, uid, resourceVersion: rv }, ...extra }) as KubeObject;

describe('encoded objects', () => {
  it('answers a list with the document JSON.stringify would make', () => {
    const enc = new EncodedObjects();
    const items = [obj('a', '1', { spec: { x: 'é' } }), obj('b', '2')];
    const head = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '2' } };
    assert.equal(enc.list(head, items).toString(), JSON.stringify({ ...head, items }));
    assert.equal(enc.list(head, []).toString(), JSON.stringify({ ...head, items: [] }));
  });

  it('answers a Table with the document toTable makes, for every includeObject', () => {
    const enc = new EncodedObjects();
    const done = obj('c', '3', { metadata: { name: 'c', uid: 'c', resourceVersion: '3', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'x', image: 'i' }] }, status: { phase: 'Succeeded' } });
    const items = [obj('a', '1', { spec: { containers: [{ name: 'x', image: 'i' }] } }), done];
    for (const includeObject of ['None', 'Metadata', 'Object'] as const) {
      for (const noHeaders of [false, true]) {
        const opts = { includeObject, now: Date.parse('2026-01-02T00:00:00Z'), resourceVersion: '9', continue: 'k', noHeaders };
        assert.deepEqual(JSON.parse(enc.table('pods', items, opts).toString()), JSON.parse(JSON.stringify(toTable('pods', items, opts))), `${includeObject} ${noHeaders}`);
      }
    }
    assert.deepEqual(JSON.parse(enc.table('pods', [], { includeObject: 'Metadata', now: 0, resourceVersion: '1' }).toString()).rows, []);
  });

  it('never answers with an older version of an object', () => {
    const enc = new EncodedObjects();
    assert.equal(JSON.parse(enc.json(obj('a', '1', { spec: { v: 1 } })).toString()).spec.v, 1);
    assert.equal(JSON.parse(enc.json(obj('a', '2', { spec: { v: 2 } })).toString()).spec.v, 2);
  });

  it('reuses the bytes of an unchanged version and stays within its bound', () => {
    const enc = new EncodedObjects(1000);
    const first = enc.json(obj('a', '1'));
    assert.equal(enc.json(obj('a', '1')), first, 'the same bytes, not a new serialisation');
    for (let i = 0; i < 100; i++) enc.json(obj(`u${i}`, '1'));
    assert.ok(enc.bytes <= 1000, `${enc.bytes} bytes held`);
    assert.notEqual(enc.json(obj('a', '1')), first, 'the oldest entry went first');
  });
});
