// zonecfg(8): the command file of a pod's zone (SPEC §5.5), applying it, reading it back, deleting.
import { formatCpuCap, formatMemoryCap } from '../../api/model/quantity.ts';
import type { ZoneSpec } from '../runtime.ts';
import { CommandError, run, type CommandRunner } from './command.ts';
import { NO_SUCH_ZONE } from './zoneadm.ts';

/** The zone attribute holding the uid of the pod that owns the zone. */
export const OWNER_ATTR = 'reddwarf-pod-uid';
/** The zone attribute holding `<namespace>/<name>` of that pod. */
export const POD_ATTR = 'reddwarf-pod';

/** What goes into a zone's configuration beyond the ZoneSpec. */
export interface ZonecfgExtras {
  /** ZFS datasets delegated to the zone (persistent volumes). */
  datasets?: string[];
  /** The zone's init (zoneadmd boots `-i <init>` when boot is given no arguments): reddwarf's supervisor. */
  init?: string;
}

/** The Linux kernel version lx zones emulate (SmartOS requires the attribute; omniosorg/zadm defaults it to 4.4). */
export const LX_KERNEL_VERSION = '4.4';
/** lx's ulimit emulation reads max-lwps; an unset one leaves Linux programs thinking they may start none. */
export const LX_MAX_LWPS = 10000;

/** Quotes a zonecfg property value when it holds anything beyond a plain word. */
function value(v: string): string {
  return /^[A-Za-z0-9._/:=+-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The zonecfg command file for `spec`: SPEC §5.5's lines (brand, zonepath, exclusive IP, net with
 * allowed-address and defrouter, capped-cpu, capped-memory), delegated datasets, and the owner
 * attributes that let a restarted agent tell its zones from another pod's. No trailing newline.
 */
export function zonecfgText(spec: ZoneSpec, extras: ZonecfgExtras = {}): string {
  const n = spec.network;
  const lines = [
    'create',
    `set brand=${spec.brand}`,
    `set zonepath=${value(spec.zonepath)}`,
    'set ip-type=exclusive',
  ];
  if (extras.init) lines.push(`set bootargs="-i ${extras.init.replace(/["\\]/g, '\\$&')}"`);
  if (spec.brand === 'lx') lines.push(`set max-lwps=${LX_MAX_LWPS}`);
  lines.push(
    'add net',
    `set physical=${n.vnic}`,
    `set allowed-address=${n.ip}/${n.prefixLen}`,
    `set defrouter=${n.gateway}`,
    'end',
  );
  if (spec.brand === 'lx') lines.push('add attr', 'set name=kernel-version', 'set type=string', `set value=${LX_KERNEL_VERSION}`, 'end');
  if (spec.cpuCapMillis !== undefined && spec.cpuCapMillis > 0) lines.push('add capped-cpu', `set ncpus=${formatCpuCap(spec.cpuCapMillis)}`, 'end');
  if (spec.memoryCapBytes !== undefined && spec.memoryCapBytes > 0) lines.push('add capped-memory', `set physical=${formatMemoryCap(spec.memoryCapBytes)}`, 'end');
  for (const ds of extras.datasets ?? []) lines.push('add dataset', `set name=${value(ds)}`, 'end');
  for (const [name, v] of [[OWNER_ATTR, spec.uid], [POD_ATTR, spec.pod]] as const) {
    if (v) lines.push('add attr', `set name=${name}`, 'set type=string', `set value=${value(v)}`, 'end');
  }
  lines.push('verify', 'commit');
  return lines.join('\n');
}

/** The command file's name inside the runner's private temporary directory. */
export const commandFileName = (zone: string): string => `zonecfg-${zone}.cmd`;

/** Writes and applies the configuration (`zonecfg -z <zone> -f <file>`). */
export async function configureZone(runner: CommandRunner, zone: string, text: string, signal?: AbortSignal): Promise<void> {
  await runner.withTempFile(commandFileName(zone), text, (path) => run(runner, ['zonecfg', '-z', zone, '-f', path], { ...(signal ? { signal } : {}) }));
}

/** `zonecfg -z <zone> delete -F`; 'absent' when there was no such zone. */
export async function deleteZoneConfig(runner: CommandRunner, zone: string, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
  try {
    await run(runner, ['zonecfg', '-z', zone, 'delete', '-F'], { ...(signal ? { signal } : {}) });
    return 'deleted';
  } catch (e) {
    if (e instanceof CommandError && NO_SUCH_ZONE.test(e.stderr)) return 'absent';
    throw e;
  }
}

/**
 * Parses `zonecfg info attr` output (resource blocks `attr:` with tab-indented `name: value` lines).
 * @example parseAttrs('attr:\n\tname: a\n\ttype: string\n\tvalue: b\n') // { a: 'b' }
 */
export function parseAttrs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur: Record<string, string> | undefined;
  const flush = (): void => {
    if (cur?.['name'] !== undefined) out[cur['name']] = cur['value'] ?? '';
  };
  for (const line of text.split('\n')) {
    if (/^attr:\s*$/.test(line)) {
      flush();
      cur = {};
      continue;
    }
    const m = /^\s+([a-z-]+):\s?(.*)$/.exec(line);
    if (m && cur) cur[m[1] as string] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  flush();
  return out;
}

/** The zone's attributes (`zonecfg -z <zone> info attr`); undefined when there is no such zone. */
export async function zoneAttrs(runner: CommandRunner, zone: string, signal?: AbortSignal): Promise<Record<string, string> | undefined> {
  try {
    const r = await run(runner, ['zonecfg', '-z', zone, 'info', 'attr'], { ...(signal ? { signal } : {}) });
    return parseAttrs(r.stdout);
  } catch (e) {
    if (e instanceof CommandError && NO_SUCH_ZONE.test(e.stderr)) return undefined;
    throw e;
  }
}
