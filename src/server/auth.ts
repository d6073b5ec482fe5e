// Authentication: who a request comes from. Bearer tokens (the admin token generated at first
// start, a kube-apiserver static token file, node join tokens) and client certificates signed by
// the cluster CA (CN = user, O = groups; verified by the transport, see HttpRequest.peer).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/model/status.ts';
import type { HttpRequest } from './http.ts';
import { realClock, type Clock } from '../time/clock.ts';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
}

export const ADMIN_TOKEN_FILE = 'admin-token';
export const JOIN_TOKENS_FILE = 'join-tokens.json';
export const MASTERS = 'system:masters';
export const NODES = 'system:nodes';
export const VIEWERS = 'system:viewers';
export const NODE_PREFIX = 'system:node:';

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

/** Writes a secret file owner-only, atomically. */
function writeSecret(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The admin token in `<data-dir>/admin-token`, generated (mode 0600) at first start. */
export function ensureAdminToken(dataDir: string): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t.length >= 16) {
      chmodSync(file, 0o600);
      return t;
    }
  }
  const token = randomBytes(32).toString('base64url');
  writeSecret(file, `${token}\n`);
  return token;
}

/** Splits one CSV line (double quotes group, "" escapes a quote). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** A kube-apiserver `--token-auth-file`: `token,user,uid,"group1,group2"` per line. */
export function parseTokenFile(text: string, file = 'token file'): Map<string, UserInfo> {
  const m = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [token, user, uid, groups] = parseCsvLine(line);
    if (!token || !user) throw new Error(`${file} line ${i + 1}: expected token,user,uid[,"group1,group2"]`);
    const info: UserInfo = { name: user, groups: (groups ?? '').split(',').map((g) => g.trim()).filter(Boolean) };
    if (uid) info.uid = uid;
    m.set(token, info);
  });
  return m;
}

// ---- join tokens -------------------------------------------------------------------------

/** A stored join token: only the hash of its secret is kept. */
interface JoinRecord {
  id: string;
  hash: string;
  /** The node it acts for: set at creation (--node) or at first use. */
  node?: string;
  created: string;
}

const JOIN_RE = /^rdj1\.([0-9a-f]{12})\.([0-9a-f]{32})(?:@(.+))?$/;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function readJoin(dataDir: string): JoinRecord[] {
  const file = join(dataDir, JOIN_TOKENS_FILE);
  if (!existsSync(file)) return [];
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { tokens?: JoinRecord[] };
  return Array.isArray(doc.tokens) ? doc.tokens : [];
}

function writeJoin(dataDir: string, tokens: JoinRecord[]): void {
  writeSecret(join(dataDir, JOIN_TOKENS_FILE), `${JSON.stringify({ tokens }, null, 2)}\n`);
}

/**
 * Creates a node join token (`reddwarf token create`). A token made with `node` acts only for
 * that node; one made without is bound to the first node name it is used with.
 */
export function createJoinToken(dataDir: string, node?: string, clock: Clock = realClock): string {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(16).toString('hex');
  const tokens = readJoin(dataDir);
  const rec: JoinRecord = { id, hash: sha(secret), created: new Date(clock.now()).toISOString() };
  if (node) rec.node = node;
  tokens.push(rec);
  writeJoin(dataDir, tokens);
  return `rdj1.${id}.${secret}`;
}

/** The bearer token an agent sends: the join token, with its node name when the token is unbound. */
export function agentBearer(joinToken: string, node: string): string {
  return JOIN_RE.test(joinToken) && !joinToken.includes('@') ? `${joinToken}@${node}` : joinToken;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface AuthenticatorOptions {
  dataDir: string;
  /** Static token file (kube-apiserver `--token-auth-file` format). */
  tokenFile?: string;
  adminToken?: string;
  /** Time for the token files' re-check interval; realClock by default. */
  clock?: Clock;
}

/** The token files are stat'ed at most this often for tokens that already match (two stats per request showed in profiles). */
const RECHECK_MS = 1000;

/** Answers who a request is from; re-reads the token files when they change. */
export class Authenticator {
  private static_ = new Map<string, UserInfo>();
  private staticStamp = '';
  private join: JoinRecord[] = [];
  private joinStamp = '';
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;

  constructor(private readonly o: AuthenticatorOptions) {
    this.clock = o.clock ?? realClock;
    this.reload();
  }

  private stamp(file: string): string {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'none';
    }
  }

  /** Reads the token files again if they changed (cheap: one stat each). */
  private reload(): void {
    if (this.o.tokenFile) {
      const st = this.stamp(this.o.tokenFile);
      if (st !== this.staticStamp) {
        this.static_ = parseTokenFile(readFileSync(this.o.tokenFile, 'utf8'), this.o.tokenFile);
        this.staticStamp = st;
      }
    }
    const jf = join(this.o.dataDir, JOIN_TOKENS_FILE);
    const st = this.stamp(jf);
    if (st !== this.joinStamp) {
      try {
        this.join = readJoin(this.o.dataDir);
      } catch {
        this.join = [];
      }
      this.joinStamp = st;
    }
  }

  /**
   * The user of a request; undefined when it carries no credentials (anonymous). A bearer token
   * that matches nothing is an error (401), as in kube-apiserver.
   */
  authenticate(req: HttpRequest): UserInfo | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined && auth !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m) throw unauthorized();
      const user = this.byToken(m[1] as string);
      if (!user) throw unauthorized();
      return user;
    }
    if (req.peer) return { name: req.peer.user, groups: [...req.peer.groups] };
    return undefined;
  }

  /** Whether the loaded files hold this token (a join token by its id). */
  private knows(token: string): boolean {
    if (this.static_.has(token)) return true;
    const id = JOIN_RE.exec(token)?.[1];
    return id !== undefined && this.join.some((r) => r.id === id);
  }

  private byToken(token: string): UserInfo | undefined {
    if (this.o.adminToken && safeEqual(token, this.o.adminToken)) return { name: 'admin', groups: [MASTERS, 'system:authenticated'] };
    // A known token is re-checked against the files once a second (a revoked one is gone within
    // that second); an unknown one at once, so a token just written works on its first use.
    const now = this.clock.now();
    if (now - this.checkedAt >= RECHECK_MS || !this.knows(token)) {
      this.checkedAt = now;
      try {
        this.reload();
      } catch {
        // A broken token file: keep what was loaded last.
      }
    }
    const s = this.static_.get(token);
    if (s) return { ...s, groups: [...s.groups, 'system:authenticated'] };
    const j = JOIN_RE.exec(token);
    if (!j) return undefined;
    const [, id, secret, asNode] = j as unknown as [string, string, string, string | undefined];
    const rec = this.join.find((r) => r.id === id);
    if (!rec || !safeEqual(sha(secret), rec.hash)) return undefined;
    let node = rec.node;
    if (node === undefined) {
      // Trust on first use: the token now belongs to this node for good.
      if (!asNode || !NODE_NAME.test(asNode)) return undefined;
      node = asNode;
      this.bind(id, node);
    } else if (asNode !== undefined && asNode !== node) return undefined;
    return { name: `${NODE_PREFIX}${node}`, groups: [NODES, 'system:authenticated'] };
  }

  private bind(id: string, node: string): void {
    const tokens = readJoin(this.o.dataDir);
    const rec = tokens.find((r) => r.id === id);
    if (rec && rec.node === undefined) {
      rec.node = node;
      writeJoin(this.o.dataDir, tokens);
    }
    this.join = tokens;
    this.joinStamp = this.stamp(join(this.o.dataDir, JOIN_TOKENS_FILE));
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
