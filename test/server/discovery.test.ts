// Discovery: /version, /api, /apis, /api/v1 and aggregated discovery as kubectl and client-node read them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, aggregatedGroupsDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo, wantsAggregated,
} from '../../src/server/discovery.ts';
import { RESOURCES as ALL_RESOURCES } from '../../src/api/model/resources.ts';

// /api/v1 holds the core group; named groups are checked below.
const RESOURCES = ALL_RESOURCES.filter((d) => d.group === '');

const KUBECTL_DISCOVERY_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('versionInfo', () => {
  it('reports the minor that picks the kubectl binary', () => {
    assert.deepEqual(versionInfo(32), {
      major: '1', minor: '32', gitVersion: 'v1.32.0', gitCommit: 'reddwarf', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64',
    });
    assert.equal(versionInfo(31, 'illumos/amd64').platform, 'illumos/amd64');
    assert.equal(versionInfo(31).gitVersion, 'v1.31.0');
  });
});

describe('legacy discovery', () => {
  it('/api and /apis', () => {
    assert.deepEqual(apiVersions('127.0.0.1:6443'), { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] });
    const nodeV1 = { groupVersion: 'node.k8s.io/v1', version: 'v1' };
    const coordinationV1 = { groupVersion: 'coordination.k8s.io/v1', version: 'v1' };
    assert.deepEqual(apiGroupList(), {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [{ name: 'coordination.k8s.io', versions: [coordinationV1], preferredVersion: coordinationV1 }, { name: 'node.k8s.io', versions: [nodeV1], preferredVersion: nodeV1 }],
    });
    assert.deepEqual(apiGroup('node.k8s.io'), { kind: 'APIGroup', apiVersion: 'v1', name: 'node.k8s.io', versions: [nodeV1], preferredVersion: nodeV1 });
    assert.equal(apiGroup('apps'), undefined);
    assert.equal(apiGroup(''), undefined);
  });

  it('/apis/coordination.k8s.io/v1 lists leases, namespaced', () => {
    assert.deepEqual(apiResourceList('coordination.k8s.io', 'v1'), {
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'coordination.k8s.io/v1',
      resources: [{ name: 'leases', singularName: 'lease', namespaced: true, kind: 'Lease', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }],
    });
    assert.ok(!apiResourceList()?.resources.some((r) => r.name === 'leases'), 'not under /api/v1');
  });

  it('/apis/node.k8s.io/v1 lists runtimeclasses, cluster-scoped', () => {
    assert.deepEqual(apiResourceList('node.k8s.io', 'v1'), {
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'node.k8s.io/v1',
      resources: [{ name: 'runtimeclasses', singularName: 'runtimeclass', namespaced: false, kind: 'RuntimeClass', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }],
    });
    assert.equal(apiResourceList('node.k8s.io', 'v2'), undefined);
    assert.ok(!apiResourceList()?.resources.some((r) => r.name === 'runtimeclasses'), 'not under /api/v1');
    assert.ok(apiResourceList()?.resources.some((r) => r.name === 'secrets'));
  });

  const list = apiResourceList() as NonNullable<ReturnType<typeof apiResourceList>>;
  const entry = (name: string) => list.resources.find((r) => r.name === name);

  it('/api/v1 lists every resource with shortNames, categories, verbs and singularName', () => {
    assert.equal(list.kind, 'APIResourceList');
    assert.equal(list.groupVersion, 'v1');
    for (const def of RESOURCES) {
      const r = entry(def.resource);
      assert.ok(r, def.resource);
      assert.equal(r.singularName, def.singular);
      assert.equal(r.namespaced, def.namespaced);
      assert.equal(r.kind, def.kind);
      assert.deepEqual(r.verbs, [...def.verbs].sort());
      assert.deepEqual(r.shortNames ?? [], [...def.shortNames]);
      assert.deepEqual(r.categories ?? [], [...def.categories]);
    }
    assert.deepEqual(entry('pods')?.shortNames, ['po']);
    assert.deepEqual(entry('services')?.categories, ['all']);
  });

  it('advertises deletecollection only when the resource has it', () => {
    for (const def of RESOURCES) assert.equal(entry(def.resource)?.verbs.includes('deletecollection'), def.verbs.includes('deletecollection'), def.resource);
  });

  it('pods/eviction is policy/v1 Eviction, which kubectl drain requires', () => {
    assert.deepEqual(entry('pods/eviction'), { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
  });

  it('lists status and binding subresources, but not finalize', () => {
    assert.deepEqual(entry('pods/binding'), { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
    assert.deepEqual(entry('pods/status'), { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    for (const n of ['nodes/status', 'namespaces/status', 'services/status']) assert.ok(entry(n), n);
    assert.equal(entry('nodes/status')?.namespaced, false);
    assert.equal(entry('nodes/status')?.kind, 'Node');
    assert.ok(!list.resources.some((r) => r.name.endsWith('/finalize')));
    assert.equal(entry('events/status'), undefined);
  });

  it('is sorted by name like kube-apiserver', () => {
    const names = list.resources.map((r) => r.name);
    assert.deepEqual(names, [...names].sort());
  });
});

describe('aggregated discovery', () => {
  it('/api carries the core group with every resource', () => {
    const d = aggregatedDiscovery();
    assert.equal(d.kind, 'APIGroupDiscoveryList');
    assert.equal(d.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.equal(d.items.length, 1);
    assert.equal(d.items[0]?.metadata.creationTimestamp, null);
    const v = d.items[0]?.versions[0];
    assert.equal(v?.version, 'v1');
    assert.equal(v?.freshness, 'Current');
    assert.equal(v?.resources.length, RESOURCES.length);
    const pods = v?.resources.find((r) => r.resource === 'pods');
    assert.deepEqual(pods?.responseKind, { group: '', version: 'v1', kind: 'Pod' });
    assert.equal(pods?.scope, 'Namespaced');
    assert.equal(pods?.singularResource, 'pod');
    assert.deepEqual(pods?.shortNames, ['po']);
    assert.deepEqual(pods?.categories, ['all']);
    assert.deepEqual(pods?.subresources?.map((s) => s.subresource), ['binding', 'eviction', 'log', 'status']);
    assert.deepEqual(pods?.subresources?.find((s) => s.subresource === 'eviction'), { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
    assert.equal(v?.resources.find((r) => r.resource === 'nodes')?.scope, 'Cluster');
  });

  it('/apis lists coordination.k8s.io with Lease and node.k8s.io with RuntimeClass', () => {
    const d = aggregatedGroupsDiscovery();
    assert.equal(d.kind, 'APIGroupDiscoveryList');
    assert.equal(d.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.deepEqual(d.items.map((i) => i.metadata.name), ['coordination.k8s.io', 'node.k8s.io']);
    assert.deepEqual(d.items[0]?.versions[0]?.resources, [{
      resource: 'leases', responseKind: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }, scope: 'Namespaced', singularResource: 'lease',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }]);
    assert.deepEqual(d.items[1]?.versions[0]?.resources, [{
      resource: 'runtimeclasses', responseKind: { group: 'node.k8s.io', version: 'v1', kind: 'RuntimeClass' }, scope: 'Cluster', singularResource: 'runtimeclass',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }]);
  });

  it('content type and Accept detection', () => {
    assert.equal(AGGREGATED_CONTENT_TYPE, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(wantsAggregated(KUBECTL_DISCOVERY_ACCEPT), true);
    assert.equal(wantsAggregated('application/json, application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io'), true);
    assert.equal(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'), false);
    assert.equal(wantsAggregated('application/json, */*'), false);
    assert.equal(wantsAggregated(''), false);
  });
});
