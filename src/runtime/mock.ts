// MockRuntime: a simulated illumos host for other platforms and tests. Zones, datasets and VNICs
// are kept in an append-only log (one line per change), so they survive an agent restart as on a
// real host (upstream's mock lost them, SPEC §5.7) and each step costs the same whatever the number
// of zones; steps take a little time on the runtime's Clock and can be made to fail.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, type Clock } from '../time/clock.ts';
import { InvalidZoneTransition, ZoneAlreadyExists, ZoneError, ZoneNotFound } from './errors.ts';
import { BUNDLE_DIR, type ContainerRuntimeStatus, type DeprovisionReport, type RuntimeContainer, type ZoneRuntime, type ZoneSpec, type ZoneState, type ZoneStatus } from './runtime.ts';
import { criLine } from './logs/cri.ts';
import { carryOn, runWithRollback, type FaultHandle, type FaultOptions, type ZoneStep } from './steps.ts';
import { assertZoneSpec } from './zonespec.ts';

export interface MockRuntimeOptions {
  /** Where the host state log (`mock-host.log`) lives; created when missing. */
  dir: string;
  /** Time each step takes, in ms: fixed or a [min, max] range (default 20–50; tests pass 0). */
  stepDelayMs?: number | readonly [number, number];
  /** Parent of the zone datasets (default `rpool/zones`). */
  zonesDataset?: string;
  /** Step delays and timestamps (boot times, log lines); realClock by default. */
  clock?: Clock;
}

/** A failure injected with `injectFault`. */
export class InjectedFault extends ZoneError {
  constructor(zoneName: string, readonly step: ZoneStep, message: string) {
    super(zoneName, message);
  }
}

interface ZoneRecord {
  spec: ZoneSpec;
  state: ZoneState;
  zoneId?: number;
  /** When the zone last booted (RFC 3339): its containers' startedAt. */
  bootedAt?: string;
  /** Restarts of each container since the zone was provisioned (a new image restarts one). */
  restarts?: Record<string, { count: number; startedAt: string }>;
}

/** The former state file's shape (read once, then carried over into the log; test/helpers/mock-host.ts reads both). */
interface HostFile {
  version: 1;
  nextZoneId: number;
  zones: Record<string, ZoneRecord>;
  datasets: string[];
  vnics: string[];
}

/** One line of the state log: a zone's record (null: gone), a dataset or VNIC there or not, the next zone id. */
type LogEntry =
  | { z: string; r: ZoneRecord | null }
  | { d: string; on: boolean }
  | { v: string; on: boolean }
  | { n: number };

interface Fault extends FaultOptions {
  step: ZoneStep;
  remaining: number;
  fired: () => void;
}

const STATE_LOG = 'mock-host.log';
const LEGACY_FILE = 'mock-host.json';
/** The log is rewritten as a snapshot once it holds this many lines more than 4 × the live entries. */
const COMPACT_SLACK = 1000;
const BOOTED: readonly ZoneState[] = ['running', 'ready', 'shutting_down', 'down'];

/** The ZoneRuntime of hosts that are not illumos. */
export class MockRuntime implements ZoneRuntime {
  readonly kind = 'mock' as const;
  /** The state log. */
  readonly path: string;
  /** Where the simulated zone roots (holding only `.reddwarf/logs`) live. */
  readonly rootsDir: string;
  private readonly delay: readonly [number, number];
  private readonly zonesDataset: string;
  private readonly zones = new Map<string, ZoneRecord>();
  private readonly datasetSet = new Set<string>();
  private readonly vnicSet = new Set<string>();
  private nextZoneId = 1;
  private faults: Fault[] = [];
  private readonly logDirs = new Set<string>();
  /** Log appends and zone-root removals not yet done (note(), forgetRoot()). */
  private fileOps: ({ dir: string; line: string } | { remove: string })[] = [];
  private filesWriting?: Promise<void>;
  /** File ops queued so far, and done so far (a step waits for its own, not for later ones). */
  private filesQueued = 0;
  private filesDone = 0;
  private fileWaiters: { upTo: number; resolve: () => void }[] = [];
  private readonly clock: Clock;
  private readonly legacyPath: string;
  /** Log lines not yet handed to a write. */
  private unwritten: string[] = [];
  private saving: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  private logLines = 0;
  private tmpSeq = 0;

