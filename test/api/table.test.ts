// Table conversion: what `kubectl get` shows for each kind, age strings, includeObject and Accept negotiation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, parseIncludeObject, tableColumns, toTable, translateTimestampSince, wantsTable } from '../../src/api/wire/table.ts';
import type { Table } from '../../src/api/wire/table.ts';
import { ApiError } from '../../src/api/model/status.ts';
import type { KubeObject } from '../../src/api/model/types.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const opts = { includeObject: 'Metadata' as const, now: NOW, resourceVersion: '42' };

/** Cells of one object's row, keyed by column name. */
function row(resource: string, obj: KubeObject): Record<string, unknown> {
  const t = toTable(resource, [obj], opts);
  const cols = t.columnDefinitions ?? [];
  const cells = t.rows[0]?.cells ?? [];
  assert.equal(cells.length, cols.length, 'one cell per column');
  return Object.fromEntries(cols.map((c, i) => [c.name, cells[i]]));
}

function pod(extra: { metadata?: Partial<KubeObject['metadata']>; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300), labels: { app: 'web' }, ...extra.metadata },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra.spec },
    status: extra.status ?? { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: { startedAt: ago(290) } } }] },
  };
}

describe('humanDuration / translateTimestampSince', () => {
  const vectors: [number, string][] = [
    [0, '0s'], [-1, '0s'], [-5, '<invalid>'], [5, '5s'], [95, '95s'], [119, '119s'], [120, '2m'], [190, '3m10s'],
    [599, '9m59s'], [600, '10m'], [45 * 60, '45m'], [179 * 60, '179m'], [3 * 3600, '3h'], [3 * 3600 + 15 * 60, '3h15m'],
    [8 * 3600, '8h'], [23 * 3600 + 59 * 60, '23h'], [47 * 3600, '47h'], [48 * 3600, '2d'], [3 * 86400 + 4 * 3600, '3d4h'],
    [8 * 86400, '8d'], [45 * 86400, '45d'], [729 * 86400, '729d'], [730 * 86400, '2y'], [3 * 365 * 86400 + 40 * 86400, '3y40d'],
    [9 * 365 * 86400, '9y'],
  ];
  for (const [seconds, want] of vectors) {
    it(`${seconds}s → ${want}`, () => {
      assert.equal(humanDuration(seconds * 1000), want);
      if (seconds >= 0) assert.equal(translateTimestampSince(ago(seconds), NOW), want);
    });
  }

  it('says <unknown> without a timestamp', () => {
    assert.equal(translateTimestampSince(undefined, NOW), '<unknown>');
    assert.equal(translateTimestampSince('', NOW), '<unknown>');
    assert.equal(translateTimestampSince('not a time', NOW), '<unknown>');
  });
});

describe('pods', () => {
  it('has kubectl columns, wide ones at priority 1, plus Zone', () => {
    const cols = tableColumns('pods');
    assert.deepEqual(cols.map((c) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates', 'Zone']);
    assert.deepEqual(cols.map((c) => c.priority), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.equal(cols[0]?.format, 'name');
    for (const c of cols) assert.ok(c.description.length > 0);
  });

  it('shows a running pod as kubectl does', () => {
    const r = row('pods', pod({ spec: { nodeName: 'node-1' }, status: { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] } }));
    assert.deepEqual(r, { Name: 'web', Ready: '1/1', Status: 'Running', Restarts: '0', Age: '5m', IP: '10.0.0.5', Node: 'node-1', 'Nominated Node': '<none>', 'Readiness Gates': '<none>', Zone: 'reddwarf-default-web' });
    // Not bound yet: no zone.
    assert.equal(row('pods', pod({ status: {} })).Zone, '<none>');
  });

  it('shows Terminating once deletionTimestamp is set', () => {
    assert.equal(row('pods', pod({ metadata: { deletionTimestamp: ago(-30) } })).Status, 'Terminating');
  });

  it('prefers status.reason over phase, and defaults to Pending', () => {
    assert.equal(row('pods', pod({ status: { phase: 'Failed', reason: 'Evicted' } })).Status, 'Evicted');
    assert.equal(row('pods', pod({ status: {} })).Status, 'Pending');
    const bare = pod();
    delete bare.status;
    const r = row('pods', bare);
    assert.equal(r.Status, 'Pending');
    assert.equal(r.Ready, '0/1');
    assert.equal(r.IP, '<none>');
    assert.equal(r.Node, '<none>');
    assert.equal(r.Zone, '<none>');
  });

  it('shows a waiting container reason (ContainerCreating) like kubectl', () => {
    const r = row('pods', pod({ status: { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } }));
    assert.equal(r.Status, 'ContainerCreating');
    assert.equal(r.Ready, '0/1');
  });

  it('counts ready containers and sums restarts', () => {
    const r = row('pods', pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: { phase: 'Running', containerStatuses: [
        { name: 'a', ready: true, restartCount: 2, state: { running: {} } },
        { name: 'b', ready: false, restartCount: 1, state: { running: {} } },
      ] },
    }));
    assert.equal(r.Ready, '1/2');
    assert.equal(r.Restarts, '3');
  });

  it('adds "(X ago)" to restarts when the last termination is known', () => {
    const r = row('pods', pod({ status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 4, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(70) } } }] } }));
    assert.equal(r.Restarts, '4 (70s ago)');
  });

  it('marks completed pods with a Completed row condition', () => {
    const t = toTable('pods', [pod({ status: { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } })], opts);
    assert.equal(t.rows[0]?.cells[2], 'Completed');
    assert.equal(t.rows[0]?.conditions?.[0]?.type, 'Completed');
    assert.equal(toTable('pods', [pod()], opts).rows[0]?.conditions, undefined);
  });
});

