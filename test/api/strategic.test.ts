import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch } from '../../src/api/wire/strategic.ts';
import { ApiError } from '../../src/api/model/status.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function pod(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec, ...extra };
}

/** Asserts the call throws an ApiError with this code, reason and message. */
function throwsApi(fn: () => unknown, code: number, reason: string, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.reason, reason);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('strategicMergePatch: what kubectl sends', () => {
  it('client-side apply changes only the container image and keeps the other container fields', () => {
    const original = pod({
      containers: [
        { name: 'c', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '1' } }, terminationMessagePolicy: 'File' },
        { name: 'side', image: 'busybox' },
      ],
      restartPolicy: 'Always',
    });
    const applied = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"image":"nginx:2","name":"c"}]}}';
    const patch = {
      metadata: { annotations: { [LAST_APPLIED]: applied } },
      spec: { '$setElementOrder/containers': [{ name: 'c' }], containers: [{ image: 'nginx:2', name: 'c' }] },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', uid: 'u1', annotations: { [LAST_APPLIED]: applied } },
      spec: {
        containers: [
          { name: 'c', image: 'nginx:2', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '1' } }, terminationMessagePolicy: 'File' },
          { name: 'side', image: 'busybox' },
        ],
        restartPolicy: 'Always',
      },
    });
  });

  it('client-side apply adding a container puts it where $setElementOrder says', () => {
    const original = pod({ containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }] });
    const patch = {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }, { name: 'n' }, { name: 'b' }],
        containers: [{ image: 'n', name: 'n' }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'a', image: 'a' }, { name: 'n', image: 'n' }, { name: 'b', image: 'b' }],
    }));
  });

  it('client-side apply removing a field and a container ($patch: delete, null)', () => {
    const original = pod({
      containers: [{ name: 'a', image: 'a', workingDir: '/w' }, { name: 'b', image: 'b' }],
      nodeSelector: { disk: 'ssd' },
    });
    const patch = {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }],
        containers: [{ name: 'a', workingDir: null }, { $patch: 'delete', name: 'b' }],
        nodeSelector: null,
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({ containers: [{ name: 'a', image: 'a' }] }));
  });

  it('kubectl set image', () => {
    const original = pod({ containers: [{ name: 'web', image: 'nginx:1', imagePullPolicy: 'IfNotPresent' }, { name: 'log', image: 'fluent:1' }] });
    const patch = { spec: { containers: [{ image: 'nginx:2', name: 'web' }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'web', image: 'nginx:2', imagePullPolicy: 'IfNotPresent' }, { name: 'log', image: 'fluent:1' }],
    }));
  });

  it('kubectl cordon and uncordon', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.0.0.0/24' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    const cordoned = strategicMergePatch('Node', node, { spec: { unschedulable: true } });
    assert.deepEqual(cordoned, {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' },
      spec: { podCIDR: '10.0.0.0/24', unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    assert.deepEqual(strategicMergePatch('Node', cordoned, { spec: { unschedulable: null } }), node);
  });

  it('kubectl taint replaces the taint list whole (taints have no patch strategy)', () => {
    const node = { metadata: { name: 'n1' }, spec: { taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] } };
    assert.deepEqual(strategicMergePatch('Node', node, { spec: { taints: [{ key: 'c', value: '3', effect: 'NoSchedule' }] } }), {
      metadata: { name: 'n1' },
      spec: { taints: [{ key: 'c', value: '3', effect: 'NoSchedule' }] },
    });
    assert.deepEqual(strategicMergePatch('Node', node, { spec: { taints: null } }), { metadata: { name: 'n1' }, spec: {} });
  });

  it('tolerations, args and envFrom are atomic', () => {
    const original = pod({
      containers: [{ name: 'c', args: ['a', 'b'], envFrom: [{ configMapRef: { name: 'x' } }] }],
      tolerations: [{ key: 'a', operator: 'Exists' }],
    });
    const patch = { spec: { containers: [{ name: 'c', args: ['z'], envFrom: [{ secretRef: { name: 's' } }] }], tolerations: [{ key: 'b', operator: 'Exists' }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'c', args: ['z'], envFrom: [{ secretRef: { name: 's' } }] }],
      tolerations: [{ key: 'b', operator: 'Exists' }],
    }));
  });
});

