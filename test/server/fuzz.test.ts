// A seeded fuzz run over every route: random methods, paths, names, query strings, headers,
// bodies (JSON, patches, YAML, protobuf-ish bytes). Every answer must be a success or a
// well-formed Status, nothing may hang, and the store must hold only whole objects afterwards.
// Reproduce a failure with FUZZ_SEED=<seed printed on failure>; FUZZ_CASES sets the count.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from '../../src/api/model/resources.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES } from '../../src/server/api.ts';
import { Limits } from '../../src/server/limits.ts';
import { isStream, type HttpRequest, type Sink } from '../../src/server/http.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import { openStore } from '../helpers/server.ts';
import { fuzzCases, fuzzSeed, Gen, rng, withTimeout } from '../helpers/fuzz.ts';

const SEED = fuzzSeed();
const CASES = fuzzCases(1500);

const RESOURCE_NAMES = RESOURCES.map((d) => d.resource);
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

function makeRequest(g: Gen): HttpRequest {
  const res = g.chance(0.9) ? g.pick(RESOURCE_NAMES) : g.str(6);
  const ns = g.chance(0.8) ? 'default' : g.name();
  const name = g.name();
  const sub = g.pick([undefined, undefined, 'status', 'binding', 'eviction', 'finalize', 'log', g.str(4)]);
  const enc = (s: string): string => (g.chance(0.8) ? encodeURIComponent(s) : s);
  let path = g.pick([
    `/api/v1/namespaces/${enc(ns)}/${res}`,
    `/api/v1/namespaces/${enc(ns)}/${res}/${enc(name)}`,
    `/api/v1/namespaces/${enc(ns)}/${res}/${enc(name)}/${sub ?? 'status'}`,
    `/api/v1/${res}`,
    `/api/v1/${res}/${enc(name)}`,
    `/api/v1/${res}/${enc(name)}/${sub ?? 'status'}`,
    `/api/v1/watch/namespaces/${enc(ns)}/${res}`,
    `/apis/node.k8s.io/v1/${res}`, `/apis/node.k8s.io/v1/${res}/${enc(name)}`, `/apis/node.k8s.io/v1/watch/${res}`,
    `/apis/node.k8s.io/v1/namespaces/${enc(ns)}/${res}`, `/apis/${g.str(5)}/v1/${res}`,
    '/api', '/apis', '/api/v1', '/apis/node.k8s.io', '/apis/node.k8s.io/v1', '/version', '/healthz', '/readyz', '/livez', '/openapi/v3', '/openapi/v3/api/v1', '/openapi/v3/apis/node.k8s.io/v1',
    `/${g.str(10)}`, '/api/v1/namespaces//pods', '/api/v1/%zz', '/api/v1/namespaces/default/pods/%2e%2e',
  ]);
  if (g.chance(0.05)) path += '/';
  const q = new URLSearchParams();
  const params: [string, () => string][] = [
    ['labelSelector', () => g.pick(['app=x', 'app in (a,b)', '!app', 'a!=b,c', '(((', 'x=' + g.str(70), g.str(8)])],
    ['fieldSelector', () => g.pick(['metadata.name=p1', 'spec.nodeName=n1', 'status.phase!=Running', 'bogus=1', '=', g.str(8)])],
    ['limit', () => g.pick(['1', '0', '-1', '500', 'abc', '99999999999999999999'])],
    ['continue', () => g.pick(['', 'abc', 'eyJ4IjoxfQ', g.str(20)])],
    ['resourceVersion', () => g.pick(['0', '1', '', 'x', '999999999', '-5'])],
    ['resourceVersionMatch', () => g.pick(['NotOlderThan', 'Exact', 'bogus'])],
    ['watch', () => g.pick(['1', 'true', 'false', 'maybe'])],
    ['timeoutSeconds', () => g.pick(['1', '0', '-1', 'x'])],
    ['dryRun', () => g.pick(['All', 'x', ''])],
    ['fieldValidation', () => g.pick(['Strict', 'Warn', 'Ignore', 'x'])],
    ['fieldManager', () => g.pick(['kubectl', '', 'x'.repeat(200)])],
    ['force', () => g.pick(['true', 'x'])],
    ['propagationPolicy', () => g.pick(['Foreground', 'Background', 'Orphan', 'x'])],
    ['gracePeriodSeconds', () => g.pick(['0', '30', '-1', 'x'])],
    ['sendInitialEvents', () => g.pick(['true', 'false', 'x'])],
    ['allowWatchBookmarks', () => g.pick(['true', 'x'])],
    ['includeObject', () => g.pick(['Object', 'None', 'Metadata', 'x'])],
  ];
  for (let i = g.int(4); i > 0; i--) {
    const [k, v] = g.pick(params);
    q.append(k, v());
  }
  if (g.chance(0.05)) q.append(g.str(5), g.str(5));
  const method = g.pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', g.str(4).toUpperCase() || 'X']);
  const headers: Record<string, string> = {};
  let body: Buffer = Buffer.alloc(0);
  const kind = RESOURCES.find((d) => d.resource === res)?.kind ?? 'Thing';
  if (method === 'POST' || method === 'PUT' || method === 'PATCH' || (method === 'DELETE' && g.chance(0.3))) {
    switch (g.int(7)) {
      case 0:
      case 1:
      case 2:
        body = Buffer.from(JSON.stringify(sub === 'binding' ? { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: g.name() } } : g.object(kind, ns)));
        break;
      case 3:
        body = Buffer.from(JSON.stringify(g.chance(0.5) ? [{ op: g.pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'x']), path: g.pick(['/metadata/labels/a', '/spec', '/', '', '/metadata/name', '/x~1y', '/spec/containers/-']), value: g.value(), from: '/spec' }] : g.value()));
        break;
      case 4:
        body = Buffer.from(g.pick(['{', '[]', 'null', '"x"', '1', '{"metadata":', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\n', '\u0000\u0001', g.str(40)]));
        break;
      case 5: {
        // protobuf-ish: the k8s magic, then random bytes.
        const bytes = Buffer.alloc(g.int(64));
        for (let i = 0; i < bytes.length; i++) bytes[i] = g.int(256);
        body = Buffer.concat([g.chance(0.7) ? Buffer.from([0x6b, 0x38, 0x73, 0x00]) : Buffer.alloc(0), bytes]);
        break;
      }
      default:
        body = Buffer.from(JSON.stringify(g.value()));
    }
    headers['content-type'] = g.pick(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', '', 'application/json; charset=utf-16', ...PATCH_TYPES]);
    headers['content-length'] = String(body.length);
  }
  if (g.chance(0.3)) headers.accept = g.pick(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', 'application/yaml', '*/*', 'text/html', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', g.str(20)]);
  if (g.chance(0.1)) headers[g.pick(['x-' + g.str(4), 'authorization', 'origin', 'host'])] = g.str(30);
  return { method, path, query: q, headers, body, remote: '127.0.0.1' };
}

describe('API fuzz', () => {
  it(`answers ${CASES} random requests with a success or a well-formed Status (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const { store, close } = await openStore({ compactEveryMs: 0 });
    const api = createApi(store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, security: { limits: new Limits() } });
    const g = new Gen(rng(SEED));
    const stops: (() => void)[] = [];
    let current = '';
    try {
      // Some objects to hit: pods bound and not, a node.
      await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
      await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], nodeName: 'n1' } });
      await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
      for (let i = 0; i < CASES; i++) {
        const req = makeRequest(g);
        current = `case ${i}: ${req.method} ${req.path}?${req.query.toString()} headers=${JSON.stringify(req.headers)} body=${JSON.stringify(req.body.toString('latin1').slice(0, 300))}`;
        if (g.chance(0.03)) {
          const a = api.upgrade(req);
          if ('reply' in a) assertReply(a.reply.status, a.reply.headers, a.reply.body);
          else {
            const closers: (() => void)[] = [];
            a.start({ write() {}, buffered: () => 0, end: () => closers.forEach((f) => f()), onClose: (cb) => closers.push(cb) });
            stops.push(() => closers.forEach((f) => f()));
          }
          continue;
        }
        const reply = await withTimeout(api.handle(req), 10_000, current);
        if (isStream(reply)) {
          assert.ok(reply.status >= 200 && reply.status < 300, `stream with status ${reply.status}`);
          const closers: (() => void)[] = [];
          const sink: Sink = { write() {}, buffered: () => 0, end: () => closers.forEach((f) => f()), onClose: (cb) => closers.push(cb) };
          reply.stream(sink);
          stops.push(() => closers.forEach((f) => f()));
        } else assertReply(reply.status, reply.headers, reply.body, req.method === 'HEAD');
        if (stops.length > 20) for (const s of stops.splice(0)) s();
      }
      current = 'final store check';
      for (const s of stops.splice(0)) s();
      // Whole objects only, and the store's revision is the newest event's.
      const rev = store.revision();
      let newest = 0;
      for (const def of RESOURCES) {
        for (const o of store.list(def.resource).items) {
          assert.equal(typeof o.metadata?.name, 'string', `${def.resource} object without a name`);
          assert.ok((o.metadata.name as string).length > 0);
          assert.match(String(o.metadata.resourceVersion), /^\d+$/);
          assert.ok(Number(o.metadata.resourceVersion) <= rev, `${def.resource}/${o.metadata.name} rv ${o.metadata.resourceVersion} > store revision ${rev}`);
          assert.equal(o.kind, def.kind);
          if (def.namespaced) assert.ok(o.metadata.namespace && store.get('namespaces', '', o.metadata.namespace) !== undefined || o.metadata.namespace, `${def.resource}/${o.metadata.name} has no namespace`);
          assert.deepEqual(store.get(def.resource, o.metadata.namespace ?? '', o.metadata.name as string), o);
        }
        const stop = store.watch(def.resource, 0, (e: StoreEvent) => {
          newest = Math.max(newest, e.rev);
        });
        stop();
      }
      assert.equal(newest, rev, 'the store revision is not the last logged event');
    } catch (e) {
      throw new Error(`fuzz failed with FUZZ_SEED=${SEED} at ${current}: ${(e as Error).message}`, { cause: e });
    } finally {
      for (const s of stops.splice(0)) s();
      await close();
    }
  });
});

function assertReply(status: number, headers: Record<string, string>, body: string | Uint8Array, head = false): void {
  assert.ok(Number.isInteger(status) && status >= 200 && status < 600, `status ${status}`);
  if (head) return;
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const type = headers['content-type'] ?? '';
  if (status >= 400) {
    assert.match(type, /json/, `error reply with content-type ${type}`);
    const s = JSON.parse(text) as { kind?: string; code?: number; status?: string; reason?: string; message?: string };
    assert.equal(s.kind, 'Status');
    assert.equal(s.code, status);
    assert.equal(s.status, 'Failure');
    assert.equal(typeof s.reason, 'string');
    assert.equal(typeof s.message, 'string');
    if (status === 500) assert.fail(`internal error: ${s.message}`);
  } else if (/json/.test(type)) {
    JSON.parse(text);
  }
}
