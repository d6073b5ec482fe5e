// Protobuf request bodies: the k8s\0 envelope, omitempty of gogo's zero scalars, pointer fields,
// inlined structs, well-known types, unknown fields, and the HTTP paths that accept them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from '../../src/api/wire/protobuf/decode.ts';
import type { ApiError } from '../../src/api/model/status.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

// ---- a tiny encoder, as gogo writes (every non-pointer scalar, empty ones too) -----------------

type Field = [number, 'varint', number] | [number, 'bytes', Uint8Array | string | Field[]];

function varint(n: number): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function msg(fields: Field[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    if (f[1] === 'varint') {
      out.push(...varint(f[0] * 8), ...varint(f[2]));
    } else {
      const v = f[2];
      const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v instanceof Uint8Array ? v : msg(v);
      out.push(...varint(f[0] * 8 + 2), ...varint(bytes.length), ...bytes);
    }
  }
  return Uint8Array.from(out);
}

function envelope(apiVersion: string, kind: string, raw: Field[], extra: Field[] = []): Buffer {
  const unknown = msg([[1, 'bytes', [[1, 'bytes', apiVersion], [2, 'bytes', kind]]], [2, 'bytes', msg(raw)], [3, 'bytes', ''], [4, 'bytes', ''], ...extra]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
}

/** ObjectMeta as gogo writes it: empty strings, zero generation, zero creationTimestamp. */
function meta(name: string, more: Field[] = []): Field[] {
  return [[1, 'bytes', name], [2, 'bytes', ''], [3, 'bytes', ''], [4, 'bytes', ''], [5, 'bytes', ''], [6, 'bytes', ''], [7, 'varint', 0], [8, 'bytes', [[1, 'varint', 0], [2, 'varint', 0]]], ...more];
}

const mapEntry = (num: number, k: string, v: string): Field => [num, 'bytes', [[1, 'bytes', k], [2, 'bytes', v]]];

// ---- decoding ------------------------------------------------------------------------------------

describe('protobuf decoding', () => {
  it('decodes a Secret as kubectl create secret sends it: bytes map values as base64, type, no immutable', () => {
    const raw = Buffer.from('{"auths":{}}');
    const body = envelope('v1', 'Secret', [[1, 'bytes', meta('regcred')], [2, 'bytes', [[1, 'bytes', '.dockerconfigjson'], [2, 'bytes', raw]]], [3, 'bytes', 'kubernetes.io/dockerconfigjson']]);
    const d = decodeProtobuf(body);
    assert.deepEqual(d.object, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred' }, data: { '.dockerconfigjson': raw.toString('base64') }, type: 'kubernetes.io/dockerconfigjson' });
    assert.deepEqual(d.unknown, []);
  });

  it('decodes a Namespace as kubectl create namespace sends it, dropping zero scalars', () => {
    const body = envelope('v1', 'Namespace', [[1, 'bytes', meta('foo', [mapEntry(11, 'a', 'b')])], [2, 'bytes', []], [3, 'bytes', [[1, 'bytes', '']]]]);
    const d = decodeProtobuf(body);
    assert.deepEqual(d.object, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo', labels: { a: 'b' } } });
    assert.deepEqual(d.unknown, []);
  });

  it('decodes a Service with ports and IntOrString targetPorts', () => {
    const port = (name: string, p: number, target: Field[]): Field => [1, 'bytes', [[1, 'bytes', name], [2, 'bytes', 'TCP'], [3, 'varint', p], [4, 'bytes', target], [5, 'varint', 0]]];
    const spec: Field[] = [port('http', 80, [[1, 'varint', 0], [2, 'varint', 8080], [3, 'bytes', '']]), port('web', 443, [[1, 'varint', 1], [2, 'varint', 0], [3, 'bytes', 'https']]), mapEntry(2, 'app', 'web'), [3, 'bytes', ''], [4, 'bytes', 'ClusterIP'], [13, 'varint', 0]];
    const d = decodeProtobuf(envelope('v1', 'Service', [[1, 'bytes', meta('web')], [2, 'bytes', spec], [3, 'bytes', [[1, 'bytes', []]]]]));
    assert.deepEqual(d.object.spec, {
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'web', protocol: 'TCP', port: 443, targetPort: 'https' }],
      selector: { app: 'web' },
      type: 'ClusterIP',
    });
    assert.equal(d.object.status, undefined);
  });

  it('decodes a Pod: containers, inlined probe handler and volume source, pointers, quantities, times', () => {
    const container: Field[] = [
      [1, 'bytes', 'c'], [2, 'bytes', 'nginx'], [3, 'bytes', 'sh'], [3, 'bytes', '-c'],
      [6, 'bytes', [[1, 'bytes', ''], [2, 'varint', 0], [3, 'varint', 80], [4, 'bytes', 'TCP']]],
      [8, 'bytes', [[1, 'bytes', [[1, 'bytes', 'cpu'], [2, 'bytes', [[1, 'bytes', '500m']]]]]]],
      // livenessProbe: handler (inlined) with httpGet, then periodSeconds.
      [10, 'bytes', [[1, 'bytes', [[2, 'bytes', [[1, 'bytes', '/healthz'], [2, 'bytes', [[1, 'varint', 0], [2, 'varint', 8080]]]]]]], [4, 'varint', 5]]],
      [16, 'varint', 0],
    ];
    const spec: Field[] = [
      [1, 'bytes', [[1, 'bytes', 'scratch'], [2, 'bytes', [[2, 'bytes', []]]]]],
      [2, 'bytes', container],
      [4, 'varint', 0], // terminationGracePeriodSeconds is a pointer: 0 is kept
      [10, 'bytes', 'node-1'],
      [11, 'varint', 0],
    ];
    const deletion: Field[] = [[9, 'bytes', [[1, 'varint', 1700000000], [2, 'varint', 0]]], [10, 'varint', -1]];
    const d = decodeProtobuf(envelope('v1', 'Pod', [[1, 'bytes', meta('p', deletion)], [2, 'bytes', spec]]));
    assert.deepEqual(d.object.metadata, { name: 'p', deletionTimestamp: '2023-11-14T22:13:20Z', deletionGracePeriodSeconds: -1 });
    assert.deepEqual(d.object.spec, {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [{
        name: 'c', image: 'nginx', command: ['sh', '-c'],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      }],
      terminationGracePeriodSeconds: 0,
      nodeName: 'node-1',
    });
  });

  it('decodes DeleteOptions with a zero grace period, preconditions and dryRun', () => {
    const d = decodeProtobuf(envelope('v1', 'DeleteOptions', [[1, 'varint', 0], [2, 'bytes', [[1, 'bytes', 'u-1'], [2, 'bytes', '7']]], [4, 'bytes', 'Background'], [5, 'bytes', 'All']]));
    assert.deepEqual(d.object, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'u-1', resourceVersion: '7' }, propagationPolicy: 'Background', dryRun: ['All'] });
    // Any group version carries DeleteOptions.
    assert.equal(decodeProtobuf(envelope('meta.k8s.io/v1', 'DeleteOptions', [])).kind, 'DeleteOptions');
  });

  it('decodes Eviction (policy/v1), Binding, Node and Event', () => {
    const ev = decodeProtobuf(envelope('policy/v1', 'Eviction', [[1, 'bytes', meta('p', [[3, 'bytes', 'default']])], [2, 'bytes', [[1, 'varint', 30]]]]));
    assert.deepEqual(ev.object, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 30 } });
    const b = decodeProtobuf(envelope('v1', 'Binding', [[1, 'bytes', meta('p')], [2, 'bytes', [[1, 'bytes', 'Node'], [3, 'bytes', 'n1'], [2, 'bytes', '']]]]));
    assert.deepEqual(b.object.target, { kind: 'Node', name: 'n1' });
    const n = decodeProtobuf(envelope('v1', 'Node', [[1, 'bytes', meta('n1')], [2, 'bytes', [[4, 'varint', 1]]], [3, 'bytes', [[1, 'bytes', [[1, 'bytes', 'cpu'], [2, 'bytes', [[1, 'bytes', '4']]]]]]]]));
    assert.deepEqual(n.object.spec, { unschedulable: true });
    assert.deepEqual(n.object.status, { capacity: { cpu: '4' } });
    const e = decodeProtobuf(envelope('v1', 'Event', [[1, 'bytes', meta('e1')], [2, 'bytes', [[1, 'bytes', 'Pod'], [3, 'bytes', 'p']]], [3, 'bytes', 'Started'], [8, 'varint', 2], [10, 'bytes', [[1, 'varint', 1700000000], [2, 'varint', 123456000]]]]));
    assert.equal(e.object.reason, 'Started');
    assert.equal(e.object.count, 2);
    assert.equal(e.object.eventTime, '2023-11-14T22:13:20.123456Z');
  });

  it('reports fields the tables do not know, by path', () => {
    const d = decodeProtobuf(envelope('v1', 'Namespace', [[1, 'bytes', meta('foo', [[99, 'bytes', 'x']])], [7, 'varint', 1]]));
    assert.deepEqual(d.unknown.sort(), ['#7', 'metadata.#99']);
    assert.deepEqual(d.object.metadata, { name: 'foo' });
  });

  it('answers 415 naming an unsupported kind, 400 for malformed bodies', () => {
    assert.throws(() => decodeProtobuf(envelope('v1', 'ConfigMap', [])), (e: ApiError) => e.code === 415 && e.reason === 'UnsupportedMediaType' && e.message.includes('"ConfigMap"'));
    assert.throws(() => decodeProtobuf(Buffer.from('{"kind":"Pod"}')), (e: ApiError) => e.code === 400);
    const truncated = envelope('v1', 'Namespace', [[1, 'bytes', meta('foo')]]).subarray(0, 20);
    assert.throws(() => decodeProtobuf(truncated), (e: ApiError) => e.code === 400);
    assert.throws(() => decodeProtobuf(envelope('v1', 'Namespace', [[1, 'varint', 3]])), (e: ApiError) => e.code === 400 && /wire type/.test(e.message));
  });
});