describe('nodes', () => {
  const node = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', creationTimestamp: ago(3 * 86400), labels }, spec, status,
  });

  it('shows Ready, roles, version and the wide columns', () => {
    const r = row('nodes', node({
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'n1' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-reddwarf', osImage: 'OmniOS r151052', kernelVersion: '5.11', containerRuntimeVersion: 'zones://1' },
    }, {}, { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '' }));
    assert.deepEqual(r, {
      Name: 'node-1', Status: 'Ready', Roles: 'control-plane,worker', Age: '3d', Version: 'v1.32.0-reddwarf',
      'Internal-IP': '192.168.1.10', 'External-IP': '<none>', 'OS-Image': 'OmniOS r151052', 'Kernel-Version': '5.11', 'Container-Runtime': 'zones://1',
    });
    assert.deepEqual(tableColumns('nodes').filter((c) => c.priority === 1).map((c) => c.name), ['Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
  });

  it('shows NotReady, Unknown and SchedulingDisabled', () => {
    assert.equal(row('nodes', node({ conditions: [{ type: 'Ready', status: 'False' }] })).Status, 'NotReady');
    assert.equal(row('nodes', node({ conditions: [{ type: 'Ready', status: 'Unknown' }] })).Status, 'NotReady');
    assert.equal(row('nodes', node({})).Status, 'Unknown');
    assert.equal(row('nodes', node({ conditions: [{ type: 'Ready', status: 'True' }] }, { unschedulable: true })).Status, 'Ready,SchedulingDisabled');
    const r = row('nodes', node({}));
    assert.equal(r.Roles, '<none>');
    assert.equal(r.Version, '');
  });
});