describe('strategicMergePatch: merge keys', () => {
  it('env merges by name: update, add, $patch: delete, null removes a field', () => {
    const original = pod({
      containers: [{
        name: 'c',
        env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
      }],
    });
    const patch = {
      spec: {
        containers: [{
          name: 'c',
          env: [
            { name: 'B', $patch: 'delete' },
            { name: 'C', value: null, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'D', value: '4' },
          ],
        }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{
        name: 'c',
        env: [{ name: 'A', value: '1' }, { name: 'C', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'D', value: '4' }],
      }],
    }));
  });

  it('ports merge by containerPort; a new item with no order directive goes first (as apimachinery)', () => {
    const original = pod({ containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 8080 }] }] });
    const patch = { spec: { containers: [{ name: 'c', ports: [{ containerPort: 443, name: 'https' }, { containerPort: 80, name: 'http' }] }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{
        name: 'c',
        ports: [{ containerPort: 443, name: 'https' }, { containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 8080 }],
      }],
    }));
  });

  it('volumeMounts by mountPath, imagePullSecrets by name, hostAliases by ip', () => {
    const original = pod({
      containers: [{ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/a' }] }],
      imagePullSecrets: [{ name: 'r1' }],
      hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
    });
    const patch = {
      spec: {
        containers: [{ name: 'c', volumeMounts: [{ mountPath: '/a', readOnly: true }] }],
        imagePullSecrets: [{ name: 'r1' }, { name: 'r2' }],
        hostAliases: [{ ip: '10.0.0.1', hostnames: ['b'] }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/a', readOnly: true }] }],
      imagePullSecrets: [{ name: 'r1' }, { name: 'r2' }],
      hostAliases: [{ ip: '10.0.0.1', hostnames: ['b'] }],
    }));
  });

  it('pod status conditions merge by type, podIPs by ip, containerStatuses replace', () => {
    const original = pod({ containers: [{ name: 'c' }] }, {
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: [{ name: 'c', ready: false, restartCount: 0 }],
      },
    });
    const patch = {
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', reason: null }],
        podIPs: [{ ip: '10.1.0.5' }],
        containerStatuses: [{ name: 'c', ready: true }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({ containers: [{ name: 'c' }] }, {
      status: {
        phase: 'Running',
        conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'c', ready: true }],
        podIPs: [{ ip: '10.1.0.5' }],
      },
    }));
  });

  it('node addresses and conditions by type, podCIDRs as a merged set', () => {
    const node = {
      metadata: { name: 'n1' },
      spec: { podCIDRs: ['10.0.0.0/24'] },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.168.1.2' }, { type: 'Hostname', address: 'n1' }],
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't1' }, { type: 'MemoryPressure', status: 'False' }],
      },
    };
    const patch = {
      spec: { podCIDRs: ['fd00::/64'] },
      status: {
        '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'MemoryPressure' }],
        conditions: [{ type: 'Ready', lastHeartbeatTime: 't2' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.3' }],
      },
    };
    assert.deepEqual(strategicMergePatch('Node', node, patch), {
      metadata: { name: 'n1' },
      spec: { podCIDRs: ['fd00::/64', '10.0.0.0/24'] },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.168.1.3' }, { type: 'Hostname', address: 'n1' }],
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't2' }, { type: 'MemoryPressure', status: 'False' }],
      },
    });
  });

  it('service ports merge by port', () => {
    const svc = { metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }] } };
    const patch = { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 443 }], ports: [{ port: 80, targetPort: 9090 }] } };
    assert.deepEqual(strategicMergePatch('Service', svc, patch), {
      metadata: { name: 's' },
      spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 9090 }, { name: 'https', port: 443 }] },
    });
  });

  it('ownerReferences merge by uid; namespace spec.finalizers are atomic', () => {
    const ns = {
      metadata: { name: 'x', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'a' }] },
      spec: { finalizers: ['kubernetes'] },
    };
    const patch = {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: 'b' }, { uid: 'a', controller: true }] },
      spec: { finalizers: ['other'] },
    };
    assert.deepEqual(strategicMergePatch('Namespace', ns, patch), {
      metadata: {
        name: 'x',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: 'b' }, { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'a', controller: true }],
      },
      spec: { finalizers: ['other'] },
    });
  });

  it('metadata.finalizers merge as a set (new values first unless ordered)', () => {
    const original = pod({ containers: [] }, { metadata: { name: 'p', finalizers: ['a', 'b'] } });
    assert.deepEqual(
      strategicMergePatch('Pod', original, { metadata: { finalizers: ['c', 'a'] } }),
      pod({ containers: [] }, { metadata: { name: 'p', finalizers: ['c', 'a', 'b'] } }),
    );
    assert.deepEqual(
      strategicMergePatch('Pod', original, { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'c'], finalizers: ['c'] } }),
      pod({ containers: [] }, { metadata: { name: 'p', finalizers: ['a', 'b', 'c'] } }),
    );
    // An empty list merges to nothing new: it does not clear a merging list.
    assert.deepEqual(strategicMergePatch('Pod', original, { metadata: { finalizers: [] } }), original);
  });

  it('$setElementOrder interleaves server-only items by their live position', () => {
    // apimachinery's "set elements order in a list with server-only items 2".
    const original = pod({ containers: [{ name: '1', other: 'a' }, { name: '2', value: 2 }, { name: '9' }, { name: '3', value: 3 }, { name: '4', value: 4 }] });
    const patch = { spec: { '$setElementOrder/containers': [{ name: '2' }, { name: '1' }, { name: '4' }, { name: '3' }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: '2', value: 2 }, { name: '1', other: 'a' }, { name: '9' }, { name: '4', value: 4 }, { name: '3', value: 3 }],
    }));
  });

  it('apply that deletes one item and adds another orders server-only items as apimachinery does', () => {
    // apimachinery's "add map and delete map from merging list": the added item lands in the
    // deleted item's slot of the live list, so the server-only item sorts before it.
    const original = pod({ containers: [{ name: '1' }, { name: '2', other: 'b' }, { name: '4', other: 'c' }] });
    const patch = { spec: { '$setElementOrder/containers': [{ name: '2' }, { name: '3' }], containers: [{ name: '3' }, { name: '1', $patch: 'delete' }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: '2', other: 'b' }, { name: '4', other: 'c' }, { name: '3' }],
    }));
  });
});

