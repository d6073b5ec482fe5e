// End to end: the real kubectl 1.31 (JSON bodies) against a spawned `reddwarf serve`, once per
// transport. Every step checks what a user sees: stdout, stderr and the exit code.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { pollUntil, startServe, SERVE_TRANSPORTS } from '../helpers/process.ts';

const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: x
  labels:
    app: web
spec:
  containers:
  - name: web
    image: nginx
`;

/** The non-empty lines of a table (header included), split into whitespace-separated cells. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/));
}

function header(stdout: string): string[] {
  return (stdout.split('\n')[0] ?? '').trim().split(/\s+/);
}

for (const transport of SERVE_TRANSPORTS) {
  describe(`kubectl 1.31 against reddwarf serve (--http ${transport})`, () => {
    it('runs the user scenario', { timeout: 180_000 }, async (t) => {
      const missing = kubectlMissing();
      if (missing) {
        console.warn(`SKIPPING kubectl e2e (${transport}): ${missing}`);
        t.skip(missing);
        return;
      }
      const server = await startServe({ transport });
      const k = kubectl(server.kubeconfig, { procs: () => [server] });
      const podFile = k.file('pod.yaml', POD_YAML);

      // Run the steps in order; once one fails the rest are skipped (they depend on it).
      let broken: string | undefined;
      const step = async (name: string, fn: (st: TestContext) => Promise<void>): Promise<void> => {
        await t.test(name, async (st) => {
          if (broken) {
            st.skip(`an earlier step failed: ${broken}`);
            return;
          }
          try {
            await fn(st);
          } catch (e) {
            broken = name;
            throw e;
          }
        });
      };

      try {
        let uid = '';

        await step('create namespace e2e', async () => {
          const r = await k.ok('create', 'namespace', 'e2e');
          assert.match(r.stdout, /^namespace\/e2e created$/m, k.explain(r));
        });

        await step('create -f pod.yaml', async () => {
          const r = await k.ok('create', '-f', podFile, '-n', 'e2e');
          assert.match(r.stdout, /^pod\/x created$/m, k.explain(r));
        });

        await step('create -f pod.yaml again → AlreadyExists', async () => {
          const r = await k.run('create', '-f', podFile, '-n', 'e2e');
          assert.notEqual(r.code, 0, k.explain(r));
          assert.match(r.stderr, /Error from server \(AlreadyExists\)/, k.explain(r));
          assert.match(r.stderr, /pods "x" already exists/, k.explain(r));
        });

        await step('get pods -n e2e', async () => {
          const r = await k.ok('get', 'pods', '-n', 'e2e');
          const h = header(r.stdout);
          for (const col of ['NAME', 'READY', 'STATUS']) assert.ok(h.includes(col), `missing column ${col}\n${k.explain(r)}`);
          const body = rows(r.stdout).slice(1);
          assert.equal(body.length, 1, k.explain(r));
          assert.equal(body[0]?.[0], 'x', k.explain(r));
          assert.match(r.stdout, /^x\s+0\/1\s+Pending\s/m, k.explain(r));
        });

        await step('get pods -o wide', async () => {
          const r = await k.ok('get', 'pods', '-n', 'e2e', '-o', 'wide');
          const h = header(r.stdout);
          for (const col of ['NAME', 'READY', 'STATUS', 'IP', 'NODE']) assert.ok(h.includes(col), `missing column ${col}\n${k.explain(r)}`);
          assert.match(r.stdout, /^x\s/m, k.explain(r));
        });

        await step('get pod x -o yaml', async () => {
          const r = await k.ok('get', 'pod', 'x', '-n', 'e2e', '-o', 'yaml');
          const pod = parseYaml(r.stdout) as { kind?: string; apiVersion?: string; metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string } };
          assert.equal(pod.kind, 'Pod', k.explain(r));
          assert.equal(pod.apiVersion, 'v1', k.explain(r));
          assert.equal(pod.metadata?.name, 'x', k.explain(r));
          assert.equal(pod.metadata?.namespace, 'e2e', k.explain(r));
          assert.equal(typeof pod.metadata?.uid, 'string', k.explain(r));
          assert.ok((pod.metadata?.uid ?? '').length > 0, k.explain(r));
          assert.deepEqual(pod.metadata?.labels, { app: 'web' }, k.explain(r));
          assert.match(pod.metadata?.resourceVersion ?? '', /^\d+$/, k.explain(r));
          uid = pod.metadata?.uid ?? '';
        });

        await step('get pods -l app=web (and a selector that matches nothing)', async () => {
          const r = await k.ok('get', 'pods', '-n', 'e2e', '-l', 'app=web');
          assert.match(r.stdout, /^x\s/m, k.explain(r));
          const none = await k.ok('get', 'pods', '-n', 'e2e', '-l', 'app=db');
          assert.doesNotMatch(none.stdout, /^x\s/m, k.explain(none));
          assert.match(none.stderr, /No resources found in e2e namespace/, k.explain(none));
        });

        await step('get pods --field-selector metadata.name=x', async () => {
          const r = await k.ok('get', 'pods', '-n', 'e2e', '--field-selector', 'metadata.name=x');
          assert.match(r.stdout, /^x\s/m, k.explain(r));
          const none = await k.ok('get', 'pods', '-n', 'e2e', '--field-selector', 'metadata.name=y');
          assert.doesNotMatch(none.stdout, /^x\s/m, k.explain(none));
          assert.match(none.stderr, /No resources found/, k.explain(none));
        });

        await step('get pods -A', async () => {
          const r = await k.ok('get', 'pods', '-A');
          assert.equal(header(r.stdout)[0], 'NAMESPACE', k.explain(r));
          assert.match(r.stdout, /^e2e\s+x\s/m, k.explain(r));
        });

        await step('get pods --show-labels', async () => {
          const r = await k.ok('get', 'pods', '-n', 'e2e', '--show-labels');
          assert.equal(header(r.stdout).at(-1), 'LABELS', k.explain(r));
          const row = r.stdout.split('\n').find((l) => l.startsWith('x '));
          assert.ok(row, k.explain(r));
          assert.match(row, /\sapp=web$/, k.explain(r));
        });

        await step('get pods -w sees label pod x tier=db', async () => {
          const w = k.spawn('get', 'pods', '-n', 'e2e', '-w');
          const xRows = () => w.stdout().split('\n').filter((l) => /^x\s/.test(l));
          try {
            const first = await pollUntil(() => xRows().length >= 1, 15_000);
            assert.ok(first, `the watch never printed the initial row for x\nstdout:\n${w.stdout()}\nstderr:\n${w.stderr()}\nserver:\n${server.stderrTail(20)}`);
            assert.match(w.stdout(), /^NAME\s+READY\s+STATUS/m, w.stdout());
            const r = await k.ok('label', 'pod', 'x', 'tier=db', '-n', 'e2e');
            assert.match(r.stdout, /^pod\/x labeled$/m, k.explain(r));
            const second = await pollUntil(() => xRows().length >= 2, 5_000);
            assert.ok(second, `the watch printed no second row for x within 5 s of the label\nstdout:\n${w.stdout()}\nstderr:\n${w.stderr()}\nexited: ${String(w.exited())}\nserver:\n${server.stderrTail(20)}`);
            assert.equal(w.exited(), false, `the watch ended by itself\nstdout:\n${w.stdout()}\nstderr:\n${w.stderr()}`);
          } finally {
            await w.kill();
          }
          const l = await k.ok('get', 'pod', 'x', '-n', 'e2e', '-o', 'jsonpath={.metadata.labels.tier}');
          assert.equal(l.stdout, 'db', k.explain(l));
        });

        await step('patch pod x --type=merge', async () => {
          const r = await k.ok('patch', 'pod', 'x', '-n', 'e2e', '--type=merge', '-p', '{"metadata":{"annotations":{"a":"b"}}}');
          assert.match(r.stdout, /^pod\/x patched$/m, k.explain(r));
          const g = await k.ok('get', 'pod', 'x', '-n', 'e2e', '-o', 'jsonpath={.metadata.annotations.a}|{.metadata.uid}');
          assert.equal(g.stdout, `b|${uid}`, k.explain(g));
        });

        await step('describe pod x', async () => {
          const r = await k.ok('describe', 'pod', 'x', '-n', 'e2e');
          assert.match(r.stdout, /^Name:\s+x$/m, k.explain(r));
          assert.match(r.stdout, /^Namespace:\s+e2e$/m, k.explain(r));
          assert.match(r.stdout, /app=web/, k.explain(r));
          assert.match(r.stdout, /tier=db/, k.explain(r));
        });

        await step('delete pod x (unbound: goes at once)', async () => {
          // Without waiting: no node holds an unbound pod, so the very next read finds it gone.
          const r = await k.ok('delete', 'pod', 'x', '-n', 'e2e', '--wait=false');
          assert.match(r.stdout, /^pod "x" deleted$/m, k.explain(r));
          const g = await k.run('get', 'pod', 'x', '-n', 'e2e');
          assert.notEqual(g.code, 0, k.explain(g));
          assert.match(g.stderr, /Error from server \(NotFound\): pods "x" not found/, k.explain(g));
        });

        await step('api-resources', async () => {
          const r = await k.ok('api-resources');
          for (const [name, short, kind, namespaced] of [
            ['pods', 'po', 'Pod', 'true'],
            ['nodes', 'no', 'Node', 'false'],
            ['namespaces', 'ns', 'Namespace', 'false'],
            ['services', 'svc', 'Service', 'true'],
            ['events', 'ev', 'Event', 'true'],
          ] as const) {
            assert.match(r.stdout, new RegExp(`^${name}\\s+${short}\\s+v1\\s+${namespaced}\\s+${kind}\\s*$`, 'm'), `${name}/${short}\n${k.explain(r)}`);
          }
        });

        await step('get nodes', async () => {
          const r = await k.ok('get', 'nodes');
          if (r.stdout.trim()) assert.match(header(r.stdout).join(' '), /^NAME STATUS/, k.explain(r));
          else assert.match(r.stderr, /No resources found/, k.explain(r));
        });

        await step('get ns', async () => {
          const r = await k.ok('get', 'ns');
          assert.match(header(r.stdout).join(' '), /^NAME STATUS AGE/, k.explain(r));
          assert.match(r.stdout, /^default\s+Active\s/m, k.explain(r));
          assert.match(r.stdout, /^e2e\s+Active\s/m, k.explain(r));
        });

        await step('delete namespace e2e', async () => {
          const r = await k.ok('delete', 'namespace', 'e2e');
          assert.match(r.stdout, /^namespace "e2e" deleted$/m, k.explain(r));
          const gone = await pollUntil(async () => {
            const g = await k.run('get', 'ns', 'e2e');
            return g.code !== 0 && /NotFound/.test(g.stderr) ? g : undefined;
          }, 10_000, 200);
          assert.ok(gone, 'namespace e2e still present 10 s after kubectl delete returned');
        });
      } finally {
        const code = await server.stop();
        k.cleanup();
        server.cleanup();
        if (!broken) assert.equal(code, 0, `reddwarf serve did not exit cleanly on SIGTERM (code ${String(code)})\n${server.stderrTail(20)}`);
      }
    });
  });
}
