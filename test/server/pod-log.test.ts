// pods/log over both transports: kube-apiserver's Status errors, the options, following with
// backpressure and a client that leaves, authorization, and the two ways to a node (a node API
// handler in the same process, and HTTPS to a node API listening on 127.0.0.1).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { appendFileSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../src/api/model/types.ts';
import { criLine } from '../../src/runtime/logs/cri.ts';
import { NodeAuthority } from '../../src/server/node-authority.ts';
import { Authenticator } from '../../src/server/auth.ts';
import { createNodeApi, nodeApiRoutes } from '../../src/agent/node-api/handler.ts';
import { listenNodeApi } from '../../src/agent/node-api/server.ts';
import { zoneName } from '../../src/api/model/zone-names.ts';
import type { Listening } from '../../src/server/listen.ts';
import { startServer, tempDir, TRANSPORTS, type TestServer } from '../helpers/server.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const lines = (prefix: string, n: number, start = 0): string => Array.from({ length: n }, (_, i) => criLine(T0 + (start + i) * 1000, 'stdout', `${prefix}${i + 1}`)).join('');

interface Reply {
  status: number;
  type: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Status JSON, read freely
  json: any;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text, json });
      });
    });
    r.on('error', reject);
    r.end();
  });
}

/** The descriptors this process holds open on `path` (from /proc). */
function openFds(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile
    }
  });
}

/**
 * Counts the bytes FileHandle.read returns while `body` runs: the log reader reads with pread
 * (the descriptor's offset never moves), so this is how far it got.
 */
async function countingReads<T>(body: (read: () => number) => Promise<T>): Promise<T> {
  const fh = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(fh) as { read: (...a: unknown[]) => Promise<{ bytesRead: number }> };
  await fh.close();
  const original = proto.read;
  let total = 0;
  proto.read = async function (this: unknown, ...a: unknown[]) {
    const r = await original.apply(this, a);
    total += r.bytesRead;
    return r;
  };
  try {
    return await body(() => total);
  } finally {
    proto.read = original;
  }
}

async function until<T>(check: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pod = (name: string, spec: Partial<Pod['spec']>, status?: Pod['status']): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec }, ...(status ? { status } : {}),
});
const running = (...names: string[]) => ({ phase: 'Running' as const, containerStatuses: names.map((name) => ({ name, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } })) });

/** Creates a pod with its binding and status as given (create alone resets the status). */
async function createPod(server: TestServer, p: Pod): Promise<void> {
  await server.store.create('pods', { ...p, status: undefined } as unknown as Pod);
  if (p.status) await server.store.update('pods', 'default', p.metadata.name as string, (cur) => ({ ...(cur as Pod), status: p.status }), { subresource: 'status' });
}