describe('strategicMergePatch: directives', () => {
  it('$retainKeys clears the volume source kubectl apply switched away from', () => {
    const original = pod({
      containers: [{ name: 'c' }],
      volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }, { name: 'cfg', configMap: { name: 'cm' } }],
    });
    const patch = {
      spec: {
        '$setElementOrder/volumes': [{ name: 'data' }, { name: 'cfg' }],
        volumes: [{ $retainKeys: ['hostPath', 'name'], hostPath: { path: '/srv' }, name: 'data' }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'c' }],
      volumes: [{ name: 'data', hostPath: { path: '/srv' } }, { name: 'cfg', configMap: { name: 'cm' } }],
    }));
  });

  it('$deleteFromPrimitiveList/finalizers removes those values', () => {
    const original = pod({ containers: [] }, { metadata: { name: 'p', finalizers: ['a', 'b', 'c', 'b'] } });
    assert.deepEqual(
      strategicMergePatch('Pod', original, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zz'] } }),
      pod({ containers: [] }, { metadata: { name: 'p', finalizers: ['a', 'c'] } }),
    );
    // ... and never adds the list.
    assert.deepEqual(strategicMergePatch('Pod', pod({ containers: [] }), { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } }), pod({ containers: [] }));
  });

  it('$deleteFromPrimitiveList works on a list without merge strategy too', () => {
    const original = pod({ containers: [{ name: 'c', args: ['-v', '--x', '-q'] }] });
    const patch = { spec: { containers: [{ name: 'c', '$deleteFromPrimitiveList/args': ['--x'] }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({ containers: [{ name: 'c', args: ['-v', '-q'] }] }));
  });

  it('$patch: replace in a list element replaces the list', () => {
    const original = pod({ containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] });
    const patch = { spec: { containers: [{ name: 'c', env: [{ $patch: 'replace' }, { name: 'X', value: 'x' }] }] } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({ containers: [{ name: 'c', env: [{ name: 'X', value: 'x' }] }] }));
  });

  it('$patch: replace and $patch: delete on maps', () => {
    const original = pod({ containers: [{ name: 'c' }], nodeSelector: { disk: 'ssd', zone: 'a' }, securityContext: { runAsUser: 1 } });
    const patch = { spec: { nodeSelector: { $patch: 'replace', arch: 'amd64' }, securityContext: { $patch: 'delete' }, dnsConfig: { $patch: 'replace', options: [{ name: 'ndots', value: '2' }] } } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'c' }],
      nodeSelector: { arch: 'amd64' },
      dnsConfig: { options: [{ name: 'ndots', value: '2' }] },
    }));
  });

  it('$patch: replace at the top level replaces the object; $patch: merge is a plain merge', () => {
    const original = pod({ containers: [{ name: 'c' }] });
    assert.deepEqual(strategicMergePatch('Pod', original, { $patch: 'replace', kind: 'Pod', metadata: { name: 'q' } }), { kind: 'Pod', metadata: { name: 'q' } });
    assert.deepEqual(strategicMergePatch('Pod', original, { $patch: 'merge', metadata: { labels: { a: 'b' } } }), pod({ containers: [{ name: 'c' }] }, {
      metadata: { name: 'p', namespace: 'default', uid: 'u1', labels: { a: 'b' } },
    }));
  });

  it('values new to the object lose their nulls and directives', () => {
    const original = pod({ containers: [{ name: 'c' }] });
    const patch = {
      spec: {
        imagePullSecrets: [{ name: 'a' }, { name: 'b', $patch: 'delete' }],
        containers: [{ name: 'n', image: 'x', workingDir: null, env: [{ $patch: 'replace' }, { name: 'E', value: 'e' }] }],
      },
    };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({
      containers: [{ name: 'n', image: 'x', env: [{ name: 'E', value: 'e' }] }, { name: 'c' }],
      imagePullSecrets: [{ name: 'a' }],
    }));
  });

  it('maps merge recursively and null deletes keys', () => {
    const original = pod({ containers: [] }, { metadata: { name: 'p', labels: { a: '1', b: '2' }, annotations: { x: 'y' } } });
    const patch = { metadata: { labels: { a: null, c: '3', gone: null }, annotations: null } };
    assert.deepEqual(strategicMergePatch('Pod', original, patch), pod({ containers: [] }, { metadata: { name: 'p', labels: { b: '2', c: '3' } } }));
  });

  it('unknown kinds get JSON merge patch semantics, $patch still honoured', () => {
    const original = { metadata: { name: 'w', finalizers: ['a'] }, spec: { items: [{ name: 'x', v: 1 }], m: { a: 1, b: 2 }, gone: { z: 1 } } };
    const patch = { metadata: { finalizers: ['b'] }, spec: { items: [{ name: 'y' }], m: { $patch: 'replace', c: 3 }, gone: { $patch: 'delete' }, n: null } };
    assert.deepEqual(strategicMergePatch('Widget', original, patch), {
      metadata: { name: 'w', finalizers: ['b'] },
      spec: { items: [{ name: 'y' }], m: { c: 3 } },
    });
  });

  it('does not modify its inputs', () => {
    const original = pod({ containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] }, { metadata: { name: 'p', finalizers: ['a'] } });
    const patch = {
      metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: { '$setElementOrder/containers': [{ name: 'c' }], containers: [{ name: 'c', env: [{ name: 'A', $patch: 'delete' }, { name: 'B', value: null }] }] },
    };
    const before = structuredClone({ original, patch });
    const result = strategicMergePatch('Pod', original, patch);
    assert.deepEqual({ original, patch }, before);
    assert.deepEqual(result, pod({ containers: [{ name: 'c', env: [{ name: 'B' }] }] }, { metadata: { name: 'p', finalizers: ['b'] } }));
  });

  it('keeps a "__proto__" key an ordinary key', () => {
    const patch = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}') as unknown;
    const result = strategicMergePatch('Pod', pod({ containers: [] }), patch) as { metadata: { labels: Record<string, unknown> } };
    assert.equal(Object.getPrototypeOf(result.metadata.labels), Object.prototype);
    assert.deepEqual(Object.entries(result.metadata.labels), [['__proto__', 'x']]);
  });
});