// ---- over HTTP -----------------------------------------------------------------------------------

describe('protobuf bodies over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer('node');
  });
  after(async () => {
    await server.stop();
  });

  const send = async (method: string, path: string, body: Buffer) => {
    const res = await fetch(server.url + path, { method, headers: { 'content-type': PROTOBUF_MEDIA_TYPE, accept: `${PROTOBUF_MEDIA_TYPE},application/json` }, body: new Uint8Array(body) });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, indexed freely
    return { status: res.status, headers: res.headers, type: res.headers.get('content-type'), body: JSON.parse(text) as Record<string, any>, text };
  };

  it('creates a namespace and a service from protobuf, answering JSON', async () => {
    const ns = await send('POST', '/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict', envelope('v1', 'Namespace', [[1, 'bytes', meta('pb')]]));
    assert.equal(ns.status, 201, ns.text);
    assert.match(ns.type ?? '', /application\/json/);
    assert.equal(ns.body.metadata.name, 'pb');
    const svc = await send('POST', '/api/v1/namespaces/pb/services', envelope('v1', 'Service', [[1, 'bytes', meta('web')], [2, 'bytes', [[1, 'bytes', [[3, 'varint', 80]]]]]]));
    assert.equal(svc.status, 201, svc.text);
    assert.equal(svc.body.spec.ports[0].port, 80);
  });

  it('honours fieldValidation for unknown protobuf fields', async () => {
    const body = () => envelope('v1', 'Namespace', [[1, 'bytes', meta('pbx', [[99, 'bytes', 'x']])]]);
    const strict = await send('POST', '/api/v1/namespaces?fieldValidation=Strict', body());
    assert.equal(strict.status, 400, strict.text);
    assert.match(strict.body.message, /strict decoding error: unknown field "metadata.#99"/);
    const warn = await send('POST', '/api/v1/namespaces?fieldValidation=Warn', body());
    assert.equal(warn.status, 201, warn.text);
    assert.match(warn.headers.get('warning') ?? '', /unknown field \\"metadata.#99\\"/);
  });

  it('415 for a kind it cannot decode; 400 for a body of the wrong kind', async () => {
    const r = await send('POST', '/api/v1/namespaces/default/pods', envelope('v1', 'ConfigMap', []));
    assert.equal(r.status, 415, r.text);
    assert.equal(r.body.reason, 'UnsupportedMediaType');
    assert.match(r.body.message, /ConfigMap/);
    const wrong = await send('POST', '/api/v1/namespaces/default/pods', envelope('v1', 'Namespace', [[1, 'bytes', meta('x')]]));
    assert.equal(wrong.status, 400, wrong.text);
  });

  it('deletes with protobuf DeleteOptions (preconditions honoured), evicts and binds', async () => {
    const podSpec: Field[] = [[2, 'bytes', [[1, 'bytes', 'c'], [2, 'bytes', 'nginx']]]];
    for (const name of ['d1', 'e1']) {
      const c = await send('POST', '/api/v1/namespaces/default/pods', envelope('v1', 'Pod', [[1, 'bytes', meta(name)], [2, 'bytes', podSpec]]));
      assert.equal(c.status, 201, c.text);
    }
    const stale = await send('DELETE', '/api/v1/namespaces/default/pods/d1', envelope('v1', 'DeleteOptions', [[2, 'bytes', [[1, 'bytes', 'not-the-uid']]]]));
    assert.equal(stale.status, 409, stale.text);
    const del = await send('DELETE', '/api/v1/namespaces/default/pods/d1', envelope('v1', 'DeleteOptions', [[1, 'varint', 0], [4, 'bytes', 'Background']]));
    assert.equal(del.status, 200, del.text);
    assert.equal((await fetch(`${server.url}/api/v1/namespaces/default/pods/d1`)).status, 404);

    const bind = await send('POST', '/api/v1/namespaces/default/pods/e1/binding', envelope('v1', 'Binding', [[1, 'bytes', meta('e1')], [2, 'bytes', [[1, 'bytes', 'Node'], [3, 'bytes', 'n1']]]]));
    assert.equal(bind.status, 201, bind.text);
    const evict = await send('POST', '/api/v1/namespaces/default/pods/e1/eviction', envelope('policy/v1', 'Eviction', [[1, 'bytes', meta('e1', [[3, 'bytes', 'default']])], [2, 'bytes', [[1, 'varint', 0]]]]));
    assert.equal(evict.status, 201, evict.text);
    assert.equal((await fetch(`${server.url}/api/v1/namespaces/default/pods/e1`)).status, 404);
  });
});
