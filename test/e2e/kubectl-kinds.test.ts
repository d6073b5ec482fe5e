// End to end with real kubectl (1.27: legacy discovery, JSON bodies; 1.33: aggregated discovery,
// protobuf bodies) against a spawned `reddwarf up` (mock zones: brands lx and sparse): api-resources
// lists secrets and runtimeclasses, `get runtimeclass` shows what the node offers, `create secret
// docker-registry` and `get secret -o yaml` round-trip, pods pick brands by runtimeClassName, a
// missing RuntimeClass is 403, a brand no node has stays Pending with the brand named, and
// admission refuses what zonecfg would (cpu < 10m, memory < 1Mi) and a container without image.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { pollUntil, startUp } from '../helpers/process.ts';

const MINORS = [27, 33];

const pod = (name: string, spec = '', meta = '', container = '    image: busybox\n') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${meta}spec:
${spec}  containers:
  - name: c
${container}`;

async function scenario(t: TestContext, minor: number): Promise<void> {
  const missing = kubectlMissing(minor);
  if (missing) {
    console.warn(`SKIPPING kubectl 1.${minor}: ${missing}`);
    t.skip(`kubectl.1.${minor} not installed`);
    return;
  }
  const up = await startUp({ kubeMinor: minor, nodeName: 'kinds' });
  const k = kubectl(up.kubeconfig, { minor, timeoutMs: 40_000, procs: () => [up] });
  try {
    // Discovery: both kinds, the group-qualified one with its apiVersion.
    const ar = await k.ok('api-resources');
    assert.match(ar.stdout, /^secrets\s+v1\s+true\s+Secret$/m, k.explain(ar));
    assert.match(ar.stdout, /^runtimeclasses\s+node\.k8s\.io\/v1\s+false\s+RuntimeClass$/m, k.explain(ar));
    assert.match((await k.ok('api-versions')).stdout, /^node\.k8s\.io\/v1$/m);

    // The node's brands became RuntimeClasses (created when it registered).
    const rcs = await pollUntil(async () => {
      const r = await k.run('get', 'runtimeclass');
      return /^lx\s+lx\s+\S+$/m.test(r.stdout) && /^sparse\s+sparse\s+\S+$/m.test(r.stdout) ? r : undefined;
    }, 20_000, 200);
    assert.ok(rcs, `no RuntimeClasses lx and sparse: ${(await k.run('get', 'runtimeclass')).stdout}\n${k.logs()}`);
    assert.match(rcs.stdout, /^NAME\s+HANDLER\s+AGE$/m);
    const node = JSON.parse((await k.ok('get', 'node', 'kinds', '-o', 'json')).stdout);
    assert.equal(node.metadata.labels['reddwarf.io/zone-brands'], 'lx_sparse');
    assert.equal(node.metadata.annotations['reddwarf.io/os-distribution'], 'mock');
    const rc = JSON.parse((await k.ok('get', 'runtimeclass', 'sparse', '-o', 'json')).stdout);
    assert.equal(rc.apiVersion, 'node.k8s.io/v1');
    assert.equal(rc.handler, 'sparse');

    // A RuntimeClass from YAML (OpenAPI v2 on 1.27, v3 later, for the group's PATCH), applied twice, deleted.
    const small = (mem: string) => `apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: small-lx\nhandler: lx\noverhead:\n  podFixed:\n    memory: ${mem}\n`;
    assert.match((await k.ok('apply', '-f', k.file('rc.yaml', small('16Mi')))).stdout, /runtimeclass\.node\.k8s\.io\/small-lx created/);
    assert.match((await k.ok('apply', '-f', k.file('rc.yaml', small('32Mi')))).stdout, /runtimeclass\.node\.k8s\.io\/small-lx configured/);
    assert.equal((await k.ok('get', 'runtimeclass', 'small-lx', '-o', 'jsonpath={.overhead.podFixed.memory}')).stdout, '32Mi');
    const handler = await k.run('patch', 'runtimeclass', 'small-lx', '--type=merge', '-p', '{"handler":"sparse"}');
    assert.match(handler.stderr, /handler: Invalid value: "sparse": field is immutable/, k.explain(handler));
    const bogusRc = await k.run('apply', '-f', k.file('rc2.yaml', `${small('16Mi').replace('small-lx', 'bogus-rc')}spec: {}\n`));
    assert.match(bogusRc.stderr, /strict decoding error: unknown field "spec"/, k.explain(bogusRc));
    assert.match((await k.ok('delete', 'runtimeclass', 'small-lx')).stdout, /runtimeclass\.node\.k8s\.io "small-lx" deleted/);

    // kubectl create secret docker-registry (protobuf body on 1.33), read back as YAML.
    const created = await k.ok('create', 'secret', 'docker-registry', 'regcred', '--docker-server=registry.example:5000', '--docker-username=ann', '--docker-password=s3cret', '--docker-email=ann@example.org');
    assert.match(created.stdout, /secret\/regcred created/);
    const yaml = await k.ok('get', 'secret', 'regcred', '-o', 'yaml');
    assert.match(yaml.stdout, /^type: kubernetes\.io\/dockerconfigjson$/m, yaml.stdout);
    assert.match(yaml.stdout, /^kind: Secret$/m);
    const secret = JSON.parse((await k.ok('get', 'secret', 'regcred', '-o', 'json')).stdout);
    const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString());
    assert.equal(config.auths['registry.example:5000'].username, 'ann');
    assert.equal(config.auths['registry.example:5000'].password, 's3cret');
    assert.equal(Buffer.from(config.auths['registry.example:5000'].auth, 'base64').toString(), 'ann:s3cret');
    await k.ok('create', 'secret', 'generic', 'plain', '--from-literal=a=1', '--from-literal=b=2');
    const table = await k.ok('get', 'secrets');
    assert.match(table.stdout, /^NAME\s+TYPE\s+DATA\s+AGE$/m, table.stdout);
    assert.match(table.stdout, /^regcred\s+kubernetes\.io\/dockerconfigjson\s+1\s+\S+$/m, table.stdout);
    assert.match(table.stdout, /^plain\s+Opaque\s+2\s+\S+$/m, table.stdout);

    // A pod names a RuntimeClass: admission writes its handler as the brand; it runs.
    await k.ok('apply', '-f', k.file('native.yaml', pod('native', '  runtimeClassName: sparse\n  imagePullSecrets:\n  - name: regcred\n')));
    assert.equal((await k.ok('get', 'pod', 'native', '-o', 'jsonpath={.metadata.annotations.reddwarf\\.io/zone-brand}')).stdout, 'sparse');
    const running = await pollUntil(async () => ((await k.run('get', 'pod', 'native', '-o', 'jsonpath={.status.phase}')).stdout === 'Running' ? true : undefined), 30_000, 200);
    assert.ok(running, `native pod not Running\n${k.logs()}`);

    // A RuntimeClass that does not exist: 403, as kube-apiserver's admission answers.
    const norc = await k.run('apply', '-f', k.file('norc.yaml', pod('norc', '  runtimeClassName: joyent\n')));
    assert.notEqual(norc.code, 0, k.explain(norc));
    assert.match(norc.stderr, /Error from server \(Forbidden\): error when creating "norc\.yaml": pods "norc" is forbidden: pod rejected: RuntimeClass "joyent" not found/, k.explain(norc));

    // A brand no node has: Pending, Unschedulable, the brand named.
    await k.ok('apply', '-f', k.file('lonely.yaml', pod('lonely', '', '  annotations:\n    reddwarf.io/zone-brand: pkgsrc\n')));
    const why = await pollUntil(async () => {
      const r = await k.run('get', 'pod', 'lonely', '-o', 'jsonpath={.status.phase}|{.status.conditions[?(@.type=="PodScheduled")].reason}|{.status.conditions[?(@.type=="PodScheduled")].message}');
      return r.stdout.includes('Unschedulable') ? r.stdout : undefined;
    }, 20_000, 200);
    assert.equal(why, 'Pending|Unschedulable|0/1 nodes are available: 1 node(s) didn\'t support zone brand "pkgsrc".');

    // Admission refuses what zonecfg would refuse later, naming the field.
    const tiny = await k.run('apply', '-f', k.file('tiny.yaml', pod('tiny', '', '', '    image: busybox\n    resources:\n      limits: {cpu: 5m, memory: 512Ki}\n')));
    assert.notEqual(tiny.code, 0, k.explain(tiny));
    // kubectl prints each cause of an Invalid Status on its own line.
    assert.match(tiny.stderr, /The Pod "tiny" is invalid: \n\* spec\.containers\[0\]\.resources\.limits\.cpu: Invalid value: "5m": must be at least 10m: a zone's capped-cpu ncpus must be at least 0\.01 \(zonecfg refuses less\)\n/, k.explain(tiny));
    assert.match(tiny.stderr, /\n\* spec\.containers\[0\]\.resources\.limits\.memory: Invalid value: "512Ki": must be at least 1Mi: a zone's capped-memory physical must be at least 1M/, k.explain(tiny));
    const noImage = await k.run('apply', '-f', k.file('noimage.yaml', pod('noimage', '', '', '    image: ""\n')));
    assert.notEqual(noImage.code, 0, k.explain(noImage));
    assert.match(noImage.stderr, /Pod "noimage" is invalid: spec\.containers\[0\]\.image: Required value/, k.explain(noImage));
    assert.equal((await k.run('get', 'pod', 'tiny')).code, 1, 'nothing was stored');
  } finally {
    k.cleanup();
    await up.stop();
    up.cleanup();
  }
}

describe('kubectl: Secrets, RuntimeClasses and brands', () => {
  for (const minor of MINORS) {
    it(`kubectl 1.${minor}`, { timeout: 240_000 }, (t) => scenario(t, minor));
  }
});
