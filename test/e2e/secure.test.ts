// The secured server end to end, as a user meets it: `serve --tls` writes a kubeconfig real
// kubectl uses over TLS; no token is 401, a view token is 403 on create; a node agent joins with
// a join token and the server's CA and cannot read another node's pods; `up` on 0.0.0.0 turns on
// TLS and authentication by itself.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';
import { BIN, REPO_ROOT, freePort, makeTempDir, pollUntil, startAgent, type AgentProcess } from '../helpers/process.ts';

interface Server {
  child: ChildProcess;
  url: string;
  dataDir: string;
  log(): string;
  stop(): Promise<void>;
}

/** GET/POST over HTTPS trusting `ca`; resolves with the status (0 when the connection fails). */
function https(url: string, ca: string, method = 'GET', token?: string, body?: unknown): Promise<number> {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (data) headers['content-type'] = 'application/json';
    const req = request(url, { method, ca, headers, agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(data);
  });
}

/** Starts `reddwarf <args>` and waits until /readyz answers over HTTPS with the CA it wrote. */
async function startSecure(args: string[], bindHost: string): Promise<Server> {
  const dataDir = makeTempDir('reddwarf-e2e-secure-');
  const port = await freePort(bindHost === '0.0.0.0' ? '0.0.0.0' : '127.0.0.1');
  const child = spawn(process.execPath, [BIN, ...args, '--bind', `${bindHost}:${port}`, '--data-dir', dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (err += d));
  const url = `https://127.0.0.1:${port}`;
  const ok = await pollUntil(async () => {
    if (child.exitCode !== null) return 'exited';
    let ca: string;
    try {
      ca = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
      readFileSync(join(dataDir, 'kubeconfig'));
    } catch {
      return undefined;
    }
    return (await https(`${url}/readyz`, ca)) === 200 ? 'ready' : undefined;
  }, 25_000, 100);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await pollUntil(() => child.exitCode !== null || child.signalCode !== null, 5_000, 20))) child.kill('SIGKILL');
    }
  };
  if (ok !== 'ready') {
    await stop();
    throw new Error(`reddwarf ${args.join(' ')} did not become ready (${String(ok)}):\n${err}`);
  }
  return { child, url, dataDir, log: () => err, stop };
}

const skip = kubectlMissing();

