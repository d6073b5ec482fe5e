// The `reddwarf` client commands (get, describe, apply, delete, watch, version) run as the real
// binary against a real API server started in-process (uWS) with a scheduler and a node agent
// (mock zones, slowed down so Provisioning is seen): output, exit codes and error lines.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Namespace, Pod, Service } from '../../src/api/model/types.ts';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import { LocalClient } from '../../src/client/local.ts';
import type { MockRuntime } from '../../src/runtime/mock.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import { writeKubeconfig } from '../../src/server/kubeconfig.ts';
import { BIN, REPO_ROOT, freePort, makeTempDir, pollUntil } from '../helpers/process.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ENV = { ...process.env, NO_COLOR: '1', KUBECONFIG: '' };

/** Runs `reddwarf …args` to completion, with `input` on its standard input. */
function reddwarf(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A long-running `reddwarf …args` (watch) whose output so far can be read. */
function follow(args: string[]): { child: ChildProcessWithoutNullStreams; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: ENV });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { child, out: () => out, exited };
}

const podYaml = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  containers:
    - name: main
      image: nginx
${extra}`;

const show = (r: Run) => `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

const IP = String.raw`\d+\.\d+\.\d+\.\d+`;

// Deadlines below are generous on purpose: this file often shares a loaded machine with the rest of
// the suite, and each CLI run is a fresh Node process. They bound failures, not the passing runs.

