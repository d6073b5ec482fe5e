// OpenAPI v2 (/openapi/v2): the gnostic protobuf kubectl 1.27/1.28 download before validating -f
// manifests, and its JSON twin. The protobuf is read back with a decoder of this file's own, whose
// field numbers come from gnostic's openapiv2/OpenAPIv2.proto, and must equal the JSON document.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { startServer, TRANSPORTS, type TestServer } from '../helpers/server.ts';
import { RESOURCES } from '../../src/api/model/resources.ts';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_AT } from '../../src/server/openapi-v2.ts';
import { Writer } from '../../src/api/wire/protobuf/encode.ts';

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// A protobuf wire walker and a gnostic → Swagger JSON decoder.

type Wire = { num: number; wire: number; value: number | Uint8Array };

function walk(buf: Uint8Array): Wire[] {
  const out: Wire[] = [];
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      assert.ok(pos < buf.length, 'truncated varint');
      const b = buf[pos++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const num = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) out.push({ num, wire, value: varint() });
    else if (wire === 2) {
      const len = varint();
      assert.ok(pos + len <= buf.length, 'length past the end');
      out.push({ num, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else assert.fail(`unexpected wire type ${wire} for field ${num}`);
  }
  return out;
}

const text = (v: Wire['value']): string => new TextDecoder().decode(v as Uint8Array);

/** Decodes one message; `spec` maps field numbers to [JSON key, how]; unknown fields fail. */
type How = 'string' | 'strings' | 'bool' | 'any' | 'anys' | 'ext' | ((b: Uint8Array) => unknown) | { repeated: (b: Uint8Array) => unknown };
function decoder(name: string, spec: Record<number, readonly [string, How]>): (b: Uint8Array) => Obj {
  return (buf) => {
    const out: Obj = {};
    for (const f of walk(buf)) {
      const entry = spec[f.num];
      assert.ok(entry, `${name}: unexpected field ${f.num}`);
      const [key, how] = entry;
      if (how === 'string') out[key] = text(f.value);
      else if (how === 'strings') ((out[key] ??= []) as string[]).push(text(f.value));
      else if (how === 'bool') out[key] = f.value === 1;
      else if (how === 'any') out[key] = anyValue(f.value as Uint8Array);
      else if (how === 'anys') ((out[key] ??= []) as unknown[]).push(anyValue(f.value as Uint8Array));
      else if (how === 'ext') {
        const [n, v] = namedPair(f.value as Uint8Array);
        out[n] = anyValue(v);
      } else if (typeof how === 'function') out[key] = how(f.value as Uint8Array);
      else ((out[key] ??= []) as unknown[]).push(how.repeated(f.value as Uint8Array));
    }
    return out;
  };
}

/** Named* {1 name, 2 value}. */
function namedPair(buf: Uint8Array): [string, Uint8Array] {
  let name = '';
  let value: Uint8Array = new Uint8Array();
  for (const f of walk(buf)) {
    if (f.num === 1) name = text(f.value);
    else if (f.num === 2) value = f.value as Uint8Array;
    else assert.fail(`Named*: unexpected field ${f.num}`);
  }
  return [name, value];
}

/** openapi.v2.Any {1 google.protobuf.Any, 2 yaml}: the YAML parsed as kubectl's yaml.Unmarshal would. */
function anyValue(buf: Uint8Array): unknown {
  const fields = walk(buf);
  assert.deepEqual(fields.map((f) => f.num), [2], 'Any carries its value as yaml');
  return parseYaml(text((fields[0] as Wire).value));
}

/** A wrapper of repeated Named* in field `num` (others: vendor extensions) as a JSON object. */
const namedMap = (num: number, value: (b: Uint8Array) => unknown, ext?: number) => (buf: Uint8Array): Obj => {
  const out: Obj = {};
  for (const f of walk(buf)) {
    const [n, v] = namedPair(f.value as Uint8Array);
    if (f.num === num) out[n] = value(v);
    else if (f.num === ext) out[n] = anyValue(v);
    else assert.fail(`map: unexpected field ${f.num}`);
  }
  return out;
};

/** A oneof wrapper: exactly one field, whose decoder is picked by number. */
const oneof = (name: string, cases: Record<number, (b: Uint8Array) => unknown>) => (buf: Uint8Array): unknown => {
  const fields = walk(buf);
  assert.equal(fields.length, 1, `${name}: one field`);
  const f = fields[0] as Wire;
  const c = cases[f.num];
  assert.ok(c, `${name}: unexpected field ${f.num}`);
  return c(f.value as Uint8Array);
};

const schema = (b: Uint8Array): Obj => SCHEMA(b);
const SCHEMA = decoder('Schema', {
  1: ['$ref', 'string'], 2: ['format', 'string'], 3: ['title', 'string'], 4: ['description', 'string'], 5: ['default', 'any'],
  16: ['uniqueItems', 'bool'], 19: ['required', 'strings'], 20: ['enum', 'anys'],
  21: ['additionalProperties', oneof('AdditionalPropertiesItem', { 1: schema, 2: () => true })],
  22: ['type', (b) => {
    const values = walk(b).map((f) => text(f.value));
    return values.length === 1 ? values[0] : values;
  }],
  23: ['items', (b) => {
    const items = walk(b).map((f) => schema(f.value as Uint8Array));
    return items.length === 1 ? items[0] : items;
  }],
  24: ['allOf', { repeated: schema }], 25: ['properties', namedMap(1, schema)], 27: ['readOnly', 'bool'], 31: ['', 'ext'],
});
const QUERY = decoder('QueryParameterSubSchema', {
  1: ['required', 'bool'], 2: ['in', 'string'], 3: ['description', 'string'], 4: ['name', 'string'], 6: ['type', 'string'], 7: ['format', 'string'],
  10: ['default', 'any'], 20: ['uniqueItems', 'bool'], 23: ['', 'ext'],
});
const PATH = decoder('PathParameterSubSchema', {
  1: ['required', 'bool'], 2: ['in', 'string'], 3: ['description', 'string'], 4: ['name', 'string'], 5: ['type', 'string'], 6: ['format', 'string'],
  9: ['default', 'any'], 19: ['uniqueItems', 'bool'], 22: ['', 'ext'],
});
const BODY = decoder('BodyParameter', { 1: ['description', 'string'], 2: ['name', 'string'], 3: ['in', 'string'], 4: ['required', 'bool'], 5: ['schema', schema], 6: ['', 'ext'] });
const PARAMETERS_ITEM = oneof('ParametersItem', {
  1: oneof('Parameter', { 1: BODY, 2: oneof('NonBodyParameter', { 3: QUERY, 4: PATH }) }),
});
const RESPONSE = decoder('Response', { 1: ['description', 'string'], 2: ['schema', oneof('SchemaItem', { 1: schema })], 5: ['', 'ext'] });
const OPERATION = decoder('Operation', {
  1: ['tags', 'strings'], 2: ['summary', 'string'], 3: ['description', 'string'], 5: ['operationId', 'string'], 6: ['produces', 'strings'], 7: ['consumes', 'strings'],
  8: ['parameters', { repeated: PARAMETERS_ITEM }], 9: ['responses', namedMap(1, oneof('ResponseValue', { 1: RESPONSE }), 2)],
  10: ['schemes', 'strings'], 11: ['deprecated', 'bool'], 13: ['', 'ext'],
});
const PATH_ITEM = decoder('PathItem', {
  2: ['get', OPERATION], 3: ['put', OPERATION], 4: ['post', OPERATION], 5: ['delete', OPERATION], 8: ['patch', OPERATION],
  9: ['parameters', { repeated: PARAMETERS_ITEM }], 10: ['', 'ext'],
});
const DOCUMENT = decoder('Document', {
  1: ['swagger', 'string'], 2: ['info', decoder('Info', { 1: ['title', 'string'], 2: ['version', 'string'], 3: ['description', 'string'], 7: ['', 'ext'] })],
  8: ['paths', namedMap(2, PATH_ITEM, 1)], 9: ['definitions', namedMap(1, schema)], 16: ['', 'ext'],
});

/** The JSON document as proto3 carries it: false and '' are not written (Any values keep theirs). */
function proto3(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(proto3);
  if (v === null || typeof v !== 'object') return v;
  const isAny = (k: string) => k.startsWith('x-') || k === 'default';
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => isAny(k) || (x !== false && x !== '')).map(([k, x]) => [k, isAny(k) ? x : proto3(x)]));
}

