// The simulated illumos host's shared state: one JSON file in $REDDWARF_FAKE_HOST, a lock around
// every read-modify-write, the command log, and injected faults. Plain JS so the tools start fast.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = process.env.REDDWARF_FAKE_HOST;
const LOCK_WAIT_MS = 10_000;

/** A fresh host: the pool `rpool` and a physical NIC `net0`. */
export function emptyHost() {
  return {
    nextZoneId: 1,
    zones: {},
    links: { net0: { class: 'phys', over: '' } },
    datasets: { rpool: { props: {} } },
    ifs: [],
    addrs: {},
  };
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Exits like a failed tool: stderr and a status. */
export function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs `fn(state)` under the host lock and saves the state it leaves (unless fn returns false). */
export function withHost(fn) {
  if (!DIR) fail('fake illumos host: REDDWARF_FAKE_HOST is not set', 2);
  const lock = join(DIR, 'lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() > deadline) fail('fake illumos host: lock timeout', 2);
      sleepSync(3);
    }
  }
  let out;
  try {
    const path = join(DIR, 'state.json');
    let state;
    try {
      state = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      state = emptyHost();
    }
    out = fn(state);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1));
    renameSync(tmp, path);
  } finally {
    rmdirSync(lock);
  }
  return out;
}

/**
 * Logs the command, then applies an injected fault whose `key` (`<tool> <verb>`) matches: prints
 * its stderr and exits, or hangs until killed. Faults live in faults.json: [{id, key, zone?, times,
 * stderr, exitCode, hang}]; each firing writes `fired-<id>` so a test can wait for it.
 */
export function preamble(tool, verb, argv) {
  if (!DIR) fail('fake illumos host: REDDWARF_FAKE_HOST is not set', 2);
  appendFileSync(join(DIR, 'commands.log'), `${JSON.stringify([tool, ...argv])}\n`);
  const key = `${tool} ${verb}`;
  const fault = withFaults((faults) => {
    const f = faults.find((x) => x.key === key && x.times > 0 && (!x.zone || argv.some((a) => a.includes(x.zone))));
    if (f) f.times--;
    return f;
  });
  if (!fault) return;
  writeFileSync(join(DIR, `fired-${fault.id}`), '');
  if (fault.hang) {
    setInterval(() => {}, 60_000);
    return 'hang';
  }
  fail(fault.stderr ?? `${tool}: injected failure`, fault.exitCode ?? 1);
}

function withFaults(fn) {
  const path = join(DIR, 'faults.json');
  let faults;
  try {
    faults = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!faults.some((f) => f.times > 0)) return undefined;
  return withHost(() => {
    const current = JSON.parse(readFileSync(path, 'utf8'));
    const out = fn(current);
    if (out) writeFileSync(path, JSON.stringify(current));
    return out;
  });
}

/** The zone whose net uses `link`, if it is booted. */
export function bootedZoneUsingLink(state, link) {
  return Object.entries(state.zones).find(([, z]) => isBooted(z) && z.nets.some((n) => n.physical === link))?.[0];
}

export const isBooted = (z) => ['running', 'ready', 'shutting_down', 'down'].includes(z.state);

/** Where a dataset is mounted: its mountpoint property, else inherited from the nearest ancestor that sets one, else `/<name>`. */
export function mountpointOf(state, name) {
  const own = state.datasets[name]?.props?.mountpoint;
  if (own) return own;
  const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : undefined;
  if (parent) {
    const up = mountpointOf(state, parent);
    if (up !== `/${parent}`) return up === 'none' || up === 'legacy' ? up : `${up}/${name.slice(parent.length + 1)}`;
  }
  return `/${name}`;
}

/** Whether a mountpoint lies under the fake host's dir: such datasets are real directories. */
export function isRealMount(mountpoint) {
  return Boolean(DIR) && typeof mountpoint === 'string' && mountpoint.startsWith(`${DIR}/`);
}

/** Where the fake keeps a snapshot's copy of its dataset's files. */
export function snapshotDir(snapshot) {
  return join(DIR, 'snapshots', snapshot.replaceAll('/', '%'));
}

/** Runs `main(argv)` as the tool's entry point; a hanging fault keeps the process alive. */
export function tool(name, verbOf, main) {
  const argv = process.argv.slice(2);
  if (preamble(name, verbOf(argv), argv) === 'hang') return;
  try {
    const code = main(argv);
    process.exitCode = typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e && e.toolExit) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = e.code;
    } else throw e;
  }
}

/** A tool failure thrown from inside withHost (the state is still saved unchanged). */
export function toolError(message, code = 1) {
  return Object.assign(new Error(message), { toolExit: true, code });
}
