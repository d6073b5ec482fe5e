// Label and field selectors: parsing (and its errors), matching, and the field values of each kind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, Node, Pod } from '../../src/api/model/types.ts';
import { ApiError } from '../../src/api/model/status.ts';
import {
  fieldSelectorRequires, fieldSelectorToString, fieldsOf, labelSelectorFromMap, matchesFields, matchesLabels,
  parseFieldSelector, parseLabelSelector, selectorToString,
} from '../../src/api/model/selectors.ts';

/** Whether the selector text selects these labels. */
const sel = (text: string, labels?: Record<string, string>): boolean => matchesLabels(parseLabelSelector(text), labels);

/** Asserts a 400 BadRequest whose message matches. */
function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.match(e.message, message);
    return true;
  });
}

describe('parseLabelSelector / matchesLabels', () => {
  const web = { app: 'web', tier: 'front', replicas: '3' };

  it('matches everything with an empty or blank selector', () => {
    assert.equal(sel('', undefined), true);
    assert.equal(sel('   ', web), true);
    assert.deepEqual(parseLabelSelector('').requirements, []);
  });

  it('matches equality with =, == and !=', () => {
    assert.equal(sel('app=web', web), true);
    assert.equal(sel('app==web', web), true);
    assert.equal(sel('app=db', web), false);
    assert.equal(sel('app!=db', web), true);
    assert.equal(sel('app!=web', web), false);
  });

  it('lets != and notin match objects without the label, as Kubernetes does', () => {
    assert.equal(sel('env!=prod', web), true);
    assert.equal(sel('env notin (prod)', web), true);
    assert.equal(sel('env!=prod', undefined), true);
    assert.equal(sel('env=prod', undefined), false);
  });

  it('matches set membership', () => {
    assert.equal(sel('app in (db,web)', web), true);
    assert.equal(sel('app in (db)', web), false);
    assert.equal(sel('app notin (db,web)', web), false);
    assert.equal(sel('app notin (db)', web), true);
    assert.equal(sel('env in (prod)', web), false);
  });

  it('matches existence and absence', () => {
    assert.equal(sel('app', web), true);
    assert.equal(sel('env', web), false);
    assert.equal(sel('!env', web), true);
    assert.equal(sel('!app', web), false);
  });

  it('ANDs comma-separated requirements and tolerates whitespace', () => {
    assert.equal(sel('app=web,tier=front', web), true);
    assert.equal(sel('app=web,tier=back', web), false);
    assert.equal(sel('  app = web ,  tier in ( front , back ) , !env ', web), true);
    assert.equal(sel('app in(web)', web), true);
  });

  it('supports Kubernetes gt/lt on integer values', () => {
    assert.equal(sel('replicas>2', web), true);
    assert.equal(sel('replicas<3', web), false);
    assert.equal(sel('app>1', web), false);
    rejects(() => parseLabelSelector('replicas>two'), /the value must be an integer/);
  });

  it('reads an empty value after = and an empty set as the empty string', () => {
    assert.equal(sel('env=', { env: '' }), true);
    assert.equal(sel('env=', { env: 'x' }), false);
    assert.equal(sel('env in ()', { env: '' }), true);
    assert.equal(sel('env in (,a)', { env: '' }), true);
  });

  it('accepts prefixed keys and treats in/notin as words outside operator position', () => {
    assert.equal(sel('example.com/role=db', { 'example.com/role': 'db' }), true);
    assert.equal(sel('in=notin', { in: 'notin' }), true);
    assert.equal(sel('notin in (in)', { notin: 'in' }), true);
  });

  it('rejects bad syntax with a 400 naming what was found and expected', () => {
    rejects(() => parseLabelSelector('app web'), /unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt/);
    rejects(() => parseLabelSelector('app=web,'), /found '', expected: identifier after ','/);
    rejects(() => parseLabelSelector(',app'), /found ',', expected: !, identifier, or 'end of string'/);
    rejects(() => parseLabelSelector('app in web'), /found 'web', expected: '\('/);
    rejects(() => parseLabelSelector('app in (a b)'), /found 'b', expected: ',' or '\)'/);
    rejects(() => parseLabelSelector('app in (a'), /found '', expected: ',' or '\)'/);
    rejects(() => parseLabelSelector('app=a=b'), /found '=', expected: ',' or 'end of string'/);
    rejects(() => parseLabelSelector('app=(x)'), /found '\(', expected: identifier/);
    rejects(() => parseLabelSelector('!'), /found '', expected: identifier/);
  });

  it('rejects invalid keys and values', () => {
    rejects(() => parseLabelSelector('-app=web'), /key: Invalid value: "-app"/);
    rejects(() => parseLabelSelector('app=-web'), /values\[0\]\[app\]: Invalid value: "-web": a valid label must be/);
    rejects(() => parseLabelSelector(`app=${'v'.repeat(64)}`), /must be no more than 63 characters/);
  });

  it('prints the canonical form, sorted by key', () => {
    assert.equal(selectorToString(parseLabelSelector('tier in (b,a), app=web, !env, x, n>1')), 'app=web,!env,n>1,tier in (a,b),x');
    assert.equal(selectorToString(parseLabelSelector('a!=b,c notin (d)')), 'a!=b,c notin (d)');
  });

  it('builds an equality selector from a map (nodeSelector)', () => {
    const s = labelSelectorFromMap({ zone: 'a', os: 'illumos' });
    assert.equal(matchesLabels(s, { os: 'illumos', zone: 'a', extra: 'x' }), true);
    assert.equal(matchesLabels(s, { os: 'illumos' }), false);
    assert.equal(matchesLabels(labelSelectorFromMap({}), undefined), true);
    assert.equal(selectorToString(s), 'os=illumos,zone=a');
  });
});

