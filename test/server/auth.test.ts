// Authentication (admin token, static token file, join tokens, client certificates) and
// authorization (admin, view, node roles) on a server started as `serve --tls` starts it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parse } from 'yaml';
import WebSocket from 'ws';
import { startApiServer, type ApiServer } from '../../src/server/start.ts';
import { createJoinToken, parseTokenFile, agentBearer } from '../../src/server/auth.ts';
import { generateCa, generateLeaf, loadCa } from '../../src/server/tls.ts';
import { RemoteClient } from '../../src/client/remote.ts';
import { ClientError } from '../../src/client/client.ts';
import { tempDir, TRANSPORTS } from '../helpers/server.ts';
import { pollUntil } from '../helpers/process.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

interface CallOptions {
  token?: string;
  body?: unknown;
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
}

/** One HTTPS request trusting `ca`; the reply's JSON body (or {}). */
function call(base: string, ca: string, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (body && !headers['content-type']) headers['content-type'] = 'application/json';
    const req = request(`${base}${path}`, { method, ca, headers, cert: o.cert, key: o.key, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // text endpoints
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pod = (name: string, nodeName?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'nginx' }], ...(nodeName ? { nodeName } : {}) },
});

describe('token file parsing', () => {
  it('reads token,user,uid,"group1,group2" lines', () => {
    const m = parseTokenFile('# comment\nabc,alice,1,"system:viewers,dev"\n\nxyz,bob,2\n');
    assert.deepEqual(m.get('abc'), { name: 'alice', uid: '1', groups: ['system:viewers', 'dev'] });
    assert.deepEqual(m.get('xyz'), { name: 'bob', uid: '2', groups: [] });
    assert.throws(() => parseTokenFile('onlytoken\n'), /line 1/);
  });

  it('appends the node name to an unbound join token only', () => {
    assert.equal(agentBearer('rdj1.0123456789ab.0123456789abcdef0123456789abcdef', 'n1'), 'rdj1.0123456789ab.0123456789abcdef0123456789abcdef@n1');
    assert.equal(agentBearer('static-token', 'n1'), 'static-token');
  });
});

