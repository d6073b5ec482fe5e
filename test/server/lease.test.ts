// Lease (coordination.k8s.io/v1) over real HTTP, once per transport: discovery, the OpenAPI
// document, CRUD in kube-node-lease, the NAME HOLDER AGE table, validation, MicroTime, watch.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const MERGE = { 'content-type': 'application/merge-patch+json' };

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const lease = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: '2026-12-03T10:00:00.000000Z', ...spec },
});

for (const transport of TRANSPORTS) {
  describe(`Lease (${transport})`, () => {
    let srv: TestServer;
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Body; text: string }> => {
      const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await fetch(srv.url + path, init);
      const text = await res.text();
      let parsed: Body = {};
      try {
        parsed = JSON.parse(text) as Body;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, text };
    };
    before(async () => {
      srv = await startServer(transport);
    });
    after(async () => {
      await srv.stop();
    });

    it('is served under /apis/coordination.k8s.io/v1, namespaced, with its OpenAPI document', async () => {
      const group = await call('GET', '/apis/coordination.k8s.io');
      assert.equal(group.body.preferredVersion.groupVersion, 'coordination.k8s.io/v1');
      const list = await call('GET', '/apis/coordination.k8s.io/v1');
      assert.deepEqual(list.body.resources.map((r: Body) => [r.name, r.kind, r.namespaced]), [['leases', 'Lease', true]]);
      const root = await call('GET', '/openapi/v3');
      const doc = await call('GET', root.body.paths['apis/coordination.k8s.io/v1'].serverRelativeURL as string);
      assert.ok(doc.body.paths['/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}'].put);
      const spec = doc.body.components.schemas['io.k8s.api.coordination.v1.Lease'].properties.spec;
      assert.equal(spec.properties.renewTime.format, 'date-time');
      assert.equal(spec.properties.leaseDurationSeconds.type, 'integer');
      assert.equal((await call('GET', '/api/v1/namespaces/kube-node-lease/leases')).status, 404);
    });

    it('creates, renews, lists as a table (NAME HOLDER AGE) and deletes', async () => {
      const c = await call('POST', LEASES, lease('n1'));
      assert.equal(c.status, 201, c.text);
      assert.equal(c.body.apiVersion, 'coordination.k8s.io/v1');
      assert.equal(c.body.metadata.namespace, 'kube-node-lease');
      assert.equal(c.body.metadata.generation, undefined);
      const renewed = await call('PATCH', `${LEASES}/n1`, { spec: { renewTime: '2026-12-03T10:00:10.250000Z' } }, MERGE);
      assert.equal(renewed.status, 200, renewed.text);
      assert.equal(renewed.body.spec.renewTime, '2026-12-03T10:00:10.250000Z');
      const t = await call('GET', LEASES, undefined, { accept: TABLE_ACCEPT });
      assert.deepEqual(t.body.columnDefinitions.map((d: Body) => d.name), ['Name', 'Holder', 'Age']);
      assert.deepEqual(t.body.rows.map((r: Body) => r.cells.slice(0, 2)), [['n1', 'n1']]);
      const all = await call('GET', '/apis/coordination.k8s.io/v1/leases');
      assert.equal(all.body.kind, 'LeaseList');
      assert.deepEqual(all.body.items.map((l: Body) => l.metadata.name), ['n1']);
      const d = await call('DELETE', `${LEASES}/n1`);
      assert.equal(d.status, 200);
      const gone = await call('GET', `${LEASES}/n1`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.message, 'leases.coordination.k8s.io "n1" not found');
    });

    it('refuses a non-positive leaseDurationSeconds (422), wrong types and malformed MicroTimes (400)', async () => {
      const zero = await call('POST', LEASES, lease('bad', { leaseDurationSeconds: 0 }));
      assert.equal(zero.status, 422);
      assert.match(zero.body.message, /spec\.leaseDurationSeconds: Invalid value: 0: must be greater than 0/);
      assert.equal(zero.body.details.group, 'coordination.k8s.io');
      const holder = await call('POST', LEASES, lease('bad', { holderIdentity: 7 }));
      assert.equal(holder.status, 400);
      assert.match(holder.body.message, /^Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal number into Go struct field LeaseSpec\.spec\.holderIdentity of type string/);
      const seconds = await call('POST', LEASES, lease('bad', { renewTime: '2026-12-03T10:00:00Z' }));
      assert.equal(seconds.status, 400);
      assert.match(seconds.body.message, /parsing time "2026-12-03T10:00:00Z" as "2006-01-02T15:04:05\.000000Z07:00"/);
      const strict = await call('POST', `${LEASES}?fieldValidation=Strict`, lease('bad', { holder: 'x' }));
      assert.equal(strict.status, 400);
      assert.match(strict.body.message, /unknown field "spec\.holder"/);
      // Another zone is stored in UTC, its microseconds kept.
      const zoned = await call('POST', LEASES, lease('zoned', { acquireTime: '2026-12-03T11:00:00.123456+01:00' }));
      assert.equal(zoned.status, 201, zoned.text);
      assert.equal(zoned.body.spec.acquireTime, '2026-12-03T10:00:00.123456Z');
      assert.equal((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/nowhere/leases', lease('x'))).status, 404);
    });

    it('watches renewals with the group apiVersion', async () => {
      assert.equal((await call('POST', LEASES, lease('w1'))).status, 201);
      const list = await call('GET', LEASES);
      const ac = new AbortController();
      const res = await fetch(`${srv.url}${LEASES}?watch=true&resourceVersion=${list.body.metadata.resourceVersion as string}`, { signal: ac.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await call('PATCH', `${LEASES}/w1`, { spec: { renewTime: '2026-12-03T10:00:20.000000Z' } }, MERGE);
      let text = '';
      for (let i = 0; i < 50 && !text.includes('10:00:20'); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      ac.abort();
      const ev = JSON.parse(text.split('\n').find((l) => l.includes('10:00:20')) as string) as Body;
      assert.equal(ev.type, 'MODIFIED');
      assert.equal(ev.object.apiVersion, 'coordination.k8s.io/v1');
      assert.equal(ev.object.spec.renewTime, '2026-12-03T10:00:20.000000Z');
    });
  });
}
