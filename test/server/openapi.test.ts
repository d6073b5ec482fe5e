// OpenAPI v3: what kubectl's QueryParamVerifierV3 and apply need from /openapi/v3 and /openapi/v3/api/v1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openapiAll, openapiGroupVersion, openapiHash, openapiPath, openapiRoot, openapiV1, PATCH_CONTENT_TYPES } from '../../src/server/openapi.ts';
import { groupVersion, RESOURCES as ALL_RESOURCES, type GroupVersion } from '../../src/api/model/resources.ts';

// This file checks /openapi/v3/api/v1; named groups are checked at the end.
const RESOURCES = ALL_RESOURCES.filter((d) => d.group === '');

type Obj = Record<string, unknown>;
interface Op { operationId: string; parameters?: { name: string; in: string }[]; requestBody?: { content: Obj }; 'x-kubernetes-action': string; 'x-kubernetes-group-version-kind': { group: string; version: string; kind: string } }

const doc = openapiV1() as { openapi: string; paths: Record<string, Record<string, Op | unknown>>; components: { schemas: Record<string, Obj> } };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function ops(): { path: string; method: string; op: Op }[] {
  const out: { path: string; method: string; op: Op }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m]) out.push({ path, method: m, op: item[m] as Op });
  }
  return out;
}

describe('openapiRoot', () => {
  it('points at each group-version document with its hash', () => {
    assert.deepEqual(openapiRoot(new Map([['api/v1', 'ABC'], ['apis/node.k8s.io/v1', 'DEF']])), {
      paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=ABC' }, 'apis/node.k8s.io/v1': { serverRelativeURL: '/openapi/v3/apis/node.k8s.io/v1?hash=DEF' } },
    });
    assert.equal(openapiPath({ group: '', version: 'v1' }), 'api/v1');
    assert.equal(openapiPath({ group: 'node.k8s.io', version: 'v1' }), 'apis/node.k8s.io/v1');
  });
});

describe('openapiHash', () => {
  it('is stable, upper-case hex, 128 characters, and changes with the document', () => {
    const h = openapiHash(openapiV1());
    assert.match(h, /^[0-9A-F]{128}$/);
    assert.equal(openapiHash(openapiV1()), h);
    assert.notEqual(openapiHash({ other: true }), h);
  });
});

