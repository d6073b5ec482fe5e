// Builds the zone supervisor (init.c) with the node's C compiler, once per source version: the
// binary is cached as `<dir>/init-<hash of source and flags>` and concurrent callers share one build.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The supervisor's C source, shipped in src/ beside this file. */
export const SUPERVISOR_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'init.c');

const COMPILE_TIMEOUT_MS = 120_000;

/** No C compiler on the node, or it failed on init.c. */
export class SupervisorBuildError extends Error {
  constructor(readonly reason: 'no-compiler' | 'compile-failed', message: string, readonly stderr = '') {
    super(message);
    this.name = 'SupervisorBuildError';
  }
}

export const NO_COMPILER_MESSAGE =
  'pods that run containers need a C compiler on the node to build the zone supervisor: install gcc (OmniOS: pkg install developer/gcc13)';

export interface BuildOptions {
  /** Where binaries are cached (the agent passes `<data-dir>/supervisor`). */
  dir: string;
  /** Environment to find the compiler in (`CC`, `PATH`); default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Target platform (default this one): Linux links statically so the binary runs in any chroot. */
  platform?: NodeJS.Platform;
  /** Another source file (tests). */
  source?: string;
  /**
   * `lx`: on illumos, a native binary meant to run as init of an lx zone, whose root is a Linux
   * image without illumos' /usr/lib/ld.so.1: the interpreter and libraries are taken from the
   * zone's /native (as SmartOS's dockerinit finds them). Unconfirmed on a real host.
   */
  variant?: 'native' | 'lx';
}

/** The compiler to use: `$CC`, else `cc`, else `gcc` on PATH; undefined when there is none. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cc = env['CC']?.trim();
  if (cc) return cc;
  const dirs = (env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const name of ['cc', 'gcc']) {
    for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** Compiler flags per platform: static on Linux (the zone root has no libc of ours), dynamic on illumos (no static libc there). */
export function compileFlags(platform: NodeJS.Platform, variant: 'native' | 'lx' = 'native'): string[] {
  if (platform === 'linux') return ['-static', '-O2'];
  // -z now: resolve every symbol before the supervisor chroots into a container (dockerinit's Makefile has the same note).
  if (variant === 'lx') return ['-O2', '-Wl,-z,now', '-Wl,-I,/native/usr/lib/ld.so.1', '-Wl,-R,/native/lib:/native/usr/lib'];
  return ['-O2', '-Wl,-z,now'];
}

const inflight = new Map<string, Promise<string>>();

/**
 * The path of a supervisor binary built from init.c, compiling it on first use.
 * @example
 * const init = await buildSupervisor({ dir: join(dataDir, 'supervisor') });
 */
export async function buildSupervisor(opts: BuildOptions): Promise<string> {
  const source = opts.source ?? SUPERVISOR_SOURCE;
  const platform = opts.platform ?? process.platform;
  const flags = compileFlags(platform, opts.variant);
  const text = await readFile(source);
  const hash = createHash('sha256').update(text).update('\0').update(flags.join(' ')).digest('hex').slice(0, 16);
  const out = join(opts.dir, `init-${hash}`);
  if (existsSync(out)) return out;
  // One build per output: pods starting together wait for the same compiler run.
  let p = inflight.get(out);
  if (!p) {
    p = compile(source, out, flags, opts.env ?? process.env).finally(() => inflight.delete(out));
    inflight.set(out, p);
  }
  return p;
}

async function compile(source: string, out: string, flags: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const cc = findCompiler(env);
  if (!cc) throw new SupervisorBuildError('no-compiler', NO_COMPILER_MESSAGE);
  await mkdir(dirname(out), { recursive: true });
  // Build to a private name and rename: another agent process never runs a half-written binary.
  const tmp = `${out}.${process.pid}.tmp`;
  // $CC may carry flags ("gcc -m64"), as make treats it.
  const [file, ...ccArgs] = cc.split(/\s+/).filter(Boolean) as [string, ...string[]];
  const argv = [...ccArgs, ...flags, '-o', tmp, source];
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(file, argv, { env, timeout: COMPILE_TIMEOUT_MS, encoding: 'utf8' }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new SupervisorBuildError('no-compiler', `${NO_COMPILER_MESSAGE} (${file} not found)`));
        reject(new SupervisorBuildError('compile-failed', `building the zone supervisor failed: ${[file, ...argv].join(' ')}: ${stderr.trim() || err.message}`, stderr));
      });
    });
    await chmod(tmp, 0o755);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return out;
}
