// The node API's gate and certificates: it serves only the API server's client certificate
// (none → 401, another CA → 401, a node's own → 403), and a node gets its serving certificate
// from the API server, signed for the names its Node object reports.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeAuthority } from '../../src/server/node-authority.ts';
import { generateCa, generateCsr, generateLeaf } from '../../src/server/tls.ts';
import { createNodeApi, nodeApiRoutes } from '../../src/agent/node-api/handler.ts';
import { isStream, type Sink } from '../../src/server/http.ts';
import { listenNodeApi, requestServingCert } from '../../src/agent/node-api/server.ts';
import { Authenticator, createJoinToken, agentBearer } from '../../src/server/auth.ts';
import { RemoteClient } from '../../src/client/remote.ts';
import { criLine } from '../../src/runtime/logs/cri.ts';
import { zoneName } from '../../src/api/model/zone-names.ts';
import type { Listening } from '../../src/server/listen.ts';
import { startServer, tempDir, type TestServer } from '../helpers/server.ts';

interface Answer {
  status: number;
  body: string;
}

function get(port: number, path: string, tls: { ca: string; cert?: string; key?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, ca: tls.ca, cert: tls.cert, key: tls.key }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('node API', () => {
  let dir: { dir: string; remove: () => void };
  let authority: NodeAuthority;
  let api: Listening;
  let server: TestServer;
  let token: string;
  const path = `/containerLogs/default/web/c`;

  before(async () => {
    dir = tempDir('reddwarf-nodeapi-');
    authority = await NodeAuthority.open(join(dir.dir, 'tls'));
    const logs = join(dir.dir, 'logs', zoneName('default', 'web'), 'c');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, '0.log'), criLine(Date.parse('2026-01-01T00:00:00Z'), 'stdout', 'hello from the node'));
    // The API server, authenticating nodes by join token, signs the node's serving certificate.
    token = createJoinToken(dir.dir, 'n1');
    server = await startServer('node', { nodes: authority, security: { authenticator: new Authenticator({ dataDir: dir.dir }) } });
    await server.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'n1' }] } });
    const client = new RemoteClient({ server: server.url, token: agentBearer(token, 'n1') });
    const cert = await requestServingCert(client, 'n1');
    client.close();
    api = await listenNodeApi({ handler: createNodeApi({ runtime: { logDir: (z, c) => join(dir.dir, 'logs', z, c), state: async () => 'running' } }), host: '127.0.0.1', port: 0, cert, dir: join(dir.dir, 'node-api') });
  });

  after(async () => {
    await api.close();
    await server.stop();
    dir.remove();
  });

  it('serves the API server (its client certificate, signed by the cluster CA)', async () => {
    const r = await get(api.port, path, { ca: authority.caPem, cert: authority.client.certPem, key: authority.client.keyPem });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'hello from the node\n');
  });

  it('refuses a client without a certificate (401), one from another CA (401) and a node (403)', async () => {
    const none = await get(api.port, path, { ca: authority.caPem });
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).reason, 'Unauthorized');
    // Same name as the API server's, but signed by a CA of its own.
    const otherCa = await generateCa();
    const forged = await generateLeaf(otherCa, { cn: 'reddwarf:apiserver-kubelet-client', o: ['reddwarf:apiservers'], usage: 'client' });
    assert.equal((await get(api.port, path, { ca: authority.caPem, cert: forged.certPem, key: forged.keyPem })).status, 401);
    // A node's own certificate, genuinely from the cluster CA (as another agent holds).
    const asNode = await generateLeaf((authority as unknown as { ca: { certPem: string; keyPem: string } }).ca, { cn: 'system:node:n2', o: ['system:nodes'], usage: 'client' });
    const node = await get(api.port, path, { ca: authority.caPem, cert: asNode.certPem, key: asNode.keyPem });
    assert.equal(node.status, 403);
    assert.match(JSON.parse(node.body).message, /user=system:node:n2/);
  });

  it('has a serving certificate for the Node object\'s names, whatever the request asked for', async () => {
    const { csrPem } = await generateCsr('admin');
    const call = (node: string, body: unknown, who = agentBearer(token, 'n1')) =>
      fetch(`${server.url}/api/v1/nodes/${node}/servingcertificate`, { method: 'POST', headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await call('n1', { csr: csrPem });
    assert.equal(res.status, 201);
    const { certificate, ca } = (await res.json()) as { certificate: string; ca: string };
    assert.equal(ca, authority.caPem);
    const x = new X509Certificate(certificate);
    assert.match(x.subject, /CN=system:node:n1/);
    assert.equal(x.subjectAltName, 'DNS:n1, IP Address:127.0.0.1');
    assert.ok(x.verify(new X509Certificate(authority.caPem).publicKey));
    // Another node's certificate, a request that is no request, an unknown node.
    assert.equal((await call('n2', { csr: csrPem })).status, 403);
    assert.equal((await call('n1', { csr: 'nonsense' })).status, 400);
    assert.equal((await call('n1', {})).status, 400);
  });
});

describe('node API follow', () => {
  it('ends when status.json shows the instance no longer running, and when the zone stops', async () => {
    const dir = tempDir('reddwarf-nodeapi-follow-');
    try {
      let zone = 'running';
      const logDir = (z: string, c: string) => join(dir.dir, z, '.reddwarf', 'logs', c);
      const routes = nodeApiRoutes({ runtime: { logDir, state: async () => zone as 'running' }, pollMs: 10 });
      const zoneDir = zoneName('default', 'p');
      mkdirSync(logDir(zoneDir, 'c'), { recursive: true });
      writeFileSync(join(logDir(zoneDir, 'c'), '0.log'), criLine(Date.now(), 'stdout', 'hi'));
      const follow = async (): Promise<{ text: () => string; ended: Promise<void> }> => {
        const reply = await routes.handle({ method: 'GET', path: '/containerLogs/default/p/c', query: new URLSearchParams('follow=true'), headers: {}, body: Buffer.alloc(0) });
        assert.ok(isStream(reply));
        let text = '';
        let end!: () => void;
        const ended = new Promise<void>((r) => (end = r));
        const sink: Sink = { write: (d) => void (text += typeof d === 'string' ? d : Buffer.from(d).toString()), buffered: () => 0, end: () => end(), onClose: () => {} };
        reply.stream(sink);
        return { text: () => text, ended };
      };
      const a = await follow();
      const statusDir = join(dir.dir, zoneDir, '.reddwarf', 'containers', 'c');
      mkdirSync(statusDir, { recursive: true });
      writeFileSync(join(statusDir, 'status.json'), JSON.stringify({ name: 'c', instance: 0, restartCount: 0, state: 'running' }));
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(statusDir, 'status.json'), JSON.stringify({ name: 'c', instance: 0, restartCount: 0, state: 'waiting', reason: 'CrashLoopBackOff' }));
      await a.ended;
      assert.equal(a.text(), 'hi\n');
      // A zone that stopped ends a follow too (the mock writes no status.json).
      rmSync(join(statusDir, 'status.json'));
      const b = await follow();
      zone = 'installed';
      await b.ended;
      assert.equal(b.text(), 'hi\n');
    } finally {
      dir.remove();
    }
  });
});