describe('serve --tls with authentication', { skip }, () => {
  let srv: Server;
  let agentA: AgentProcess | undefined;
  before(async () => {
    const dir = makeTempDir('reddwarf-e2e-tokens-');
    const tokens = join(dir, 'tokens.csv');
    writeFileSync(tokens, 'viewer-token,viewer,1000,"system:viewers"\n');
    srv = await startSecure(['serve', '--tls', '--token-file', tokens, '--http', 'node'], '127.0.0.1');
  });
  after(async () => {
    await agentA?.stop();
    agentA?.cleanup();
    await srv?.stop();
  });

  it('serves real kubectl over TLS with the written kubeconfig', async () => {
    const k = kubectl(join(srv.dataDir, 'kubeconfig'));
    const kc = parse(readFileSync(join(srv.dataDir, 'kubeconfig'), 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    assert.ok(kc.clusters[0]?.cluster['certificate-authority-data']);
    assert.equal(kc.clusters[0]?.cluster['insecure-skip-tls-verify'], undefined);
    const r = await k.run('get', 'namespaces', '-o', 'name');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/default/);
    const c = await k.run('create', 'namespace', 'secure-ns');
    assert.equal(c.code, 0, c.stderr);
  });

  it('answers 401 without a token and 403 to a viewer that creates', async () => {
    const orig = parse(readFileSync(join(srv.dataDir, 'kubeconfig'), 'utf8')) as { users: { user: Record<string, unknown> }[] };
    const anon = structuredClone(orig);
    (anon.users[0] as { user: Record<string, unknown> }).user = {};
    const anonFile = join(srv.dataDir, 'anon.kubeconfig');
    writeFileSync(anonFile, stringify(anon));
    const a = await kubectl(anonFile).run('get', 'pods');
    assert.notEqual(a.code, 0);
    // A 401 with no credentials makes kubectl ask for a user name (EOF on a closed stdin).
    assert.match(a.stderr, /Unauthorized|must be logged in|EOF/i);
    const ca = readFileSync(join(srv.dataDir, 'tls', 'ca.pem'), 'utf8');
    assert.equal(await https(`${srv.url}/api/v1/namespaces/default/pods`, ca), 401);
    const view = structuredClone(orig);
    (view.users[0] as { user: Record<string, unknown> }).user = { token: 'viewer-token' };
    const viewFile = join(srv.dataDir, 'view.kubeconfig');
    writeFileSync(viewFile, stringify(view));
    const kv = kubectl(viewFile);
    const g = await kv.run('get', 'namespaces', '-o', 'name');
    assert.equal(g.code, 0, g.stderr);
    const c = await kv.run('create', 'namespace', 'by-viewer');
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /namespaces is forbidden: User "viewer" cannot create resource "namespaces" in API group "" at the cluster scope/);
    // As Kubernetes' view role: everything but Secrets. The admin reads them.
    const admin = kubectl(join(srv.dataDir, 'kubeconfig'));
    const made = await admin.run('create', 'secret', 'generic', 'hidden', '--from-literal=k=v');
    assert.equal(made.code, 0, made.stderr);
    const s = await kv.run('get', 'secrets');
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "default"/, s.stderr);
    const one = await kv.run('get', 'secret', 'hidden', '-o', 'yaml');
    assert.match(one.stderr, /secrets "hidden" is forbidden: User "viewer" cannot get resource "secrets"/, one.stderr);
    const mine = await admin.run('get', 'secret', 'hidden', '-o', 'jsonpath={.data.k}');
    assert.equal(mine.stdout, Buffer.from('v').toString('base64'), mine.stderr);
    assert.equal((await kv.run('get', 'runtimeclasses')).code, 0, 'viewers read RuntimeClasses');
  });

  it('lets an agent join with a join token and the CA, confined to its own pods', async () => {
    const token = execFileSync(process.execPath, [BIN, 'token', 'create', '--data-dir', srv.dataDir], { encoding: 'utf8' }).trim();
    assert.match(token, /^rdj1\./);
    // The token through the environment, as the SMF method passes it (not visible in ps).
    agentA = await startAgent({ server: srv.url, nodeName: 'sec-a', args: ['--server-ca', join(srv.dataDir, 'tls', 'ca.pem'), '--runtime', 'mock'], env: { REDDWARF_TOKEN: token } });
    const admin = readFileSync(join(srv.dataDir, 'admin-token'), 'utf8').trim();
    const ca = readFileSync(join(srv.dataDir, 'tls', 'ca.pem'), 'utf8');
    const pod = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }] } });
    assert.equal(await https(`${srv.url}/api/v1/namespaces/default/pods`, ca, 'POST', admin, pod('on-b', 'sec-b')), 201);
    assert.equal(await https(`${srv.url}/api/v1/nodes/sec-a`, ca, 'GET', admin), 200);
    const asA = `${token}@sec-a`;
    assert.equal(await https(`${srv.url}/api/v1/namespaces/default/pods/on-b`, ca, 'GET', asA), 403);
    assert.equal(await https(`${srv.url}/api/v1/pods`, ca, 'GET', asA), 403);
    assert.equal(await https(`${srv.url}/api/v1/pods?fieldSelector=spec.nodeName%3Dsec-b`, ca, 'GET', asA), 403);
    // The token now belongs to sec-a: another node name is refused.
    assert.equal(await https(`${srv.url}/api/v1/nodes/sec-a`, ca, 'GET', `${token}@sec-b`), 401);
    // Without the CA the agent cannot connect at all.
    await assert.rejects(startAgent({ server: srv.url, nodeName: 'sec-c', args: ['--token', token, '--runtime', 'mock'], readyTimeoutMs: 3_000 }));
  });
});

describe('up on 0.0.0.0 without flags', { skip }, () => {
  let srv: Server;
  before(async () => {
    srv = await startSecure(['up', '--node-name', 'open-up', '--runtime', 'mock'], '0.0.0.0');
  });
  after(async () => {
    await srv?.stop();
  });

  it('serves TLS, says so, and refuses anonymous writes', async () => {
    assert.match(srv.log(), /not a loopback address: serving HTTPS/);
    assert.match(srv.log(), /authentication is required/);
    const ca = readFileSync(join(srv.dataDir, 'tls', 'ca.pem'), 'utf8');
    assert.equal(await https(`${srv.url}/api/v1/namespaces`, ca, 'POST', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'anon' } }), 401);
    assert.equal(await https(`${srv.url}/healthz`, ca), 200);
    const r = await kubectl(join(srv.dataDir, 'kubeconfig')).run('get', 'nodes', '-o', 'name');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /node\/open-up/);
  });
});
