// The `reddwarf` client commands (get, describe, apply, delete, watch, version) run as the real
// binary against a real `reddwarf up` (mock zone runtime): output, exit codes and error lines.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, REPO_ROOT, freePort, makeTempDir, pollUntil, startUp, type UpProcess } from '../helpers/process.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `reddwarf …args` to completion, with `input` on its standard input. */
function reddwarf(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', KUBECONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
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

describe('reddwarf CLI against `reddwarf up`', () => {
  let up: UpProcess;
  let kc: string[];
  let dir: string;

  before(async () => {
    up = await startUp({ nodeName: 'cli-node' });
    kc = ['--kubeconfig', up.kubeconfig];
    dir = makeTempDir('reddwarf-cli-');
  });

  after(async () => {
    await up?.stop();
    up?.cleanup();
  });

  it('version prints the client and the server version', async () => {
    const r = await reddwarf(['version', ...kc]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^client: reddwarf \d+\.\d+\.\d+ /m);
    assert.match(r.stdout, new RegExp(`^server: v1\\.\\d+\\.\\d+ at ${up.url}$`, 'm'));
  });

  it('apply --wait follows a pod to Running and prints its IP (plain lines off a terminal)', async () => {
    const file = join(dir, 'web.yaml');
    writeFileSync(file, `${podYaml('web')}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n`);
    const r = await reddwarf(['apply', '-f', file, '--wait', ...kc]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^pod\/web created$/m);
    assert.match(r.stdout, /^service\/web created$/m);
    assert.match(r.stdout, /^pod\/web: Running at \d+\.\d+\.\d+\.\d+ \(node cli-node, zone reddwarf-default-web\)/m);
    assert.ok(!r.stdout.includes('\x1b['), 'no terminal escapes off a terminal');
  });

  it('apply again says unchanged, and configured after a change', async () => {
    const same = await reddwarf(['apply', '-f', '-', ...kc], podYaml('web'));
    assert.equal(same.code, 0, show(same));
    assert.match(same.stdout, /^pod\/web unchanged$/m);
    const changed = await reddwarf(['apply', '-f', '-', ...kc], podYaml('web').replace('{app: web}', '{app: web, tier: front}'));
    assert.equal(changed.code, 0, show(changed));
    assert.match(changed.stdout, /^pod\/web configured$/m);
  });

  it('get pods prints an aligned table with STATE, NODE, IP, ZONE and AGE', async () => {
    const r = await reddwarf(['get', 'pods', ...kc]);
    assert.equal(r.code, 0, show(r));
    const [header, row] = r.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^NAME\s+STATE\s+NODE\s+IP\s+ZONE\s+AGE$/);
    assert.match(row ?? '', /^web\s+Running\s+cli-node\s+\d+\.\d+\.\d+\.\d+\s+reddwarf-default-web\s+\d+s$/);
    assert.equal(header?.indexOf('STATE'), row?.indexOf('Running'), 'columns are aligned');
  });

  it('get pods -A -o wide, -l, -o json/yaml and by name', async () => {
    const wide = await reddwarf(['get', 'po', '-A', '-o', 'wide', ...kc]);
    assert.equal(wide.code, 0, show(wide));
    assert.match(wide.stdout, /^NAMESPACE\s+NAME\s+STATE\s+NODE\s+IP\s+ZONE\s+AGE\s+RESTARTS\s+REASON$/m);
    assert.match(wide.stdout, /^default\s+web\s+Running/m);
    const sel = await reddwarf(['get', 'pods', '-l', 'tier=back', ...kc]);
    assert.equal(sel.code, 0, show(sel));
    assert.equal(sel.stdout, '');
    assert.match(sel.stderr, /No resources found in default namespace/);
    const json = await reddwarf(['get', 'pods', '-o', 'json', ...kc]);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['web']);
    const yaml = await reddwarf(['get', 'pod', 'web', '-o', 'yaml', ...kc]);
    assert.equal(yaml.code, 0, show(yaml));
    assert.match(yaml.stdout, /^kind: Pod$/m);
    assert.match(yaml.stdout, /podIP: \d+\./);
  });

  it('get nodes, services and namespaces', async () => {
    const nodes = await reddwarf(['get', 'nodes', ...kc]);
    assert.match(nodes.stdout, /^NAME\s+STATUS\s+AGE\s+VERSION\ncli-node\s+Ready\s+/, show(nodes));
    const svc = await reddwarf(['get', 'svc', ...kc]);
    assert.match(svc.stdout, /^web\s+ClusterIP\s+\S+\s+80\/TCP\s+\d+s$/m, show(svc));
    const ns = await reddwarf(['get', 'namespaces', ...kc]);
    assert.match(ns.stdout, /^default\s+Active\s+/m, show(ns));
  });

  it('describe pod shows spec, state, conditions and the pod events', async () => {
    const r = await reddwarf(['describe', 'pod', 'web', '-n', 'default', ...kc]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^State:\s+Running$/m);
    assert.match(r.stdout, /^Zone:\s+reddwarf-default-web$/m);
    assert.match(r.stdout, /^Node:\s+cli-node$/m);
    assert.match(r.stdout, /^\s+Image:\s+nginx$/m);
    assert.match(r.stdout, /^\s+Ready\s+True/m);
    assert.match(r.stdout, /^Events:\n(.*\n)*\s+Normal\s+Started\s+\S+\s+reddwarf-agent\s+Zone is running with IP/m);
  });

  it('describe of a missing pod fails with one line and a hint', async () => {
    const r = await reddwarf(['describe', 'pod', 'nope', ...kc]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr, 'error: pods "nope" not found — see `reddwarf get pods`\n');
  });

  it('apply of bad YAML fails with exit 1 and names the input', async () => {
    const r = await reddwarf(['apply', '-f', '-', ...kc], 'kind: Pod\nmetadata: {name: [x\n');
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: standard input: not valid YAML or JSON/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });

  it('apply --wait times out (exit 1) on a pod no node can take', async () => {
    const r = await reddwarf(['apply', '-f', '-', '--wait', '--timeout', '400ms', ...kc], podYaml('stuck', '  nodeSelector: {disk: none}\n'));
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^pod\/stuck: timed out after \d+s, still Pending/m);
    const del = await reddwarf(['delete', 'pod', 'stuck', ...kc]);
    assert.equal(del.code, 0, show(del));
  });

  it('usage errors exit 2: unknown resource type, unknown flag, bad -o', async () => {
    const type = await reddwarf(['get', 'widgets', ...kc]);
    assert.equal(type.code, 2, show(type));
    assert.match(type.stderr, /unknown resource type "widgets"/);
    const flag = await reddwarf(['get', 'pods', '--bogus', ...kc]);
    assert.equal(flag.code, 2, show(flag));
    const out = await reddwarf(['get', 'pods', '-o', 'xml', ...kc]);
    assert.equal(out.code, 2, show(out));
  });

  it('an unreachable server is one line with a hint to start one', async () => {
    const port = await freePort();
    const file = join(dir, 'closed.kubeconfig');
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n`);
    for (const args of [['get', 'pods'], ['describe', 'pod', 'web'], ['delete', 'pod', 'web'], ['watch', 'pods']]) {
      const r = await reddwarf([...args, '--kubeconfig', file]);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, new RegExp(`^error: cannot reach the API server at http://127\\.0\\.0\\.1:${port}: .* — start one with \`reddwarf up\`\\n$`));
    }
    const v = await reddwarf(['version', '--kubeconfig', file]);
    assert.equal(v.code, 0, show(v));
    assert.match(v.stdout, /^server: not reachable at /m);
  });

  it('watch pods prints one line per event; delete --wait waits until the pod is gone', async () => {
    const child = spawn(process.execPath, [BIN, 'watch', 'pods', ...kc], { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: '' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    try {
      assert.ok(await pollUntil(() => /ADDED\s+web\s+Running\s+cli-node\s+\d+\./.test(out), 10_000), `no ADDED line: ${out}`);
      const del = await reddwarf(['delete', 'pod', 'web', '--wait', ...kc]);
      assert.equal(del.code, 0, show(del));
      assert.match(del.stdout, /^pod "web" deleted\npod "web" is gone\n$/);
      assert.ok(await pollUntil(() => /^\d\d:\d\d:\d\d\s+DELETED\s+web\s/m.test(out), 10_000), `no DELETED line: ${out}`);
      assert.match(out, /^\d\d:\d\d:\d\d\s+MODIFIED\s+web\s+Terminating\s/m);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const gone = await reddwarf(['get', 'pod', 'web', ...kc]);
    assert.equal(gone.code, 1, show(gone));
    assert.match(gone.stderr, /not found/);
  });

  it('apply --wait on a terminal rewrites one line', async (t) => {
    if (spawnSync('script', ['--version']).error) {
      t.skip('`script` (util-linux) is not installed: the pseudo-terminal case is NOT tested');
      return;
    }
    const file = join(dir, 'tty.yaml');
    writeFileSync(file, podYaml('tty'));
    const cmd = [process.execPath, BIN, 'apply', '-f', file, '--wait', ...kc].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<Run>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: '' } });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
      child.stdin.end();
    });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(String.raw`\r\u001b\[2Kpod/tty: Running at \d+\.\d+\.\d+\.\d+ `));
    const progress = r.stdout.slice(r.stdout.indexOf('\x1b[2K'));
    assert.equal(progress.trimEnd().split('\n').length, 1, `one updating line: ${JSON.stringify(progress)}`);
  });
});
