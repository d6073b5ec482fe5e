// Layer application with the host's GNU tar (never a hand-written tar parser): list the layer to
// find OCI whiteouts, apply them to the lower content, then extract the rest keeping numeric
// ownership, modes, symlinks and hard links. GNU tar detects gzip/zstd/plain by magic on read.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ExecRunner } from '../runtime/illumos/exec.ts';
import { SLOW_TIMEOUT_MS, type CommandRunner } from '../runtime/illumos/command.ts';
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

/** Applies layer tarballs to directories with GNU tar. */
export class LayerApplier {
  constructor(private readonly runner: CommandRunner = new ExecRunner(), private readonly tar: string = GNU_TAR) {}

  /** The member names of a layer (any compression GNU tar detects). */
  async list(layer: string, signal?: AbortSignal): Promise<string[]> {
    const r = await this.runner.run([this.tar, '-t', '--quoting-style=literal', '-f', layer], { timeoutMs: SLOW_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    return r.stdout.split('\n').filter((l) => l.length > 0);
  }

  /** Applies one layer on top of the content already in `root`. */
  async apply(layer: string, root: string, signal?: AbortSignal): Promise<void> {
    const names = await this.list(layer, signal);
    await applyWhiteouts(root, whiteoutsOf(names));
    await this.runner.run(
      [this.tar, '-x', '-f', layer, '-C', root, '--numeric-owner', '--same-owner', '-p', '--exclude=.wh.*'],
      { timeoutMs: SLOW_TIMEOUT_MS, ...(signal ? { signal } : {}) },
    );
  }
}