describe('strategicMergePatch: errors', () => {
  const original = pod({ containers: [{ name: 'c', image: 'nginx' }] });

  it('a patch that is not a JSON object is a BadRequest', () => {
    throwsApi(() => strategicMergePatch('Pod', original, [{ op: 'add' }]), 400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    throwsApi(() => strategicMergePatch('Pod', original, 'x'), 400, 'BadRequest', 'json: cannot unmarshal string into Go value of type map[string]interface {}');
    throwsApi(() => strategicMergePatch('Pod', original, null), 400, 'BadRequest', 'json: cannot unmarshal null into Go value of type map[string]interface {}');
  });

  it('a list element without its merge key is a BadRequest', () => {
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { containers: [{ image: 'x' }] } }), 400, 'BadRequest',
      'map: map[image:x] does not contain declared merge key: name');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { containers: [{ $patch: 'delete', image: 'x' }] } }), 400, 'BadRequest',
      'map: map[$patch:delete image:x] does not contain declared merge key: name');
  });

  it('an unknown $patch value is a BadRequest', () => {
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { $patch: 'frobnicate' } }), 400, 'BadRequest', 'unknown patch type: frobnicate in map: map[$patch:frobnicate]');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { containers: [{ name: 'c', $patch: 'x' }] } }), 400, 'BadRequest', 'unknown patch type: x in map: map[$patch:x name:c]');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { containers: [{ name: 'c', $patch: 'merge' }] } }), 400, 'BadRequest', 'merging lists cannot yet be specified in the patch');
  });

  it('malformed directives are BadRequests', () => {
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { $retainKeys: ['containers'], nodeName: 'n' } }), 400, 'BadRequest', 'invalid patch format of retainKeys');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { $retainKeys: 'containers' } }), 400, 'BadRequest', 'invalid patch format of retainKeys');
    throwsApi(() => strategicMergePatch('Pod', original, { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } }), 400, 'BadRequest', 'invalid patch format of primitive list');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { $setElementOrder: [] } }), 400, 'BadRequest', 'invalid patch format of setElementOrder list');
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { '$setElementOrder/containers': 'c' } }), 400, 'BadRequest', 'expected a []interface {}, but received a string');
    throwsApi(
      () => strategicMergePatch('Pod', original, { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b' }, { name: 'a' }] } }),
      400, 'BadRequest', /^The order in patch list:\n\[map\[name:b\] map\[name:a\]\]\n doesn't match \$setElementOrder list:/,
    );
  });

  it('lists that cannot merge are Invalid (422)', () => {
    throwsApi(() => strategicMergePatch('Pod', original, { spec: { containers: ['c'] } }), 422, 'Invalid', /^list element types are not identical: /);
    throwsApi(() => strategicMergePatch('Pod', pod({ containers: [] }, { metadata: { name: 'p', finalizers: [['a']] } }), { metadata: { finalizers: [['b']] } }),
      422, 'Invalid', 'lists of lists are not supported');
  });
});