  constructor(opts: MockRuntimeOptions) {
    const d = opts.stepDelayMs ?? [20, 50];
    this.delay = typeof d === 'number' ? [d, d] : d;
    this.zonesDataset = opts.zonesDataset ?? 'rpool/zones';
    this.clock = opts.clock ?? realClock;
    mkdirSync(opts.dir, { recursive: true });
    this.path = join(opts.dir, STATE_LOG);
    this.legacyPath = join(opts.dir, LEGACY_FILE);
    this.rootsDir = join(opts.dir, 'roots');
    this.load();
  }

  async provision(spec: ZoneSpec, signal?: AbortSignal): Promise<ZoneStatus> {
    // The mock installs nothing, so an lx zone needs no image here.
    assertZoneSpec(spec, false);
    const z = spec.zoneName;
    this.checkOwner(spec);
    const dataset = this.datasetOf(z);
    const vnic = spec.network.vnic;
    // Each step adopts what already exists (a provision resumed after a restart); rollback removes
    // it all the same, so a failed provision leaves nothing of this pod behind.
    await runWithRollback(z, [
      {
        name: 'dataset',
        run: (s) => this.step('dataset', z, s, () => this.datasetSet.has(dataset), () => this.setDataset(dataset, true)),
        undo: () => this.destroyDataset(z),
      },
      {
        name: 'vnic',
        run: (s) => this.step('vnic', z, s, () => this.vnicSet.has(vnic), () => this.setVnic(vnic, true)),
        undo: () => this.deleteVnic(z, vnic),
      },
      {
        name: 'configure',
        run: (s) => this.step('configure', z, s, () => this.zones.has(z), () => {
          this.checkOwner(spec);
          this.zones.set(z, { spec: structuredClone(spec), state: 'configured' });
        }),
        undo: () => this.zoneStep('delete', z),
      },
      {
        name: 'install',
        run: (s) => this.step('install', z, s, () => this.must(z).state !== 'configured', () => {
          this.transition(z, ['configured'], 'installed');
          this.note(z, `zone ${z} installed (dataset ${dataset}, vnic ${vnic}, ip ${spec.network.ip}/${spec.network.prefixLen}); no real zone exists on this host`);
        }),
        undo: () => this.zoneStep('uninstall', z),
      },
      {
        name: 'boot',
        run: (s) => this.step('boot', z, s, () => this.must(z).state === 'running', () => this.bootNow(z)),
        undo: () => this.zoneStep('halt', z),
      },
    ], signal);
    // What a zone printed by now is there for `kubectl logs` once the step returns.
    await this.filesWritten();
    return this.status(z);
  }

  async state(zoneName: string): Promise<ZoneState> {
    return this.zones.get(zoneName)?.state ?? 'absent';
  }

  async boot(zoneName: string, signal?: AbortSignal): Promise<ZoneStatus> {
    await this.zoneStep('boot', zoneName, signal);
    // What a zone printed by now is there for `kubectl logs` once the step returns.
    await this.filesWritten();
    return this.status(zoneName);
  }

  async shutdown(zoneName: string, signal?: AbortSignal): Promise<void> {
    await this.zoneStep('shutdown', zoneName, signal);
  }

  async halt(zoneName: string, signal?: AbortSignal): Promise<void> {
    await this.zoneStep('halt', zoneName, signal);
  }

  async deprovision(spec: ZoneSpec, signal?: AbortSignal): Promise<DeprovisionReport> {
    const z = spec.zoneName;
    const owner = this.zones.get(z)?.spec.uid;
    // The name is taken by another pod (a newer one of the same name): none of it is ours to remove.
    // An empty uid means the caller no longer knows the pod (orphan cleanup): it takes whatever is there.
    if (owner !== undefined && spec.uid !== '' && owner !== spec.uid) return { problems: [`zone ${z} belongs to pod uid ${owner}; left alone`] };
    const { problems, attempt } = carryOn(signal);
    // Walk the zone down from whatever state it is in; a zone that is already gone is not a problem.
    for (let record = this.zones.get(z); record; record = this.zones.get(z)) {
      const step: ZoneStep = BOOTED.includes(record.state) ? 'halt' : record.state === 'installed' ? 'uninstall' : 'delete';
      if (!(await attempt(`${step} zone ${z}`, () => this.zoneStep(step, z, signal)))) break;
    }
    // Carry on past a stuck zone: the VNIC and dataset are still worth removing (upstream leaked them).
    if (this.vnicSet.has(spec.network.vnic)) await attempt(`delete vnic ${spec.network.vnic}`, () => this.deleteVnic(z, spec.network.vnic, signal));
    if (this.datasetSet.has(this.datasetOf(z))) await attempt(`destroy dataset ${this.datasetOf(z)}`, () => this.destroyDataset(z, signal));
    return { problems };
  }