for (const transport of TRANSPORTS) {
  describe(`pods/log over ${transport}`, () => {
    let server: TestServer;
    let logs: { dir: string; remove: () => void };
    let authority: NodeAuthority;
    let nodeApi: Listening;
    const logDir = (zone: string, c: string): string => join(logs.dir, zone, c);
    const runtime = { logDir, state: async () => 'running' as const };
    const url = (pod: string, q = ''): string => `${server.url}/api/v1/namespaces/default/pods/${pod}/log${q ? `?${q}` : ''}`;
    const writeLog = (podName: string, c: string, file: string, text: string): string => {
      const dir = logDir(zoneName('default', podName), c);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, file), text);
      return join(dir, file);
    };

    before(async () => {
      logs = tempDir('reddwarf-podlog-');
      authority = await NodeAuthority.open(join(logs.dir, 'tls'));
      // Node "local" is served in-process; node "remote" over HTTPS on 127.0.0.1.
      authority.local.set('local', nodeApiRoutes({ runtime, pollMs: 20 }));
      const cert = await authority.issueServing('remote', ['127.0.0.1']);
      nodeApi = await listenNodeApi({ handler: createNodeApi({ runtime, pollMs: 20 }), host: '127.0.0.1', port: 0, cert: { ...cert, key: cert.key as string }, dir: join(logs.dir, 'node-api') });
      server = await startServer(transport, { nodes: authority });
      await server.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'remote' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: nodeApi.port } } } });
      await server.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'local' }, status: {} });
      const create = (p: Pod) => createPod(server, p);
      await create(pod('web', { nodeName: 'local' }, running('c')));
      await create(pod('far', { nodeName: 'remote' }, running('c')));
      await create(pod('multi', { nodeName: 'local', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }], initContainers: [{ name: 'i', image: 'x' }] }, running('a', 'b')));
      await create(pod('creating', { nodeName: 'local' }, { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] }));
      await create(pod('pulling', { nodeName: 'local' }, { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff' } } }] }));
      await create(pod('crashing', { nodeName: 'local' }, { phase: 'Running', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3 } } }] }));
      await create(pod('unbound', {}));
      for (const p of ['web', 'far', 'crashing']) writeLog(p, 'c', '0.log', lines('line', 5));
      writeLog('web', 'c', '1.log', lines('second', 2, 10));
      writeLog('far', 'c', '1.log', lines('second', 2, 10));
      writeLog('multi', 'a', '0.log', lines('a', 1));
    });

    after(async () => {
      await server.stop();
      await nodeApi.close();
      logs.remove();
    });

    for (const [pod, how] of [['web', 'in-process'], ['far', 'over HTTPS']] as const) {
      it(`serves a log as text/plain with the options (node ${how})`, async () => {
        const plain = await get(url(pod, 'container=c'));
        assert.equal(plain.status, 200, plain.text);
        assert.match(plain.type, /^text\/plain/);
        assert.equal(plain.text, 'second1\nsecond2\n');
        assert.equal((await get(url(pod))).text, 'second1\nsecond2\n');
        assert.equal((await get(url(pod, 'previous=true&tailLines=2'))).text, 'line4\nline5\n');
        assert.equal((await get(url(pod, 'previous=true&sinceTime=2026-01-01T00:00:03Z'))).text, 'line4\nline5\n');
        assert.equal((await get(url(pod, 'timestamps=true&tailLines=1'))).text, '2026-01-01T00:00:11Z second2\n');
        assert.equal((await get(url(pod, 'limitBytes=3'))).text, 'sec');
        assert.equal((await get(url(pod, 'sinceSeconds=1'))).text, '');
        const head = await fetch(url(pod), { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), '');
      });

      it(`follows: appended lines stream, a new instance ends it (node ${how})`, async () => {
        const file = writeLog(pod, 'c', '2.log', lines('f', 1, 20));
        const text = await new Promise<string>((resolve, reject) => {
          let got = '';
          httpRequest(url(pod, 'follow=true'), (res) => {
            assert.equal(res.statusCode, 200);
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              got += d;
              if (got === 'f1\n') appendFileSync(file, lines('g', 1, 21));
              if (got === 'f1\ng1\n') writeLog(pod, 'c', '3.log', lines('next', 1, 22));
            });
            res.on('end', () => resolve(got));
          }).on('error', reject).end();
        });
        assert.equal(text, 'f1\ng1\n');
      });
    }

    it('answers what kube-apiserver answers for the wrong container, pod or state', async () => {
      const multi = await get(url('multi'));
      assert.equal(multi.status, 400);
      assert.equal(multi.json.reason, 'BadRequest');
      assert.equal(multi.json.message, 'a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [i]');
      assert.equal((await get(url('multi', 'container=a'))).text, 'a1\n');
      const unknown = await get(url('multi', 'container=x'));
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.message, 'container x is not valid for pod multi');
      const nopod = await get(url('nope'));
      assert.equal(nopod.status, 404);
      assert.equal(nopod.json.message, 'pods "nope" not found');
      const unbound = await get(url('unbound'));
      assert.equal(unbound.status, 400);
      assert.equal(unbound.json.message, 'pod unbound does not have a host assigned');
      const creating = await get(url('creating', 'container=c'));
      assert.equal(creating.status, 400);
      assert.equal(creating.json.message, 'container "c" in pod "creating" is waiting to start: ContainerCreating');
      assert.equal((await get(url('pulling'))).json.message, 'container "c" in pod "pulling" is waiting to start: trying and failing to pull image');
      // Waiting after a crash: the last instance's log is there to read.
      assert.equal((await get(url('crashing', 'tailLines=1'))).text, 'line5\n');
      const noPrevious = await get(url('multi', 'container=a&previous=true'));
      assert.equal(noPrevious.status, 400);
      assert.equal(noPrevious.json.message, 'previous terminated container "a" in pod "multi" not found');
      // A node whose API does not answer: the API server says what it tried.
      await server.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } });
      await createPod(server, pod('orphan', { nodeName: 'gone' }, running('c')));
      const gone = await get(url('orphan'));
      assert.equal(gone.status, 500);
      assert.match(gone.json.message, /^Get "https:\/\/127\.0\.0\.1:1\/containerLogs\/default\/orphan\/c": .*ECONNREFUSED/);
      const bad = await get(url('web', 'tailLines=-1&limitBytes=0'));
      assert.equal(bad.status, 422);
      assert.equal(bad.json.message, 'PodLogOptions "" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0');
      assert.equal((await get(url('web', 'follow=maybe'))).status, 400);
    });

    for (const [big, node] of [['big', 'local'], ['bigfar', 'remote']] as const) it(`follows with backpressure, and stops reading the file when the client goes away (node ${node})`, async () => {
      // 40 MiB of log: far more than the socket buffers (two TCP connections to the remote node) hold.
      const chunk = lines(`${'x'.repeat(1000)}-`, 1024);
      const path = writeLog(big, 'c', '0.log', '');
      for (let i = 0; i < 40; i++) appendFileSync(path, chunk);
      const size = chunk.length * 40;
      // What comes out: the text of each record and a newline, no timestamp or stream.
      const outSize = 40 * chunk.split('\n').filter(Boolean).reduce((n, l) => n + l.length - l.indexOf(' F ') - 3 + 1, 0);
      await createPod(server, pod(big, { nodeName: node }, running('c')));
      await countingReads(async (read) => {
        const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(url(big, 'follow=true'), resolve).on('error', reject).end());
        res.pause();
        // The reader stalls far from the end while nobody reads …
        let last = -1;
        let still = 0;
        const pos = await until(() => {
          const p = read();
          still = p === last && p > 0 ? still + 1 : 0;
          last = p;
          return still >= 15 ? p : undefined;
        }, 'the reader to stall');
        assert.ok(pos < size / 2, `read ${pos} of ${size} bytes with nobody reading`);
        assert.equal(openFds(path).length, 1);
        // … reads on when the client does …
        let got = 0;
        res.on('data', (d: Buffer) => (got += d.length));
        res.resume();
        await until(() => got >= outSize, 'the client to receive the log', 60_000);
        assert.equal(got, outSize);
        // … and closes the file when the client leaves.
        res.destroy();
        await until(() => openFds(path).length === 0, 'the log file to be closed');
      });
    });

    it('authorizes pods/log as its own resource: view may read it, a node may not', async () => {
      const tokens = join(logs.dir, `tokens-${transport}.csv`);
      writeFileSync(tokens, 'viewtoken,viewer,1,"system:viewers"\nnodetoken,system:node:local,2,"system:nodes"\n');
      const secured = await startServer(transport, { nodes: authority, security: { authenticator: new Authenticator({ dataDir: logs.dir, tokenFile: tokens }) } });
      try {
        await createPod(secured, pod('web', { nodeName: 'local' }, running('c')));
        const u = `${secured.url}/api/v1/namespaces/default/pods/web/log`;
        assert.equal((await get(u)).status, 401);
        const viewer = await get(u, { authorization: 'Bearer viewtoken' });
        assert.equal(viewer.status, 200, viewer.text);
        assert.equal(viewer.text, 'next1\n');
        const node = await get(u, { authorization: 'Bearer nodetoken' });
        assert.equal(node.status, 403);
        assert.match(node.json.message, /cannot get resource "pods\/log"/);
      } finally {
        await secured.stop();
      }
    });
  });
}
