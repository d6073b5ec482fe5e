// TLS material (auto-generated CA + server certificate, provided files) and HTTPS on both transports.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CA_CN, SERVER_CN, defaultSans, ensureTls, providedTls, type TlsMaterial } from '../../src/server/tls.ts';
import { realClock } from '../../src/time/clock.ts';
import { createApi, DEFAULT_MAX_BODY_BYTES } from '../../src/server/api.ts';
import { listen } from '../../src/server/listen.ts';
import { RemoteClient } from '../../src/client/remote.ts';
import { openStore, tempDir, TRANSPORTS } from '../helpers/server.ts';

const mode = (p: string): number => statSync(p).mode & 0o777;
const DAY = 24 * 3600 * 1000;

describe('ensureTls', () => {
  const t = tempDir('reddwarf-tls-');
  const dir = join(t.dir, 'tls');
  let first: TlsMaterial;
  before(async () => {
    first = await ensureTls(dir, defaultSans(['api.example.test', '10.1.2.3']));
  });
  after(() => t.remove());

  it('writes ca.pem, server.pem and server-key.pem, keys owner-only', () => {
    assert.equal(first.generated, true);
    for (const f of ['ca.pem', 'server.pem', 'server-key.pem']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(mode(join(dir, 'server-key.pem')), 0o600);
    assert.equal(mode(dir) & 0o077, 0);
    assert.equal(first.certFile, join(dir, 'server.pem'));
    assert.equal(first.keyFile, join(dir, 'server-key.pem'));
    assert.equal(first.caFile, join(dir, 'ca.pem'));
  });

  it('is ECDSA P-256, distinct CA and server CNs, signed by the CA, with the SANs', () => {
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    const srv = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    assert.equal(ca.publicKey.asymmetricKeyType, 'ec');
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(srv.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(ca.subject.includes(`CN=${CA_CN}`), ca.subject);
    assert.ok(srv.subject.includes(`CN=${SERVER_CN}`), srv.subject);
    assert.notEqual(CA_CN, SERVER_CN);
    assert.equal(ca.ca, true);
    assert.equal(srv.ca, false);
    assert.ok(srv.checkIssued(ca) && srv.verify(ca.publicKey));
    const san = srv.subjectAltName ?? '';
    for (const s of ['DNS:localhost', 'IP Address:127.0.0.1', `DNS:${hostname().toLowerCase()}`, 'DNS:api.example.test', 'IP Address:10.1.2.3']) assert.ok(san.includes(s), `${s} in ${san}`);
  });

  it('reuses fresh material, regenerates what is missing or close to expiry', async () => {
    const sans = defaultSans(['api.example.test', '10.1.2.3']);
    const again = await ensureTls(dir, sans);
    assert.equal(again.generated, false);
    const before1 = readFileSync(join(dir, 'server.pem'), 'utf8');
    rmSync(join(dir, 'server.pem'));
    const missing = await ensureTls(dir, sans);
    assert.equal(missing.generated, true);
    const after1 = readFileSync(join(dir, 'server.pem'), 'utf8');
    assert.notEqual(after1, before1);
    // The server certificate is valid for a year: 340 days on it is within the 30-day window.
    const late = await ensureTls(dir, sans, { ...realClock, now: () => Date.now() + 340 * DAY });
    assert.equal(late.generated, true);
    assert.notEqual(readFileSync(join(dir, 'server.pem'), 'utf8'), after1);
    assert.equal(mode(join(dir, 'server-key.pem')), 0o600);
  });

  it('rejects provided files that cannot be read or do not match', () => {
    assert.throws(() => providedTls(join(t.dir, 'nope.pem'), join(dir, 'server-key.pem')), /cert/);
    const other = join(t.dir, 'other-key.pem');
    writeFileSync(other, readFileSync(join(dir, 'server-key.pem')));
    assert.doesNotThrow(() => providedTls(join(dir, 'server.pem'), other));
    assert.throws(() => providedTls(join(dir, 'ca.pem'), other), /match|invalid/);
  });
});

for (const transport of TRANSPORTS) {
  describe(`HTTPS (${transport})`, () => {
    const t = tempDir('reddwarf-tls-srv-');
    let stop: () => Promise<void>;
    let url = '';
    let tls: TlsMaterial;
    before(async () => {
      tls = await ensureTls(join(t.dir, 'tls'), defaultSans());
      const { store, close } = await openStore();
      const handler = createApi(store, { kubeMinor: 31, maxBodyBytes: DEFAULT_MAX_BODY_BYTES });
      const l = await listen(handler, '127.0.0.1', 0, transport, tls);
      url = `https://127.0.0.1:${l.port}`;
      stop = async () => {
        await l.close();
        await close();
        t.remove();
      };
    });
    after(() => stop());

    it('serves the API to a client that trusts the CA', async () => {
      const c = new RemoteClient({ server: url, ca: tls.caPem as string });
      await c.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tls-ns' } });
      const ns = await c.get('namespaces', '', 'tls-ns');
      assert.equal(ns.metadata?.name, 'tls-ns');
      const c2 = new RemoteClient({ server: url.replace('127.0.0.1', 'localhost'), ca: tls.caPem as string });
      const list = await c2.list('namespaces');
      assert.ok(list.items.some((n) => n.metadata?.name === 'tls-ns'));
    });

    it('is refused by a client that does not trust the CA', async () => {
      const c = new RemoteClient({ server: url });
      await assert.rejects(c.list('namespaces'));
    });
  });
}