  async list(): Promise<ZoneStatus[]> {
    return [...this.zones.keys()].sort().map((z) => this.status(z));
  }

  /**
   * The mock runs no processes: a running zone's containers are reported running since its boot
   * (or their last restart), so pods look as they would on a host, restart counts included.
   */
  async containerStatuses(spec: ZoneSpec): Promise<ContainerRuntimeStatus[]> {
    const r = this.zones.get(spec.zoneName);
    if (!r || r.state !== 'running' || r.spec.uid !== spec.uid) return [];
    return [...r.spec.initContainers.map((c) => ({ c, init: true })), ...r.spec.containers.map((c) => ({ c, init: false }))].map(({ c, init }) => {
      const restart = r.restarts?.[c.name];
      const startedAt = restart?.startedAt ?? r.bootedAt ?? new Date(this.clock.now()).toISOString();
      const count = restart?.count ?? 0;
      // Init containers "complete" at once: nothing runs them here.
      return init
        ? { name: c.name, instance: count, restartCount: count, state: 'terminated' as const, reason: 'Completed', exitCode: 0, signal: 0, startedAt, finishedAt: startedAt, last: null }
        : { name: c.name, instance: count, restartCount: count, state: 'running' as const, startedAt, last: null };
    });
  }

  async stopContainers(): Promise<void> {
    // Nothing runs in a mock zone: there is nothing to stop before the zone goes down.
  }

  async restartContainer(spec: ZoneSpec, container: RuntimeContainer, _graceSec: number, signal?: AbortSignal): Promise<void> {
    const z = spec.zoneName;
    await this.step('boot', z, signal, () => false, () => {
      const r = this.must(z);
      if (r.state !== 'running') throw new ZoneError(z, `cannot restart container ${container.name}: zone is ${r.state}`);
      r.spec.containers = r.spec.containers.map((c) => (c.name === container.name ? structuredClone(container) : c));
      const prev = r.restarts?.[container.name]?.count ?? 0;
      r.restarts = { ...r.restarts, [container.name]: { count: prev + 1, startedAt: new Date(this.clock.now()).toISOString() } };
    });
    this.note(z, `container ${container.name} restarted on image ${container.image?.ref ?? '(none)'}; the mock runtime runs no processes`);
    await this.filesWritten();
  }

  logDir(zoneName: string, container: string): string {
    // Laid out as under a real zone root, so status.json and the logs sit where they would.
    return join(this.rootsDir, zoneName, BUNDLE_DIR, 'logs', container);
  }

  /**
   * Records one of the mock's own steps as a CRI line in each container's `0.log`, clearly
   * labelled: the mock runs no processes, so this is all `kubectl logs` can show. Written in the
   * background, in order with the removal of zone roots (a step never waits on a log line).
   */
  private note(zoneName: string, text: string): void {
    const r = this.zones.get(zoneName);
    if (!r) return;
    const line = criLine(this.clock.now(), 'stdout', `[mock runtime] ${text}`);
    for (const p of [...r.spec.initContainers, ...r.spec.containers]) this.fileOps.push({ dir: this.logDir(zoneName, p.name), line });
    this.writeFiles();
  }

  /** Resolves once every file op queued until now is done. */
  private filesWritten(): Promise<void> {
    const upTo = this.filesQueued + this.fileOps.length;
    if (this.filesDone >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.fileWaiters.push({ upTo, resolve }));
  }