describe('parseFieldSelector / matchesFields', () => {
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'prod' },
    spec: { containers: [{ name: 'app' }], nodeName: 'node-1', restartPolicy: 'Always' },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
  };
  const podFields = fieldsOf('pods', pod);
  const match = (text: string, resource = 'pods', fields = podFields): boolean => matchesFields(parseFieldSelector(text, resource), fields);

  it('matches =, == and != and ANDs terms', () => {
    assert.equal(match('metadata.name=web'), true);
    assert.equal(match('metadata.name==web'), true);
    assert.equal(match('metadata.name!=web'), false);
    assert.equal(match('spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed'), true);
    assert.equal(match('spec.nodeName=node-1,status.phase=Pending'), false);
    assert.equal(match(''), true);
  });

  it('compares missing fields as empty strings', () => {
    const unbound = fieldsOf('pods', { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] } } as Pod);
    assert.equal(match('spec.nodeName=', 'pods', unbound), true);
    assert.equal(match('spec.nodeName!=', 'pods', unbound), false);
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=', 'pods'), {}), true);
  });

  it('maps the legacy spec.host label to spec.nodeName', () => {
    assert.equal(match('spec.host=node-1'), true);
    assert.deepEqual(parseFieldSelector('spec.host=node-1', 'pods').requirements, [{ field: 'spec.nodeName', op: '=', value: 'node-1' }]);
  });

  it('rejects field labels the resource does not support', () => {
    rejects(() => parseFieldSelector('spec.nodeName=n', 'services'), /^field label not supported: spec.nodeName$/);
    rejects(() => parseFieldSelector('metadata.labels=x', 'pods'), /^field label not supported: metadata.labels$/);
    rejects(() => parseFieldSelector('spec.unschedulable=true', 'pods'), /field label not supported/);
    assert.doesNotThrow(() => parseFieldSelector('metadata.name=a,metadata.namespace=b', 'configmaps'));
  });

  it('rejects terms without an operator', () => {
    rejects(() => parseFieldSelector('metadata.name', 'pods'), /invalid selector: 'metadata.name'; can't understand 'metadata.name'/);
  });

  it('unescapes \\, \\= and \\\\ in values and rejects bare or unknown escapes', () => {
    const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d', 'pods');
    assert.deepEqual(s.requirements, [{ field: 'metadata.name', op: '=', value: 'a,b=c\\d' }]);
    assert.equal(matchesFields(s, { 'metadata.name': 'a,b=c\\d' }), true);
    rejects(() => parseFieldSelector('metadata.name=a=b', 'pods'), /unescaped character/);
    rejects(() => parseFieldSelector('metadata.name=a\\x', 'pods'), /invalid escape sequence/);
    rejects(() => parseFieldSelector('metadata.name=a\\', 'pods'), /invalid escape sequence/);
    assert.equal(fieldSelectorToString(s), 'metadata.name=a\\,b\\=c\\\\d');
  });

  it('tells the server which equality it can narrow a list by', () => {
    const s = parseFieldSelector('metadata.namespace==prod,spec.nodeName!=x,spec.host=node-1', 'pods');
    assert.equal(fieldSelectorRequires(s, 'metadata.namespace'), 'prod');
    assert.equal(fieldSelectorRequires(s, 'spec.nodeName'), 'node-1');
    assert.equal(fieldSelectorRequires(s, 'metadata.name'), undefined);
    assert.equal(fieldSelectorRequires(parseFieldSelector('spec.nodeName!=x', 'pods'), 'spec.nodeName'), undefined);
  });
});

