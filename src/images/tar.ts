// Layer application with the host's GNU tar (never a hand-written tar parser): list the layer to
// find OCI whiteouts, apply them to the lower content, then extract the rest keeping numeric
// ownership, modes, symlinks and hard links. GNU tar detects gzip/zstd/plain by magic on read.
import { spawn } from 'node:child_process';
import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join, posix } from 'node:path';
import { ExecRunner } from '../runtime/illumos/exec.ts';
import { CommandError, SLOW_TIMEOUT_MS, type CommandRunner } from '../runtime/illumos/command.ts';
import { ImagePullError } from './errors.ts';

/** GNU tar's name on this host: illumos ships Sun tar as `tar` and GNU tar as `gtar`. */
export const GNU_TAR = process.platform === 'sunos' ? 'gtar' : 'tar';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** What a layer's whiteouts ask for. */
export interface Whiteouts {
  /** Paths (relative, '/'-separated) to delete from the lower layers. */
  deleted: string[];
  /** Directories whose lower content is hidden. */
  opaque: string[];
}

/** Splits `tar -t` names into whiteouts; refuses names that climb out of the root. */
export function whiteoutsOf(names: string[]): Whiteouts {
  const out: Whiteouts = { deleted: [], opaque: [] };
  for (const raw of names) {
    const name = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '');
    const base = posix.basename(name);
    if (!base.startsWith(WHITEOUT_PREFIX)) continue;
    if (name.split('/').includes('..')) throw new ImagePullError('invalid', `layer whiteout "${raw}" leaves the root`);
    const dir = posix.dirname(name);
    if (base === OPAQUE_WHITEOUT) out.opaque.push(dir === '.' ? '' : dir);
    else {
      const target = posix.join(dir, base.slice(WHITEOUT_PREFIX.length));
      if (target && target !== '.') out.deleted.push(target);
    }
  }
  return out;
}

/**
 * The host path of `rel` under `root`, or undefined when a parent component is a symlink or not a
 * directory (a whiteout must never delete through a lower layer's symlink to outside the root).
 */