  /** Applies the queued log appends and root removals, in order; one pass at a time. */
  private writeFiles(): void {
    if (this.filesWriting) return;
    this.filesWriting = (async () => {
      while (this.fileOps.length > 0) {
        const ops = this.fileOps;
        this.fileOps = [];
        this.filesQueued += ops.length;
        // Appends up to each removal go together, one write per file.
        let appends = new Map<string, string[]>();
        const flush = async (): Promise<void> => {
          const batch = appends;
          appends = new Map();
          await Promise.all([...batch].map(([dir, lines]) => this.append(dir, lines.join(''))));
        };
        for (const op of ops) {
          if ('remove' in op) {
            await flush();
            await rm(op.remove, { recursive: true, force: true }).catch(() => {});
            for (const d of this.logDirs) if (d.startsWith(`${op.remove}/`)) this.logDirs.delete(d);
          } else {
            const lines = appends.get(op.dir);
            if (lines) lines.push(op.line);
            else appends.set(op.dir, [op.line]);
          }
        }
        await flush();
        this.filesDone += ops.length;
        this.fileWaiters = this.fileWaiters.filter((w) => {
          if (w.upTo > this.filesDone) return true;
          w.resolve();
          return false;
        });
      }
    })().finally(() => (this.filesWriting = undefined));
  }

  private async append(dir: string, text: string): Promise<void> {
    try {
      if (!this.logDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.logDirs.add(dir);
      }
      await appendFile(join(dir, '0.log'), text);
    } catch {
      // A log line is not worth failing a zone step for.
    }
  }

  /** Makes the next `times` attempts of `step` fail (or hang until aborted). */
  injectFault(step: ZoneStep, opts: FaultOptions = {}): FaultHandle {
    let fired!: () => void;
    const reached = new Promise<void>((resolve) => (fired = resolve));
    this.faults.push({ ...opts, step, remaining: opts.times ?? 1, fired });
    return { reached };
  }

  /** Drops every fault not yet used. */
  clearFaults(): void {
    this.faults = [];
  }

  /** The zone stops as a crashed zone does (`installed`), or vanishes altogether with `vanish`. */
  async crash(zoneName: string, opts: { vanish?: boolean } = {}): Promise<void> {
    const record = this.must(zoneName);
    this.note(zoneName, `zone ${zoneName} crashed (simulated)`);
    if (opts.vanish) this.zones.delete(zoneName);
    else {
      record.state = 'installed';
      delete record.zoneId;
    }
    this.record({ z: zoneName, r: this.zones.get(zoneName) ?? null });
    await this.save();
  }

  private forgetRoot(zoneName: string): void {
    this.fileOps.push({ remove: join(this.rootsDir, zoneName) });
    this.writeFiles();
  }

  /** The zone datasets that exist on the simulated host. */
  datasets(): string[] {
    return [...this.datasetSet].sort();
  }

  /** The VNICs that exist on the simulated host. */
  vnics(): string[] {
    return [...this.vnicSet].sort();
  }

  /** Resolves once every state change so far is on disk. */
  async flushed(): Promise<void> {
    await this.saving;
    await this.filesWriting;
  }

  private datasetOf(zoneName: string): string {
    return `${this.zonesDataset}/${zoneName}`;
  }

  private status(zoneName: string): ZoneStatus {
    const r = this.zones.get(zoneName);
    const s: ZoneStatus = { zoneName, state: r?.state ?? 'absent' };
    if (r?.zoneId !== undefined) s.zoneId = r.zoneId;
    return s;
  }

  private must(zoneName: string): ZoneRecord {
    const r = this.zones.get(zoneName);
    if (!r) throw new ZoneNotFound(zoneName);
    return r;
  }

  /** A zone of this name that belongs to another pod is never adopted or undone. */
  private checkOwner(spec: ZoneSpec): void {
    const r = this.zones.get(spec.zoneName);
    if (r && r.spec.uid !== spec.uid) throw new ZoneAlreadyExists(spec.zoneName, r.spec.uid);
  }

  private transition(zoneName: string, from: readonly ZoneState[], to: ZoneState): void {
    const r = this.must(zoneName);
    if (!from.includes(r.state)) throw new InvalidZoneTransition(zoneName, r.state, to);
    r.state = to;
    if (to !== 'running') delete r.zoneId;
  }

