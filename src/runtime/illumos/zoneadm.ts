// zoneadm(8): zone states, install, boot, shutdown, halt, uninstall; parses `list -p` lines.
import type { ZoneState } from '../runtime.ts';
import { CommandError, SLOW_TIMEOUT_MS, run, type CommandRunner } from './command.ts';

/** One line of `zoneadm list -p`: `zoneid:zonename:state:zonepath:uuid:brand:ip-type`. */
export interface ZoneadmEntry {
  zoneName: string;
  /** Absent for a zone that is not booted (`-`). */
  zoneId?: number;
  state: Exclude<ZoneState, 'absent'>;
  zonepath: string;
  uuid: string;
  brand: string;
  ipType: string;
}

/** A line of zoneadm output that is not in its parsable format. */
export class ZoneadmParseError extends Error {
  constructor(readonly line: string, problem: string) {
    super(`Malformed zoneadm output: ${problem}. Line: '${line}'`);
    this.name = 'ZoneadmParseError';
  }
}

const STATES: readonly ZoneadmEntry['state'][] = ['configured', 'incomplete', 'installed', 'ready', 'running', 'shutting_down', 'down'];
/** zoneadm's wording for a zone name it does not know. */
export const NO_SUCH_ZONE = /No such zone configured|zone .* unknown/;

/** Splits a parsable line on `:` that are not escaped (zoneadm writes `\:` inside zonepaths). */
function splitFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) cur += line[++i];
    else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Parses one `zoneadm list -p` line (SPEC §5.6): at least 7 fields, a known state, the id as a
 * 32-bit integer when ≥ 0 (`-` for a zone that is not running).
 * @example parseZoneadmLine('1:web:running:/zones/web:abc-123:lx:excl').zoneId // 1
 */
export function parseZoneadmLine(line: string): ZoneadmEntry {
  const f = splitFields(line.trim());
  if (f.length < 7) throw new ZoneadmParseError(line, `expected at least 7 colon-delimited fields, got ${f.length}`);
  const [id = '', zoneName = '', state = '', zonepath = '', uuid = '', brand = '', ipType = ''] = f;
  const known = STATES.find((s) => s === state);
  if (!known) throw new ZoneadmParseError(line, `Unknown zone state: '${state}'`);
  const entry: ZoneadmEntry = { zoneName, state: known, zonepath, uuid, brand, ipType };
  if (/^\d+$/.test(id) && Number(id) <= 2 ** 31 - 1) entry.zoneId = Number(id);
  return entry;
}

/** Every zone, configured ones included, except `global` (`zoneadm list -cp`). */
export async function listZones(runner: CommandRunner, signal?: AbortSignal): Promise<ZoneadmEntry[]> {
  const r = await run(runner, ['zoneadm', 'list', '-cp'], { ...(signal ? { signal } : {}) });
  return r.stdout.split('\n').filter((l) => l.trim()).map(parseZoneadmLine).filter((z) => z.zoneName !== 'global');
}

/** One zone (`zoneadm -z <zone> list -p`), or undefined when there is no such zone (SPEC §11.13). */
export async function zoneEntry(runner: CommandRunner, zone: string, signal?: AbortSignal): Promise<ZoneadmEntry | undefined> {
  try {
    const r = await run(runner, ['zoneadm', '-z', zone, 'list', '-p'], { ...(signal ? { signal } : {}) });
    const line = r.stdout.split('\n').find((l) => l.trim());
    return line === undefined ? undefined : parseZoneadmLine(line);
  } catch (e) {
    if (e instanceof CommandError && NO_SUCH_ZONE.test(e.stderr)) return undefined;
    throw e;
  }
}

/** A zoneadm subcommand that changes a zone's state. */
export type ZoneadmVerb = 'install' | 'boot' | 'shutdown' | 'halt' | 'uninstall';

/** The argv of a state-changing zoneadm call (`install -s <image>` for lx, `uninstall -F`). */
export function zoneadmArgv(zone: string, verb: ZoneadmVerb, imagePath?: string): string[] {
  const argv = ['zoneadm', '-z', zone, verb];
  if (verb === 'install' && imagePath) argv.push('-s', imagePath);
  if (verb === 'uninstall') argv.push('-F');
  return argv;
}

/** Runs a state-changing zoneadm call; throws CommandError (classify with NO_SUCH_ZONE). */
export async function zoneadm(runner: CommandRunner, zone: string, verb: ZoneadmVerb, opts: { imagePath?: string; signal?: AbortSignal } = {}): Promise<void> {
  await run(runner, zoneadmArgv(zone, verb, opts.imagePath), { timeoutMs: SLOW_TIMEOUT_MS, ...(opts.signal ? { signal: opts.signal } : {}) });
}
