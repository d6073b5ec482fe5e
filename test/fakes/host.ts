// The simulated illumos host for tests: a temp dir holding the host state and a bin/ of tiny sh
// wrappers named zonecfg, zoneadm, zlogin, dladm, ipadm and zfs that run the node scripts in
// test/fakes/illumos/ (the wrappers are made here, so a fresh clone needs no executable bits).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultHandle, FaultOptions, ZoneStep } from '../../src/runtime/steps.ts';
import { STEP_COMMANDS } from '../../src/runtime/illumos/runtime.ts';

const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), 'illumos');
export const FAKE_TOOLS = ['zonecfg', 'zoneadm', 'zlogin', 'dladm', 'ipadm', 'zfs'] as const;
const POLL_MS = 10;

export interface FakeZone {
  state: string;
  zonepath: string;
  brand: string;
  uuid: string;
  ipType: string;
  id?: number;
  nets: { physical: string; allowedAddress?: string; defrouter?: string }[];
  datasets: string[];
  attrs: { name: string; type: string; value: string }[];
  cappedCpu?: string;
  cappedMemory?: string;
  /** zonecfg `bootargs` (`-i <init>` chooses the zone's init). */
  bootargs?: string;
  /** A real zone's running init (unshare or chroot), recorded by boot; see illumos/zoneproc.js. */
  init?: { pid: number; start: string; root: string; namespaces: boolean };
  text: string;
}

export interface FakeHostState {
  nextZoneId: number;
  zones: Record<string, FakeZone>;
  links: Record<string, { class: string; over: string }>;
  datasets: Record<string, { props: Record<string, string>; origin?: string }>;
  ifs: string[];
  addrs: Record<string, string>;
}

export interface FakeHostOptions {
  /** Pre-create rpool/{zones,images,volumes} and the etherstub `reddwarf0`, as a started agent leaves them. */
  seeded?: boolean;
  /**
   * rpool mounted at `<dir>/root/rpool`, so every dataset is a real directory there (snapshots are
   * copies under `<dir>/snapshots/`, clones copies of them): image layers and zone roots hold files.
   */
  realRoot?: boolean;
}

/** A fault on one tool call, named as `<tool> <verb>` (e.g. `zoneadm install`). */
export interface CommandFault {
  stderr?: string;
  exitCode?: number;
  times?: number;
  hang?: boolean;
  /** Only calls with an argument containing this text. */
  zone?: string;
}

const undisposed = new Set<FakeIllumosHost>();
let exitHook = false;

/** One simulated illumos host. */
export class FakeIllumosHost {
  readonly bin: string;
  private faultSeq = 0;

  private constructor(readonly dir: string) {
    this.bin = join(dir, 'bin');
  }

  /** A fresh host in a new temp dir. */
  static create(opts: FakeHostOptions = {}): FakeIllumosHost {
    const host = new FakeIllumosHost(mkdtempSync(join(tmpdir(), 'reddwarf-fakehost-')));
    undisposed.add(host);
    if (!exitHook) {
      // A test that forgot dispose() (or failed before it) must not leave zone processes running.
      exitHook = true;
      process.on('exit', () => {
        for (const h of undisposed) {
          try {
            h.killZoneProcesses();
          } catch {
            // best effort at exit
          }
        }
      });
    }
    mkdirSync(host.bin);
    for (const t of FAKE_TOOLS) {
      // The wrapper runs the script with node: the script itself needs no exec bit (a fresh clone, a read-only checkout).
      const wrapper = join(host.bin, t);
      // NODE_OPTIONS may carry the test runner's `--import tsx`: the fakes are plain JS and start faster without.
      writeFileSync(wrapper, `#!/bin/sh\nunset NODE_OPTIONS\nexec '${process.execPath}' '${join(SCRIPTS, `${t}.js`)}' "$@"\n`, { mode: 0o755 });
    }
    const state: FakeHostState = { nextZoneId: 1, zones: {}, links: { net0: { class: 'phys', over: '' } }, datasets: { rpool: { props: {} } }, ifs: [], addrs: {} };
    if (opts.realRoot) {
      state.datasets['rpool'] = { props: { mountpoint: join(host.dir, 'root', 'rpool') } };
      mkdirSync(join(host.dir, 'root', 'rpool'), { recursive: true });
    }
    if (opts.seeded) {
      for (const d of ['rpool/zones', 'rpool/images', 'rpool/volumes']) {
        state.datasets[d] = { props: {} };
        if (opts.realRoot) mkdirSync(join(host.dir, 'root', d), { recursive: true });
      }
      state.links['reddwarf0'] = { class: 'etherstub', over: '' };
    }
    writeFileSync(join(host.dir, 'state.json'), JSON.stringify(state));
    return host;
  }

  /** Environment in which the tools resolve to this host (first on PATH). */
  env(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return { ...base, PATH: `${this.bin}:${base['PATH'] ?? ''}`, REDDWARF_FAKE_HOST: this.dir };
  }

