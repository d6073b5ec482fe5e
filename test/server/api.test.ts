// The REST surface over real HTTP, run once per transport (uWebSockets.js and node:http + ws).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { metadata?: Record<string, unknown>; items?: Record<string, unknown>[] };
  text: string;
}

function client(base: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const init: RequestInit = { method, headers: { ...(body !== undefined ? JSON_TYPE : {}), ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(base() + path, init);
    const text = await res.text();
    let parsed: Reply['body'] = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain-text endpoints
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

const podBody = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'nginx' }] },
});

/** Asserts a Kubernetes Status error with the given code and reason. */
function assertStatus(r: Reply, code: number, reason: string): void {
  assert.equal(r.status, code, r.text);
  assert.equal(r.body.kind, 'Status', r.text);
  assert.equal(r.body.apiVersion, 'v1');
  assert.equal(r.body.status, 'Failure');
  assert.equal(r.body.code, code);
  assert.equal(r.body.reason, reason, r.text);
  assert.equal(typeof r.body.message, 'string');
}

for (const transport of TRANSPORTS) {
  describe(`API over ${transport}`, () => {
    let server: TestServer;
    const call = client(() => server.url);
    before(async () => {
      server = await startServer(transport);
    });
    after(async () => {
      await server.stop();
    });

    it('answers health, version and discovery', async () => {
      for (const p of ['/healthz', '/livez', '/readyz']) {
        const r = await call('GET', p);
        assert.equal(r.status, 200);
        assert.equal(r.text, 'ok');
      }
      const v = await call('GET', '/version');
      assert.equal(v.body.major, '1');
      assert.equal(v.body.minor, '31');
      const api = await call('GET', '/api');
      assert.deepEqual(api.body.versions, ['v1']);
      const v1 = await call('GET', '/api/v1');
      const names = (v1.body.resources as { name: string }[]).map((r) => r.name);
      for (const n of ['pods', 'pods/status', 'pods/eviction', 'pods/binding', 'nodes', 'namespaces', 'services', 'events']) assert.ok(names.includes(n), n);
      const oa = await call('GET', '/openapi/v3');
      const url = ((oa.body.paths as Record<string, { serverRelativeURL: string }>)['api/v1'] as { serverRelativeURL: string }).serverRelativeURL;
      const doc = await call('GET', url);
      assert.equal(doc.status, 200);
      assert.ok(doc.body.paths);
    });

    it('has the default namespace from the first start', async () => {
      const r = await call('GET', '/api/v1/namespaces/default');
      assert.equal(r.status, 200);
      assert.equal((r.body.status as { phase: string }).phase, 'Active');
    });

    it('creates, gets, lists and deletes with the status codes kubectl expects', async () => {
      const c = await call('POST', '/api/v1/namespaces/default/pods', podBody('crud'));
      assert.equal(c.status, 201, c.text);
      assert.equal(c.body.kind, 'Pod');
      const meta = c.body.metadata as Record<string, string>;
      assert.ok(meta.uid);
      assert.ok(meta.resourceVersion);
      const g = await call('GET', '/api/v1/namespaces/default/pods/crud');
      assert.equal(g.status, 200);
      assert.equal((g.body.metadata as Record<string, string>).resourceVersion, meta.resourceVersion);
      const l = await call('GET', '/api/v1/namespaces/default/pods');
      assert.equal(l.body.kind, 'PodList');
      assert.ok((l.body.items ?? []).some((p) => (p.metadata as Record<string, string>).name === 'crud'));
      const all = await call('GET', '/api/v1/pods');
      assert.equal(all.status, 200, 'pod list across namespaces works (bug 1)');
      const d = await call('DELETE', '/api/v1/namespaces/default/pods/crud', { propagationPolicy: 'Background' });
      assert.equal(d.status, 200);
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/crud'), 404, 'NotFound');
    });

    it('defaults kind and apiVersion from the URL (client-node sends neither)', async () => {
      const r = await call('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'bare' }, spec: { ports: [{ port: 80 }] } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.kind, 'Service');
      assert.equal(r.body.apiVersion, 'v1');
    });

    it('answers AlreadyExists, NotFound and a missing namespace as Kubernetes does', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('dup'));
      const again = await call('POST', '/api/v1/namespaces/default/pods', podBody('dup'));
      assertStatus(again, 409, 'AlreadyExists');
      assert.equal(again.body.message, 'pods "dup" already exists');
      const missing = await call('GET', '/api/v1/namespaces/default/pods/nothere');
      assert.equal(missing.body.message, 'pods "nothere" not found');
      assertStatus(await call('POST', '/api/v1/namespaces/nope/pods', podBody('x')), 404, 'NotFound');
      assertStatus(await call('GET', '/api/v1/nopes'), 404, 'NotFound');
    });

    it('refuses malformed input with a Status carrying reason and code, and keeps serving (bug 12)', async () => {
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', '{"metadata": '), 400, 'BadRequest');
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', '[1,2]'), 400, 'BadRequest');
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', { ...podBody('k'), kind: 'Node' }), 400, 'BadRequest');
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', { ...podBody('k'), apiVersion: 'v2' }), 400, 'BadRequest');
      const invalid = await call('POST', '/api/v1/namespaces/default/pods', podBody('Not_DNS'));
      assertStatus(invalid, 422, 'Invalid');
      assert.ok(((invalid.body.details as { causes: { field: string }[] }).causes).some((c) => c.field === 'metadata.name'));
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'nospec' } }), 422, 'Invalid');
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods', podBody('x'), { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaType');
      assertStatus(await call('GET', '/api/v1/pods?labelSelector=a%20in%20(b'), 400, 'BadRequest');
      assertStatus(await call('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx'), 400, 'BadRequest');
      assertStatus(await call('GET', '/api/v1/pods?resourceVersion=abc'), 422, 'Invalid');
      assertStatus(await call('GET', '/api/v1/pods?limit=-1'), 400, 'BadRequest');
      assertStatus(await call('PUT', '/api/v1/namespaces/default/pods/x', podBody('y')), 400, 'BadRequest');
      assert.equal((await call('GET', '/healthz')).status, 200);
      const names = ((await call('GET', '/api/v1/namespaces/default/pods')).body.items ?? []).map((p) => (p.metadata as Record<string, string>).name);
      for (const bad of ['Not_DNS', 'nospec', 'k', 'x', 'y']) assert.ok(!names.includes(bad), `${bad} was not written`);
    });

    it('refuses a body over 3 MiB with 413', async () => {
      const big = { ...podBody('big'), metadata: { name: 'big', annotations: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } } };
      const r = await call('POST', '/api/v1/namespaces/default/pods', big);
      assertStatus(r, 413, 'RequestEntityTooLarge');
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/big'), 404, 'NotFound');
    });

    it('validates unknown fields as fieldValidation says', async () => {
      const body = { ...podBody('strict'), spec: { containers: [{ name: 'app', image: 'nginx' }], bogus: 1 } };
      const strict = await call('POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', body);
      assertStatus(strict, 400, 'BadRequest');
      assert.match(String(strict.body.message), /unknown field "spec.bogus"/);
      const warn = await call('POST', '/api/v1/namespaces/default/pods?fieldValidation=Warn', body);
      assert.equal(warn.status, 201);
      assert.match(warn.headers.get('warning') ?? '', /unknown field \\"spec.bogus\\"/);
    });

    it('answers 409 Conflict to a stale resourceVersion on PUT and PATCH', async () => {
      const c = await call('POST', '/api/v1/namespaces/default/pods', podBody('occ'));
      const stale = c.body as { metadata: Record<string, unknown> };
      const ok = await call('PUT', '/api/v1/namespaces/default/pods/occ', { ...stale, metadata: { ...stale.metadata, labels: { v: '1' } } });
      assert.equal(ok.status, 200, ok.text);
      const conflict = await call('PUT', '/api/v1/namespaces/default/pods/occ', { ...stale, metadata: { ...stale.metadata, labels: { v: '2' } } });
      assertStatus(conflict, 409, 'Conflict');
      assert.match(String(conflict.body.message), /the object has been modified/);
      const patchConflict = await call('PATCH', '/api/v1/namespaces/default/pods/occ', { metadata: { resourceVersion: '1', labels: { v: '3' } } }, { 'content-type': 'application/merge-patch+json' });
      assertStatus(patchConflict, 409, 'Conflict');
    });

    it('patches with merge, JSON and strategic patches, never renaming (bug 7)', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('pt', { a: '1' }));
      const merge = await call('PATCH', '/api/v1/namespaces/default/pods/pt', { metadata: { labels: { b: '2', a: null } } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(merge.status, 200, merge.text);
      assert.deepEqual((merge.body.metadata as { labels: unknown }).labels, { b: '2' });
      const jp = await call('PATCH', '/api/v1/namespaces/default/pods/pt', [{ op: 'add', path: '/metadata/labels/c', value: '3' }], { 'content-type': 'application/json-patch+json' });
      assert.equal(jp.status, 200, jp.text);
      assert.deepEqual((jp.body.metadata as { labels: unknown }).labels, { b: '2', c: '3' });
      const smp = await call('PATCH', '/api/v1/namespaces/default/pods/pt', { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } }, { 'content-type': 'application/strategic-merge-patch+json' });
      assert.equal(smp.status, 200, smp.text);
      assert.equal(((smp.body.spec as { containers: { image: string }[] }).containers[0] as { image: string }).image, 'nginx:2');
      const rename = await call('PATCH', '/api/v1/namespaces/default/pods/pt', { metadata: { name: 'other' } }, { 'content-type': 'application/merge-patch+json' });
      assertStatus(rename, 400, 'BadRequest');
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/other'), 404, 'NotFound');
      const failedTest = await call('PATCH', '/api/v1/namespaces/default/pods/pt', [{ op: 'test', path: '/metadata/name', value: 'x' }], { 'content-type': 'application/json-patch+json' });
      assert.ok(failedTest.status === 422, failedTest.text);
      assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/pt', {}, { 'content-type': 'application/json' }), 415, 'UnsupportedMediaType');
    });

    it('filters lists with label and field selectors, and pages them', async () => {
      await call('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
      for (let i = 0; i < 5; i++) await call('POST', '/api/v1/namespaces/sel/pods', podBody(`s${i}`, { tier: i % 2 ? 'odd' : 'even' }));
      const names = (r: Reply): string[] => (r.body.items ?? []).map((p) => (p.metadata as Record<string, string>).name as string);
      assert.deepEqual(names(await call('GET', '/api/v1/namespaces/sel/pods?labelSelector=tier%3Dodd')), ['s1', 's3']);
      assert.deepEqual(names(await call('GET', '/api/v1/namespaces/sel/pods?labelSelector=tier%20notin%20(odd)')), ['s0', 's2', 's4']);
      assert.deepEqual(names(await call('GET', '/api/v1/pods?fieldSelector=metadata.name%3Ds2')), ['s2']);
      assert.deepEqual(names(await call('GET', '/api/v1/pods?fieldSelector=metadata.namespace%3Dsel,status.phase%3DPending&labelSelector=tier%3Deven')), ['s0', 's2', 's4']);
      assert.deepEqual(names(await call('GET', '/api/v1/namespaces/sel/pods?fieldSelector=spec.nodeName%3D')), ['s0', 's1', 's2', 's3', 's4']);
      const p1 = await call('GET', '/api/v1/namespaces/sel/pods?limit=2');
      assert.deepEqual(names(p1), ['s0', 's1']);
      const token = (p1.body.metadata as Record<string, string>).continue as string;
      assert.equal((p1.body.metadata as Record<string, number>).remainingItemCount, 3);
      const p2 = await call('GET', `/api/v1/namespaces/sel/pods?limit=2&continue=${encodeURIComponent(token)}`);
      assert.deepEqual(names(p2), ['s2', 's3']);
      assertStatus(await call('GET', '/api/v1/namespaces/sel/pods?limit=2&continue=garbage'), 400, 'BadRequest');
    });

    it('serves Tables with the object metadata in every row', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('tbl', { app: 'web' }));
      const t = await call('GET', '/api/v1/namespaces/default/pods', undefined, { accept: TABLE_ACCEPT });
      assert.equal(t.body.kind, 'Table');
      const rows = t.body.rows as { cells: unknown[]; object: { kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> } } }[];
      const row = rows.find((r) => r.object.metadata.name === 'tbl');
      assert.ok(row);
      assert.equal(row.object.kind, 'PartialObjectMetadata');
      assert.equal(row.object.metadata.namespace, 'default');
      assert.deepEqual(row.object.metadata.labels, { app: 'web' });
      const one = await call('GET', '/api/v1/namespaces/default/pods/tbl', undefined, { accept: TABLE_ACCEPT });
      assert.equal((one.body.rows as unknown[]).length, 1);
    });

    it('keeps status out of main-resource writes and spec out of status writes', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { ...podBody('st'), status: { phase: 'Running' } });
      const g = await call('GET', '/api/v1/namespaces/default/pods/st');
      assert.equal((g.body.status as { phase: string }).phase, 'Pending');
      const s = await call('PATCH', '/api/v1/namespaces/default/pods/st/status', { status: { phase: 'Running', podIP: '10.88.0.5' }, spec: { nodeName: 'sneaky' } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(s.status, 200, s.text);
      assert.equal((s.body.status as { phase: string }).phase, 'Running');
      assert.equal((s.body.spec as { nodeName?: string }).nodeName, undefined);
      const gs = await call('GET', '/api/v1/namespaces/default/pods/st/status');
      assert.equal((gs.body.status as { podIP: string }).podIP, '10.88.0.5');
    });

    it('binds a pod once through pods/binding, and never a terminating one', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('b1'));
      const bind = await call('POST', '/api/v1/namespaces/default/pods/b1/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } });
      assert.equal(bind.status, 201, bind.text);
      assert.equal(bind.body.status, 'Success');
      const g = await call('GET', '/api/v1/namespaces/default/pods/b1');
      assert.equal((g.body.spec as { nodeName: string }).nodeName, 'node-1');
      assert.ok((g.body.status as { conditions: { type: string; status: string }[] }).conditions.some((c) => c.type === 'PodScheduled' && c.status === 'True'));
      const twice = await call('POST', '/api/v1/namespaces/default/pods/b1/binding', { metadata: { name: 'b1' }, target: { name: 'node-2' } });
      assertStatus(twice, 409, 'Conflict');
      assert.match(String(twice.body.message), /already assigned to node "node-1"/);
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods/b1/binding', { metadata: { name: 'b1' }, target: {} }), 422, 'Invalid');
      // The bound pod is deleted gracefully; a terminating pod cannot be bound.
      await call('POST', '/api/v1/namespaces/default/pods', podBody('b2'));
      await call('POST', '/api/v1/namespaces/default/pods/b2/binding', { metadata: { name: 'b2' }, target: { name: 'node-1' } });
      const del = await call('DELETE', '/api/v1/namespaces/default/pods/b1');
      assert.equal(del.status, 200);
      assert.ok((del.body.metadata as Record<string, string>).deletionTimestamp);
      assert.equal((await call('GET', '/api/v1/namespaces/default/pods/b1')).status, 200, 'a bound pod stays until finalized');
      const fin = await call('POST', '/api/v1/namespaces/default/pods/b1/finalize');
      assert.equal(fin.status, 200, fin.text);
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/b1'), 404, 'NotFound');
    });

    it('evicts a pod with a graceful delete (kubectl drain)', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('ev'));
      const r = await call('POST', '/api/v1/namespaces/default/pods/ev/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'ev', namespace: 'default' } });
      assert.equal(r.status, 201, r.text);
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/ev'), 404, 'NotFound');
      assertStatus(await call('POST', '/api/v1/namespaces/default/pods/gone/eviction', {}), 404, 'NotFound');
    });

    it('deletes a namespace after emptying it', async () => {
      await call('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
      await call('POST', '/api/v1/namespaces/doomed/pods', podBody('p'));
      await call('POST', '/api/v1/namespaces/doomed/services', { metadata: { name: 's' } });
      const d = await call('DELETE', '/api/v1/namespaces/doomed');
      assert.equal(d.status, 200);
      assert.equal((d.body.status as { phase: string }).phase, 'Terminating');
      for (let i = 0; i < 100 && (await call('GET', '/api/v1/namespaces/doomed')).status === 200; i++) await new Promise((r) => setTimeout(r, 20));
      assertStatus(await call('GET', '/api/v1/namespaces/doomed'), 404, 'NotFound');
      assert.equal((await call('GET', '/api/v1/namespaces/doomed/pods')).body.items?.length, 0);
    });

    it('honours dryRun=All', async () => {
      const r = await call('POST', '/api/v1/namespaces/default/pods?dryRun=All', podBody('dry'));
      assert.equal(r.status, 201);
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/dry'), 404, 'NotFound');
      // A dry-run patch answers with what would be, and leaves what is (GETs and LISTs alike).
      await call('POST', '/api/v1/namespaces/default/pods', podBody('wet', { v: '1' }));
      const patched = await call('PATCH', '/api/v1/namespaces/default/pods/wet?dryRun=All', { metadata: { labels: { v: '2' } } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patched.status, 200, patched.text);
      assert.equal((patched.body.metadata as { labels: Record<string, string> }).labels.v, '2');
      assert.equal(((await call('GET', '/api/v1/namespaces/default/pods/wet')).body.metadata as { labels: Record<string, string> }).labels.v, '1');
      const listed = (await call('GET', '/api/v1/namespaces/default/pods')).body.items?.find((p) => (p.metadata as { name: string }).name === 'wet');
      assert.equal((listed?.metadata as { labels: Record<string, string> }).labels.v, '1');
    });

    it('says that exec, attach and port-forward are not served, naming the zone to zlogin into', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', podBody('shell'));
      const exec = await call('POST', '/api/v1/namespaces/default/pods/shell/exec?command=ls');
      assertStatus(exec, 404, 'NotFound');
      assert.equal(exec.body.message, "pods/exec is not served by reddwarf yet; on the pod's node, zone reddwarf-default-shell is reachable with zlogin reddwarf-default-shell");
      // kubectl 1.30+ exec and port-forward upgrade to a WebSocket first.
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/shell/portforward?ports=80`, ['v4.channel.k8s.io']);
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('the upgrade was accepted')));
      });
      assert.equal(refused.status, 404);
      assert.match(refused.body, /pods\/portforward is not served by reddwarf yet/);
      // Other unknown subresources stay a plain 404.
      assertStatus(await call('GET', '/api/v1/namespaces/default/pods/shell/nonsense'), 404, 'NotFound');
    });

    it('answers an unsupported method with 405', async () => {
      assertStatus(await call('PUT', '/api/v1/namespaces/default/pods', podBody('x')), 405, 'MethodNotAllowed');
      assertStatus(await call('POST', '/version'), 405, 'MethodNotAllowed');
    });
  });
}
