// Real zones on the simulated illumos host for tests: whether this machine can run them (root,
// unshare, chroot, busybox-static, a C compiler), and a zone configured and installed under the
// fake host's dir, driven through the fake zonecfg/zoneadm/zlogin on PATH.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeIllumosHost } from '../fakes/host.ts';
import { findCompiler } from '../../src/runtime/supervisor/build.ts';

/** Whether an ELF64 file has no program interpreter (a dynamic busybox would not run in a bare zone root). */
export function isStaticElf(path: string): boolean {
  try {
    const b = readFileSync(path);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
    const phoff = Number(b.readBigUInt64LE(0x20));
    const size = b.readUInt16LE(0x36);
    for (let i = 0; i < b.readUInt16LE(0x38); i++) if (b.readUInt32LE(phoff + i * size) === 3) return false; // PT_INTERP
    return true;
  } catch {
    return false;
  }
}

/** Why real zones cannot run here, or undefined when they can. */
export function realZoneSkipReason(opts: { compiler?: boolean } = {}): string | undefined {
  if (process.platform !== 'linux') return 'real zones on the simulated host need Linux';
  if (process.getuid?.() !== 0) return 'real zones on the simulated host need root (chroot, PID namespaces)';
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/chroot']) if (!existsSync(tool)) return `real zones need ${tool} (util-linux / coreutils)`;
  if (!existsSync('/bin/busybox') || !isStaticElf('/bin/busybox')) return 'real zones need a static /bin/busybox: apt-get install busybox-static';
  if (opts.compiler && !findCompiler()) return 'the zone supervisor needs a C compiler (gcc)';
  return undefined;
}

/** Says loudly on stderr why a suite was skipped, and returns the reason for `{ skip }`. */
export function skipLoudly(suite: string, reason: string | undefined): string | false {
  if (reason) process.stderr.write(`\n*** SKIPPED ${suite}: ${reason} ***\n\n`);
  return reason ?? false;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the fake host's tools (or anything) with the host first on PATH. */
export function runTool(host: FakeIllumosHost, argv: string[]): Promise<ToolResult> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(file, args, { env: host.env(), encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runTool, but a non-zero exit throws with the tool's stderr. */
export async function tool(host: FakeIllumosHost, argv: string[]): Promise<string> {
  const r = await runTool(host, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface ZoneOptions {
  brand?: string;
  bootargs?: string;
  /** zonecfg lines added before commit (e.g. lx `add attr`). */
  extra?: string[];
}

/** Configures a zone whose zonepath lies under the host dir (so it is real). Returns the zonepath. */
export async function configureZone(host: FakeIllumosHost, name: string, o: ZoneOptions = {}): Promise<string> {
  const zonepath = join(host.dir, 'zones', name);
  mkdirSync(join(host.dir, 'zones'), { recursive: true, mode: 0o755 });
  const cmd = join(host.dir, `${name}.zonecfg`);
  writeFileSync(cmd, [
    'create',
    `set brand=${o.brand ?? 'sparse'}`,
    `set zonepath=${zonepath}`,
    ...(o.bootargs ? [`set bootargs="${o.bootargs}"`] : []),
    ...(o.extra ?? []),
    'commit',
    '',
  ].join('\n'));
  await tool(host, ['zonecfg', '-z', name, '-f', cmd]);
  return zonepath;
}

/** zoneadm -z <zone> list -p → its state. */
export async function zoneState(host: FakeIllumosHost, name: string): Promise<string> {
  const line = await tool(host, ['zoneadm', '-z', name, 'list', '-p']);
  return line.split(':')[2] ?? '';
}