// Independent tests run two at a time: each CLI run is a fresh Node process, and more at once
// starve the processes of the test file running beside this one on a 2-core machine.
describe('reddwarf CLI', { concurrency: 2 }, () => {
  let dir: string;
  before(() => {
    dir = makeTempDir('reddwarf-cli-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('without a usable server', () => {
    it('an unreachable server is one line naming the URL, with a hint to start one (exit 1)', async () => {
      const port = await freePort();
      const file = join(dir, 'closed.kubeconfig');
      writeKubeconfig(file, { server: `http://127.0.0.1:${port}` });
      const cmds = [['get', 'pods'], ['watch', 'pods'], ['apply', '-f', '-']];
      const runs = await Promise.all(cmds.map((args) => reddwarf([...args, '--kubeconfig', file], podYaml('web'))));
      for (const r of runs) {
        assert.equal(r.code, 1, show(r));
        assert.match(r.stderr, new RegExp(`^error: cannot reach the API server at http://127\\.0\\.0\\.1:${port}: .* — start one with \`reddwarf up\`\\n$`));
      }
      const v = await reddwarf(['version', '--kubeconfig', file]);
      assert.equal(v.code, 0, show(v));
      assert.match(v.stdout, /^client: reddwarf \d+\.\d+\.\d+ /m);
      assert.match(v.stdout, new RegExp(`^server: not reachable at http://127\\.0\\.0\\.1:${port} `, 'm'));
    });

    it('`reddwarf agent` keeps retrying its registration while the API server is down, instead of exiting', async () => {
      const port = await freePort();
      const data = makeTempDir('reddwarf-agent-retry-');
      const child = spawn(process.execPath, [BIN, 'agent', '--server', `http://127.0.0.1:${port}`, '--node-name', 'early', '--data-dir', data, '--node-ip', '127.0.0.9'], { cwd: REPO_ROOT, env: ENV });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let exited: number | null | undefined;
      child.on('exit', (code) => (exited = code));
      try {
        // 250, 500 and 1000 ms back-offs: three failures mean it outlived two waits.
        const retried = await pollUntil(() => (stderr.match(/registration failed/g) ?? []).length >= 3 || exited !== undefined, 20_000);
        assert.ok(retried, `no retries within 20 s:\n${stderr}`);
        assert.equal(exited, undefined, `the agent exited (code ${exited}) while the API server was down:\n${stderr}`);
        assert.match(stderr, new RegExp(`cannot reach the API server at http://127\\.0\\.0\\.1:${port}`));
      } finally {
        if (exited === undefined) child.kill('SIGKILL');
        rmSync(data, { recursive: true, force: true });
      }
    });

    it('usage errors exit 2: unknown resource type, unknown flag, bad -o, describe of a non-pod', async () => {
      const file = join(dir, 'any.kubeconfig');
      writeKubeconfig(file, { server: 'http://127.0.0.1:1' });
      const [type, flag, out, desc] = await Promise.all([
        reddwarf(['get', 'widgets', '--kubeconfig', file]),
        reddwarf(['get', 'pods', '--bogus', '--kubeconfig', file]),
        reddwarf(['get', 'pods', '-o', 'xml', '--kubeconfig', file]),
        reddwarf(['describe', 'node', 'n1', '--kubeconfig', file]),
      ]);
      for (const r of [type, flag, out, desc]) assert.equal(r.code, 2, show(r));
      assert.equal(type.stderr, 'error: unknown resource type "widgets" (known: pods, nodes, services, namespaces, runtimeclasses) — see `reddwarf get --help`\n');
      assert.match(out.stderr, /^error: -o must be wide, json or yaml \(got "xml"\)/);
      assert.match(desc.stderr, /^error: describe supports pods only/);
    });
  });

  describe('against a server with a scheduler and a node agent', { concurrency: 2 }, () => {
    let server: TestServer;
    let scheduler: Scheduler;
    let agent: Agent;
    let kc: string[];

    before(async () => {
      server = await startServer('uws');
      const client = new LocalClient(server.store);
      scheduler = startScheduler({ client });
      agent = await startAgent({
        client,
        nodeName: 'cli-node',
        dataDir: join(dir, 'agent'),
        runtime: 'mock',
        podCidr: '10.88.0.0/16',
        systemReservedCpu: '100m',
        systemReservedMemory: '256Mi',
        maxPods: 110,
        brands: ['lx', 'sparse'],
        etherstub: 'reddwarf0',
        zonepathPrefix: '/rpool/zones',
        // Six provisioning steps of 250 ms: long enough for `--wait` to see Provisioning.
        mockStepDelayMs: 250,
        log: () => {},
      });
      await client.create<Namespace>('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'side' } });
      await client.create<Service>('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'side' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } });
      const file = join(dir, 'kubeconfig');
      writeKubeconfig(file, { server: server.url });
      kc = ['--kubeconfig', file];
    });

    after(async () => {
      await agent?.stop();
      await scheduler?.stop();
      await server?.stop();
    });

    it('version prints the client and the server version; get nodes and namespaces', async () => {
      const [v, nodes, ns, svc] = await Promise.all([
        reddwarf(['version', ...kc]),
        reddwarf(['get', 'nodes', ...kc]),
        reddwarf(['get', 'ns', ...kc]),
        reddwarf(['get', 'svc', '-n', 'side', ...kc]),
      ]);
      assert.equal(v.code, 0, show(v));
      assert.match(v.stdout, /^client: reddwarf \d+\.\d+\.\d+ /m);
      assert.match(v.stdout, new RegExp(`^server: v1\\.31\\.\\d+ at ${server.url}$`, 'm'));
      assert.match(nodes.stdout, /^NAME\s+STATUS\s+AGE\s+VERSION\ncli-node\s+Ready\s+\d+s\s+\S+\n$/, show(nodes));
      assert.match(ns.stdout, /^default\s+Active\s+\d+s$/m, show(ns));
      assert.match(ns.stdout, /^side\s+Active\s+\d+s$/m, show(ns));
      assert.match(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+AGE\ndb\s+ClusterIP\s+\S+\s+5432\/TCP\s+\d+s\n$/, show(svc));
    });

    it('get runtimeclasses lists the zone brands offered', async () => {
      await new LocalClient(server.store).create('runtimeclasses', { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'sparse' }, handler: 'sparse' });
      const r = await reddwarf(['get', 'runtimeclasses', ...kc]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^NAME\s+HANDLER\s+AGE\nsparse\s+sparse\s+\d+s\n$/, show(r));
    });

    it('a pod through its life: apply --wait, apply again, get, describe, watch, delete --wait', async () => {
      // apply --wait, off a terminal: one plain line per state, ending with the IP.
      const file = join(dir, 'web.yaml');
      writeFileSync(file, `${podYaml('web')}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n`);
      const applied = await reddwarf(['apply', '-f', file, '--wait', '--timeout', '5m', ...kc]);
      assert.equal(applied.code, 0, show(applied));
      assert.ok(!applied.stdout.includes('\x1b['), 'no terminal escapes off a terminal');
      const lines = applied.stdout.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, 2), ['pod/web created', 'service/web created'], show(applied));
      assert.match(lines.at(-1) ?? '', new RegExp(`^pod/web: Running at ${IP} \\(node cli-node, zone reddwarf-default-web\\) after \\d+\\.\\ds$`));
      const states = lines.slice(2, -1).map((l) => /^pod\/web: (\w+)/.exec(l)?.[1]);
      assert.ok(states.includes('Provisioning'), `progress shows Provisioning: ${applied.stdout}`);
      assert.deepEqual(states.filter((s) => s !== 'Pending'), ['Provisioning'], `Pending → Provisioning → Running: ${applied.stdout}`);
      assert.equal(new Set(lines).size, lines.length, 'no line repeated');

      // Applying again: unchanged; a changed label: configured (PUT at the live resourceVersion, status kept).
      const same = await reddwarf(['apply', '-f', '-', ...kc], podYaml('web'));
      assert.equal(same.stdout, 'pod/web unchanged\n', show(same));
      const changed = await reddwarf(['apply', '-f', '-', ...kc], podYaml('web').replace('{app: web}', '{app: web, tier: front}'));
      assert.equal(changed.stdout, 'pod/web configured\n', show(changed));

      const [table, wide, none, json, yaml, desc] = await Promise.all([
        reddwarf(['get', 'pods', ...kc]),
        reddwarf(['get', 'po', '-A', '-o', 'wide', ...kc]),
        reddwarf(['get', 'pods', '-l', 'tier=back', ...kc]),
        reddwarf(['get', 'pods', '-o', 'json', ...kc]),
        reddwarf(['get', 'pod', 'web', '-o', 'yaml', ...kc]),
        reddwarf(['describe', 'pod', 'web', ...kc]),
      ]);
      // An aligned table with STATE, NODE, IP, ZONE and AGE.
      assert.equal(table.code, 0, show(table));
      const [header, row, ...more] = table.stdout.trimEnd().split('\n');
      assert.deepEqual(more, [], show(table));
      assert.match(header ?? '', /^NAME\s+STATE\s+NODE\s+IP\s+ZONE\s+AGE$/);
      assert.match(row ?? '', new RegExp(`^web\\s+Running\\s+cli-node\\s+${IP}\\s+reddwarf-default-web\\s+\\d+s$`));
      for (const col of ['STATE', 'NODE', 'IP', 'ZONE', 'AGE']) {
        const at = (header ?? '').indexOf(` ${col}`) + 1;
        assert.match(row?.slice(at - 1, at + 1) ?? '', / \S/, `column ${col} starts at ${at} in every line: ${table.stdout}`);
      }
      assert.match(wide.stdout, /^NAMESPACE\s+NAME\s+STATE\s+NODE\s+IP\s+ZONE\s+AGE\s+RESTARTS\s+REASON$/m, show(wide));
      assert.match(wide.stdout, /^default\s+web\s+Running\s+cli-node\s+\S+\s+reddwarf-default-web\s+\d+s\s+0\s+<none>$/m, show(wide));
      assert.equal(none.code, 0, show(none));
      assert.equal(none.stdout, '');
      assert.equal(none.stderr, 'No resources found in default namespace.\n');
      const list = JSON.parse(json.stdout) as { kind: string; items: Pod[] };
      assert.equal(list.kind, 'List');
      assert.deepEqual(list.items.map((p) => p.metadata.name), ['web']);
      assert.deepEqual(list.items[0]?.metadata.labels, { app: 'web', tier: 'front' }, 'the update reached the server');
      assert.equal(list.items[0]?.status?.phase, 'Running', 'the update kept the status');
      assert.match(yaml.stdout, /^kind: Pod$/m, show(yaml));
      assert.match(yaml.stdout, new RegExp(`podIP: ${IP}`));
      // describe: spec, state, conditions and events.
      assert.equal(desc.code, 0, show(desc));
      assert.match(desc.stdout, /^State:\s+Running$/m);
      assert.match(desc.stdout, /^Zone:\s+reddwarf-default-web$/m);
      assert.match(desc.stdout, /^Node:\s+cli-node$/m);
      assert.match(desc.stdout, new RegExp(`^IP:\\s+${IP}$`, 'm'));
      assert.match(desc.stdout, /^Labels:\s+app=web, tier=front$/m);
      assert.match(desc.stdout, /^\s+Image:\s+nginx$/m);
      assert.match(desc.stdout, /^Conditions:\n\s+Type\s+Status\s+Reason\n(\s+\w+\s+\w+.*\n)*\s+Ready\s+True/m);
      assert.match(desc.stdout, /^\s+Normal\s+Scheduled\s+\d+s\s+default-scheduler\s+Successfully assigned default\/web to cli-node$/m);
      assert.match(desc.stdout, /^\s+Normal\s+Provisioning\s+\d+s\s+reddwarf-agent\s/m);
      assert.match(desc.stdout, /^\s+Normal\s+Started\s+\d+s\s+reddwarf-agent\s+Zone is running with IP/m);

      // watch: one line per event; delete --wait returns once the zone is gone.
      const w = follow(['watch', 'pods', ...kc]);
      try {
        assert.ok(await pollUntil(() => new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\s+ADDED\\s+web\\s+Running\\s+cli-node\\s+${IP}$`, 'm').test(w.out()), 120_000), `no ADDED line: ${w.out()}`);
        const del = await reddwarf(['delete', 'pod', 'web', '--wait', '--timeout', '5m', ...kc]);
        assert.equal(del.code, 0, show(del));
        assert.equal(del.stdout, 'pod "web" deleted\npod "web" is gone\n');
        assert.ok(await pollUntil(() => /^\d\d:\d\d:\d\d\s+DELETED\s+web\s/m.test(w.out()), 120_000), `no DELETED line: ${w.out()}`);
        assert.match(w.out(), /^\d\d:\d\d:\d\d\s+MODIFIED\s+web\s+Terminating\s+cli-node\s/m);
      } finally {
        w.child.kill('SIGTERM');
      }
      assert.equal(await w.exited, 0, 'watch exits 0 on SIGTERM');
    });

    it('watch nodes prints the node and its readiness', async () => {
      const w = follow(['watch', 'nodes', ...kc]);
      try {
        assert.ok(await pollUntil(() => /^\d\d:\d\d:\d\d\s+ADDED\s+cli-node\s+Ready\s/m.test(w.out()), 120_000), `no ADDED line: ${w.out()}`);
      } finally {
        w.child.kill('SIGINT');
      }
      assert.equal(await w.exited, 0, 'watch exits 0 on SIGINT');
    });

    it('apply --wait on a terminal rewrites one line', async (t) => {
      if (spawnSync('script', ['--version']).error) {
        t.skip('`script` (util-linux) is not installed: the pseudo-terminal case is NOT tested');
        return;
      }
      const file = join(dir, 'tty.yaml');
      writeFileSync(file, podYaml('tty').replace('name: tty\n', 'name: tty\n  namespace: side\n'));
      const cmd = [process.execPath, BIN, 'apply', '-f', file, '--wait', '--timeout', '5m', ...kc].map((a) => `'${a}'`).join(' ');
      const r = await new Promise<Run>((resolve) => {
        const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: REPO_ROOT, env: ENV });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
        child.stdin.end();
      });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^pod\/tty created\r?\n/);
      const progress = r.stdout.slice(r.stdout.indexOf('\x1b[2K'));
      assert.match(progress, new RegExp(String.raw`\r\x1b\[2Kpod/tty: Provisioning \(node cli-node, zone reddwarf-side-tty\) \d+\.\ds`), JSON.stringify(progress));
      assert.match(progress, new RegExp(String.raw`\r\x1b\[2Kpod/tty: Running at ${IP} \(node cli-node, zone reddwarf-side-tty\) after \d+\.\ds\r?\n$`), JSON.stringify(progress));
      assert.equal(progress.trimEnd().split('\n').length, 1, `one updating line: ${JSON.stringify(progress)}`);
    });

    it('apply of JSON --wait ends with the reason the pod failed (exit 1)', async () => {
      // The mock takes lx zones without an image now: a failed install stands in for a real failure.
      (agent.runtime as MockRuntime).injectFault('install', { zone: 'reddwarf-side-lx', message: 'zoneadm install failed: no image' });
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lx', namespace: 'side', annotations: { 'reddwarf.io/zone-brand': 'lx' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } };
      const r = await reddwarf(['apply', '-f', '-', '--wait', '--timeout', '5m', ...kc], JSON.stringify(pod));
      assert.equal(r.code, 1, show(r));
      assert.match(r.stdout, /^pod\/lx created\n/);
      assert.match(r.stdout, /\npod\/lx: Failed — ZoneFailed: .*zoneadm install failed: no image.*\n$/, show(r));
      const got = await reddwarf(['get', 'pods', '-n', 'side', '-o', 'wide', ...kc]);
      assert.match(got.stdout, /^lx\s+Failed\s+cli-node\s+<none>\s+reddwarf-side-lx\s+\d+s\s+0\s+ZoneFailed: /m, show(got));
    });

    it('apply --wait gives up after --timeout (exit 1) on a pod no node can take', async () => {
      const r = await reddwarf(['apply', '-f', '-', '-n', 'side', '--wait', '--timeout', '500ms', ...kc], podYaml('stuck', '  nodeSelector: {disk: none}\n'));
      assert.equal(r.code, 1, show(r));
      assert.match(r.stdout, /^pod\/stuck created\n/);
      assert.match(r.stdout, /^pod\/stuck: timed out after \d+s, still Pending/m);
    });

    it('errors are one line: a missing pod (describe, delete), bad YAML, an unknown kind', async () => {
      const [desc, del, bad, kind] = await Promise.all([
        reddwarf(['describe', 'pod', 'nope', ...kc]),
        reddwarf(['delete', 'pod', 'nope', '-n', 'side', ...kc]),
        reddwarf(['apply', '-f', '-', ...kc], 'kind: Pod\nmetadata: {name: [x\n'),
        reddwarf(['apply', '-f', '-', ...kc], 'apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n'),
      ]);
      for (const r of [desc, del, bad]) {
        assert.equal(r.code, 1, show(r));
        assert.equal(r.stderr.split('\n').length, 2, `one line: ${show(r)}`);
      }
      assert.equal(desc.stderr, 'error: pods "nope" not found — see `reddwarf get pods`\n');
      assert.equal(del.stderr, 'error: pods "nope" not found — see `reddwarf get pods`\n');
      assert.match(bad.stderr, /^error: standard input: not valid YAML or JSON \(document 1\): /);
      assert.equal(kind.code, 2, show(kind));
      assert.match(kind.stderr, /^error: unknown kind "Widget"/);
    });
  });
});
