// The CRI log reader: kubelet's options over `<instance>.log` and its rotations, and follow.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criLine, formatTimestamp, parseCriLine, parseTimestamp } from '../../src/runtime/logs/cri.ts';
import { NoPreviousInstance, readContainerLog, type LogReadOptions } from '../../src/runtime/logs/reader.ts';
import { realClock } from '../../src/time/clock.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'reddwarf-logs-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** `n` lines `prefix1 … prefixN`, one second apart from `start` s after T0. */
function lines(prefix: string, n: number, start = 0): string {
  return Array.from({ length: n }, (_, i) => criLine(T0 + (start + i) * 1000, 'stdout', `${prefix}${i + 1}`)).join('');
}

async function read(dir: string, opts: LogReadOptions = {}, ctl = {}): Promise<string> {
  const chunks: Buffer[] = [];
  await readContainerLog(dir, opts, (c) => void chunks.push(Buffer.from(c)), ctl);
  return Buffer.concat(chunks).toString();
}

describe('CRI lines', () => {
  it('parses stream, tag and text; rejects what is not CRI', () => {
    const r = parseCriLine(Buffer.from('2026-01-01T00:00:00.5Z stderr P hello world'));
    assert.equal(r?.stream, 'stderr');
    assert.equal(r?.partial, true);
    assert.equal(r?.text.toString(), 'hello world');
    assert.equal(parseCriLine(Buffer.from('2026-01-01T00:00:00Z stdout F ')) ?.text.length, 0);
    assert.equal(parseCriLine(Buffer.from('garbage')), undefined);
    assert.equal(parseCriLine(Buffer.from('2026-01-01T00:00:00Z stdin F x')), undefined);
    assert.equal(parseCriLine(Buffer.from('2026-01-01T00:00:00Z stdout X x')), undefined);
  });

  it('formats timestamps as Go RFC3339Nano (trailing zeros trimmed, zero offset as Z)', () => {
    assert.equal(formatTimestamp('2026-01-01T00:00:00.100000000Z'), '2026-01-01T00:00:00.1Z');
    assert.equal(formatTimestamp('2026-01-01T00:00:00.000000000Z'), '2026-01-01T00:00:00Z');
    assert.equal(formatTimestamp('2026-01-01T00:00:00.123456789+00:00'), '2026-01-01T00:00:00.123456789Z');
    assert.equal(formatTimestamp('2026-01-01T02:00:00.5+02:00'), '2026-01-01T02:00:00.5+02:00');
    assert.equal(parseTimestamp('2026-01-01T02:00:00.000000001+02:00'), BigInt(T0) * 1_000_000n + 1n);
  });
});

describe('reading a container log', () => {
  it('prints the current instance, stdout and stderr, text only', async () => {
    const dir = logDir({ '0.log': lines('old', 2), '1.log': `${criLine(T0, 'stdout', 'out')}${criLine(T0, 'stderr', 'err')}` });
    assert.equal(await read(dir), 'out\nerr\n');
  });

  it('joins P fragments into one line; timestamps prefix each line once', async () => {
    const dir = logDir({ '0.log': `${criLine(T0, 'stdout', 'a', true)}${criLine(T0 + 1, 'stdout', 'b', true)}${criLine(T0 + 2, 'stdout', 'c')}${criLine(T0 + 100, 'stdout', 'd')}` });
    assert.equal(await read(dir), 'abc\nd\n');
    assert.equal(await read(dir, { timestamps: true }), '2026-01-01T00:00:00Z abc\n2026-01-01T00:00:00.1Z d\n');
  });

  it('reads rotated files oldest first, then the current one', async () => {
    const dir = logDir({ '0.log.2': lines('a', 2), '0.log.1': lines('b', 2, 2), '0.log': lines('c', 2, 4) });
    assert.equal(await read(dir), 'a1\na2\nb1\nb2\nc1\nc2\n');
  });

  it('tails over rotated files; tailLines 0 prints nothing', async () => {
    const dir = logDir({ '0.log.1': lines('b', 3), '0.log': lines('c', 2, 3) });
    assert.equal(await read(dir, { tailLines: 3 }), 'b3\nc1\nc2\n');
    assert.equal(await read(dir, { tailLines: 2 }), 'c1\nc2\n');
    assert.equal(await read(dir, { tailLines: 100 }), 'b1\nb2\nb3\nc1\nc2\n');
    assert.equal(await read(dir, { tailLines: 0 }), '');
  });

  it('tails across a 64 KiB read boundary', async () => {
    const big = 'x'.repeat(1000);
    const many = Array.from({ length: 200 }, (_, i) => criLine(T0 + i, 'stdout', `${i} ${big}`)).join('');
    const dir = logDir({ '0.log': many });
    const out = (await read(dir, { tailLines: 150 })).split('\n');
    assert.equal(out.length, 151);
    assert.match(out[0] as string, /^50 x/);
  });

  it('sinceTime and sinceSeconds skip older records', async () => {
    const dir = logDir({ '0.log': lines('l', 5) });
    assert.equal(await read(dir, { sinceTime: '2026-01-01T00:00:03Z' }), 'l4\nl5\n');
    assert.equal(await read(dir, { sinceSeconds: 2 }, { clock: { ...realClock, now: () => T0 + 4000 } }), 'l3\nl4\nl5\n');
  });

  it('limitBytes cuts the output, timestamps included', async () => {
    const dir = logDir({ '0.log': lines('line', 3) });
    assert.equal(await read(dir, { limitBytes: 8 }), 'line1\nli');
    assert.equal(await read(dir, { limitBytes: 10, timestamps: true }), '2026-01-01');
  });

  it('previous reads the instance before the current one, or refuses', async () => {
    const dir = logDir({ '3.log': lines('prev', 1), '4.log': lines('cur', 1) });
    assert.equal(await read(dir, { previous: true }), 'prev1\n');
    await assert.rejects(read(logDir({ '0.log': lines('x', 1) }), { previous: true }), NoPreviousInstance);
  });

  it('skips an overlong record without holding it in memory', async () => {
    const dir = logDir({ '0.log': `${criLine(T0, 'stdout', 'before')}${criLine(T0, 'stdout', 'y'.repeat(3 * 1024 * 1024))}${criLine(T0, 'stdout', 'after')}` });
    assert.equal(await read(dir), 'before\nafter\n');
  });

  it('skips lines that are not CRI; an absent directory is an empty log', async () => {
    assert.equal(await read(logDir({ '0.log': `junk\n${criLine(T0, 'stdout', 'ok')}` })), 'ok\n');
    assert.equal(await read(join(tmpdir(), 'reddwarf-no-such-dir')), '');
  });
});

