// Field validation: each rule, with the field path and Kubernetes' message a client would see.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, Namespace, Node, Pod, Service } from '../../src/api/model/types.ts';
import { cause, type StatusCause } from '../../src/api/model/status.ts';
import {
  isDns1123Label, isDns1123Subdomain, validateEvent, validateNamespace, validateNode, validateObjectMeta,
  validatePod, validatePodUpdate, validateService, POD_UPDATE_FORBIDDEN,
} from '../../src/api/model/validation.ts';

const pod = (over: Partial<Pod['spec']> = {}, meta: Pod['metadata'] = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', ...meta },
  spec: { containers: [{ name: 'app', image: 'nginx' }], ...over },
});

const fields = (causes: StatusCause[]): string[] => causes.map((c) => c.field ?? '');
const find = (causes: StatusCause[], field: string): StatusCause => {
  const c = causes.find((x) => x.field === field);
  assert.ok(c, `no cause for ${field} in ${JSON.stringify(causes)}`);
  return c;
};

const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('DNS names', () => {
  it('accepts subdomains and rejects what Kubernetes rejects', () => {
    for (const ok of ['nginx', 'my-app', 'my-app-123', 'my.app', '0', 'a.b.c', 'x'.repeat(253)]) assert.equal(isDns1123Subdomain(ok), true, ok);
    for (const bad of ['', 'MyApp', '-myapp', 'myapp-', 'my_app', 'a..b', 'a.-b', 'a-.b', '.a', 'a.', 'x'.repeat(254)]) assert.equal(isDns1123Subdomain(bad), false, bad);
  });

  it('accepts a 64-character dot-separated part in a subdomain, like Kubernetes (only the total is capped)', () => {
    assert.equal(isDns1123Subdomain(`${'a'.repeat(64)}.example`), true);
  });

  it('caps labels at 63 characters and forbids dots', () => {
    assert.equal(isDns1123Label('a'.repeat(63)), true);
    assert.equal(isDns1123Label('a'.repeat(64)), false);
    assert.equal(isDns1123Label('my.app'), false);
    assert.equal(isDns1123Label('kube-system'), true);
  });
});