describe('openapiV1', () => {
  it('is an OpenAPI 3 document and deterministic', () => {
    assert.match(doc.openapi, /^3\./);
    assert.equal(JSON.stringify(openapiV1()), JSON.stringify(doc));
  });

  it('has a PATCH operation for every kind with its GVK and a fieldValidation query parameter (QueryParamVerifierV3)', () => {
    for (const def of RESOURCES) {
      const patches = ops().filter(({ method, op }) => method === 'patch' && op['x-kubernetes-group-version-kind'].kind === def.kind);
      assert.ok(patches.length > 0, `PATCH for ${def.kind}`);
      for (const { op } of patches) {
        assert.deepEqual(op['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: def.kind });
        assert.equal(op['x-kubernetes-action'], 'patch');
        assert.ok(op.parameters?.some((p) => p.name === 'fieldValidation' && p.in === 'query'), `fieldValidation on ${def.kind} PATCH`);
        assert.deepEqual(Object.keys(op.requestBody?.content ?? {}), [...PATCH_CONTENT_TYPES]);
      }
    }
  });

  it('lists the four patch media types kubectl and client-node send', () => {
    assert.deepEqual([...PATCH_CONTENT_TYPES], ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
  });

  it('serves namespaced, all-namespaces and cluster-scoped paths', () => {
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/namespaces/{namespace}/pods', '/api/v1/namespaces/{namespace}/pods/{name}', '/api/v1/pods',
      '/api/v1/namespaces/{namespace}/pods/{name}/status', '/api/v1/namespaces/{namespace}/pods/{name}/binding', '/api/v1/namespaces/{namespace}/pods/{name}/eviction',
      '/api/v1/nodes', '/api/v1/nodes/{name}', '/api/v1/nodes/{name}/status',
      '/api/v1/namespaces', '/api/v1/namespaces/{name}', '/api/v1/namespaces/{name}/status',
      '/api/v1/namespaces/{namespace}/services', '/api/v1/services', '/api/v1/namespaces/{namespace}/events', '/api/v1/events',
    ]) assert.ok(paths.includes(p), p);
    assert.ok(!paths.some((p) => p.endsWith('/finalize')), 'finalize is not advertised');
  });

  it('gives every operation a GVK, an action and a unique operationId', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of ops()) {
      assert.ok(op['x-kubernetes-group-version-kind'], `${method} ${path}`);
      assert.ok(['get', 'list', 'post', 'put', 'patch', 'delete', 'deletecollection'].includes(op['x-kubernetes-action']), `${method} ${path}`);
      assert.ok(!ids.has(op.operationId), op.operationId);
      ids.add(op.operationId);
    }
    const evict = (doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'] as { post: Op }).post;
    assert.deepEqual(evict['x-kubernetes-group-version-kind'], { group: 'policy', version: 'v1', kind: 'Eviction' });
  });

  it('declares the list, write and delete query parameters', () => {
    const names = (path: string, method: string): string[] => ((doc.paths[path]?.[method] as Op).parameters ?? []).map((p) => p.name);
    const list = names('/api/v1/namespaces/{namespace}/pods', 'get');
    for (const n of ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch', 'timeoutSeconds', 'allowWatchBookmarks']) assert.ok(list.includes(n), n);
    const create = names('/api/v1/namespaces/{namespace}/pods', 'post');
    for (const n of ['fieldValidation', 'fieldManager', 'dryRun']) assert.ok(create.includes(n), n);
    assert.ok(names('/api/v1/nodes/{name}', 'put').includes('fieldValidation'));
    assert.ok(names('/api/v1/namespaces/{namespace}/pods/{name}', 'patch').includes('force'));
    assert.ok(names('/api/v1/namespaces/{namespace}/pods/{name}', 'delete').includes('gracePeriodSeconds'));
  });

  it('has a schema per kind with apiVersion, kind, metadata, spec and status', () => {
    for (const def of RESOURCES) {
      const schema = doc.components.schemas[`io.k8s.api.core.v1.${def.kind}`] as { properties: Obj } | undefined;
      assert.ok(schema, def.kind);
      for (const p of ['apiVersion', 'kind', 'metadata']) assert.ok(p in schema.properties, `${def.kind}.${p}`);
      if (def.kind !== 'Event' && def.kind !== 'Secret') for (const p of ['spec', 'status']) assert.ok(p in schema.properties, `${def.kind}.${p}`);
      assert.ok(doc.components.schemas[`io.k8s.api.core.v1.${def.listKind}`], def.listKind);
    }
    assert.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  });

  it('keeps GVKs off component schemas so kubectl apply uses its built-in patch metadata', () => {
    for (const [name, schema] of Object.entries(doc.components.schemas)) assert.equal(schema['x-kubernetes-group-version-kind'], undefined, name);
  });

  it('resolves every $ref', () => {
    const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const r of new Set(refs)) assert.ok(doc.components.schemas[r.slice('"#/components/schemas/'.length, -1)], r);
  });
});

describe('openapiGroupVersion (named groups)', () => {
  const gv = groupVersion('node.k8s.io', 'v1') as GroupVersion;
  const nodeDoc = openapiGroupVersion(gv) as { paths: Record<string, Record<string, Op | unknown>>; components: { schemas: Record<string, Obj> } };

  it('serves RuntimeClass under /apis/node.k8s.io/v1 with its GVK and fieldValidation on PATCH', () => {
    const item = nodeDoc.paths['/apis/node.k8s.io/v1/runtimeclasses/{name}'] as Record<string, Op>;
    assert.ok(item, 'item path');
    assert.ok(nodeDoc.paths['/apis/node.k8s.io/v1/runtimeclasses'], 'collection path');
    assert.deepEqual(item.patch?.['x-kubernetes-group-version-kind'], { group: 'node.k8s.io', version: 'v1', kind: 'RuntimeClass' });
    assert.ok(item.patch?.parameters?.some((p) => p.name === 'fieldValidation'));
    assert.equal(item.patch?.operationId, 'patchNodeV1RuntimeClass');
    const schema = nodeDoc.components.schemas['io.k8s.api.node.v1.RuntimeClass'] as { properties: Obj; required: string[] };
    assert.ok(schema.properties.handler);
    assert.deepEqual(schema.required, ['handler']);
    assert.ok(nodeDoc.components.schemas['io.k8s.api.node.v1.RuntimeClassList']);
    assert.ok(!Object.keys(nodeDoc.paths).some((p) => p.startsWith('/api/v1')), 'core paths stay in api/v1');
  });

  it('one document with every group feeds /openapi/v2', () => {
    const all = openapiAll() as { paths: Record<string, unknown> };
    assert.ok(all.paths['/api/v1/namespaces/{namespace}/secrets/{name}']);
    assert.ok(all.paths['/apis/node.k8s.io/v1/runtimeclasses/{name}']);
  });
});
