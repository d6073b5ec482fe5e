// A real OCI registry for tests: Debian's docker-registry (the CNCF Distribution server) on
// 127.0.0.1:<free port> with a temp config and storage, optional htpasswd basic auth (bcrypt hashes
// from libcrypt through perl, which every Debian has) or token auth (a token server here, signing
// ES256 JWTs with a generated CA + leaf certificate), and a counting proxy that can stall blobs.
// Every process is stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { BUSYBOX } from './oci-image.ts';
import { freePort, makeTempDir, pollUntil } from './process.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Whether `path` is an ELF executable without an interpreter (statically linked: runs in a bare chroot). */
export function isStaticElf(path: string): boolean {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF64 only
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

/**
 * Whether the registry tests can run here (docker-registry, and busybox-static's /bin/busybox for
 * the images they build); prints a loud SKIPPED line when not.
 */
export function registryAvailable(what = 'image registry tests'): boolean {
  const missing: string[] = [];
  if (!existsSync(REGISTRY_BIN)) missing.push(`${REGISTRY_BIN} (Debian package docker-registry)`);
  if (!isStaticElf(BUSYBOX)) missing.push(`a static ${BUSYBOX} (Debian package busybox-static)`);
  if (missing.length === 0) return true;
  console.log(`\n*** SKIPPED ${what}: missing ${missing.join(' and ')} ***\n`);
  return false;
}

export interface RegistryUser {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** htpasswd basic auth with these users. */
  basic?: RegistryUser[];
  /** token auth: a token server that gives tokens to these users (anonymous too when `anonymous`). */
  token?: { users: RegistryUser[]; anonymous?: boolean };
}

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 (use it as an insecure registry). */
  host: string;
  url: string;
  /** Credentials to push with (the first user). */
  pushCredentials?: RegistryUser;
  dir: string;
  pid: number;
  /** The registry's log so far. */
  log(): string;
  /** Token requests the token server answered (with the user, or '' for anonymous). */
  tokenRequests: { user: string; scope: string; granted: boolean }[];
  stop(): Promise<void>;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A bcrypt hash (the only htpasswd scheme docker-registry accepts) from the host's libcrypt via
 * perl's crypt() (perl-base is Essential on Debian), else python3's crypt, else `htpasswd -nbB`.
 */
export function bcryptHash(password: string): string {
  const salt = Array.from(randomBytes(22), (b) => BCRYPT_ALPHABET[b % 64]).join('');
  const tries: [string, string[]][] = [
    ['perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]],
    ['python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]), end="")', password, `$2b$05$${salt}`]],
    ['htpasswd', ['-nbB', '-C', '5', 'u', password]],
  ];
  for (const [cmd, args] of tries) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const out = (r.stdout ?? '').trim().replace(/^u:/, '');
    if (r.status === 0 && /^\$2[aby]\$\d\d\$.{53}$/.test(out)) return out;
  }
  throw new Error('no bcrypt implementation found (perl crypt with libxcrypt, python3 crypt or htpasswd)');
}

const b64url = (b: Buffer | Uint8Array | string): string => Buffer.from(b).toString('base64url');

interface TokenSigner {
  rootPem: string;
  sign(claims: Record<string, unknown>): Promise<string>;
}

/** A CA and a leaf certificate (ES256); tokens carry the leaf in `x5c`, the registry trusts the CA. */
async function makeSigner(): Promise<TokenSigner> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = new Date(Date.now() - 60_000);
  const later = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=reddwarf test token CA', notBefore: now, notAfter: later, keys: caKeys as CryptoKeyPair, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  const leafKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=reddwarf test token signer', issuer: ca.subject, notBefore: now, notAfter: later,
    signingKey: (caKeys as CryptoKeyPair).privateKey, publicKey: (leafKeys as CryptoKeyPair).publicKey, signingAlgorithm: alg,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [Buffer.from(leaf.rawData).toString('base64')] }));
  return {
    rootPem: ca.toString('pem'),
    async sign(claims) {
      const input = `${header}.${b64url(JSON.stringify(claims))}`;
      // WebCrypto ECDSA signatures are r||s, which is what JWS ES256 wants.
      const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, (leafKeys as CryptoKeyPair).privateKey, Buffer.from(input));
      return `${input}.${b64url(new Uint8Array(sig))}`;
    },
  };
}

function basicUser(header: string | undefined): RegistryUser | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = plain.indexOf(':');
  return i < 0 ? undefined : { username: plain.slice(0, i), password: plain.slice(i + 1) };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

const closeServer = (s: http.Server): Promise<void> => new Promise((r) => {
  s.closeAllConnections();
  s.close(() => r());
});