  state(): FakeHostState {
    return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as FakeHostState;
  }

  /** Changes the host state under the tools' lock (as an operator or a crash would). */
  modify(fn: (s: FakeHostState) => void): void {
    this.locked(() => {
      const s = this.state();
      fn(s);
      const path = join(this.dir, 'state.json');
      writeFileSync(`${path}.tmp`, JSON.stringify(s));
      renameSync(`${path}.tmp`, path);
    });
  }

  datasets(): string[] {
    return Object.keys(this.state().datasets).sort();
  }

  vnics(): string[] {
    return Object.entries(this.state().links).filter(([, l]) => l.class === 'vnic').map(([n]) => n).sort();
  }

  zones(): Record<string, FakeZone> {
    return this.state().zones;
  }

  /** The host directory a dataset is mounted on (with realRoot: a real directory). */
  mountpoint(dataset: string): string {
    const s = this.state();
    for (let d: string | undefined = dataset; d; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : undefined) {
      const mp = s.datasets[d]?.props['mountpoint'];
      if (mp) return d === dataset ? mp : `${mp}${dataset.slice(d.length)}`;
    }
    return `/${dataset}`;
  }

  /** Every tool call so far, as argv (tool first). */
  commands(): string[][] {
    const path = join(this.dir, 'commands.log');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  }

  /** Makes the next call(s) of `<tool> <verb>` fail with `stderr`, or hang until killed. */
  injectCommandFault(key: string, f: CommandFault = {}): FaultHandle {
    const id = `${process.pid}-${++this.faultSeq}`;
    this.locked(() => {
      const path = join(this.dir, 'faults.json');
      const faults = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown[]) : [];
      faults.push({ id, key, times: f.times ?? 1, stderr: f.stderr, exitCode: f.exitCode ?? 1, hang: f.hang ?? false, zone: f.zone });
      writeFileSync(path, JSON.stringify(faults));
    });
    const fired = join(this.dir, `fired-${id}`);
    const reached = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (!existsSync(this.dir) || existsSync(fired)) {
          clearInterval(t);
          resolve();
        }
      }, POLL_MS);
      t.unref();
    });
    return { reached };
  }

  /** A fault on the tool call behind a ZoneRuntime step (STEP_COMMANDS). */
  injectFault(step: ZoneStep, opts: FaultOptions = {}): FaultHandle {
    return this.injectCommandFault(STEP_COMMANDS[step], { stderr: opts.message ?? `injected ${step} failure`, times: opts.times ?? 1, hang: opts.hang ?? false, ...(opts.zone ? { zone: opts.zone } : {}) });
  }

  /** The zone stops as after a crash (installed; a real zone's processes are killed), or its configuration vanishes with `vanish`. */
  async crash(zoneName: string, opts: { vanish?: boolean } = {}): Promise<void> {
    this.killZoneProcesses(zoneName);
    this.modify((s) => {
      const z = s.zones[zoneName];
      if (!z) throw new Error(`no zone ${zoneName} on the fake host`);
      if (opts.vanish) delete s.zones[zoneName];
      else {
        z.state = 'installed';
        delete z.id;
        delete z.init;
      }
    });
  }

  /** Host path of a zone's root (`<zonepath>/root`). */
  zoneRoot(zoneName: string): string {
    const z = this.zones()[zoneName];
    if (!z) throw new Error(`no zone ${zoneName} on the fake host`);
    return join(z.zonepath, 'root');
  }

  /** The console output (init's stdout and stderr) of a real zone's boots. */
  console(zoneName: string): string {
    const path = join(this.dir, 'console', `${zoneName}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Kills the processes of one real zone, or of all (by PID: inits and anything rooted under the host dir), and waits for them. */
  killZoneProcesses(zoneName?: string): void {
    if (!existsSync(this.dir)) return;
    const r = spawnSync(process.execPath, [join(SCRIPTS, 'zoneproc.js'), ...(zoneName ? ['kill', zoneName] : ['kill-all'])], { env: { ...process.env, NODE_OPTIONS: '', REDDWARF_FAKE_HOST: this.dir }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`fake host: could not kill zone processes: ${r.stderr || r.error?.message}`);
  }

  dispose(): void {
    undisposed.delete(this);
    this.killZoneProcesses();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Disposes every host, even when one fails (a host left behind keeps its zones' processes running). */
  static disposeAll(hosts: Iterable<FakeIllumosHost>): void {
    const errors: unknown[] = [];
    for (const h of hosts) {
      try {
        h.dispose();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'disposing fake hosts');
  }

  private locked<T>(fn: () => T): T {
    const lock = join(this.dir, 'lock');
    for (let i = 0; ; i++) {
      try {
        mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 2000) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      return fn();
    } finally {
      rmdirSync(lock);
    }
  }
}