// ---------------------------------------------------------------------------------------------

interface Op { parameters?: Obj[]; 'x-kubernetes-group-version-kind'?: unknown; 'x-kubernetes-action'?: unknown }
interface PathItem { get?: Op; put?: Op; post?: Op; delete?: Op; patch?: Op; parameters?: Obj[] }
interface Doc { swagger: string; paths: Record<string, PathItem>; definitions: Record<string, Obj> }

/** What kubectl's v2 QueryParamVerifier looks for: the first PATCH of the kind, carrying fieldValidation. */
function patchSupportsFieldValidation(doc: Doc, kind: string, apiGroup = '', apiVersion = 'v1'): boolean | undefined {
  for (const item of Object.values(doc.paths)) {
    const gvk = item.patch?.['x-kubernetes-group-version-kind'];
    if (!gvk) continue;
    assert.deepEqual(Object.keys(gvk).sort(), ['group', 'kind', 'version']);
    const { group, version, kind: k } = gvk as Obj;
    if (group !== apiGroup || version !== apiVersion || k !== kind) continue;
    return (item.patch?.parameters ?? []).some((p) => p.in === 'query' && p.name === 'fieldValidation');
  }
  return undefined;
}

/** What kube-openapi's proto.NewOpenAPIData (kubectl's parser) refuses. */
function assertParsable(doc: Doc): void {
  const visit = (s: Obj, path: string): void => {
    if (typeof s.$ref === 'string') {
      assert.ok(s.$ref.startsWith('#/definitions/') && doc.definitions[s.$ref.slice('#/definitions/'.length)], `${path}: dangling ${s.$ref}`);
      for (const k of Object.keys(s)) assert.ok(k === '$ref' || k === 'description' || k.startsWith('x-'), `${path}: ${k} beside $ref`);
      return;
    }
    assert.ok(typeof s.type === 'string' || s.type === undefined, `${path}: one type`);
    if (s.type === 'array') {
      assert.ok(s.items && !Array.isArray(s.items), `${path}: an array needs one items schema`);
      visit(s.items as Obj, `${path}[]`);
    }
    for (const [k, p] of Object.entries((s.properties ?? {}) as Record<string, Obj>)) visit(p, `${path}.${k}`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') visit(s.additionalProperties as Obj, `${path}{}`);
  };
  for (const [name, s] of Object.entries(doc.definitions)) visit(s, name);
}

describe('protobuf Writer', () => {
  it('writes tags, multi-byte varints and lengths, and skips proto3 defaults', () => {
    const long = 'x'.repeat(200);
    const bytes = new Writer().varint(1, 300).bool(2, true).bool(3, false).string(4, '').varint(5, 0).string(16, 'hi').message(6, (m) => m.string(1, long)).finish();
    assert.deepEqual([...bytes.subarray(0, 9)], [0x08, 0xac, 0x02, 0x10, 0x01, 0x82, 0x01, 0x02, 0x68]);
    const fields = walk(bytes);
    assert.deepEqual(fields.map((f) => f.num), [1, 2, 16, 6]);
    assert.equal(fields[0]?.value, 300);
    assert.equal(text(fields[2]?.value as Uint8Array), 'hi');
    assert.deepEqual(walk(fields[3]?.value as Uint8Array).map((f) => text(f.value)), [long]);
    assert.deepEqual([...new Writer().message(1, () => {}).finish()], [0x0a, 0x00], 'an empty message is still present');
    assert.throws(() => new Writer().varint(1, -1), RangeError);
  });
});

for (const transport of TRANSPORTS) {
  describe(`/openapi/v2 (${transport})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(transport);
    });
    after(async () => {
      await server.stop();
    });

    const get = (accept?: string, headers: Record<string, string> = {}) => fetch(`${server.url}/openapi/v2`, { headers: { ...(accept === undefined ? {} : { accept }), ...headers } });

    async function protobufDoc(accept = OPENAPI_V2_PROTOBUF_AT): Promise<{ res: Response; doc: Doc }> {
      const res = await get(accept);
      assert.equal(res.status, 200);
      return { res, doc: DOCUMENT(new Uint8Array(await res.arrayBuffer())) as unknown as Doc };
    }

    it('answers kubectl 1.27/1.28 (Accept with "@") in protobuf, with a Content-Type Go can parse', async () => {
      const { res, doc } = await protobufDoc();
      // kube-apiserver answers the deprecated "@" spelling with the dotted one; Go's
      // mime.ParseMediaType refuses the "@" and client-go would fail the download.
      assert.equal(res.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
      assert.equal(res.headers.get('vary'), 'Accept');
      assert.match(res.headers.get('etag') ?? '', /^"[0-9A-F]{128}"$/);
      assert.equal(doc.swagger, '2.0');
      const dotted = await protobufDoc(OPENAPI_V2_PROTOBUF);
      assert.deepEqual(dotted.doc, doc);
      assert.equal(dotted.res.headers.get('etag'), res.headers.get('etag'));
    });

    it('decodes to exactly the JSON document', async () => {
      const { doc } = await protobufDoc();
      const res = await get('application/json');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      const json = (await res.json()) as Doc;
      assert.deepEqual(doc, proto3(json));
    });

    it('has a PATCH per kind with its GVK and the fieldValidation query parameter', async () => {
      const { doc } = await protobufDoc();
      for (const def of RESOURCES) assert.equal(patchSupportsFieldValidation(doc, def.kind, def.group, def.version), true, def.kind);
      const pod = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
      assert.ok(pod?.patch && pod.get && pod.put && pod.delete);
      assert.equal(pod.patch['x-kubernetes-action'], 'patch');
      const body = pod.patch.parameters?.find((p) => p.in === 'body');
      assert.deepEqual(body, { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
      assert.deepEqual((pod.patch as Obj).consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
      const evict = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'];
      assert.deepEqual(evict?.post?.['x-kubernetes-group-version-kind'], { group: 'policy', version: 'v1', kind: 'Eviction' });
      for (const p of ['/api/v1/namespaces/{namespace}/pods', '/api/v1/pods', '/api/v1/nodes/{name}', '/api/v1/namespaces/{name}', '/api/v1/namespaces/{namespace}/services/{name}', '/api/v1/namespaces/{namespace}/events/{name}', '/api/v1/namespaces/{namespace}/pods/{name}/binding']) {
        assert.ok(doc.paths[p], p);
      }
      assert.deepEqual(pod.parameters?.find((p) => p.in === 'path' && p.name === 'name'), { name: 'name', in: 'path', description: 'name of the Pod', required: true, type: 'string', uniqueItems: true });
    });

    it('has the Pod definition with resolvable references and patch metadata, parsable by kubectl', async () => {
      const { doc } = await protobufDoc();
      const pod = doc.definitions['io.k8s.api.core.v1.Pod'];
      assert.ok(pod);
      assert.equal(pod.type, 'object');
      assert.deepEqual(Object.keys(pod.properties as Obj).sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      assert.deepEqual((pod.properties as Obj).metadata, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: "Standard object's metadata." });
      // No GVK on definitions: kubectl apply would compute patches from these shallow schemas and
      // warn "error calculating patch from openapi spec" (verified with kubectl 1.27 and 1.28).
      for (const [name, s] of Object.entries(doc.definitions)) assert.equal(s['x-kubernetes-group-version-kind'], undefined, name);
      const owners = ((doc.definitions['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties ?? {}) as Record<string, Obj>).ownerReferences;
      assert.equal(owners?.['x-kubernetes-patch-merge-key'], 'uid');
      assert.equal(owners?.['x-kubernetes-patch-strategy'], 'merge');
      assertParsable(doc);
    });

    it('negotiates: JSON by default, 406 for what it cannot serve', async () => {
      for (const accept of [undefined, '*/*', 'application/json, */*', 'text/html;q=0.5, application/*']) {
        const res = await get(accept);
        assert.equal(res.status, 200, accept);
        assert.equal(res.headers.get('content-type'), 'application/json', accept);
        assert.equal(((await res.json()) as Doc).swagger, '2.0');
      }
      const pb = await get(`application/json;q=0.5, ${OPENAPI_V2_PROTOBUF}`);
      assert.equal(pb.headers.get('content-type'), OPENAPI_V2_PROTOBUF);
      await pb.arrayBuffer();
      const res = await get('text/html');
      assert.equal(res.status, 406);
      const status = (await res.json()) as Obj;
      assert.equal(status.reason, 'NotAcceptable');
    });

    it('answers 304 to a matching If-None-Match, per representation', async () => {
      const json = await get('application/json');
      const pb = await get(OPENAPI_V2_PROTOBUF_AT);
      await Promise.all([json.arrayBuffer(), pb.arrayBuffer()]);
      const jsonTag = json.headers.get('etag') ?? '';
      const pbTag = pb.headers.get('etag') ?? '';
      assert.notEqual(jsonTag, pbTag);
      const again = await get('application/json', { 'if-none-match': jsonTag });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), jsonTag);
      const changed = await get(OPENAPI_V2_PROTOBUF_AT, { 'if-none-match': jsonTag });
      assert.equal(changed.status, 200);
      await changed.arrayBuffer();
    });
  });
}
