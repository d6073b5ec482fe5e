// Server-side apply: field sets, conflicts, forced ownership, removal of dropped fields, and the
// apply-patch+yaml PATCH over HTTP (create-or-update, fieldManager, force, fieldValidation).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfig, fieldSet, pathString } from '../../src/api/wire/apply.ts';
import type { ApiError } from '../../src/api/model/status.ts';
import type { KubeObject } from '../../src/api/model/types.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const NOW = '2025-01-01T00:00:00Z';
const pod = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image, ...extra }] },
});

describe('applyConfig', () => {
  it('records a fieldsV1 set with keyed list items', () => {
    const set = fieldSet(pod('nginx'), undefined);
    assert.deepEqual(set['f:metadata'], { 'f:labels': { 'f:app': {} } });
    const applied = applyConfig('Pod', undefined, pod('nginx'), { manager: 'm', force: false, now: NOW });
    const entry = applied.metadata.managedFields?.[0];
    assert.equal(entry?.manager, 'm');
    assert.equal(entry?.operation, 'Apply');
    assert.equal(entry?.fieldsType, 'FieldsV1');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, indexed freely
    assert.deepEqual((entry?.fieldsV1 as Record<string, any>)['f:spec'], { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {} } } });
  });

  it('conflicts with another manager unless forced, then takes the field over', () => {
    const first = applyConfig('Pod', undefined, pod('nginx'), { manager: 'a', force: false, now: NOW });
    // Same value: shared ownership, no conflict.
    const shared = applyConfig('Pod', first, pod('nginx'), { manager: 'b', force: false, now: NOW });
    assert.equal(shared.metadata.managedFields?.length, 2);
    assert.throws(() => applyConfig('Pod', first, pod('httpd'), { manager: 'b', force: false, now: NOW }), (e: ApiError) => {
      assert.equal(e.code, 409);
      assert.equal(e.reason, 'Conflict');
      assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "a" using v1: .spec.containers[name="c"].image');
      assert.deepEqual(e.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "a" using v1', field: '.spec.containers[name="c"].image' }]);
      return true;
    });
    const forced = applyConfig('Pod', first, pod('httpd'), { manager: 'b', force: true, now: NOW });
    assert.equal((forced.spec?.containers as { image: string }[])[0]?.image, 'httpd');
    const a = forced.metadata.managedFields?.find((e) => e.manager === 'a');
    assert.ok(a, 'a still owns the fields it did not lose');
    assert.equal(JSON.stringify(a.fieldsV1).includes('f:image'), false);
  });

  it('removes fields the manager applied before and omits now, keeping other fields', () => {
    const first = applyConfig('Pod', undefined, pod('nginx', { args: ['-v'] }), { manager: 'a', force: false, now: NOW });
    first.metadata.labels = { ...first.metadata.labels, other: 'kept' };
    const second = applyConfig('Pod', first, { ...pod('nginx'), metadata: { name: 'x', namespace: 'default' } }, { manager: 'a', force: false, now: NOW });
    assert.deepEqual(second.metadata.labels, { other: 'kept' });
    assert.deepEqual(second.spec?.containers, [{ name: 'c', image: 'nginx' }]);
  });

  it('merges keyed lists item by item and removes items it no longer applies', () => {
    const two = { ...pod('nginx'), spec: { containers: [{ name: 'c', image: 'nginx' }, { name: 'd', image: 'busybox' }] } };
    const first = applyConfig('Pod', undefined, two, { manager: 'a', force: false, now: NOW });
    const b = applyConfig('Pod', first, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'e', image: 'redis' }] } }, { manager: 'b', force: false, now: NOW });
    assert.deepEqual((b.spec?.containers as { name: string }[]).map((c) => c.name), ['c', 'd', 'e']);
    const dropped = applyConfig('Pod', b, pod('nginx'), { manager: 'a', force: false, now: NOW });
    assert.deepEqual((dropped.spec?.containers as { name: string }[]).map((c) => c.name), ['c', 'e']);
  });

  it('prints paths as structured-merge-diff does', () => {
    assert.equal(pathString(['f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image']), '.spec.containers[name="c"].image');
    assert.equal(pathString(['f:metadata', 'f:finalizers', 'v:"a"']), '.metadata.finalizers[="a"]');
  });
});

describe('apply-patch+yaml over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer('uws');
  });
  after(async () => {
    await server.stop();
  });
  const apply = async (query: string, body: string, type = 'application/apply-patch+yaml') => {
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/a1${query}`, { method: 'PATCH', headers: { 'content-type': type }, body });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, indexed freely
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, any>, text };
  };
  const yaml = (image: string, extra = '') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: a1\nspec:\n  containers:\n  - name: c\n    image: ${image}\n${extra}`;

  it('requires fieldManager (422)', async () => {
    const r = await apply('', yaml('nginx'));
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.message, 'fieldManager: Required value: is required for apply patch');
  });

  it('creates (201), updates (200), conflicts (409) and forces', async () => {
    const c = await apply('?fieldManager=one', yaml('nginx'));
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.metadata.managedFields[0].manager, 'one');
    const u = await apply('?fieldManager=one', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a1', labels: { v: '2' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }));
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.spec.containers[0].image, 'nginx:2');
    assert.deepEqual(u.body.metadata.labels, { v: '2' });
    const x = await apply('?fieldManager=two&force=false', yaml('httpd'));
    assert.equal(x.status, 409, x.text);
    assert.equal(x.body.message, 'Apply failed with 1 conflict: conflict with "one" using v1: .spec.containers[name="c"].image');
    assert.equal(x.body.details.causes[0].reason, 'FieldManagerConflict');
    const f = await apply('?fieldManager=two&force=true', yaml('httpd'));
    assert.equal(f.status, 200, f.text);
    assert.equal(f.body.spec.containers[0].image, 'httpd');
  });

  it('keeps managedFields across a PUT that omits them; force is refused on other patch types', async () => {
    const got = await (await fetch(`${server.url}/api/v1/namespaces/default/pods/a1`)).json() as KubeObject;
    delete got.metadata.managedFields;
    const put = await fetch(`${server.url}/api/v1/namespaces/default/pods/a1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(got) });
    const body = await put.json() as KubeObject;
    assert.equal(put.status, 200);
    assert.ok((body.metadata.managedFields?.length ?? 0) > 0);
    const r = await fetch(`${server.url}/api/v1/namespaces/default/pods/a1?force=true`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{}' });
    assert.equal(r.status, 400);
    await r.text();
  });

  it('honours fieldValidation on apply bodies', async () => {
    const strict = await apply('?fieldManager=one&fieldValidation=Strict', yaml('nginx:2', '    bogus: 1\n'));
    assert.equal(strict.status, 400, strict.text);
    assert.match(strict.body.message, /unknown field "spec.containers\[0\].bogus"/);
    const warn = await fetch(`${server.url}/api/v1/namespaces/default/pods/a1x?fieldManager=one&fieldValidation=Warn`, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: yaml('nginx', '    bogus: 1\n').replace('name: a1\n', 'name: a1x\n') });
    assert.equal(warn.status, 201, await warn.text());
    assert.match(warn.headers.get('warning') ?? '', /unknown field \\"spec.containers\[0\].bogus\\"/);
  });
});
