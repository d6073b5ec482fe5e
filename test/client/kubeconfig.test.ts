// readKubeconfig: the file it picks, what it reads from the current context, and its errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { readKubeconfig, kubeconfigPath } from '../../src/client/kubeconfig.ts';
import { RemoteClient } from '../../src/client/remote.ts';
import { renderKubeconfig } from '../../src/server/kubeconfig.ts';
import { startServer, tempDir } from '../helpers/server.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('readKubeconfig', () => {
  let dir: string;
  let remove: () => void;
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const savedEnv = process.env.KUBECONFIG;
  const savedCwd = process.cwd();
  before(() => ({ dir, remove } = tempDir('reddwarf-kubeconfig-')));
  after(() => {
    process.chdir(savedCwd);
    if (savedEnv === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedEnv;
    remove();
  });

  it('reads what `serve` writes: server, token and insecure-skip-tls-verify for http', () => {
    const p = file('serve.yaml', renderKubeconfig({ server: 'http://127.0.0.1:6443', token: 'abc' }));
    assert.deepEqual(readKubeconfig(p), { server: 'http://127.0.0.1:6443', token: 'abc', insecureSkipTlsVerify: true, namespace: 'default', path: p });
    const tls = file('tls.yaml', renderKubeconfig({ server: 'https://127.0.0.1:6443', caData: Buffer.from(PEM).toString('base64') }));
    const k = readKubeconfig(tls);
    assert.equal(k.ca, PEM);
    assert.equal(k.token, undefined);
    assert.equal(k.insecureSkipTlsVerify, undefined);
  });

  it('follows current-context among several, reading CA and token files relative to the kubeconfig', () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs', 'ca.pem'), PEM);
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const p = file('multi.yaml', stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'one', cluster: { server: 'https://one:6443' } }, { name: 'two', cluster: { server: 'https://two:6443', 'certificate-authority': 'certs/ca.pem' } }],
      users: [{ name: 'u1', user: { token: 't1' } }, { name: 'u2', user: { tokenFile: 'token' } }],
      contexts: [{ name: 'a', context: { cluster: 'one', user: 'u1' } }, { name: 'b', context: { cluster: 'two', user: 'u2', namespace: 'prod' } }],
      'current-context': 'b',
    }));
    assert.deepEqual(readKubeconfig(p), { server: 'https://two:6443', ca: PEM, token: 'from-file', namespace: 'prod', path: p });
  });

  it('takes the path from the argument, else the first $KUBECONFIG entry, else ./reddwarf-data/kubeconfig', () => {
    const a = file('a.yaml', renderKubeconfig({ server: 'http://a:1' }));
    const b = file('b.yaml', renderKubeconfig({ server: 'http://b:1' }));
    process.env.KUBECONFIG = ['', b, a].join(delimiter);
    assert.equal(readKubeconfig().server, 'http://b:1');
    assert.equal(readKubeconfig(a).server, 'http://a:1');
    delete process.env.KUBECONFIG;
    mkdirSync(join(dir, 'reddwarf-data'), { recursive: true });
    writeFileSync(join(dir, 'reddwarf-data', 'kubeconfig'), renderKubeconfig({ server: 'http://default:1' }));
    process.chdir(dir);
    assert.equal(kubeconfigPath(), join(dir, 'reddwarf-data', 'kubeconfig'));
    assert.equal(readKubeconfig().server, 'http://default:1');
    process.chdir(savedCwd);
  });

  it('names the file and the problem when it is missing or malformed', () => {
    const missing = join(dir, 'nope.yaml');
    assert.throws(() => readKubeconfig(missing), { message: new RegExp(`^kubeconfig ${missing}: no such file`) });
    const cases: [string, string, RegExp][] = [
      ['bad.yaml', 'clusters: [unclosed', /not valid YAML/],
      ['scalar.yaml', 'just text', /not a kubeconfig/],
      ['nocontext.yaml', stringify({ contexts: [{ name: 'a', context: { cluster: 'c' } }, { name: 'b', context: { cluster: 'c' } }] }), /current-context is not set/],
      ['dangling.yaml', stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'gone' } }], clusters: [] }), /clusters has no entry named "gone"/],
      ['noserver.yaml', stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c' } }], clusters: [{ name: 'c', cluster: {} }] }), /cluster "c" has no server/],
      ['badca.yaml', stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c' } }], clusters: [{ name: 'c', cluster: { server: 'https://c', 'certificate-authority-data': 'bm90IGEgY2VydA==' } }] }), /certificate-authority-data of cluster "c" is not a base64 PEM/],
      ['cafile.yaml', stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c' } }], clusters: [{ name: 'c', cluster: { server: 'https://c', 'certificate-authority': 'missing.pem' } }] }), /certificate-authority .*missing\.pem cannot be read: ENOENT/],
    ];
    for (const [name, text, why] of cases) {
      const p = file(name, text);
      assert.throws(() => readKubeconfig(p), (e: Error) => e.message.startsWith(`kubeconfig ${p}: `) && why.test(e.message), name);
    }
  });

  it('feeds a RemoteClient that reaches the server it names', async () => {
    const server = await startServer('node');
    const client = new RemoteClient(readKubeconfig(file('live.yaml', renderKubeconfig({ server: server.url }))));
    try {
      const ns = await client.get('namespaces', '', 'default');
      assert.equal(ns.metadata.name, 'default');
    } finally {
      client.close();
      await server.stop();
    }
  });
});