for (const transport of TRANSPORTS) {
  describe(`authentication and authorization (${transport})`, () => {
    const t = tempDir('reddwarf-auth-');
    let srv: ApiServer;
    let ca = '';
    let admin = '';
    const base = (): string => srv.url;
    const req = (method: string, path: string, o: CallOptions = {}): Promise<Reply> => call(base(), ca, method, path, o);

    before(async () => {
      const tokenFile = join(t.dir, 'tokens.csv');
      writeFileSync(tokenFile, 'view-token,viewer,100,"system:viewers"\nnobody-token,nobody,101\n');
      srv = await startApiServer({ host: '127.0.0.1', port: 0, dataDir: join(t.dir, 'data'), http: transport, kubeMinor: 31, log: () => {}, tls: { mode: 'auto', sans: [] }, auth: { tokenFile } });
      ca = srv.tls?.caPem as string;
      admin = srv.adminToken as string;
    });
    after(async () => {
      await srv.stop();
      t.remove();
    });

    it('writes an owner-only admin token and a kubeconfig with the CA and the token', () => {
      const file = join(t.dir, 'data', 'admin-token');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, 'utf8').trim(), admin);
      const kc = parse(readFileSync(srv.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: { token: string } }[] };
      assert.ok(srv.url.startsWith('https://127.0.0.1:'));
      assert.equal(kc.clusters[0]?.cluster.server, srv.url);
      assert.equal(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), ca);
      assert.equal(kc.users[0]?.user.token, admin);
    });

    it('keeps health and version anonymous, and answers 401 without or with a bad token', async () => {
      for (const p of ['/healthz', '/livez', '/readyz', '/version']) assert.equal((await req('GET', p)).status, 200, p);
      const none = await req('GET', '/api/v1/namespaces');
      assert.equal(none.status, 401);
      assert.equal(none.body.kind, 'Status');
      assert.equal(none.body.reason, 'Unauthorized');
      assert.equal((await req('GET', '/api/v1/namespaces', { token: 'wrong' })).status, 401);
      assert.equal((await req('GET', '/api', { token: 'wrong' })).status, 401);
      assert.equal((await req('GET', '/api')).status, 401);
      assert.equal((await req('GET', '/no/such/path')).status, 401);
      assert.equal((await req('GET', '/api/v1/namespaces', { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status, 401);
    });

    it('lets the admin token do everything', async () => {
      assert.equal((await req('POST', '/api/v1/namespaces/default/pods', { token: admin, body: pod('p-mine', 'n1') })).status, 201);
      assert.equal((await req('POST', '/api/v1/namespaces/default/pods', { token: admin, body: pod('p-other', 'n2') })).status, 201);
      assert.equal((await req('GET', '/api/v1/pods', { token: admin })).status, 200);
    });

    it('lets a viewer read but not write, with kube-apiserver’s Forbidden message', async () => {
      assert.equal((await req('GET', '/api/v1/namespaces/default/pods', { token: 'view-token' })).status, 200);
      assert.equal((await req('GET', '/api/v1/namespaces/default/pods/p-mine', { token: 'view-token' })).status, 200);
      assert.equal((await req('GET', '/api', { token: 'view-token' })).status, 200);
      const r = await req('POST', '/api/v1/namespaces/default/pods', { token: 'view-token', body: pod('nope') });
      assert.equal(r.status, 403);
      assert.equal(r.body.kind, 'Status');
      assert.equal(r.body.reason, 'Forbidden');
      assert.equal(r.body.message, 'pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in the namespace "default"');
      const d = await req('DELETE', '/api/v1/namespaces/default', { token: 'view-token' });
      assert.equal(d.status, 403);
      assert.equal(d.body.message, 'namespaces "default" is forbidden: User "viewer" cannot delete resource "namespaces" in API group "" at the cluster scope');
      // A user in no known group may read discovery only.
      assert.equal((await req('GET', '/api/v1', { token: 'nobody-token' })).status, 200);
      assert.equal((await req('GET', '/api/v1/namespaces', { token: 'nobody-token' })).status, 403);
    });

    it('confines a node identity to its own Node, its pods and events', async () => {
      const token = agentBearer(createJoinToken(join(t.dir, 'data'), 'n1'), 'n1');
      const as = (method: string, path: string, body?: unknown): Promise<number> => req(method, path, { token, body }).then((r) => r.status);
      assert.equal(await as('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }), 201);
      assert.equal(await as('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } }), 403);
      assert.equal(await as('GET', '/api/v1/nodes/n1'), 200);
      assert.equal(await as('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1'), 200);
      assert.equal(await as('GET', '/api/v1/pods'), 403);
      assert.equal(await as('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2'), 403);
      assert.equal(await as('GET', '/api/v1/namespaces/default/pods/p-mine'), 200);
      const other = await req('GET', '/api/v1/namespaces/default/pods/p-other', { token });
      assert.equal(other.status, 403);
      assert.match(String(other.body.message), /^pods "p-other" is forbidden: User "system:node:n1" cannot get resource "pods"/);
      assert.equal(await as('PATCH', '/api/v1/namespaces/default/pods/p-other/status', { status: { phase: 'Failed' } }), 403);
      assert.equal(await as('POST', '/api/v1/namespaces/default/pods', pod('sneaky', 'n1')), 403);
      assert.equal(await as('DELETE', '/api/v1/namespaces/default/pods/p-other'), 403);
      assert.equal(await as('DELETE', '/api/v1/nodes/n1'), 403);
      assert.equal(await as('GET', '/api/v1/secrets'), 403);
      const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p-mine', namespace: 'default' }, reason: 'Test', message: 'm' };
      assert.equal(await as('POST', '/api/v1/namespaces/default/events', ev), 201);
      // Through the client the agent uses: its own pod's status, and a watch of its pods only.
      const c = new RemoteClient({ server: base(), ca, token });
      try {
        const mine = await c.get('pods', 'default', 'p-mine');
        await c.updateStatus('pods', { ...mine, status: { phase: 'Running' } });
        await assert.rejects(c.get('pods', 'default', 'p-other'), (e: unknown) => e instanceof ClientError && e.code === 403);
        const seen: string[] = [];
        let failed = '';
        const stop = c.watch('pods', { fieldSelector: 'spec.nodeName=n1' }, {
          event: (e) => {
            if (e.type === 'ADDED' || e.type === 'MODIFIED') seen.push(e.object.metadata.name ?? '');
          },
          closed: (why) => {
            failed = why.message ?? 'closed';
          },
        });
        await pollUntil(() => seen.includes('p-mine') || failed !== '', 5_000);
        stop();
        assert.equal(failed, '');
        assert.ok(seen.length > 0 && seen.every((n) => n === 'p-mine'), seen.join(','));
      } finally {
        c.close();
      }
    });

    it('lets a node hold only its own Lease in kube-node-lease (Node authorizer + NodeRestriction); viewers read Leases', async () => {
      const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
      const lease = (name: string, namespace = 'kube-node-lease') => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: '2026-12-03T10:00:00.000000Z' } });
      const token = agentBearer(createJoinToken(join(t.dir, 'data'), 'ln1'), 'ln1');
      const as = (method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> => req(method, path, { token, body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
      assert.equal((await as('POST', LEASES, lease('ln1'))).status, 201);
      const stolen = await as('POST', LEASES, lease('ln2'));
      assert.equal(stolen.status, 403);
      assert.equal(stolen.body.message, 'leases.coordination.k8s.io is forbidden: User "system:node:ln1" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node');
      const own = await as('GET', `${LEASES}/ln1`);
      assert.equal(own.status, 200);
      assert.equal((await as('PUT', `${LEASES}/ln1`, { ...own.body, spec: { ...(own.body.spec as object), renewTime: '2026-12-03T10:00:10.000000Z' } })).status, 200);
      assert.equal((await as('PATCH', `${LEASES}/ln1`, { spec: { renewTime: '2026-12-03T10:00:20.000000Z' } }, 'application/merge-patch+json')).status, 200);
      // Another node's Lease (made by the admin) is out of reach; so is listing, and any other namespace.
      assert.equal((await req('POST', LEASES, { token: admin, body: lease('ln2') })).status, 201);
      const other = await as('PUT', `${LEASES}/ln2`, lease('ln2'));
      assert.equal(other.status, 403);
      assert.equal(other.body.message, 'leases.coordination.k8s.io "ln2" is forbidden: User "system:node:ln1" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node');
      assert.equal((await as('GET', `${LEASES}/ln2`)).status, 403);
      assert.equal((await as('PATCH', `${LEASES}/ln2`, { spec: { holderIdentity: 'ln1' } }, 'application/merge-patch+json')).status, 403);
      const listed = await as('GET', LEASES);
      assert.equal(listed.status, 403);
      assert.match(String(listed.body.message), /cannot list resource "leases" .*: can only get, create, update, patch, or delete a node lease$/);
      const elsewhere = await as('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('ln1', 'default'));
      assert.equal(elsewhere.status, 403);
      assert.match(String(elsewhere.body.message), /can only access leases in the "kube-node-lease" system namespace$/);
      // Viewers read every Lease and write none.
      assert.equal((await req('GET', LEASES, { token: 'view-token' })).status, 200);
      assert.equal((await req('GET', '/apis/coordination.k8s.io/v1/leases', { token: 'view-token' })).status, 200);
      assert.equal((await req('GET', `${LEASES}/ln2`, { token: 'view-token' })).status, 200);
      assert.equal((await req('PUT', `${LEASES}/ln2`, { token: 'view-token', body: lease('ln2') })).status, 403);
    });

    it('keeps Secrets from viewers; a node reads only those its pods pull with; RuntimeClasses are readable', async () => {
      const b64 = (v: string): string => Buffer.from(v).toString('base64');
      const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{"r.example":{"auth":"eDp5"}}}') } });
      assert.equal((await req('POST', '/api/v1/namespaces/default/secrets', { token: admin, body: secret('regcred') })).status, 201);
      assert.equal((await req('POST', '/api/v1/namespaces/default/secrets', { token: admin, body: secret('unrelated') })).status, 201);
      const puller = { ...pod('p-pull', 'n1'), spec: { ...pod('p-pull', 'n1').spec, imagePullSecrets: [{ name: 'regcred' }] } };
      assert.equal((await req('POST', '/api/v1/namespaces/default/pods', { token: admin, body: puller })).status, 201);
      assert.equal((await req('GET', '/api/v1/namespaces/default/secrets/regcred', { token: admin })).status, 200);

      const list = await req('GET', '/api/v1/namespaces/default/secrets', { token: 'view-token' });
      assert.equal(list.status, 403);
      assert.equal(list.body.message, 'secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "default"');
      assert.equal((await req('GET', '/api/v1/namespaces/default/secrets/regcred', { token: 'view-token' })).status, 403);
      assert.equal((await req('GET', '/api/v1/secrets?watch=true', { token: 'view-token' })).status, 403);
      assert.equal((await req('GET', '/apis/node.k8s.io/v1/runtimeclasses', { token: 'view-token' })).status, 200);
      const rc = await req('POST', '/apis/node.k8s.io/v1/runtimeclasses', { token: 'view-token', body: { metadata: { name: 'lx' }, handler: 'lx' } });
      assert.equal(rc.status, 403);
      assert.equal(rc.body.message, 'runtimeclasses.node.k8s.io is forbidden: User "viewer" cannot create resource "runtimeclasses" in API group "node.k8s.io" at the cluster scope');

      const token = agentBearer(createJoinToken(join(t.dir, 'data'), 'n1'), 'n1');
      const as = (method: string, path: string, body?: unknown): Promise<number> => req(method, path, { token, body }).then((r) => r.status);
      assert.equal(await as('GET', '/api/v1/namespaces/default/secrets/regcred'), 200);
      assert.equal(await as('GET', '/api/v1/namespaces/default/secrets/unrelated'), 403);
      assert.equal(await as('GET', '/api/v1/namespaces/default/secrets'), 403);
      assert.equal(await as('PUT', '/api/v1/namespaces/default/secrets/regcred', secret('regcred')), 403);
      assert.equal(await as('GET', '/apis/node.k8s.io/v1/runtimeclasses'), 200);
      assert.equal(await as('POST', '/apis/node.k8s.io/v1/runtimeclasses', { metadata: { name: 'lx' }, handler: 'lx' }), 403);
      const n2 = agentBearer(createJoinToken(join(t.dir, 'data'), 'n2'), 'n2');
      assert.equal((await req('GET', '/api/v1/namespaces/default/secrets/regcred', { token: n2 })).status, 403);
    });

    it('opens live inspection (every actor’s context) to admins and viewers only', async () => {
      const nodeToken = agentBearer(createJoinToken(join(t.dir, 'data'), 'n9'), 'n9');
      assert.equal((await req('GET', '/inspect', { token: admin })).status, 200);
      assert.equal((await req('GET', '/inspect', { token: 'view-token' })).status, 200);
      assert.equal((await req('GET', '/inspect')).status, 401);
      for (const token of [nodeToken, 'nobody-token']) {
        const r = await req('GET', '/inspect', { token });
        assert.equal(r.status, 403);
        assert.match(String(r.body.message), /cannot get path "\/inspect"/);
      }
      const open = (token: string): Promise<number> =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${base().replace(/^https/, 'wss')}/inspect/events`, { ca, headers: { authorization: `Bearer ${token}` } });
          ws.on('open', () => {
            ws.close();
            resolve(101);
          });
          ws.on('unexpected-response', (_q, res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          ws.on('error', reject);
        });
      assert.equal(await open('view-token'), 101);
      assert.equal(await open(nodeToken), 403);
    });

    it('binds an unbound join token to the first node that uses it', async () => {
      const raw = createJoinToken(join(t.dir, 'data'));
      assert.match(raw, /^rdj1\./);
      assert.equal((await req('GET', '/api/v1/nodes/n3', { token: raw })).status, 401);
      assert.equal((await req('POST', '/api/v1/nodes', { token: agentBearer(raw, 'n3'), body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n3' } } })).status, 201);
      assert.equal((await req('GET', '/api/v1/nodes/n3', { token: agentBearer(raw, 'n4') })).status, 401);
      assert.equal((await req('GET', '/api/v1/nodes/n3', { token: raw })).status, 200);
    });

    if (transport === 'node') {
      it('accepts client certificates signed by the cluster CA (CN = user, O = groups)', async () => {
        const ca = loadCa(join(t.dir, 'data', 'tls'));
        const alice = await generateLeaf(ca, { cn: 'alice', o: ['system:masters'], usage: 'client' });
        const r = await req('POST', '/api/v1/namespaces', { cert: alice.certPem, key: alice.keyPem, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'from-cert' } } });
        assert.equal(r.status, 201);
        const bob = await generateLeaf(ca, { cn: 'bob', o: ['system:viewers'], usage: 'client' });
        const b = await req('POST', '/api/v1/namespaces', { cert: bob.certPem, key: bob.keyPem, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bob-ns' } } });
        assert.equal(b.status, 403);
        assert.match(String(b.body.message), /User "bob" cannot create/);
        const rogueCa = await generateCa();
        const mallory = await generateLeaf(rogueCa, { cn: 'mallory', o: ['system:masters'], usage: 'client' });
        assert.equal((await req('GET', '/api/v1/namespaces', { cert: mallory.certPem, key: mallory.keyPem })).status, 401);
      });
    }
  });
}
