// An OCI Distribution (registry v2) client over node's fetch: manifests (index → linux/amd64),
// blobs streamed to disk and verified while they stream, the WWW-Authenticate challenge flow
// (Bearer token or Basic), HTTPS except for the hosts named insecure (containerd's rule).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat, truncate } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { credentialsId, type RegistryCredentials } from './credentials.ts';
import { ImagePullError } from './errors.ts';
import { apiHost, type ImageRef } from './reference.ts';
import { realClock, type Clock } from '../time/clock.ts';

export const MEDIA = {
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;
const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

/** Fails a registry that does not answer (connect + headers, or a stalled body) within this long. */
export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** What a reference resolves to. */
export interface ResolvedManifest {
  /** Digest of what the reference names (an index, or the manifest itself): the repo digest. */
  digest: string;
  /** Digest of the linux/amd64 image manifest. */
  manifestDigest: string;
  mediaType: string;
  manifest: ImageManifest;
}

export interface RegistryClientOptions {
  /** host[:port] served over plain HTTP (`--insecure-registry`). */
  insecureRegistries?: string[];
  /** Connect/headers and body-stall timeout (ms), default 30 s. */
  timeoutMs?: number;
  /** The platform an index is resolved to (default linux/amd64). */
  platform?: { os: string; architecture: string };
  /** Times the connect and body-stall timeouts (default realClock). */
  clock?: Clock;
}

export interface RequestOptions {
  credentials?: RegistryCredentials | undefined;
  signal?: AbortSignal | undefined;
}

interface Sent {
  res: Response;
  abort: (reason: unknown) => void;
  /** Restarts the stall timer (each body chunk). */
  touch: () => void;
  done: () => void;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The registry's own error text: `CODE: message` of each entry of {"errors": […]}. */
async function errorText(res: Response): Promise<string> {
  let body = '';
  try {
    body = await res.text();
  } catch {
    // body lost with the connection: the status says enough
  }
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const parts = (j.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).filter(Boolean);
    if (parts.length) return parts.join('; ');
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`.trim();
}

function kindOfStatus(status: number): 'unauthorized' | 'not-found' | 'invalid' | 'unreachable' {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'invalid';
  return 'unreachable';
}

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or Basic). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  return { scheme, params };
}

const basic = (c: RegistryCredentials): string => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** A registry v2 client; one per store (it caches tokens per registry, repository and credentials). */
export class RegistryClient {
  private readonly insecure: Set<string>;
  private readonly timeoutMs: number;
  private readonly platform: { os: string; architecture: string };
  private readonly auth = new Map<string, string>();
  private readonly clock: Clock;

  constructor(opts: RegistryClientOptions = {}) {
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
    this.clock = opts.clock ?? realClock;
  }

  /** `https://host` or, for an insecure registry, `http://host`. */
  baseUrl(ref: ImageRef): string {
    const host = apiHost(ref.registry);
    const plain = this.insecure.has(ref.registry) || this.insecure.has(host);
    return `${plain ? 'http' : 'https'}://${host}`;
  }

  /** Resolves a reference to its linux/amd64 image manifest, verifying every digest on the way. */
  async resolve(ref: ImageRef, opts: RequestOptions = {}): Promise<ResolvedManifest> {
    const first = await this.getManifest(ref, ref.digest ?? ref.tag ?? 'latest', opts);
    if (ref.digest && first.digest !== ref.digest) {
      throw new ImagePullError('digest-mismatch', `${ref.name}: the registry's manifest has digest ${first.digest}, not ${ref.digest}`);
    }
    if (first.mediaType === MEDIA.ociIndex || first.mediaType === MEDIA.dockerList) {
      const list = first.json as { manifests?: Descriptor[] };
      const want = this.platform;
      const chosen = (list.manifests ?? []).find((d) => d.platform?.os === want.os && d.platform?.architecture === want.architecture);
      if (!chosen) {
        const have = (list.manifests ?? []).map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ');
        throw new ImagePullError('no-platform', `${ref.name}: no ${want.os}/${want.architecture} image in the index (has ${have || 'none'})`);
      }
      const m = await this.getManifest(ref, chosen.digest, opts);
      if (m.digest !== chosen.digest) throw new ImagePullError('digest-mismatch', `${ref.name}: manifest ${chosen.digest} arrived with digest ${m.digest}`);
      return { digest: first.digest, manifestDigest: m.digest, mediaType: m.mediaType, manifest: this.imageManifest(ref, m) };
    }
    return { digest: first.digest, manifestDigest: first.digest, mediaType: first.mediaType, manifest: this.imageManifest(ref, first) };
  }

  /**
   * Streams blob `desc` to `partial`, hashing as it goes (resuming with a Range request when
   * `partial` already holds a prefix), then renames it to `final`. A wrong digest or size deletes
   * the partial file and throws 'digest-mismatch'. Returns the bytes transferred.
   */
  async fetchBlob(ref: ImageRef, desc: Descriptor, partial: string, final: string, opts: RequestOptions = {}): Promise<number> {
    let have = await stat(partial).then((st) => st.size, () => 0);
    if (have >= desc.size) {
      await truncate(partial, 0).catch(() => undefined);
      have = 0;
    }
    const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    const sent = await this.request(ref, `blobs/${desc.digest}`, headers, opts);
    const { res } = sent;
    try {
      if (!res.ok) throw new ImagePullError(kindOfStatus(res.status), `${ref.name}: blob ${desc.digest}: ${await errorText(res)}`);
      const hash = createHash('sha256');
      if (res.status === 206 && have > 0) {
        // Hash what is already on disk; the whole file is verified at the end either way.
        for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
      } else {
        have = 0;
      }
      let total = have;
      let transferred = 0;
      const hasher = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          sent.touch();
          total += chunk.length;
          transferred += chunk.length;
          if (total > desc.size) return cb(new ImagePullError('digest-mismatch', `${ref.name}: blob ${desc.digest} is longer than its ${desc.size} bytes`));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      if (!res.body) throw new ImagePullError('invalid', `${ref.name}: blob ${desc.digest}: empty response`);
      try {
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), hasher, createWriteStream(partial, { flags: have > 0 ? 'a' : 'w' }));
      } catch (e) {
        if (e instanceof ImagePullError) {
          await rm(partial, { force: true });
          throw e;
        }
        if (opts.signal?.aborted) throw opts.signal.reason;
        // The partial file stays: the next attempt resumes from it.
        throw new ImagePullError('unreachable', `${ref.name}: blob ${desc.digest}: transfer interrupted after ${total} of ${desc.size} bytes: ${(e as Error).message}`);
      }
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest || total !== desc.size) {
        await rm(partial, { force: true });
        throw new ImagePullError('digest-mismatch', `${ref.name}: blob ${desc.digest} arrived as ${got} (${total} bytes, expected ${desc.size})`);
      }
      const fh = await open(partial, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(partial, final);
      return transferred;
    } finally {
      sent.done();
    }
  }

  private async getManifest(ref: ImageRef, reference: string, opts: RequestOptions): Promise<{ digest: string; mediaType: string; json: unknown; bytes: Buffer }> {
    const sent = await this.request(ref, `manifests/${reference}`, { accept: ACCEPT }, opts);
    try {
      const { res } = sent;
      if (!res.ok) {
        const kind = kindOfStatus(res.status);
        // Docker Hub answers 401, not 404, for a repository that does not exist (as containerd says).
        const hint = kind === 'unauthorized' && !opts.credentials ? ' (pull access denied: the repository does not exist or needs credentials)' : '';
        throw new ImagePullError(kind, `${ref.name}: manifest ${reference}: ${await errorText(res)}${hint}`);
      }
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length > MAX_MANIFEST_BYTES) throw new ImagePullError('invalid', `${ref.name}: manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
      let json: { mediaType?: string; schemaVersion?: number };
      try {
        json = JSON.parse(bytes.toString('utf8')) as typeof json;
      } catch {
        throw new ImagePullError('invalid', `${ref.name}: manifest ${reference} is not JSON`);
      }
      const header = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const mediaType = json.mediaType ?? header;
      return { digest: sha256(bytes), mediaType, json, bytes };
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (e instanceof ImagePullError) throw e;
      throw new ImagePullError('unreachable', `${ref.name}: manifest ${reference}: ${(e as Error).message}`);
    } finally {
      sent.done();
    }
  }

  private imageManifest(ref: ImageRef, m: { mediaType: string; json: unknown }): ImageManifest {
    if (m.mediaType !== MEDIA.ociManifest && m.mediaType !== MEDIA.dockerManifest) {
      throw new ImagePullError('invalid', `${ref.name}: unsupported manifest media type "${m.mediaType || 'none'}" (schema 1 is not supported)`);
    }
    const j = m.json as Partial<ImageManifest>;
    if (!j.config?.digest || !Array.isArray(j.layers)) throw new ImagePullError('invalid', `${ref.name}: manifest without config or layers`);
    for (const d of [j.config, ...j.layers]) {
      if (!/^sha256:[a-f0-9]{64}$/.test(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) throw new ImagePullError('invalid', `${ref.name}: bad descriptor ${JSON.stringify(d)}`);
    }
    return j as ImageManifest;
  }

  /** GET /v2/<repo>/<path>, answering a 401 challenge once (token or basic) and caching what worked. */
  private async request(ref: ImageRef, path: string, headers: Record<string, string>, opts: RequestOptions): Promise<Sent> {
    const url = `${this.baseUrl(ref)}/v2/${ref.repository}/${path}`;
    // What worked is cached per credentials too: another caller's token or password must never
    // let a pull with wrong or no credentials through.
    const key = `${ref.registry}/${ref.repository}\0${credentialsId(opts.credentials)}`;
    let authorization = this.auth.get(key);
    for (let attempt = 0; ; attempt++) {
      const sent = await this.send(ref, url, { ...headers, ...(authorization ? { authorization } : {}) }, opts.signal);
      if (sent.res.status !== 401 || attempt === 1) return sent;
      const challenge = parseChallenge(sent.res.headers.get('www-authenticate'));
      const text = await errorText(sent.res);
      sent.done();
      if (!challenge) throw new ImagePullError('unauthorized', `${ref.name}: ${text}`);
      if (challenge.scheme === 'basic') {
        if (!opts.credentials) throw new ImagePullError('unauthorized', `${ref.name}: ${text} (the registry wants basic auth and no credentials were given)`);
        authorization = basic(opts.credentials);
      } else {
        authorization = `Bearer ${await this.token(ref, challenge, opts)}`;
      }
      this.auth.set(key, authorization);
    }
  }

  /** The Bearer token flow: GET realm?service=…&scope=repository:<repo>:pull, with basic credentials if any. */
  private async token(ref: ImageRef, c: Challenge, opts: RequestOptions): Promise<string> {
    const realm = c.params['realm'];
    if (!realm) throw new ImagePullError('unauthorized', `${ref.name}: bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ImagePullError('invalid', `${ref.name}: bearer realm "${realm}" is not a URL`);
    }
    if (c.params['service']) url.searchParams.set('service', c.params['service']);
    url.searchParams.set('scope', c.params['scope'] ?? `repository:${ref.repository}:pull`);
    const sent = await this.send(ref, url.toString(), opts.credentials ? { authorization: basic(opts.credentials) } : {}, opts.signal);
    try {
      const { res } = sent;
      if (res.status === 401 || res.status === 403) throw new ImagePullError('unauthorized', `${ref.name}: the token server ${url.host} refused ${opts.credentials ? 'the credentials' : 'an anonymous token'}: ${await errorText(res)}`);
      if (!res.ok) throw new ImagePullError('unreachable', `${ref.name}: token server ${url.host}: ${await errorText(res)}`);
      const j = (await res.json()) as { token?: string; access_token?: string };
      const t = j.token ?? j.access_token;
      if (!t) throw new ImagePullError('unauthorized', `${ref.name}: the token server ${url.host} gave no token`);
      return t;
    } finally {
      sent.done();
    }
  }

  /** One fetch with a timeout on connect+headers and on body stalls; network failures are 'unreachable'. */
  private async send(ref: ImageRef, url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Sent> {
    signal?.throwIfAborted();
    const ac = new AbortController();
    let timedOut = false;
    const onTimeout = (): void => {
      timedOut = true;
      ac.abort(new ImagePullError('unreachable', `${ref.name}: ${new URL(url).host} did not answer within ${this.timeoutMs / 1000} s`));
    };
    let timer = this.clock.setTimeout(onTimeout, this.timeoutMs);
    const onAbort = (): void => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      this.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const sent: Sent = {
      res: undefined as unknown as Response,
      abort: (r) => ac.abort(r),
      touch: () => {
        this.clock.clearTimeout(timer);
        timer = this.clock.setTimeout(onTimeout, this.timeoutMs);
      },
      done,
    };
    try {
      sent.res = await fetch(url, { headers, signal: ac.signal, redirect: 'follow' });
      sent.touch();
      return sent;
    } catch (e) {
      done();
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw ac.signal.reason;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ImagePullError('unreachable', `${ref.name}: cannot reach ${new URL(url).host}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
  }
}