describe('namespaces, services, events', () => {
  it('namespaces default to Active', () => {
    assert.deepEqual(row('namespaces', { metadata: { name: 'default', creationTimestamp: ago(10) } }), { Name: 'default', Status: 'Active', Age: '10s' });
    assert.equal(row('namespaces', { metadata: { name: 'x' }, status: { phase: 'Terminating' } }).Status, 'Terminating');
  });

  it('services show type, IPs, ports and selector', () => {
    const r = row('services', { metadata: { name: 'web', creationTimestamp: ago(60) }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', selector: { tier: 'fe', app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }, { port: 443 }] } });
    assert.deepEqual(r, { Name: 'web', Type: 'ClusterIP', 'Cluster-IP': '10.96.0.10', 'External-IP': '<none>', 'Port(s)': '80/TCP,443/TCP', Age: '60s', Selector: 'app=web,tier=fe' });
    const bare = row('services', { metadata: { name: 'empty' }, spec: {} });
    assert.equal(bare['Port(s)'], '<none>');
    assert.equal(bare.Selector, '<none>');
    assert.equal(bare['Cluster-IP'], '<none>');
    assert.equal(row('services', { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } })['Port(s)'], '80:30080/TCP');
    assert.equal(row('services', { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer' } })['External-IP'], '<pending>');
  });

  it('events show Last Seen, Type, Reason, Object and Message', () => {
    const ev: KubeObject = {
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
      reason: 'Scheduled', message: 'Successfully assigned default/web to node-1\n', type: 'Normal',
      firstTimestamp: ago(600), lastTimestamp: ago(30), count: 3, source: { component: 'scheduler' },
    };
    const cols = tableColumns('events');
    assert.deepEqual(cols.filter((c) => c.priority === 0).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    const r = row('events', ev);
    assert.equal(r['Last Seen'], '30s');
    assert.equal(r.Object, 'pod/web');
    assert.equal(r.Message, 'Successfully assigned default/web to node-1');
    assert.equal(r['First Seen'], '10m');
    assert.equal(r.Count, 3);
    assert.equal(r.Source, 'scheduler');
  });
});

describe('toTable', () => {
  const p = pod();

  it('wraps rows in a meta.k8s.io/v1 Table with list metadata', () => {
    const t: Table = toTable('pods', [p, p], { ...opts, continue: 'tok', remainingItemCount: 7 });
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(t.metadata, { resourceVersion: '42', continue: 'tok', remainingItemCount: 7 });
    assert.equal(t.rows.length, 2);
    assert.deepEqual(toTable('pods', [], opts).metadata, { resourceVersion: '42' });
  });

  it('Metadata rows carry PartialObjectMetadata with namespace and labels', () => {
    const obj = toTable('pods', [p], opts).rows[0]?.object;
    assert.deepEqual(obj, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata });
    assert.equal((obj as { metadata: { namespace: string } }).metadata.namespace, 'default');
    assert.deepEqual((obj as { metadata: { labels: unknown } }).metadata.labels, { app: 'web' });
  });

  it('Object rows carry the full object, None rows none', () => {
    assert.deepEqual(toTable('pods', [p], { ...opts, includeObject: 'Object' }).rows[0]?.object, p);
    assert.equal('object' in (toTable('pods', [p], { ...opts, includeObject: 'None' }).rows[0] ?? {}), false);
  });

  it('noHeaders leaves out the column definitions (watch events after the first)', () => {
    assert.equal(toTable('pods', [p], { ...opts, noHeaders: true }).columnDefinitions, undefined);
    assert.equal(toTable('pods', [p], opts).columnDefinitions?.length, 10);
  });

  it('falls back to Name and Age for kinds without a printer', () => {
    assert.deepEqual(tableColumns('widgets').map((c) => c.name), ['Name', 'Age']);
    assert.deepEqual(toTable('widgets', [{ metadata: { name: 'w', creationTimestamp: ago(5) } }], opts).rows[0]?.cells, ['w', '5s']);
  });
});

describe('parseIncludeObject', () => {
  it('defaults to Metadata and accepts the three values', () => {
    assert.equal(parseIncludeObject(null), 'Metadata');
    assert.equal(parseIncludeObject(''), 'Metadata');
    assert.equal(parseIncludeObject('None'), 'None');
    assert.equal(parseIncludeObject('Object'), 'Object');
  });

  it('answers 400 BadRequest for anything else', () => {
    assert.throws(() => parseIncludeObject('Everything'), (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message.includes('includeObject'));
  });
});

describe('wantsTable', () => {
  it('is true for kubectl get', () => {
    assert.equal(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), true);
    assert.equal(wantsTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json'), true);
    assert.equal(wantsTable('application/json; g=meta.k8s.io; v=v1; as=Table'), true);
  });

  it('is false for plain JSON, protobuf-first and -o yaml requests', () => {
    assert.equal(wantsTable('application/json'), false);
    assert.equal(wantsTable('application/json, */*'), false);
    assert.equal(wantsTable('application/vnd.kubernetes.protobuf,application/json'), false);
    assert.equal(wantsTable(''), false);
    assert.equal(wantsTable(null), false);
    assert.equal(wantsTable('application/json,application/json;as=Table;v=v1;g=meta.k8s.io'), false);
  });

  it('skips entries it cannot serve and honours q', () => {
    assert.equal(wantsTable('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json'), false);
    assert.equal(wantsTable('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io'), true);
    assert.equal(wantsTable('application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io'), true);
    assert.equal(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io;q=0,application/json'), false);
    assert.equal(wantsTable('application/json;as=Table;v=v2;g=meta.k8s.io'), false);
  });
});