/** Starts docker-registry on 127.0.0.1 with a temp config; resolves once /v2/ answers. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = makeTempDir('reddwarf-registry-');
  mkdirSync(join(dir, 'storage'));
  const service = 'reddwarf-test-registry';
  const issuer = 'reddwarf-test-issuer';
  let auth = '';
  let tokenServer: http.Server | undefined;
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  if (opts.basic) {
    writeFileSync(join(dir, 'htpasswd'), opts.basic.map((u) => `${u.username}:${bcryptHash(u.password)}\n`).join(''));
    auth = `auth:\n  htpasswd:\n    realm: reddwarf-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.token) {
    const t = opts.token;
    const signer = await makeSigner();
    writeFileSync(join(dir, 'token-ca.pem'), signer.rootPem);
    tokenServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const user = basicUser(req.headers.authorization);
      const scope = url.searchParams.getAll('scope').join(' ');
      const ok = user ? t.users.some((u) => u.username === user.username && u.password === user.password) : Boolean(t.anonymous);
      tokenRequests.push({ user: user?.username ?? '', scope, granted: ok });
      if (!ok) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
        return;
      }
      const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).map((s) => {
        const [type, ...rest] = s.split(':');
        const actions = (rest.pop() ?? '').split(',').filter(Boolean);
        return { type, name: rest.join(':'), actions };
      });
      const now = Math.floor(Date.now() / 1000);
      void signer.sign({ iss: issuer, sub: user?.username ?? '', aud: service, exp: now + 300, nbf: now - 60, iat: now, jti: randomBytes(8).toString('hex'), access }).then((token) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
      });
    });
    const tport = await listen(tokenServer);
    auth = `auth:\n  token:\n    realm: http://127.0.0.1:${tport}/token\n    service: ${service}\n    issuer: ${issuer}\n    rootcertbundle: ${join(dir, 'token-ca.pem')}\n`;
  }
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = `version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n${auth}`;
    writeFileSync(join(dir, 'config.yml'), config);
    const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (d: Buffer): void => {
      log = (log + d.toString('utf8')).slice(-512 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    const exit = new Promise<void>((r) => child.once('exit', () => {
      exited = true;
      r();
    }));
    const url = `http://127.0.0.1:${port}`;
    const up = await pollUntil(async () => {
      if (exited) return 'exited';
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return res.status === 200 || res.status === 401 ? 'up' : undefined;
      } catch {
        return undefined;
      }
    }, 20_000, 50);
    if (up === 'up') {
      const stop = async (): Promise<void> => {
        if (!exited && child.pid) process.kill(child.pid, 'SIGTERM');
        const gone = await pollUntil(() => exited, 5000, 20);
        if (!gone && child.pid) process.kill(child.pid, 'SIGKILL');
        await exit;
        if (tokenServer) await closeServer(tokenServer);
        rmSync(dir, { recursive: true, force: true });
      };
      const pushCredentials = opts.basic?.[0] ?? opts.token?.users[0];
      return { host: `127.0.0.1:${port}`, url, dir, pid: child.pid ?? -1, log: () => log, tokenRequests, stop, ...(pushCredentials ? { pushCredentials } : {}) };
    }
    if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
    await exit;
    lastError = new Error(`docker-registry did not start on ${url}: ${log.slice(-2000)}`);
    if (!/address already in use/.test(log)) break;
  }
  if (tokenServer) await closeServer(tokenServer);
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('docker-registry did not start');
}

export interface CountingProxy {
  host: string;
  /** Requests seen, as `METHOD path` with the Range header if any. */
  requests: { method: string; path: string; range?: string; status?: number }[];
  /** Blob GETs so far. */
  blobGets(): number;
  /** Stalls every blob body after this many bytes until release() (undefined: no stall). */
  stallAfter: number | undefined;
  /** Resolves when a blob body has stalled (since the last release()). */
  stalled(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

/** An HTTP proxy in front of a registry (127.0.0.1) that counts requests and can stall blob bodies. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const requests: CountingProxy['requests'] = [];
  let releaseAll: (() => void)[] = [];
  let stallWaiters: (() => void)[] = [];
  let stalledOnce = false;
  const proxy: CountingProxy = {
    host: '',
    requests,
    blobGets: () => requests.filter((r) => r.method === 'GET' && /\/blobs\/sha256:/.test(r.path)).length,
    stallAfter: undefined,
    stalled: () => (stalledOnce ? Promise.resolve() : new Promise((r) => stallWaiters.push(r))),
    release: () => {
      stalledOnce = false;
      const rs = releaseAll;
      releaseAll = [];
      for (const r of rs) r();
    },
    close: async () => {
      proxy.release();
      await closeServer(server);
    },
  };
  const server = http.createServer((req, res) => {
    const entry: CountingProxy['requests'][number] = { method: req.method ?? 'GET', path: req.url ?? '/', ...(req.headers.range ? { range: req.headers.range } : {}) };
    requests.push(entry);
    const [host, port] = target.split(':');
    const up = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (ur) => {
      entry.status = ur.statusCode ?? 0;
      // Locations point at the registry: keep clients on the proxy.
      const headers = { ...ur.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${target}`, `//${proxy.host}`);
      res.writeHead(ur.statusCode ?? 502, headers);
      const limit = proxy.stallAfter;
      if (limit === undefined || !/\/blobs\/sha256:/.test(entry.path) || req.method !== 'GET') {
        ur.pipe(res);
        return;
      }
      let sent = 0;
      let held = false;
      ur.on('data', (chunk: Buffer) => {
        if (held) return;
        if (sent + chunk.length <= limit) {
          sent += chunk.length;
          res.write(chunk);
          return;
        }
        const part = chunk.subarray(0, limit - sent);
        if (part.length) res.write(part);
        sent = limit;
        held = true;
        ur.pause();
        stalledOnce = true;
        const ws = stallWaiters;
        stallWaiters = [];
        for (const w of ws) w();
        releaseAll.push(() => {
          res.destroy();
          ur.destroy();
        });
      });
      ur.on('end', () => {
        if (!held) res.end();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const port = await listen(server);
  proxy.host = `127.0.0.1:${port}`;
  return proxy;
}

export { BUSYBOX, buildImage, busyboxLayer, pushImage, type BuiltImage, type FileSpec, type ImageSpec, type LayerSpec } from './oci-image.ts';
