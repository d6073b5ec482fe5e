// Secret (core/v1) and RuntimeClass (node.k8s.io/v1) over real HTTP, once per transport: group
// routes, discovery, CRUD, stringData folding, type checks, immutability, tables, watch, selectors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function client(base: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Body; text: string; headers: Headers }> => {
    const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(base() + path, init);
    const text = await res.text();
    let parsed: Body = {};
    try {
      parsed = JSON.parse(text) as Body;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const dockerConfig = (auths: unknown): string => b64(JSON.stringify(auths));

for (const transport of TRANSPORTS) {
  describe(`Secret and RuntimeClass (${transport})`, () => {
    let srv: TestServer;
    const call = client(() => srv.url);
    before(async () => {
      srv = await startServer(transport);
    });
    after(async () => {
      await srv.stop();
    });

    describe('discovery', () => {
      it('/apis lists node.k8s.io, legacy and aggregated', async () => {
        const legacy = await call('GET', '/apis');
        assert.deepEqual(legacy.body.groups.map((g: Body) => g.name), ['coordination.k8s.io', 'node.k8s.io']);
        const agg = await call('GET', '/apis', undefined, { accept: AGGREGATED_ACCEPT });
        assert.match(agg.headers.get('content-type') ?? '', /as=APIGroupDiscoveryList/);
        assert.equal(agg.body.items.find((i: Body) => i.metadata.name === 'node.k8s.io').versions[0].resources[0].resource, 'runtimeclasses');
        const group = await call('GET', '/apis/node.k8s.io');
        assert.equal(group.body.kind, 'APIGroup');
        assert.equal(group.body.preferredVersion.groupVersion, 'node.k8s.io/v1');
        const list = await call('GET', '/apis/node.k8s.io/v1');
        assert.equal(list.body.groupVersion, 'node.k8s.io/v1');
        assert.equal(list.body.resources[0].name, 'runtimeclasses');
        assert.equal((await call('GET', '/apis/node.k8s.io/v2')).status, 404);
        assert.equal((await call('GET', '/apis/apps/v1')).status, 404);
        assert.equal((await call('GET', '/api/v1/runtimeclasses')).status, 404);
        assert.ok((await call('GET', '/api/v1')).body.resources.some((r: Body) => r.name === 'secrets' && r.kind === 'Secret'));
      });

      it('/openapi/v3 names the node.k8s.io/v1 document, served with its hash', async () => {
        const root = await call('GET', '/openapi/v3');
        const url = root.body.paths['apis/node.k8s.io/v1'].serverRelativeURL as string;
        assert.match(url, /^\/openapi\/v3\/apis\/node\.k8s\.io\/v1\?hash=[0-9A-F]{128}$/);
        const doc = await call('GET', url);
        assert.equal(doc.status, 200);
        assert.ok(doc.body.paths['/apis/node.k8s.io/v1/runtimeclasses/{name}'].patch);
        assert.equal((await call('GET', '/openapi/v3/apis/node.k8s.io/v9')).status, 404);
      });
    });

    describe('RuntimeClass', () => {
      it('creates, gets, lists as a table (NAME HANDLER AGE), and deletes with a Status', async () => {
        const c = await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'lx' }, handler: 'lx', overhead: { podFixed: { memory: '16Mi' } } });
        assert.equal(c.status, 201, c.text);
        assert.equal(c.body.apiVersion, 'node.k8s.io/v1');
        assert.equal(c.body.kind, 'RuntimeClass');
        assert.deepEqual(c.body.overhead, { podFixed: { memory: '16Mi' } });
        const g = await call('GET', '/apis/node.k8s.io/v1/runtimeclasses/lx');
        assert.equal(g.body.handler, 'lx');
        const t = await call('GET', '/apis/node.k8s.io/v1/runtimeclasses', undefined, { accept: TABLE_ACCEPT });
        assert.deepEqual(t.body.columnDefinitions.map((d: Body) => d.name), ['Name', 'Handler', 'Age']);
        assert.deepEqual(t.body.rows[0].cells.slice(0, 2), ['lx', 'lx']);
        const l = await call('GET', '/apis/node.k8s.io/v1/runtimeclasses?fieldSelector=metadata.name%3Dlx');
        assert.equal(l.body.kind, 'RuntimeClassList');
        assert.equal(l.body.apiVersion, 'node.k8s.io/v1');
        assert.equal(l.body.items.length, 1);
        const d = await call('DELETE', '/apis/node.k8s.io/v1/runtimeclasses/lx');
        assert.equal(d.status, 200);
        assert.equal(d.body.kind, 'Status');
        assert.deepEqual(d.body.details, { name: 'lx', group: 'node.k8s.io', kind: 'runtimeclasses', uid: c.body.metadata.uid });
        const gone = await call('GET', '/apis/node.k8s.io/v1/runtimeclasses/lx');
        assert.equal(gone.status, 404);
        assert.equal(gone.body.message, 'runtimeclasses.node.k8s.io "lx" not found');
      });

      it('requires a DNS-label handler, keeps it immutable, refuses a core apiVersion', async () => {
        const none = await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'x' } });
        assert.equal(none.status, 422);
        assert.match(none.body.message, /handler: Required value/);
        assert.equal(none.body.details.group, 'node.k8s.io');
        const bad = await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'x' }, handler: 'Not_A_Label' });
        assert.equal(bad.status, 422);
        assert.match(bad.body.message, /handler: Invalid value: "Not_A_Label": a lowercase RFC 1123 label/);
        const wrong = await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { apiVersion: 'v1', metadata: { name: 'x' }, handler: 'lx' });
        assert.equal(wrong.status, 400);
        assert.match(wrong.body.message, /expected API version \(node\.k8s\.io\/v1\)/);
        assert.equal((await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'sparse' }, handler: 'sparse' })).status, 201);
        const change = await call('PATCH', '/apis/node.k8s.io/v1/runtimeclasses/sparse', { handler: 'lx' }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(change.status, 422);
        assert.match(change.body.message, /handler: Invalid value: "lx": field is immutable/);
        const label = await call('PATCH', '/apis/node.k8s.io/v1/runtimeclasses/sparse', { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(label.status, 200, label.text);
        const strict = await call('POST', '/apis/node.k8s.io/v1/runtimeclasses?fieldValidation=Strict', { metadata: { name: 'y' }, handler: 'lx', spec: {} });
        assert.equal(strict.status, 400);
        assert.match(strict.body.message, /RuntimeClass in version "v1" cannot be handled as a RuntimeClass: strict decoding error: unknown field "spec"/);
      });

      it('watches with a group apiVersion on objects', async () => {
        const list = await call('GET', '/apis/node.k8s.io/v1/runtimeclasses');
        const ac = new AbortController();
        const res = await fetch(`${srv.url}/apis/node.k8s.io/v1/runtimeclasses?watch=true&resourceVersion=${list.body.metadata.resourceVersion as string}`, { signal: ac.signal });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'pkgsrc' }, handler: 'pkgsrc' });
        let text = '';
        for (let i = 0; i < 50 && !text.includes('pkgsrc'); i++) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString();
        }
        ac.abort();
        const ev = JSON.parse(text.split('\n').find((l) => l.includes('pkgsrc')) as string) as Body;
        assert.equal(ev.type, 'ADDED');
        assert.equal(ev.object.apiVersion, 'node.k8s.io/v1');
      });
    });

    describe('Pod brand annotation', () => {
      it('keeps the brand admission wrote through a replace that omits it, refuses a change', async () => {
        assert.equal((await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'ipkg' }, handler: 'ipkg' })).status, 201);
        const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'branded' }, spec: { runtimeClassName: 'ipkg', containers: [{ name: 'c', image: 'i' }] } };
        const c = await call('POST', '/api/v1/namespaces/default/pods', body);
        assert.equal(c.status, 201, c.text);
        assert.equal(c.body.metadata.annotations['reddwarf.io/zone-brand'], 'ipkg');
        const r = await call('PUT', '/api/v1/namespaces/default/pods/branded', { ...body, metadata: { name: 'branded', labels: { a: 'b' } } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.metadata.annotations['reddwarf.io/zone-brand'], 'ipkg');
        const change = await call('PATCH', '/api/v1/namespaces/default/pods/branded', { metadata: { annotations: { 'reddwarf.io/zone-brand': 'lx' } } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(change.status, 422);
        assert.match(change.body.message, /metadata\.annotations\[reddwarf\.io\/zone-brand\]: Forbidden: the zone brand cannot change once the pod exists/);
        const missing = await call('POST', '/api/v1/namespaces/default/pods', { ...body, metadata: { name: 'orphan' }, spec: { ...body.spec, runtimeClassName: 'nlipkg' } });
        assert.equal(missing.status, 403);
        assert.equal(missing.body.message, 'pods "orphan" is forbidden: pod rejected: RuntimeClass "nlipkg" not found');
        assert.equal((await call('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'runc' }, handler: 'runc' })).status, 201);
        const foreign = await call('POST', '/api/v1/namespaces/default/pods', { ...body, metadata: { name: 'foreign' }, spec: { ...body.spec, runtimeClassName: 'runc' } });
        assert.equal(foreign.status, 403);
        assert.match(foreign.body.message, /pod rejected: RuntimeClass "runc" has handler "runc", which is not a zone brand \(lx, sparse, /);
      });
    });

    describe('Secret', () => {
      it('folds stringData into data, defaults type Opaque, and lists as NAME TYPE DATA AGE', async () => {
        const c = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's1' }, data: { a: b64('one'), b: b64('two') }, stringData: { b: 'zwei', c: 'drei' } });
        assert.equal(c.status, 201, c.text);
        assert.equal(c.body.type, 'Opaque');
        assert.deepEqual(c.body.data, { a: b64('one'), b: b64('zwei'), c: b64('drei') });
        assert.equal(c.body.stringData, undefined);
        const t = await call('GET', '/api/v1/namespaces/default/secrets/s1', undefined, { accept: TABLE_ACCEPT });
        assert.deepEqual(t.body.columnDefinitions.map((d: Body) => d.name), ['Name', 'Type', 'Data', 'Age']);
        assert.deepEqual(t.body.rows[0].cells.slice(0, 3), ['s1', 'Opaque', 3]);
        const up = await call('PATCH', '/api/v1/namespaces/default/secrets/s1', { stringData: { d: 'vier' } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(up.status, 200, up.text);
        assert.equal(up.body.data.d, b64('vier'));
        assert.equal(up.body.stringData, undefined);
        const sel = await call('GET', '/api/v1/secrets?fieldSelector=type%3DOpaque');
        assert.ok(sel.body.items.some((s: Body) => s.metadata.name === 's1'));
      });

      it('refuses data that is not base64 (400) and bad keys (422)', async () => {
        const bad = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's2' }, data: { a: 'not base64!' } });
        assert.equal(bad.status, 400);
        assert.match(bad.body.message, /Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data\[a\]/);
        const key = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's2' }, stringData: { 'a/b': 'x' } });
        assert.equal(key.status, 422);
        assert.match(key.body.message, /data\[a\/b\]: Invalid value: "a\/b": a valid config key/);
      });

      it('checks kubernetes.io/dockerconfigjson: the key, valid JSON, an auths object', async () => {
        const post = (name: string, data: Record<string, string>) => call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data });
        const missing = await post('d1', {});
        assert.equal(missing.status, 422);
        assert.match(missing.body.message, /data\[\.dockerconfigjson\]: Required value/);
        const notJson = await post('d1', { '.dockerconfigjson': b64('{nope') });
        assert.equal(notJson.status, 422);
        assert.match(notJson.body.message, /data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>"/);
        const noAuths = await post('d1', { '.dockerconfigjson': dockerConfig({ registry: 'x' }) });
        assert.equal(noAuths.status, 422);
        assert.match(noAuths.body.message, /auths/);
        const ok = await post('d1', { '.dockerconfigjson': dockerConfig({ auths: { 'registry.example': { username: 'u', password: 'p', auth: b64('u:p') } } }) });
        assert.equal(ok.status, 201, ok.text);
        const retype = await call('PATCH', '/api/v1/namespaces/default/secrets/d1', { type: 'Opaque' }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(retype.status, 422);
        assert.match(retype.body.message, /type: Invalid value: "Opaque": field is immutable/);
        const basic = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'ba' }, type: 'kubernetes.io/basic-auth', data: {} });
        assert.equal(basic.status, 422);
        assert.match(basic.body.message, /data\[username\]: Required value/);
        const dockercfg = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'dc' }, type: 'kubernetes.io/dockercfg', stringData: { '.dockercfg': '{"registry.example":{"auth":"eDp5"}}' } });
        assert.equal(dockercfg.status, 201, dockercfg.text);
      });

      it('keeps an immutable Secret immutable', async () => {
        assert.equal((await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'im' }, immutable: true, stringData: { a: 'x' } })).status, 201);
        const data = await call('PATCH', '/api/v1/namespaces/default/secrets/im', { stringData: { a: 'y' } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(data.status, 422);
        assert.match(data.body.message, /data: Forbidden: field is immutable when `immutable` is set/);
        const unset = await call('PATCH', '/api/v1/namespaces/default/secrets/im', { immutable: false }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(unset.status, 422);
        const labels = await call('PATCH', '/api/v1/namespaces/default/secrets/im', { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(labels.status, 200, labels.text);
      });
    });
  });
}