async function insideRoot(root: string, rel: string): Promise<string | undefined> {
  const parts = rel.split('/').filter((p) => p && p !== '.');
  let p = root;
  for (let i = 0; i < parts.length - 1; i++) {
    p = join(p, parts[i]!);
    try {
      if (!(await lstat(p)).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(root, ...parts);
}

/** Applies whiteouts to `root`, which holds only lower-layer content at this point. */
export async function applyWhiteouts(root: string, w: Whiteouts): Promise<void> {
  for (const dir of w.opaque) {
    const d = dir ? await insideRoot(root, `${dir}/x`).then((p) => p && join(p, '..')) : root;
    if (!d) continue;
    let st;
    try {
      st = await lstat(d);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    for (const e of await readdir(d)) await rm(join(d, e), { recursive: true, force: true });
  }
  for (const rel of w.deleted) {
    const p = await insideRoot(root, rel);
    if (p) await rm(p, { recursive: true, force: true });
  }
}

/** One member of a layer as `tar -tv --quoting-style=c` lists it. */
export interface TarMember {
  /** '-' file, 'd' dir, 'l' symlink, 'h' hard link, 'c'/'b'/'p' … */
  type: string;
  name: string;
  /** Symlink or hard-link target. */
  link?: string;
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, '?': 63, "'": 39 };

/** Reads one C-quoted string (`"…"`, tar's --quoting-style=c) at `at`; returns it and the index after it. */
export function readCString(s: string, at: number): [string, number] {
  if (s[at] !== '"') throw new Error(`expected a quoted name at ${at} in ${JSON.stringify(s)}`);
  const bytes: number[] = [];
  let i = at + 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] !== '\\') {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
      continue;
    }
    const c = s[++i] ?? '';
    if (/[0-7]/.test(c)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      bytes.push(parseInt(oct, 8));
      i += oct.length - 1;
    } else bytes.push(C_ESCAPES[c] ?? c.charCodeAt(0));
  }
  if (s[i] !== '"') throw new Error(`unterminated quoted name in ${JSON.stringify(s)}`);
  return [Buffer.from(bytes).toString('utf8'), i + 1];
}

const LINE_RE = /^(\S)\S*\s+\d+\/\d+\s+\d+(?:,\s*\d+)?\s+\d{4}-\d\d-\d\d\s+\d\d:\d\d(?::\d\d)?\s+(?=")/;

/** Parses `tar -tv --numeric-owner --quoting-style=c` output. */
export function parseTarListing(out: string): TarMember[] {
  const members: TarMember[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const m = LINE_RE.exec(line);
    if (!m) throw new ImagePullError('invalid', `unexpected tar listing line: ${JSON.stringify(line.slice(0, 200))}`);
    const [name, after] = readCString(line, m[0].length);
    const rest = line.slice(after);
    const linkAt = rest.startsWith(' -> ') ? 4 : rest.startsWith(' link to ') ? 9 : -1;
    members.push({ type: m[1]!, name, ...(linkAt > 0 ? { link: readCString(rest, linkAt)[0] } : {}) });
  }
  return members;
}

/**
 * Refuses a layer that would write through a lower layer's symlink to outside `root` (GNU tar
 * follows existing symlinks of parent directories, on the host), or hard-link to such a place.
 */
export async function checkNoEscape(root: string, members: TarMember[]): Promise<void> {
  const realRoot = await realpath(root);
  const checked = new Set<string>();
  // A directory member replaces a lower symlink of that name (GNU tar without
  // --keep-directory-symlink, as containerd does): later members are then written inside it.
  const dirsSeen = new Set<string>();
  const checkParents = async (rel: string, what: string): Promise<void> => {
    const parts = posix.normalize(rel.replace(/^\/+/, '')).split('/').filter((p) => p && p !== '.');
    if (parts.includes('..')) throw new ImagePullError('invalid', `layer member ${JSON.stringify(what)} climbs out of the root`);
    let p = '';
    for (const part of parts.slice(0, -1)) {
      p = p ? `${p}/${part}` : part;
      if (checked.has(p) || dirsSeen.has(p)) continue;
      checked.add(p);
      let st;
      try {
        st = await lstat(join(root, p));
      } catch {
        return; // not there yet: tar creates it as a directory
      }
      if (!st.isSymbolicLink()) continue;
      const real = await realpath(join(root, p)).catch(() => undefined);
      if (!real || (real !== realRoot && !real.startsWith(`${realRoot}/`))) {
        throw new ImagePullError('invalid', `layer member ${JSON.stringify(what)} would be written through the symlink /${p}, which leads outside the image`);
      }
    }
  };
  for (const m of members) {
    await checkParents(m.name, m.name);
    if (m.type === 'h' && m.link !== undefined) await checkParents(`${m.link}/x`, `${m.name} (hard link to ${m.link})`);
    if (m.type === 'd') dirsSeen.add(posix.normalize(m.name.replace(/^\/+/, '')).replace(/\/+$/, ''));
  }
}

/** Applies layer tarballs to directories with GNU tar. */
export class LayerApplier {
  constructor(private readonly runner: CommandRunner = new ExecRunner(), private readonly tar: string = GNU_TAR) {}

  /**
   * The members of a layer (any compression GNU tar detects), read line by line from tar's stdout:
   * a layer of a few hundred thousand files would not fit a command runner's output buffer.
   */
  async list(layer: string, signal?: AbortSignal): Promise<TarMember[]> {
    const argv = [this.tar, '-t', '-v', '--numeric-owner', '--quoting-style=c', '-f', layer];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: SLOW_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-64 * 1024);
    });
    const closed = new Promise<number>((resolve) => {
      child.once('error', (e) => {
        stderr += `${stderr ? '\n' : ''}${e.message}`;
      });
      child.once('close', (code) => resolve(code ?? -1));
    });
    const members: TarMember[] = [];
    let parseError: unknown;
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (parseError || !line) continue;
      try {
        members.push(...parseTarListing(line));
      } catch (e) {
        parseError = e;
      }
    }
    const code = await closed;
    if (signal?.aborted) throw signal.reason;
    if (code !== 0) throw new CommandError(argv, code, stderr);
    if (parseError) throw parseError;
    return members;
  }

  /** Applies one layer on top of the content already in `root`. */
  async apply(layer: string, root: string, signal?: AbortSignal): Promise<void> {
    const members = await this.list(layer, signal);
    await checkNoEscape(root, members);
    await applyWhiteouts(root, whiteoutsOf(members.map((m) => m.name)));
    await this.runner.run(
      [this.tar, '-x', '-f', layer, '-C', root, '--numeric-owner', '--same-owner', '-p', '--exclude=.wh.*'],
      { timeoutMs: SLOW_TIMEOUT_MS, ...(signal ? { signal } : {}) },
    );
  }
}