  private bootNow(zoneName: string): void {
    this.transition(zoneName, ['installed', 'ready'], 'running');
    const r = this.must(zoneName);
    r.zoneId = this.nextZoneId++;
    this.record({ n: this.nextZoneId });
    r.bootedAt = new Date(this.clock.now()).toISOString();
    this.note(zoneName, `zone ${zoneName} is running; the mock runtime runs no processes, so containers print nothing`);
  }

  /** One zoneadm/zonecfg operation on an existing zone, with the upstream mock's state rules. */
  private async zoneStep(step: 'boot' | 'shutdown' | 'halt' | 'uninstall' | 'delete', zoneName: string, signal?: AbortSignal): Promise<void> {
    this.must(zoneName);
    const effects = {
      boot: () => this.bootNow(zoneName),
      shutdown: () => {
        this.transition(zoneName, ['running'], 'installed');
        this.note(zoneName, `zone ${zoneName} shut down`);
      },
      halt: () => {
        this.transition(zoneName, BOOTED, 'installed');
        this.note(zoneName, `zone ${zoneName} halted`);
      },
      uninstall: () => this.transition(zoneName, ['installed'], 'configured'),
      delete: () => {
        this.transition(zoneName, ['configured', 'incomplete'], 'absent');
        this.zones.delete(zoneName);
        // The zone root goes with the zone, logs included (as zoneadm uninstall removes them).
        this.forgetRoot(zoneName);
      },
    };
    return this.step(step, zoneName, signal, () => false, effects[step]);
  }

  private deleteVnic(zoneName: string, vnic: string, signal?: AbortSignal): Promise<void> {
    return this.step('vnic-delete', zoneName, signal, () => !this.vnicSet.has(vnic), () => {
      // As dladm does: a link in use by a booted zone cannot go.
      if (this.usedByBootedZone((r) => r.spec.network.vnic === vnic)) throw new ZoneError(zoneName, `vnic ${vnic} is busy (in use by a running zone)`);
      this.setVnic(vnic, false);
    });
  }

  private destroyDataset(zoneName: string, signal?: AbortSignal): Promise<void> {
    const dataset = this.datasetOf(zoneName);
    return this.step('dataset-destroy', zoneName, signal, () => !this.datasetSet.has(dataset), () => {
      if (this.usedByBootedZone((r) => r.spec.zoneName === zoneName)) throw new ZoneError(zoneName, `cannot destroy '${dataset}': dataset is busy`);
      this.setDataset(dataset, false);
    });
  }

  private usedByBootedZone(match: (r: ZoneRecord) => boolean): boolean {
    return [...this.zones.values()].some((r) => BOOTED.includes(r.state) && match(r));
  }

  /**
   * Runs one step: nothing when `done()` already holds, else the step's delay, an injected fault if
   * one is armed, then `effect` (which checks the state it needs at that moment) and a save of
   * what it changed: the zone's record (and any dataset, VNIC or zone id it set) as log lines.
   */
  private async step(step: ZoneStep, zoneName: string, signal: AbortSignal | undefined, done: () => boolean, effect: () => void): Promise<void> {
    signal?.throwIfAborted();
    if (done()) return;
    const [min, max] = this.delay;
    if (max > 0) await delay(this.clock, min + Math.random() * (max - min), signal);
    const fault = this.takeFault(step, zoneName);
    if (fault) {
      fault.fired();
      if (fault.hang) await hangUntil(signal);
      throw new InjectedFault(zoneName, step, fault.message ?? `injected ${step} failure for zone ${zoneName}`);
    }
    signal?.throwIfAborted();
    effect();
    this.record({ z: zoneName, r: this.zones.get(zoneName) ?? null });
    await this.save();
  }

  private setDataset(dataset: string, on: boolean): void {
    if (on) this.datasetSet.add(dataset);
    else this.datasetSet.delete(dataset);
    this.record({ d: dataset, on });
  }

  private setVnic(vnic: string, on: boolean): void {
    if (on) this.vnicSet.add(vnic);
    else this.vnicSet.delete(vnic);
    this.record({ v: vnic, on });
  }

  /** Queues one change for the log. */
  private record(e: LogEntry): void {
    this.unwritten.push(`${JSON.stringify(e)}\n`);
  }

