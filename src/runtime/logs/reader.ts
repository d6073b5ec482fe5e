// Reads a container's CRI log directory (`<instance>.log` and its rotations `.1 … .N`, as the zone supervisor writes them: supervisor/bundle.ts)
// with kubelet's options: the current or previous instance, tail over rotated files, since,
// timestamps, limitBytes, and follow (tails the current file through rotations until the instance
// ends or the reader is aborted). Streams: never a whole file in memory.
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CriWriter, LimitReached, parseCriLine, parseTimestamp, type LogOut } from './cri.ts';
import { realClock, type Clock } from '../../time/clock.ts';

export interface LogReadOptions {
  follow?: boolean;
  previous?: boolean;
  /** Only records at or after this time (RFC 3339); wins over sinceSeconds as in kubelet when both reach here. */
  sinceTime?: string;
  sinceSeconds?: number;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
}

export interface LogReadControl {
  signal?: AbortSignal;
  /** Whether `instance` has ended (e.g. status.json says terminated); asked while following. */
  ended?: (instance: number) => boolean | Promise<boolean>;
  /** Longest wait between checks while following when no fs event comes (default 250 ms). */
  pollMs?: number;
  /** What sinceSeconds counts back from and the follow poll waits on (default realClock). */
  clock?: Clock;
}

/** `-p` asked for an instance before the current one, and there is none. */
export class NoPreviousInstance extends Error {
  constructor(dir: string) {
    super(`no previous instance in ${dir}`);
  }
}

const CHUNK = 64 * 1024;
const LOG_RE = /^(\d+)\.log(?:\.(\d+))?$/;

/** The instance numbers present in `dir`, ascending (from `<n>.log` and `<n>.log.<k>`). */
export async function instances(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const set = new Set<number>();
  for (const n of names) {
    const m = LOG_RE.exec(n);
    if (m) set.add(Number(m[1]));
  }
  return [...set].sort((a, b) => a - b);
}

/** The files of one instance, oldest first: `.K … .1`, then the current `<n>.log` (if present). */
async function instanceFiles(dir: string, instance: number): Promise<string[]> {
  const rotated: number[] = [];
  let current = false;
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const m = LOG_RE.exec(n);
    if (!m || Number(m[1]) !== instance) continue;
    if (m[2] === undefined) current = true;
    else rotated.push(Number(m[2]));
  }
  rotated.sort((a, b) => b - a);
  return [...rotated.map((k) => join(dir, `${instance}.log.${k}`)), ...(current ? [join(dir, `${instance}.log`)] : [])];
}

/**
 * Where the last `lines` complete lines start over `files` (oldest first, read as one stream):
 * [file index, offset]. It is just after the (lines+1)-th newline from the end; bytes after the
 * last newline are a record still being written.
 */
async function tailStart(files: string[], lines: number): Promise<[number, number]> {
  if (lines <= 0) {
    // Nothing of the past; a follow starts at the current end.
    const last = files.length - 1;
    return last < 0 ? [0, 0] : [last, (await stat(files[last] as string).catch(() => ({ size: 0 }))).size];
  }
  let seen = 0;
  const buf = Buffer.alloc(CHUNK);
  for (let f = files.length - 1; f >= 0; f--) {
    const fh = await open(files[f] as string, 'r').catch(() => undefined);
    if (!fh) continue;
    try {
      for (let end = (await fh.stat()).size; end > 0;) {
        const start = Math.max(0, end - CHUNK);
        const { bytesRead } = await fh.read(buf, 0, end - start, start);
        for (let i = bytesRead - 1; i >= 0; i--) {
          if (buf[i] === 0x0a && ++seen === lines + 1) return [f, start + i + 1];
        }
        end = start;
      }
    } finally {
      await fh.close();
    }
  }
  return [0, 0];
}

/** A record longer than this is not CRI (writers split lines at 16 KiB): it is skipped, not buffered. */
const MAX_RECORD = 1024 * 1024;

/** Splits bytes into lines, keeping an unfinished one for the next chunk. */
class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);
  /** Inside an overlong record: drop bytes up to its newline. */
  private skipping = false;

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let from = 0;
    for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, from)) {
      if (!this.skipping) out.push(data.subarray(from, i));
      this.skipping = false;
      from = i + 1;
    }
    // Copy: the chunk buffer is reused by the next read.
    this.rest = Buffer.from(data.subarray(from));
    if (this.rest.length > MAX_RECORD) {
      this.rest = Buffer.alloc(0);
      this.skipping = true;
    }
    return out;
  }
}

/**
 * Streams a container's log to `out`. Resolves when done (not following: at the end of the
 * instance's files; following: when the instance ends, the limit is reached or the signal aborts).
 */
