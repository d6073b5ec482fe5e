// Reads the simulated host of a process running the mock zone runtime (src/runtime/mock.ts), from
// outside: its state log `<dir>/mock-host.log` replayed, one change a line (a torn last line is a
// change not yet written), or the single JSON file of earlier versions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MockZone {
  spec: { pod: string; uid: string; zoneName: string; network: { vnic: string; ip: string } };
  state: string;
  zoneId?: number;
}

export interface MockHost {
  nextZoneId: number;
  zones: Record<string, MockZone>;
  datasets: string[];
  vnics: string[];
}

type LogEntry = { z: string; r: MockZone | null } | { d: string; on: boolean } | { v: string; on: boolean } | { n: number };

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

/** The host the mock runtime keeps in `zonesDir` (`<data-dir>/zones`); empty when it has none yet. */
export function readMockHost(zonesDir: string): MockHost {
  const log = read(join(zonesDir, 'mock-host.log'));
  if (log === undefined) {
    const legacy = read(join(zonesDir, 'mock-host.json'));
    return legacy === undefined ? { nextZoneId: 1, zones: {}, datasets: [], vnics: [] } : (JSON.parse(legacy) as MockHost);
  }
  const zones = new Map<string, MockZone>();
  const datasets = new Set<string>();
  const vnics = new Set<string>();
  let nextZoneId = 1;
  for (const line of log.split('\n')) {
    let e: LogEntry;
    try {
      e = JSON.parse(line) as LogEntry;
    } catch {
      continue; // the empty tail, or a line being written right now
    }
    if ('z' in e) {
      if (e.r) zones.set(e.z, e.r);
      else zones.delete(e.z);
    } else if ('d' in e) {
      if (e.on) datasets.add(e.d);
      else datasets.delete(e.d);
    } else if ('v' in e) {
      if (e.on) vnics.add(e.v);
      else vnics.delete(e.v);
    } else nextZoneId = e.n;
  }
  return { nextZoneId, zones: Object.fromEntries(zones), datasets: [...datasets], vnics: [...vnics] };
}
