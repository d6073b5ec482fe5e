// End to end: every installed kubectl minor (1.27 … 1.33; ≥ 1.32 send protobuf bodies) against a
// spawned `reddwarf serve --kube-minor NN`, one server per minor, run one minor after another.
// Each scenario: create namespace / service (protobuf on ≥ 1.32), client-side apply twice, an
// unknown field refused under default validation (OpenAPI v2 on 1.27/1.28),
// server-side apply twice + a conflict + --force-conflicts, edit, label, annotate, the three patch
// types, get -w, describe with events, drain (eviction; --disable-eviction on ≥ 1.32), delete, wait.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { pollUntil, startServe, type ServeProcess } from '../helpers/process.ts';

const MINORS = [27, 28, 29, 30, 31, 32, 33];

const pod = (name: string, image: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: web
spec:
  containers:
  - name: c
    image: ${image}
${extra}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, indexed freely
async function api(server: ServeProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(server.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, indexed freely
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

async function scenario(t: TestContext, minor: number): Promise<void> {
  const missing = kubectlMissing(minor);
  if (missing) {
    console.warn(`SKIPPING kubectl 1.${minor}: ${missing}`);
    t.skip(`kubectl.1.${minor} not installed`);
    return;
  }
  const server = await startServe({ kubeMinor: minor });
  const k = kubectl(server.kubeconfig, { minor, timeoutMs: 40_000, procs: () => [server] });
  try {
    const v = await k.ok('version', '-o', 'json');
    assert.equal(JSON.parse(v.stdout).serverVersion.minor, String(minor));

    // Typed creates: protobuf bodies from 1.32 on.
    assert.match((await k.ok('create', 'namespace', 'm')).stdout, /namespace\/m created/);
    assert.match((await k.ok('create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', 'm')).stdout, /service\/web created/);
    const svc = JSON.parse((await k.ok('get', 'svc', 'web', '-n', 'm', '-o', 'json')).stdout);
    assert.equal(svc.spec.ports[0].port, 80);
    assert.equal(svc.spec.ports[0].targetPort, 8080);

    // Client-side apply, twice with a change.
    assert.match((await k.ok('apply', '-f', k.file('x.yaml', pod('x', 'nginx:1')))).stdout, /pod\/x created/);
    const configured = await k.ok('apply', '-f', k.file('x.yaml', pod('x', 'nginx:2')));
    assert.match(configured.stdout, /pod\/x configured/);
    // The patch comes from kubectl's compiled-in types, not our shallow OpenAPI schemas.
    assert.doesNotMatch(configured.stderr, /error calculating patch/, k.explain(configured));
    assert.equal((await k.ok('get', 'pod', 'x', '-o', 'jsonpath={.spec.containers[0].image}')).stdout, 'nginx:2');

    // Validation is on by default and real: kubectl finds fieldValidation advertised in OpenAPI (v2
    // protobuf on 1.27/1.28, v3 later), sends fieldValidation=Strict, and the server refuses.
    for (const verb of ['apply', 'create']) {
      const bogus = await k.run(verb, '-f', k.file('bogus.yaml', pod('bogus', 'nginx:1', '  bogusField: 1\n')));
      assert.notEqual(bogus.code, 0, k.explain(bogus));
      assert.match(bogus.stderr, /Error from server \(BadRequest\): error when creating "bogus.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec\.bogusField"/, k.explain(bogus));
    }
    assert.equal((await api(server, 'GET', '/api/v1/namespaces/default/pods/bogus')).status, 404);

    // Server-side apply, twice with a change; a conflicting manager; then forced.
    assert.match((await k.ok('apply', '--server-side', '-f', k.file('s.yaml', pod('s', 'nginx:1')))).stdout, /pod\/s serverside-applied/);
    assert.match((await k.ok('apply', '--server-side', '-f', k.file('s.yaml', pod('s', 'nginx:2')))).stdout, /pod\/s serverside-applied/);
    const conflict = await k.run('apply', '--server-side', '--field-manager', 'other', '-f', k.file('s3.yaml', pod('s', 'nginx:3')));
    assert.notEqual(conflict.code, 0, k.explain(conflict));
    assert.match(conflict.stderr, /conflict with "kubectl"/, k.explain(conflict));
    assert.match(conflict.stderr, /\.spec\.containers\[name="c"\]\.image/, k.explain(conflict));
    await k.ok('apply', '--server-side', '--force-conflicts', '--field-manager', 'other', '-f', 's3.yaml');
    const s = JSON.parse((await k.ok('get', 'pod', 's', '-o', 'json', '--show-managed-fields')).stdout);
    assert.equal(s.spec.containers[0].image, 'nginx:3');
    assert.deepEqual(s.metadata.managedFields.map((e: { manager: string }) => e.manager).sort(), ['kubectl', 'other']);

    // edit through KUBE_EDITOR.
    const editor = join(k.dir, k.file('editor.sh', "#!/bin/sh\nsed -i 's/app: web/app: edited/' \"$1\"\n"));
    chmodSync(editor, 0o755);
    const edit = await k.runWithEnv({ KUBE_EDITOR: editor, EDITOR: editor }, 'edit', 'pod', 'x');
    assert.equal(edit.code, 0, k.explain(edit));
    assert.match(edit.stdout, /pod\/x edited/);
    assert.equal((await k.ok('get', 'pod', 'x', '-o', 'jsonpath={.metadata.labels.app}')).stdout, 'edited');

    // label, annotate, and the three patch types.
    await k.ok('label', 'pod', 'x', 'tier=front');
    await k.ok('annotate', 'pod', 'x', 'note=hi');
    await k.ok('patch', 'pod', 'x', '-p', '{"spec":{"containers":[{"name":"c","image":"nginx:4"}]}}');
    await k.ok('patch', 'pod', 'x', '--type=merge', '-p', '{"metadata":{"labels":{"merged":"yes"}}}');
    await k.ok('patch', 'pod', 'x', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]');
    const x = JSON.parse((await k.ok('get', 'pod', 'x', '-o', 'json')).stdout);
    assert.equal(x.spec.containers[0].image, 'nginx:4');
    assert.deepEqual({ ...x.metadata.labels }, { app: 'edited', tier: 'front', merged: 'yes', json: 'yes' });
    assert.equal(x.metadata.annotations.note, 'hi');

    // get -w sees a change.
    const w = k.spawn('get', 'pod', 'x', '-w');
    try {
      assert.ok(await pollUntil(() => /^x\s/m.test(w.stdout()), 15_000), `get -w printed no row: ${w.stdout()} ${w.stderr()}`);
      await k.ok('label', 'pod', 'x', 'watched=yes');
      const rows = await pollUntil(() => (w.stdout().match(/^x\s/gm) ?? []).length >= 2, 15_000);
      assert.ok(rows, `get -w did not print the change: ${w.stdout()} ${w.stderr()}`);
    } finally {
      await w.kill();
    }

    // describe shows the pod's events.
    const ev = await api(server, 'POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'x.1' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'x', uid: x.metadata.uid, apiVersion: 'v1' },
      reason: 'MatrixCheck', message: 'seen by describe', type: 'Normal', count: 1, source: { component: 'e2e' },
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.equal(ev.status, 201, JSON.stringify(ev.body));
    const d = await k.ok('describe', 'pod', 'x');
    assert.match(d.stdout, /Events:/);
    assert.match(d.stdout, /MatrixCheck\s.*seen by describe/);

    // delete, and wait --for=delete (before a Node exists, so the scheduler cannot bind them).
    assert.match((await k.ok('delete', 'pod', 'x')).stdout, /pod "x" deleted/);
    await k.ok('delete', 'pod', 's', '--wait=false');
    await k.ok('wait', '--for=delete', 'pod/s', '--timeout=20s');

    // drain: pods bound to a node are evicted (graceful) and finalized here, as an agent would.
    await k.ok('create', '-f', k.file('node.yaml', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n'));
    const modes = minor >= 32 ? [[], ['--disable-eviction']] : [[]];
    for (const [i, mode] of modes.entries()) {
      const name = `d${i}`;
      await k.ok('apply', '-f', k.file(`${name}.yaml`, pod(name, 'nginx', '  nodeName: n1\n')));
      let stop = false;
      const finalizer = (async () => {
        while (!stop) {
          const list = await api(server, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
          for (const p of list.body.items ?? []) {
            if (p.metadata.deletionTimestamp) await api(server, 'POST', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/finalize`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        const dr = await k.ok('drain', 'n1', '--ignore-daemonsets', '--force', '--delete-emptydir-data', '--timeout=30s', ...mode);
        assert.match(dr.stdout, /node\/n1 drained/, k.explain(dr));
        if (mode.length === 0) assert.match(dr.stdout + dr.stderr, /evicting pod default\/d0|pod\/d0 evicted/, k.explain(dr));
        else assert.match(dr.stdout + dr.stderr, /deleting pod default\/d1|pod\/d1 deleted/, k.explain(dr));
      } finally {
        stop = true;
        await finalizer;
      }
      assert.equal((await api(server, 'GET', `/api/v1/namespaces/default/pods/${name}`)).status, 404);
      const node = JSON.parse((await k.ok('get', 'node', 'n1', '-o', 'json')).stdout);
      assert.equal(node.spec.unschedulable, true);
      await k.ok('uncordon', 'n1');
    }

    await k.ok('delete', 'namespace', 'm');
  } finally {
    k.cleanup();
    await server.stop();
    server.cleanup();
  }
}

describe('kubectl 1.27–1.33 against reddwarf serve', () => {
  for (const minor of MINORS) {
    it(`kubectl 1.${minor}`, { timeout: 90_000 }, async (t) => scenario(t, minor));
  }
});