describe('validateObjectMeta', () => {
  it('explains an uppercase name with Kubernetes words', () => {
    const causes = validateObjectMeta({ name: 'MyApp', namespace: 'default' }, true, 'subdomain');
    assert.deepEqual(causes, [cause.invalid('metadata.name', 'MyApp', SUBDOMAIN_MSG)]);
  });

  it('reports a name over 253 characters as too long', () => {
    const causes = validateObjectMeta({ name: 'a'.repeat(254), namespace: 'default' }, true, 'subdomain');
    assert.deepEqual(fields(causes), ['metadata.name']);
    assert.match(find(causes, 'metadata.name').message, /must be no more than 253 characters/);
  });

  it('requires a name unless generateName is given', () => {
    const missing = validateObjectMeta({ namespace: 'default' }, true, 'subdomain');
    assert.equal(find(missing, 'metadata.name').reason, 'FieldValueRequired');
    assert.deepEqual(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, true, 'subdomain'), []);
  });

  it('accepts a generateName prefix ending in a dash but not an uppercase one', () => {
    assert.deepEqual(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, true, 'subdomain'), []);
    assert.equal(find(validateObjectMeta({ generateName: 'Web-', namespace: 'default' }, true, 'subdomain'), 'metadata.generateName').reason, 'FieldValueInvalid');
  });

  it('requires a namespace on namespaced kinds and forbids one on cluster-scoped kinds', () => {
    assert.equal(find(validateObjectMeta({ name: 'a' }, true, 'subdomain'), 'metadata.namespace').reason, 'FieldValueRequired');
    assert.equal(find(validateObjectMeta({ name: 'a', namespace: 'x' }, false, 'subdomain'), 'metadata.namespace').reason, 'FieldValueForbidden');
  });

  it('uses the DNS-1123 label rule when asked', () => {
    assert.deepEqual(validateObjectMeta({ name: 'my.ns' }, false, 'subdomain'), []);
    assert.equal(validateObjectMeta({ name: 'my.ns' }, false, 'label').length, 1);
  });

  it('accepts qualified label keys and valid values, empty values included', () => {
    const labels = { app: 'web', 'example.com/tier': 'front_end.1', 'k8s.io/empty': '', A_b: 'X' };
    assert.deepEqual(validateObjectMeta({ name: 'a', labels }, false, 'subdomain'), []);
  });

  it('rejects bad label keys and values under metadata.labels', () => {
    const causes = validateObjectMeta({ name: 'a', labels: { 'bad key': 'v', 'Example.com/x': 'v', k: 'white space', long: 'v'.repeat(64), '/x': 'v', 'a/b/c': 'v' } }, false, 'subdomain');
    assert.ok(causes.every((c) => c.field === 'metadata.labels' && c.reason === 'FieldValueInvalid'));
    const text = causes.map((c) => c.message).join('\n');
    assert.match(text, /Invalid value: "bad key": name part must consist of alphanumeric characters/);
    assert.match(text, /Invalid value: "Example.com\/x": prefix part a lowercase RFC 1123 subdomain/);
    assert.match(text, /Invalid value: "white space": a valid label must be an empty string/);
    assert.match(text, /must be no more than 63 characters/);
    assert.match(text, /Invalid value: "\/x": prefix part must be non-empty/);
    assert.match(text, /Invalid value: "a\/b\/c": a qualified name must consist of/);
  });

  it('limits the total size of annotations to 256 KiB', () => {
    const ok = validateObjectMeta({ name: 'a', annotations: { k: 'x'.repeat(256 * 1024 - 1) } }, false, 'subdomain');
    assert.deepEqual(ok, []);
    const big = validateObjectMeta({ name: 'a', annotations: { k: 'x'.repeat(256 * 1024) } }, false, 'subdomain');
    assert.deepEqual(big, [{ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' }]);
  });

  it('validates annotation keys case-insensitively as qualified names', () => {
    assert.deepEqual(validateObjectMeta({ name: 'a', annotations: { 'Kubectl.Kubernetes.io/last-applied-configuration': '{}' } }, false, 'subdomain'), []);
    assert.equal(validateObjectMeta({ name: 'a', annotations: { 'no spaces': '' } }, false, 'subdomain').length, 1);
  });
});

describe('validatePod', () => {
  it('accepts a minimal pod', () => {
    assert.deepEqual(validatePod(pod()), []);
  });

  it('rejects an uppercase pod name with the subdomain message', () => {
    assert.deepEqual(validatePod(pod({}, { name: 'MyApp' })), [cause.invalid('metadata.name', 'MyApp', SUBDOMAIN_MSG)]);
  });

  it('accepts dotted pod names', () => {
    assert.deepEqual(validatePod(pod({}, { name: 'web.v1' })), []);
  });

  it('requires a spec', () => {
    const p = pod();
    delete (p as Partial<Pod>).spec;
    assert.deepEqual(fields(validatePod(p)), ['spec']);
  });

  it('requires at least one container', () => {
    assert.deepEqual(validatePod(pod({ containers: [] })), [cause.required('spec.containers')]);
  });

  it('rejects duplicate and invalid container names', () => {
    const causes = validatePod(pod({ containers: [{ name: 'app' }, { name: 'app' }, { name: 'Side_Car' }, { name: '' }] }));
    assert.deepEqual(causes.find((c) => c.reason === 'FieldValueDuplicate'), cause.duplicate('spec.containers[1].name', 'app'));
    assert.equal(find(causes, 'spec.containers[2].name').reason, 'FieldValueInvalid');
    assert.equal(find(causes, 'spec.containers[3].name').reason, 'FieldValueRequired');
  });

  it('shares container names between init and app containers', () => {
    const causes = validatePod(pod({ initContainers: [{ name: 'app', image: 'i' }] }));
    assert.deepEqual(causes, [cause.duplicate('spec.initContainers[0].name', 'app')]);
  });

  it('accepts Kubernetes quantities, as strings or JSON numbers', () => {
    const resources = { requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '1G' }, limits: { cpu: 2 as unknown as string, memory: '1.5Gi', storage: '1e3' } };
    assert.deepEqual(validatePod(pod({ containers: [{ name: 'app', image: 'i', resources }] })), []);
    for (const q of ['1', '+1', '.5', '1.', '250m', '128974848', '129e6', '129M', '123Mi', '1Ki', '10n', '5u']) {
      // Not cpu or memory: tiny values of those are below zonecfg's minimums (tested below).
      assert.deepEqual(validatePod(pod({ containers: [{ name: 'app', image: 'i', resources: { limits: { 'ephemeral-storage': q } } }] })), [], q);
    }
  });

  it('rejects a malformed quantity with the path of the resource', () => {
    for (const q of ['1GB', 'abc', '', ' 1', '1.5.5', '0x10', 'Mi', '1 Gi']) {
      const causes = validatePod(pod({ containers: [{ name: 'app', image: 'i', resources: { requests: { memory: q } } }] }));
      assert.equal(causes.length, 1, q);
      assert.equal(find(causes, 'spec.containers[0].resources.requests[memory]').reason, 'FieldValueInvalid');
      assert.match(causes[0]?.message ?? '', /quantities must match the regular expression/);
    }
  });

  it('rejects negative quantities and requests above limits', () => {
    const neg = validatePod(pod({ containers: [{ name: 'app', image: 'i', resources: { limits: { cpu: '-1' } } }] }));
    assert.match(find(neg, 'spec.containers[0].resources.limits[cpu]').message, /must be greater than or equal to 0/);
    const over = validatePod(pod({ containers: [{ name: 'app', image: 'i', resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }] }));
    assert.match(find(over, 'spec.containers[0].resources.requests[cpu]').message, /must be less than or equal to cpu limit of 1500m/);
    const equal = validatePod(pod({ containers: [{ name: 'app', image: 'i', resources: { requests: { cpu: '1' }, limits: { cpu: '1000m' } } }] }));
    assert.deepEqual(equal, []);
  });

  it('refuses what zonecfg would refuse: cpu below 10m, memory below 1Mi (limits, else requests)', () => {
    const res = (resources: Record<string, Record<string, string>>) => validatePod(pod({ containers: [{ name: 'app', image: 'i', resources }] }));
    const cpu = res({ limits: { cpu: '5m' } });
    assert.deepEqual(fields(cpu), ['spec.containers[0].resources.limits.cpu']);
    assert.equal(cpu[0]?.message, 'Invalid value: "5m": must be at least 10m: a zone\'s capped-cpu ncpus must be at least 0.01 (zonecfg refuses less)');
    assert.deepEqual(fields(res({ requests: { cpu: '1m' } })), ['spec.containers[0].resources.requests.cpu'], 'a request when there are no limits');
    assert.deepEqual(res({ limits: { memory: '1Gi' }, requests: { cpu: '1m' } }), [], 'with limits the zone cap ignores requests');
    const mem = res({ limits: { memory: '512Ki' } });
    assert.deepEqual(fields(mem), ['spec.containers[0].resources.limits.memory']);
    assert.match(mem[0]?.message ?? '', /must be at least 1Mi: a zone's capped-memory physical must be at least 1M/);
    for (const ok of [{ cpu: '10m', memory: '1Mi' }, { cpu: '0.01', memory: '1048576' }, { cpu: '0', memory: '0' }]) assert.deepEqual(res({ limits: ok }), [], JSON.stringify(ok));
  });

  it('keeps the zone brand annotation of an existing pod', () => {
    const before = pod({}, { annotations: { 'reddwarf.io/zone-brand': 'sparse' } });
    const after = pod({}, { annotations: { 'reddwarf.io/zone-brand': 'lx' } });
    assert.deepEqual(fields(validatePodUpdate(after, before)), ['metadata.annotations[reddwarf.io/zone-brand]']);
    assert.deepEqual(fields(validatePodUpdate(pod({}, {}), before)), ['metadata.annotations[reddwarf.io/zone-brand]'], 'validation alone; the strategy restores an omitted one');
    assert.deepEqual(validatePodUpdate(pod({}, { annotations: { 'reddwarf.io/zone-brand': 'sparse', other: 'x' } }), before), []);
  });

  it('requires an image for every container, as Kubernetes does', () => {
    assert.deepEqual(validatePod(pod({ containers: [{ name: 'a' }, { name: 'b', image: '' }] })), [cause.required('spec.containers[0].image'), cause.required('spec.containers[1].image')]);
    assert.deepEqual(fields(validatePod(pod({ initContainers: [{ name: 'i' }] }))), ['spec.initContainers[0].image']);
  });

  it('accepts the three restart policies and rejects others as unsupported', () => {
    for (const p of ['Always', 'OnFailure', 'Never'] as const) assert.deepEqual(validatePod(pod({ restartPolicy: p })), []);
    const causes = validatePod(pod({ restartPolicy: 'Sometimes' as 'Always' }));
    assert.deepEqual(causes, [cause.notSupported('spec.restartPolicy', 'Sometimes', ['Always', 'OnFailure', 'Never'])]);
  });

  it('wants terminationGracePeriodSeconds to be a non-negative integer', () => {
    assert.deepEqual(validatePod(pod({ terminationGracePeriodSeconds: 0 })), []);
    assert.equal(find(validatePod(pod({ terminationGracePeriodSeconds: -1 })), 'spec.terminationGracePeriodSeconds').reason, 'FieldValueInvalid');
    assert.equal(find(validatePod(pod({ terminationGracePeriodSeconds: 1.5 })), 'spec.terminationGracePeriodSeconds').reason, 'FieldValueInvalid');
    assert.equal(find(validatePod(pod({ terminationGracePeriodSeconds: '30' as unknown as number })), 'spec.terminationGracePeriodSeconds').reason, 'FieldValueInvalid');
  });

  it('checks toleration operators', () => {
    assert.deepEqual(validatePod(pod({ tolerations: [{ operator: 'Exists' }, { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, { key: 'k', value: 'v' }] })), []);
    const exists = validatePod(pod({ tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }));
    assert.match(find(exists, 'spec.tolerations[0].operator').message, /value must be empty when `operator` is 'Exists'/);
    const unknown = validatePod(pod({ tolerations: [{ key: 'k', operator: 'Like' as 'Exists' }] }));
    assert.deepEqual(unknown, [cause.notSupported('spec.tolerations[0].operator', 'Like', ['Equal', 'Exists'])]);
    const noKey = validatePod(pod({ tolerations: [{ operator: 'Equal', value: 'v' }] }));
    assert.match(find(noKey, 'spec.tolerations[0].operator').message, /operator must be Exists when `key` is empty/);
  });

  it('checks toleration effects', () => {
    const bad = validatePod(pod({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoRun' }] }));
    assert.equal(find(bad, 'spec.tolerations[0].effect').reason, 'FieldValueNotSupported');
    const seconds = validatePod(pod({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] }));
    assert.match(find(seconds, 'spec.tolerations[0].effect').message, /effect must be 'NoExecute' when `tolerationSeconds` is set/);
  });

  it('validates nodeSelector like labels', () => {
    assert.deepEqual(validatePod(pod({ nodeSelector: { 'kubernetes.io/os': 'illumos' } })), []);
    const causes = validatePod(pod({ nodeSelector: { 'bad key': 'ok', good: 'bad value' } }));
    assert.deepEqual(fields(causes), ['spec.nodeSelector', 'spec.nodeSelector']);
  });

  it('validates nodeName as a node name', () => {
    assert.deepEqual(validatePod(pod({ nodeName: 'node-1.example' })), []);
    assert.equal(find(validatePod(pod({ nodeName: 'Node_1' })), 'spec.nodeName').reason, 'FieldValueInvalid');
  });

  it('validates container ports and activeDeadlineSeconds ranges', () => {
    const causes = validatePod(pod({ containers: [{ name: 'app', image: 'i', ports: [{ containerPort: 0 }, { containerPort: 80 }] }], activeDeadlineSeconds: 0 }));
    assert.deepEqual(fields(causes), ['spec.containers[0].ports[0].containerPort', 'spec.activeDeadlineSeconds']);
  });
});

describe('validatePodUpdate', () => {
  const stored = (): Pod => pod({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, nodeName: 'node-1', tolerations: [{ key: 'a', operator: 'Exists' }] });

  it('allows image changes', () => {
    const next = stored();
    (next.spec.containers[0] as { image?: string }).image = 'nginx:2';
    assert.deepEqual(validatePodUpdate(next, stored()), []);
  });

  it('allows metadata-only and no-op updates', () => {
    const next = stored();
    next.metadata.labels = { a: 'b' };
    assert.deepEqual(validatePodUpdate(next, stored()), []);
  });

  it('treats omitted defaulted fields as unchanged', () => {
    const next = stored();
    delete next.spec.restartPolicy;
    delete next.spec.terminationGracePeriodSeconds;
    assert.deepEqual(validatePodUpdate(next, stored()), []);
  });

  it('forbids other spec changes with Kubernetes message', () => {
    const next = stored();
    next.spec.containers[0]!.command = ['sh'];
    assert.deepEqual(validatePodUpdate(next, stored()), [cause.forbidden('spec', POD_UPDATE_FORBIDDEN)]);
    assert.match(POD_UPDATE_FORBIDDEN, /^pod updates may not change fields other than `spec.containers\[\*\].image`/);
  });

  it('forbids adding or removing containers', () => {
    const next = stored();
    next.spec.containers.push({ name: 'side', image: 'busybox' });
    assert.deepEqual(fields(validatePodUpdate(next, stored())), ['spec']);
  });

  it('forbids changing or clearing nodeName (binding is the only way to set it)', () => {
    const moved = stored();
    moved.spec.nodeName = 'node-2';
    assert.deepEqual(fields(validatePodUpdate(moved, stored())), ['spec']);
    const unset = stored();
    delete unset.spec.nodeName;
    assert.deepEqual(fields(validatePodUpdate(unset, stored())), ['spec']);
    const prev = stored();
    delete prev.spec.nodeName;
    assert.deepEqual(fields(validatePodUpdate(stored(), prev)), ['spec']);
  });

  it('allows adding tolerations but not changing existing ones', () => {
    const added = stored();
    added.spec.tolerations = [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }];
    assert.deepEqual(validatePodUpdate(added, stored()), []);
    const changed = stored();
    changed.spec.tolerations = [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }];
    assert.deepEqual(validatePodUpdate(changed, stored()), [cause.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')]);
  });

  it('allows terminationGracePeriodSeconds to go from negative to 1 only', () => {
    const prev = stored();
    prev.spec.terminationGracePeriodSeconds = -1;
    const next = stored();
    next.spec.terminationGracePeriodSeconds = 1;
    assert.deepEqual(validatePodUpdate(next, prev), []);
    next.spec.terminationGracePeriodSeconds = 10;
    assert.deepEqual(fields(validatePodUpdate(next, stored())), ['spec']);
  });

  it('lets activeDeadlineSeconds shrink but not grow', () => {
    const prev = stored();
    prev.spec.activeDeadlineSeconds = 100;
    const next = stored();
    next.spec.activeDeadlineSeconds = 50;
    assert.deepEqual(validatePodUpdate(next, prev), []);
    next.spec.activeDeadlineSeconds = 200;
    assert.deepEqual(fields(validatePodUpdate(next, prev)), ['spec.activeDeadlineSeconds']);
  });
});

describe('validateNode', () => {
  const node = (name: string, spec: Node['spec'] = {}): Node => ({ metadata: { name }, spec });

  it('uses the subdomain rule for names', () => {
    assert.deepEqual(validateNode(node('node-1.example.com')), []);
    assert.deepEqual(fields(validateNode(node('Node_1'))), ['metadata.name']);
  });

  it('validates taints: effect required and known, keys qualified, unique by key and effect', () => {
    assert.deepEqual(validateNode(node('n', { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }] })), []);
    const causes = validateNode(node('n', { taints: [{ key: 'a', effect: '' }, { key: 'b', effect: 'Never' }, { key: 'bad key', effect: 'NoSchedule' }, { key: 'c', effect: 'NoSchedule' }, { key: 'c', effect: 'NoSchedule' }] }));
    assert.equal(find(causes, 'spec.taints[0].effect').reason, 'FieldValueRequired');
    assert.equal(find(causes, 'spec.taints[1].effect').reason, 'FieldValueNotSupported');
    assert.equal(find(causes, 'spec.taints[2].key').reason, 'FieldValueInvalid');
    assert.match(find(causes, 'spec.taints[4]').message, /taints must be unique by key and effect pair/);
  });
});

describe('validateNamespace', () => {
  it('wants a DNS-1123 label and no namespace', () => {
    assert.deepEqual(validateNamespace({ metadata: { name: 'kube-system' } } as Namespace), []);
    const dotted = validateNamespace({ metadata: { name: 'my.ns' } } as Namespace);
    assert.deepEqual(fields(dotted), ['metadata.name']);
    assert.match(dotted[0]?.message ?? '', /a lowercase RFC 1123 label must consist of/);
    assert.equal(validateNamespace({ metadata: { name: 'a'.repeat(64) } } as Namespace).length, 1);
  });
});

describe('validateService', () => {
  const svc = (name: string, spec: Service['spec'] = {}): Service => ({ metadata: { name, namespace: 'default' }, spec });

  it('wants a DNS-1035 label name: starting with a letter', () => {
    assert.deepEqual(validateService(svc('web')), []);
    const digit = validateService(svc('1web'));
    assert.deepEqual(digit, [cause.invalid('metadata.name', '1web', "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")]);
    assert.equal(validateService(svc('web.v1')).length, 1);
  });

  it('wants ports between 1 and 65535', () => {
    assert.deepEqual(validateService(svc('web', { ports: [{ port: 1, name: 'a' }, { port: 65535, name: 'b' }] })), []);
    const causes = validateService(svc('web', { ports: [{ port: 0, name: 'a' }, { port: 65536, name: 'b' }, { port: 8.5, name: 'c' }] }));
    assert.deepEqual(causes, [
      cause.invalid('spec.ports[0].port', 0, 'must be between 1 and 65535, inclusive'),
      cause.invalid('spec.ports[1].port', 65536, 'must be between 1 and 65535, inclusive'),
      cause.invalid('spec.ports[2].port', 8.5, 'must be between 1 and 65535, inclusive'),
    ]);
  });

  it('accepts TCP, UDP and SCTP only', () => {
    assert.deepEqual(validateService(svc('web', { ports: [{ port: 53, protocol: 'UDP' }] })), []);
    assert.deepEqual(validateService(svc('web', { ports: [{ port: 53, protocol: 'ICMP' }] })), [cause.notSupported('spec.ports[0].protocol', 'ICMP', ['SCTP', 'TCP', 'UDP'])]);
  });

  it('wants unique names when there are several ports', () => {
    const causes = validateService(svc('web', { ports: [{ port: 80 }, { port: 81, name: 'x' }, { port: 82, name: 'x' }] }));
    assert.equal(find(causes, 'spec.ports[0].name').reason, 'FieldValueRequired');
    assert.equal(find(causes, 'spec.ports[2].name').reason, 'FieldValueDuplicate');
  });

  it('checks type and targetPort', () => {
    assert.deepEqual(validateService(svc('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] })), []);
    assert.equal(find(validateService(svc('web', { type: 'Magic' })), 'spec.type').reason, 'FieldValueNotSupported');
    assert.equal(find(validateService(svc('web', { ports: [{ port: 80, targetPort: 70000 }] })), 'spec.ports[0].targetPort').reason, 'FieldValueInvalid');
    assert.equal(find(validateService(svc('web', { ports: [{ port: 80, targetPort: 'no_underscores' }] })), 'spec.ports[0].targetPort').reason, 'FieldValueInvalid');
  });
});

describe('validateEvent', () => {
  const ev = (over: Partial<CoreEvent> = {}): CoreEvent => ({
    metadata: { name: 'web.17a2b3c4', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
    reason: 'Scheduled',
    ...over,
  });

  it('accepts an event about an object in its namespace, and about a node in default', () => {
    assert.deepEqual(validateEvent(ev()), []);
    assert.deepEqual(validateEvent(ev({ involvedObject: { kind: 'Node', name: 'node-1' } })), []);
  });

  it('requires involvedObject', () => {
    const e = ev();
    delete (e as Partial<CoreEvent>).involvedObject;
    assert.deepEqual(validateEvent(e), [cause.required('involvedObject')]);
  });

  it('rejects an event filed in another namespace than its object', () => {
    const causes = validateEvent(ev({ involvedObject: { kind: 'Pod', namespace: 'other', name: 'web' } }));
    assert.deepEqual(causes, [cause.invalid('involvedObject.namespace', 'other', 'does not match event.namespace')]);
  });
});
