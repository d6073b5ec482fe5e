// End to end: `kubectl logs` with the real kubectl 1.27 … 1.33 against `reddwarf up` (mock
// runtime, the API server calling its node API in-process), and against `reddwarf serve` with a
// remote `reddwarf agent` on 127.0.0.2 (the API server proxies over HTTPS to the node API). The
// test writes CRI lines into the pods' log directories itself, as the zone supervisor will.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { criLine } from '../../src/runtime/logs/cri.ts';
import { zoneName } from '../../src/api/model/zone-names.ts';
import { kubectl, kubectlMissing, type Kubectl } from '../helpers/kubectl.ts';
import { pollUntil, startAgent, startServe, startUp, type AgentProcess, type ServeProcess, type UpProcess } from '../helpers/process.ts';

const MINORS = [27, 28, 29, 30, 31, 32, 33];

const twoContainers = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: a
    image: example.invalid/a:1
  - name: b
    image: example.invalid/b:1
`;

/** The pod's bundle under the mock runtime's simulated zone root (`<agent data-dir>/zones/roots/<zone>/.reddwarf`). */
const bundle = (dataDir: string, pod: string): string => join(dataDir, 'zones', 'roots', zoneName('default', pod), '.reddwarf');
const logDir = (dataDir: string, pod: string, c: string): string => join(bundle(dataDir, pod), 'logs', c);

function writeLines(file: string, lines: [number, string][], append = false): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const text = lines.map(([ms, t]) => criLine(ms, 'stdout', t)).join('');
  if (append) appendFileSync(file, text);
  else writeFileSync(file, text);
}

async function running(k: Kubectl, pod: string): Promise<void> {
  const ok = await pollUntil(async () => (await k.run('get', 'pod', pod, '-o', 'jsonpath={.status.phase}')).stdout === 'Running', 60_000, 200);
  assert.ok(ok, `pod ${pod} is not Running\n${k.logs()}`);
}

/** Follows with `kubectl logs -f …`: the new line shows, and a new instance (or terminated status) ends it. */
async function follows(k: Kubectl, pod: string, container: string, dataDir: string, end: 'instance' | 'status'): Promise<void> {
  const dir = logDir(dataDir, pod, container);
  const f = k.spawn('logs', '-f', pod, '-c', container);
  try {
    assert.ok(await pollUntil(() => f.stdout().includes('[mock runtime]') || f.stdout().includes('instance-1'), 30_000), `logs -f printed nothing: ${f.stdout()} ${f.stderr()}`);
    const current = end === 'instance' ? '1.log' : '0.log';
    writeLines(join(dir, current), [[Date.now(), `followed-${container}`]], true);
    assert.ok(await pollUntil(() => f.stdout().includes(`followed-${container}\n`), 30_000), `logs -f did not stream the appended line: ${f.stdout()} ${f.stderr()}`);
    if (end === 'instance') writeLines(join(dir, '2.log'), [[Date.now(), 'instance-2']]);
    else {
      mkdirSync(join(bundle(dataDir, pod), 'containers', container), { recursive: true });
      writeFileSync(join(bundle(dataDir, pod), 'containers', container, 'status.json'), JSON.stringify({ name: container, instance: 0, restartCount: 0, state: 'terminated', exitCode: 0, reason: 'Completed' }));
    }
    assert.ok(await pollUntil(() => f.exited(), 30_000), `logs -f did not end with the container instance: ${f.stdout()} ${f.stderr()}`);
    assert.doesNotMatch(f.stdout(), /instance-2/);
  } finally {
    await f.kill();
  }
}

async function scenario(k: Kubectl, pod: string, dataDir: string): Promise<void> {
  await k.ok('apply', '-f', k.file(`${pod}.yaml`, twoContainers(pod)));
  await running(k, pod);

  // The mock runtime's own lines, labelled as such.
  const mock = await k.ok('logs', pod, '-c', 'a');
  assert.match(mock.stdout, /^\[mock runtime\] zone reddwarf-default-\S+ installed/m, k.explain(mock));
  assert.match(mock.stdout, /^\[mock runtime\] zone reddwarf-default-\S+ is running; the mock runtime runs no processes, so containers print nothing$/m);

  // A second instance written as the supervisor will: two hours old lines and fresh ones.
  const now = Date.now();
  writeLines(join(logDir(dataDir, pod, 'a'), '1.log'), [[now - 7_200_000, 'old-1'], [now - 7_200_000 + 1, 'old-2'], [now - 1000, 'instance-1'], [now - 500, 'instance-1 last']]);
  assert.equal((await k.ok('logs', pod, '-c', 'a')).stdout, 'old-1\nold-2\ninstance-1\ninstance-1 last\n');
  assert.equal((await k.ok('logs', pod, '-c', 'a', '--tail', '2')).stdout, 'instance-1\ninstance-1 last\n');
  assert.equal((await k.ok('logs', pod, '-c', 'a', '--since', '1h')).stdout, 'instance-1\ninstance-1 last\n');
  const hourAgo = new Date(now - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  assert.equal((await k.ok('logs', pod, '-c', 'a', `--since-time=${hourAgo}`)).stdout, 'instance-1\ninstance-1 last\n');
  assert.equal((await k.ok('logs', pod, '-c', 'a', '--limit-bytes', '7')).stdout, 'old-1\no');
  const ts = (await k.ok('logs', pod, '-c', 'a', '--timestamps', '--tail', '1')).stdout;
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z instance-1 last\n$/);
  const previous = await k.ok('logs', pod, '-c', 'a', '-p');
  assert.match(previous.stdout, /^\[mock runtime\] zone .* is running;/m);
  assert.doesNotMatch(previous.stdout, /instance-1/);
  const noPrevious = await k.run('logs', pod, '-c', 'b', '-p');
  assert.notEqual(noPrevious.code, 0);
  assert.match(noPrevious.stderr, new RegExp(`previous terminated container "b" in pod "${pod}" not found`), k.explain(noPrevious));
  const all = await k.ok('logs', pod, '--all-containers');
  assert.match(all.stdout, /instance-1 last\n/);
  assert.match(all.stdout, /\[mock runtime\] .* is running;/);
  const prefixed = await k.ok('logs', pod, '--all-containers', '--prefix', '--tail', '1');
  assert.match(prefixed.stdout, new RegExp(`^\\[pod/${pod}/a\\] instance-1 last$`, 'm'), k.explain(prefixed));
  assert.match(prefixed.stdout, new RegExp(`^\\[pod/${pod}/b\\] \\[mock runtime\\]`, 'm'));

  await follows(k, pod, 'a', dataDir, 'instance');
  await follows(k, pod, 'b', dataDir, 'status');
}

describe('kubectl logs against reddwarf up (node API in-process)', () => {
  let up: UpProcess;
  before(async () => {
    up = await startUp({ transport: 'uws' });
  });
  after(async () => {
    await up.stop();
    up.cleanup();
  });

  for (const minor of MINORS) {
    it(`kubectl 1.${minor}: logs, -c, --tail, --since, -p, --all-containers, --timestamps, --limit-bytes, -f`, async (t) => {
      const missing = kubectlMissing(minor);
      if (missing) {
        t.skip(missing);
        return;
      }
      const k = kubectl(up.kubeconfig, { minor, timeoutMs: 60_000, procs: () => [up] });
      try {
        await scenario(k, `web-${minor}`, up.dataDir);
      } finally {
        k.cleanup();
      }
    });
  }
});

describe('reddwarf up --node-api-port', () => {
  it('listens with a certificate the API server handed over, and serves only the API server', async () => {
    const up = await startUp({ transport: 'node', args: ['--node-ip', '127.0.0.3', '--node-api-port', '0'] });
    try {
      const k = kubectl(up.kubeconfig, { timeoutMs: 30_000, procs: () => [up] });
      try {
        const node = await k.json<{ status: { daemonEndpoints: { kubeletEndpoint: { Port: number } } } }>('get', 'node', up.nodeName);
        const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
        assert.ok(port > 0);
        const tls = join(up.dataDir, 'tls');
        const ask = (withCert: boolean) => new Promise<number>((resolve, reject) => {
          httpsRequest({ host: '127.0.0.3', port, path: '/healthz', ca: readFileSync(join(tls, 'ca.pem')), ...(withCert ? { cert: readFileSync(join(tls, 'apiserver-kubelet-client.pem')), key: readFileSync(join(tls, 'apiserver-kubelet-client-key.pem')) } : {}) }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject).end();
        });
        assert.equal(await ask(true), 200);
        assert.equal(await ask(false), 401);
      } finally {
        k.cleanup();
      }
    } finally {
      await up.stop();
      up.cleanup();
    }
  });
});

describe('kubectl logs through a remote agent (API server → node API over HTTPS)', () => {
  let serve: ServeProcess;
  let agent: AgentProcess;
  before(async () => {
    serve = await startServe({ transport: 'node' });
    agent = await startAgent({ server: serve.url, nodeName: 'far', args: ['--node-ip', '127.0.0.2', '--node-api-port', '0', '--runtime', 'mock'] });
  });
  after(async () => {
    await agent.stop();
    agent.cleanup();
    await serve.stop();
    serve.cleanup();
  });

  it('advertises the node API port and serves logs through it', async () => {
    const k = kubectl(serve.kubeconfig, { minor: 33, timeoutMs: 60_000, procs: () => [serve, agent] });
    try {
      const node = await k.json<{ status: { daemonEndpoints: { kubeletEndpoint: { Port: number } }; addresses: { type: string; address: string }[] } }>('get', 'node', 'far');
      assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
      assert.match(agent.stderr(), new RegExp(`node API on https://127\\.0\\.0\\.2:${node.status.daemonEndpoints.kubeletEndpoint.Port}`));
      for (const minor of [27, 33]) {
        if (kubectlMissing(minor)) continue;
        const km = kubectl(serve.kubeconfig, { minor, timeoutMs: 60_000, procs: () => [serve, agent] });
        try {
          await scenario(km, `far-${minor}`, agent.dataDir);
        } finally {
          km.cleanup();
        }
      }
    } finally {
      k.cleanup();
    }
  });
});