  private takeFault(step: ZoneStep, zoneName: string): Fault | undefined {
    const fault = this.faults.find((f) => f.step === step && f.remaining > 0 && (f.zone === undefined || f.zone === zoneName));
    if (fault) fault.remaining--;
    return fault;
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.loadLegacy();
      return;
    }
    const lines = text.split('\n');
    // A crash mid-append leaves a torn last line: that change never happened.
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((line, i) => {
      let e: LogEntry;
      try {
        e = JSON.parse(line) as LogEntry;
      } catch (err) {
        if (i === lines.length - 1) return;
        throw new Error(`mock host state ${this.path} is not valid: line ${i + 1} is not JSON`, { cause: err });
      }
      this.apply(e);
    });
    this.logLines = lines.length;
  }

  /** The single JSON file of earlier versions: read, then rewritten as a log by the first compaction. */
  private loadLegacy(): void {
    if (!existsSync(this.legacyPath)) return;
    let file: HostFile;
    try {
      file = JSON.parse(readFileSync(this.legacyPath, 'utf8')) as HostFile;
    } catch (e) {
      throw new Error(`mock host state ${this.legacyPath} is not valid JSON`, { cause: e });
    }
    if (file.version !== 1) throw new Error(`mock host state ${this.legacyPath} has unknown version ${String(file.version)}`);
    this.nextZoneId = file.nextZoneId;
    for (const [name, record] of Object.entries(file.zones)) this.zones.set(name, record);
    for (const d of file.datasets) this.datasetSet.add(d);
    for (const v of file.vnics) this.vnicSet.add(v);
    this.logLines = Infinity;
  }

  private apply(e: LogEntry): void {
    if ('z' in e) {
      if (e.r) this.zones.set(e.z, e.r);
      else this.zones.delete(e.z);
    } else if ('d' in e) {
      if (e.on) this.datasetSet.add(e.d);
      else this.datasetSet.delete(e.d);
    } else if ('v' in e) {
      if (e.on) this.vnicSet.add(e.v);
      else this.vnicSet.delete(e.v);
    } else this.nextZoneId = e.n;
  }

  /**
   * Appends the queued changes. One write is in flight and at most one waits behind it, taking
   * every change queued until it starts: a step costs its own lines, not the host's. When the log
   * has grown well past the live state it is rewritten as a snapshot (tmp + fsync + rename).
   */
  private save(): Promise<void> {
    if (this.queued) return this.queued;
    const write = this.saving.then(async () => {
      this.queued = undefined;
      const lines = this.unwritten;
      this.unwritten = [];
      const live = this.zones.size + this.datasetSet.size + this.vnicSet.size + 1;
      if (this.logLines + lines.length > COMPACT_SLACK + 4 * live) return this.compact();
      if (lines.length === 0) return;
      await appendFile(this.path, lines.join(''));
      this.logLines += lines.length;
    });
    this.queued = write;
    this.saving = write.catch(() => {});
    return write;
  }

  /** The log rewritten as one line per live zone, dataset and VNIC (the state as of now). */
  private async compact(): Promise<void> {
    const lines: string[] = [`${JSON.stringify({ n: this.nextZoneId } satisfies LogEntry)}\n`];
    for (const [z, r] of this.zones) lines.push(`${JSON.stringify({ z, r } satisfies LogEntry)}\n`);
    for (const d of this.datasetSet) lines.push(`${JSON.stringify({ d, on: true } satisfies LogEntry)}\n`);
    for (const v of this.vnicSet) lines.push(`${JSON.stringify({ v, on: true } satisfies LogEntry)}\n`);
    await writeAtomically(this.path, `${this.path}.${process.pid}.${this.tmpSeq++}.tmp`, lines.join(''));
    this.logLines = lines.length;
    await rm(this.legacyPath, { force: true });
  }
}

/** Resolves after `ms` on `clock`; rejects with the abort reason when `signal` aborts first. */
function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** tmp + fsync + rename: a reader (or a crash) sees the old file or the new one, never half of one. */
async function writeAtomically(path: string, tmp: string, text: string): Promise<void> {
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** A step that never finishes: rejects with the abort reason when (and only if) `signal` aborts. */
function hangUntil(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