describe('following a container log', () => {
  /** Follows in the background; returns what has arrived so far and the end. */
  function follow(dir: string, opts: LogReadOptions = {}, ctl: Parameters<typeof readContainerLog>[3] = {}) {
    let text = '';
    const ac = new AbortController();
    const done = readContainerLog(dir, { follow: true, ...opts }, (c) => void (text += c.toString()), { signal: ac.signal, pollMs: 20, ...ctl });
    return { text: () => text, done, abort: () => ac.abort() };
  }
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  it('streams appended lines, follows a rotation, ends when a newer instance appears', async () => {
    const dir = logDir({ '0.log': lines('a', 2) });
    const f = follow(dir, { tailLines: 1 });
    await until(() => f.text() === 'a2\n', 'the tail');
    appendFileSync(join(dir, '0.log'), criLine(T0 + 5000, 'stdout', 'b1'));
    await until(() => f.text() === 'a2\nb1\n', 'an appended line');
    // A line completed in two writes comes out once, whole.
    const line = criLine(T0 + 6000, 'stdout', 'half-and-half');
    appendFileSync(join(dir, '0.log'), line.slice(0, 20));
    appendFileSync(join(dir, '0.log'), line.slice(20));
    await until(() => f.text().endsWith('half-and-half\n'), 'a line written in two parts');
    // Rotation: the supervisor renames and starts a new file.
    appendFileSync(join(dir, '0.log'), criLine(T0 + 7000, 'stdout', 'last-before-rotation'));
    renameSync(join(dir, '0.log'), join(dir, '0.log.1'));
    writeFileSync(join(dir, '0.log'), criLine(T0 + 8000, 'stdout', 'after-rotation'));
    await until(() => f.text().endsWith('last-before-rotation\nafter-rotation\n'), 'the rotated file');
    writeFileSync(join(dir, '1.log'), criLine(T0 + 9000, 'stdout', 'next instance'));
    await f.done;
    assert.doesNotMatch(f.text(), /next instance/);
  });

  it('ends when the instance is reported ended, after what is left', async () => {
    const dir = logDir({ '0.log': lines('a', 1) });
    let ended = false;
    const f = follow(dir, {}, { ended: () => ended });
    await until(() => f.text() === 'a1\n', 'the first line');
    appendFileSync(join(dir, '0.log'), criLine(T0 + 1000, 'stdout', 'bye'));
    ended = true;
    await f.done;
    assert.equal(f.text(), 'a1\nbye\n');
  });

  it('stops when aborted (the client went away), and at limitBytes', async () => {
    const dir = logDir({ '0.log': lines('a', 1) });
    const f = follow(dir);
    await until(() => f.text() === 'a1\n', 'the first line');
    f.abort();
    await f.done;
    const g = follow(dir, { limitBytes: 5 });
    appendFileSync(join(dir, '0.log'), lines('more', 3, 10));
    await g.done;
    assert.equal(g.text(), 'a1\nmo');
  });

  it('waits for the first instance when nothing was logged yet; tail 0 starts at the end', async () => {
    const dir = logDir({});
    const f = follow(dir);
    writeFileSync(join(dir, '0.log'), lines('first', 1));
    await until(() => f.text() === 'first1\n', 'the first instance');
    const g = follow(dir, { tailLines: 0 });
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(join(dir, '0.log'), lines('new', 1, 5));
    await until(() => g.text() === 'new1\n', 'only new lines');
    f.abort();
    g.abort();
    await Promise.all([f.done, g.done]);
  });

  it('backpressure: a slow consumer stops the reading', async () => {
    const dir = logDir({ '0.log': lines('l', 100) });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = readContainerLog(dir, {}, async () => {
      calls++;
      await gate;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls, 1);
    release();
    await done;
    assert.equal(calls, 100);
  });
});