describe('fieldsOf', () => {
  it('gives pods their Kubernetes field values and defaults', () => {
    const f = fieldsOf('pods', {
      metadata: { name: 'web', namespace: 'prod' },
      spec: { containers: [], nodeName: 'n1', restartPolicy: 'Never', serviceAccountName: 'sa', hostNetwork: true },
      status: { phase: 'Pending', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }], nominatedNodeName: 'n2' },
    } as Pod);
    assert.deepEqual(f, {
      'metadata.name': 'web', 'metadata.namespace': 'prod', 'spec.nodeName': 'n1', 'spec.restartPolicy': 'Never',
      'spec.schedulerName': 'default-scheduler', 'spec.serviceAccountName': 'sa', 'spec.hostNetwork': 'true',
      'status.phase': 'Pending', 'status.podIP': '10.0.0.5', 'status.podIPs': '10.0.0.5,fd00::5', 'status.nominatedNodeName': 'n2',
    });
    const bare = fieldsOf('pods', { metadata: { name: 'p' }, spec: { containers: [] } } as Pod);
    assert.equal(bare['spec.hostNetwork'], 'false');
    assert.equal(bare['metadata.namespace'], '');
    assert.equal(bare['status.phase'], '');
  });

  it('renders node unschedulable as true/false', () => {
    const cordoned: Node = { metadata: { name: 'n' }, spec: { unschedulable: true } };
    assert.equal(fieldsOf('nodes', cordoned)['spec.unschedulable'], 'true');
    assert.equal(fieldsOf('nodes', { metadata: { name: 'n' } })['spec.unschedulable'], 'false');
    assert.equal(matchesFields(parseFieldSelector('spec.unschedulable=false', 'nodes'), fieldsOf('nodes', { metadata: { name: 'n' } })), true);
  });

  it('gives namespaces and services their fields', () => {
    assert.equal(fieldsOf('namespaces', { metadata: { name: 'a' }, status: { phase: 'Terminating' } })['status.phase'], 'Terminating');
    const svc = fieldsOf('services', { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: 'None' } });
    assert.equal(svc['spec.clusterIP'], 'None');
    assert.equal(svc['spec.type'], 'ClusterIP');
  });

  it('gives events their involvedObject, reason, type and source', () => {
    const ev: CoreEvent = {
      metadata: { name: 'e', namespace: 'default' },
      involvedObject: { kind: 'Node', name: 'node-1', uid: 'node-1' },
      reason: 'NodeReady', type: 'Normal', reportingComponent: 'kubelet',
    };
    const f = fieldsOf('events', ev);
    assert.equal(f['involvedObject.kind'], 'Node');
    assert.equal(f['involvedObject.uid'], 'node-1');
    assert.equal(f['involvedObject.namespace'], '');
    assert.equal(f.reason, 'NodeReady');
    assert.equal(f.type, 'Normal');
    assert.equal(f.source, 'kubelet');
    assert.equal(fieldsOf('events', { ...ev, source: { component: 'scheduler' } }).source, 'scheduler');
    const describe = parseFieldSelector('involvedObject.kind=Node,involvedObject.name=node-1,involvedObject.namespace=,involvedObject.uid=node-1', 'events');
    assert.equal(matchesFields(describe, f), true);
  });
});