export async function readContainerLog(dir: string, opts: LogReadOptions, out: LogOut, ctl: LogReadControl = {}): Promise<void> {
  const clock = ctl.clock ?? realClock;
  let sinceNs: bigint | undefined;
  if (opts.sinceTime !== undefined) sinceNs = parseTimestamp(opts.sinceTime);
  else if (opts.sinceSeconds !== undefined) sinceNs = BigInt(clock.now() - opts.sinceSeconds * 1000) * 1_000_000n;
  const writer = new CriWriter(out, { timestamps: opts.timestamps, sinceNs, limitBytes: opts.limitBytes });
  const signal = ctl.signal;

  let all = await instances(dir);
  let instance: number;
  if (opts.previous) {
    if (all.length < 2) throw new NoPreviousInstance(dir);
    instance = all[all.length - 2] as number;
  } else if (all.length > 0) {
    instance = all[all.length - 1] as number;
  } else {
    if (!opts.follow) return;
    // Nothing logged yet: wait for the first instance (or the end).
    const waiter = new ChangeWaiter(dir, ctl.pollMs ?? 250, clock, signal);
    try {
      for (;;) {
        if (signal?.aborted) return;
        all = await instances(dir);
        if (all.length > 0) break;
        if (await ctl.ended?.(0)) return;
        await waiter.wait();
      }
    } finally {
      waiter.close();
    }
    instance = all[all.length - 1] as number;
  }

  const files = await instanceFiles(dir, instance);
  let [first, offset] = opts.tailLines !== undefined ? await tailStart(files, opts.tailLines) : [0, 0];
  const current = join(dir, `${instance}.log`);
  const splitter = new LineSplitter();
  const emit = async (lines: Buffer[]): Promise<void> => {
    for (const l of lines) {
      const r = parseCriLine(l);
      if (r) await writer.write(r);
    }
  };
  try {
    // Rotated files (and, when not following, the current one): read to their end.
    const last = opts.follow && !opts.previous ? files.length - 1 : files.length;
    for (let f = first; f < files.length; f++) {
      if (signal?.aborted) return;
      const path = files[f] as string;
      if (f === last && path === current) break;
      const fh = await open(path, 'r').catch(() => undefined);
      if (!fh) continue;
      try {
        await drain(fh, f === first ? offset : 0, splitter, emit, signal);
      } finally {
        await fh.close();
      }
      first = f + 1;
      offset = 0;
    }
    if (!opts.follow || opts.previous) return;
    const startAt = first < files.length && files[first] === current ? offset : 0;
    await follow(dir, instance, current, startAt, splitter, emit, ctl);
  } catch (e) {
    if (e instanceof LimitReached) return;
    throw e;
  }
}

/** Reads `fh` from `pos` to its current end; returns the new position. */
async function drain(fh: FileHandle, pos: number, splitter: LineSplitter, emit: (l: Buffer[]) => Promise<void>, signal?: AbortSignal): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    if (signal?.aborted) return pos;
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    await emit(splitter.push(buf.subarray(0, bytesRead)));
  }
}

/** Follows the current file of `instance`: through rotations, until the instance ends or the signal aborts. */
async function follow(dir: string, instance: number, current: string, startAt: number, splitter: LineSplitter, emit: (l: Buffer[]) => Promise<void>, ctl: LogReadControl): Promise<void> {
  const signal = ctl.signal;
  const waiter = new ChangeWaiter(dir, ctl.pollMs ?? 250, ctl.clock ?? realClock, signal);
  let fh: FileHandle | undefined;
  let ino = -1;
  let pos = startAt;
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (!fh) {
        fh = await open(current, 'r').catch(() => undefined);
        if (fh) ino = (await fh.stat()).ino;
      }
      if (fh) pos = await drain(fh, pos, splitter, emit, signal);
      // Rotated: the path names a new file. What the old one still held is read above; start the new one.
      const st = await stat(current).catch(() => undefined);
      if (fh && (!st || st.ino !== ino)) {
        pos = await drain(fh, pos, splitter, emit, signal);
        await fh.close();
        fh = undefined;
        pos = 0;
        if (st) continue;
      } else if (fh && st && st.size < pos) {
        // Truncated in place (copytruncate): start over.
        pos = 0;
        continue;
      }
      // The instance is over when a newer one exists or its status says so; read what is left, then end.
      const newer = (await instances(dir)).some((n) => n > instance);
      if (newer || (await ctl.ended?.(instance))) {
        if (fh) await drain(fh, pos, splitter, emit, signal);
        return;
      }
      await waiter.wait();
    }
  } finally {
    waiter.close();
    await fh?.close();
  }
}

/** Resolves on the next change in `dir` (fs.watch), after `pollMs` at the latest, or on abort. */
class ChangeWaiter {
  private watcher?: FSWatcher;
  private wake?: () => void;
  private changed = false;

  constructor(dir: string, private readonly pollMs: number, private readonly clock: Clock, private readonly signal?: AbortSignal) {
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.poke());
      this.watcher.on('error', () => this.close());
    } catch {
      // No directory yet, or no inotify: the poll carries on alone.
    }
    signal?.addEventListener('abort', this.poke, { once: true });
  }

  private readonly poke = (): void => {
    this.changed = true;
    this.wake?.();
  };

  async wait(): Promise<void> {
    if (this.changed || this.signal?.aborted) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(t);
        resolve();
      };
      const t = this.clock.setTimeout(done, this.pollMs);
      this.wake = done;
    });
    this.wake = undefined;
    this.changed = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.signal?.removeEventListener('abort', this.poke);
  }
}
