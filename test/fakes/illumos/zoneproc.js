#!/usr/bin/env node
// Real zones on the simulated illumos host: a zone whose zonepath lies under the fake host's dir
// gets a real root (`<zonepath>/root`) filled at install, and boot runs its init there — chrooted,
// in its own PID and mount namespaces through unshare(1) when we are root. Halting kills every
// process whose root is inside the zone root, by PID. Zones elsewhere stay records only.
// Run as a script, `zoneproc.js kill-all` kills every zone process of $REDDWARF_FAKE_HOST (dispose).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolError } from './host.js';

const DIR = process.env.REDDWARF_FAKE_HOST;
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const HALT_WAIT_MS = 10_000;
/** Brands whose install lays down the host's own userland (here: busybox-static). */
export const NATIVE_BRANDS = ['ipkg', 'lipkg', 'nlipkg', 'sparse', 'pkgsrc', 'joyent', 'joyent-minimal', 'illumos'];

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** A host tool's absolute path, or undefined. */
export function which(name) {
  for (const d of SYSTEM_PATH.split(':').concat((process.env.PATH ?? '').split(':'))) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      if (!p.startsWith(join(DIR ?? '/nonexistent', 'bin'))) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether this zone's files are real (its zonepath lies under the fake host's dir). */
export function isReal(z) {
  return !!DIR && !!z.zonepath && resolve(z.zonepath).startsWith(resolve(DIR) + '/');
}

export const zoneRoot = (z) => join(z.zonepath, 'root');

/** The static busybox to give native zones (REDDWARF_FAKE_BUSYBOX, else /bin/busybox). */
function busybox() {
  for (const p of [process.env.REDDWARF_FAKE_BUSYBOX, '/bin/busybox', '/usr/bin/busybox']) if (p && existsSync(p)) return p;
  return undefined;
}

/** Whether an ELF64 file has no program interpreter (statically linked: it runs in any chroot). */
export function isStaticElf(path) {
  try {
    const b = readFileSync(path);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
    const phoff = Number(b.readBigUInt64LE(0x20));
    const size = b.readUInt16LE(0x36);
    const count = b.readUInt16LE(0x38);
    for (let i = 0; i < count; i++) if (b.readUInt32LE(phoff + i * size) === 3) return false; // PT_INTERP
    return true;
  } catch {
    return false;
  }
}

/** A native zone's userland: /usr/bin/busybox with a link per applet, /bin → usr/bin as on illumos. */
export function fillNative(root) {
  const bb = busybox();
  if (!bb || !isStaticElf(bb)) throw toolError(`zoneadm: the simulated host needs a static busybox (Debian busybox-static) to install a native zone${bb ? `: ${bb} is dynamically linked` : ''}`);
  for (const d of ['usr/bin', 'sbin', 'etc', 'dev', 'proc', 'var/tmp']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true, mode: 0o1777 });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync(bb, join(root, 'usr/bin/busybox'));
  chmodSync(join(root, 'usr/bin/busybox'), 0o755);
  const applets = spawnSync(bb, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  for (const a of applets) {
    try {
      symlinkSync('busybox', join(root, 'usr/bin', a));
    } catch {
      // already there
    }
  }
  if (!existsSync(join(root, 'bin'))) symlinkSync('usr/bin', join(root, 'bin'));
  if (!existsSync(join(root, 'sbin/sh'))) symlinkSync('../usr/bin/busybox', join(root, 'sbin/sh'));
  const files = { 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:60001:60001:nobody:/:\n', 'etc/group': 'root::0:\nnobody::60001:\n' };
  for (const [f, text] of Object.entries(files)) if (!existsSync(join(root, f))) writeFileSync(join(root, f), text);
}

/** Where `-s <snapshot|dataset|dir>` really is, or undefined when it names only a record (fake images). */
export function sourceDir(state, source, mountpointOf) {
  if (source.startsWith('/')) return existsSync(source) ? source : undefined;
  const [ds, snap] = source.split('@');
  if (snap !== undefined) {
    const p = join(DIR, 'snapshots', `${ds.replace(/\//g, '%')}@${snap}`);
    return existsSync(p) ? p : undefined;
  }
  if (!state.datasets[ds]) return undefined;
  const mp = mountpointOf(state, ds);
  return mp.startsWith(resolve(DIR) + '/') && existsSync(mp) ? mp : undefined;
}

/** zoneadm's validate_zonepath: an existing zonepath is root's and exactly 0700. */
export function checkZonepath(zone, zonepath) {
  if (!existsSync(zonepath)) {
    mkdirSync(zonepath, { recursive: true, mode: 0o700 });
    return;
  }
  const st = statSync(zonepath);
  const errs = [];
  if (isRoot() && st.uid !== 0) errs.push(`${zonepath} is not owned by root.`);
  if (st.mode & 0o040) errs.push(`${zonepath} must not be group readable.`);
  if (st.mode & 0o020) errs.push(`${zonepath} must not be group writable.`);
  if (st.mode & 0o010) errs.push(`${zonepath} must not be group executable.`);
  if (st.mode & 0o004) errs.push(`${zonepath} must not be world readable.`);
  if (st.mode & 0o002) errs.push(`${zonepath} must not be world writable.`);
  if (st.mode & 0o001) errs.push(`${zonepath} must not be world executable.`);
  if (errs.length > 0) throw toolError(`${errs.join('\n')}\ncould not verify zonepath ${zonepath} because of the above errors.\nzoneadm: zone ${zone} failed to verify`);
}

/** Installs a real zone root: from a directory (cp -a), a tarball (-t, GNU tar), or busybox for native brands. */
export function installRoot(zone, z, opts) {
  checkZonepath(zone, z.zonepath);
  const root = zoneRoot(z);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  if (opts.tarball) {
    if (!existsSync(opts.tarball)) throw toolError(`zoneadm: zone '${zone}': ${opts.tarball}: No such file or directory`);
    const r = spawnSync('tar', ['-xf', opts.tarball, '-C', root, '--numeric-owner'], { encoding: 'utf8' });
    if (r.status !== 0) throw toolError(`zoneadm: zone '${zone}': could not extract ${opts.tarball}: ${r.stderr.trim()}`);
  } else if (opts.dir) {
    if (statSync(opts.dir).isFile()) throw toolError(`cannot receive: invalid stream (bad magic number)\nzoneadm: zone '${zone}': ${opts.dir} is not a ZFS send stream (a tarball needs -t)`);
    const r = spawnSync('cp', ['-a', `${opts.dir}/.`, root], { encoding: 'utf8' });
    if (r.status !== 0) throw toolError(`zoneadm: zone '${zone}': could not copy ${opts.dir}: ${r.stderr.trim()}`);
  } else if (NATIVE_BRANDS.includes(z.brand)) fillNative(root);
  for (const d of ['proc', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
}

/** `-i <init>` and the rest of zonecfg bootargs (zoneadmd's parsing: init defaults to /sbin/init). */
export function parseBootargs(text) {
  const words = (text ?? '').trim().split(/\s+/).filter(Boolean);
  let init = '/sbin/init';
  const rest = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-i' && words[i + 1]) init = words[++i];
    else rest.push(words[i]);
  }
  return { init, rest };
}

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), start: f[19] };
  } catch {
    return undefined;
  }
}

/** Whether the process recorded as {pid, start} still runs (a zombie or a reused pid does not count). */
export function alive(p) {
  if (!p?.pid) return false;
  const st = procStat(p.pid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && st.start === p.start;
}

/** Every live process whose root directory is inside `root`. */
export function processesIn(root) {
  const out = [];
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  const prefix = resolve(root);
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    let r;
    try {
      r = readlinkSync(`/proc/${n}/root`);
    } catch {
      continue;
    }
    if (r !== prefix && !r.startsWith(prefix + '/')) continue;
    const st = procStat(n);
    if (st && st.state !== 'Z') out.push(Number(n));
  }
  return out;
}

/** The namespace's init (unshare --fork's child), to enter its namespaces from zlogin. */
export function nsInit(p) {
  if (!alive(p)) return undefined;
  try {
    const kids = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids[0] ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** The device nodes a zone's /dev always has (illumos builds the zone's /dev at boot). */
function makeDevices(root) {
  const nodes = { null: [1, 3], zero: [1, 5], full: [1, 7], random: [1, 8], urandom: [1, 9], tty: [5, 0] };
  mkdirSync(join(root, 'dev'), { recursive: true });
  for (const [name, [major, minor]] of Object.entries(nodes)) {
    const path = join(root, 'dev', name);
    if (existsSync(path)) continue;
    spawnSync('mknod', ['-m', '666', path, 'c', String(major), String(minor)]);
  }
}

/**
 * Whether unshare can make PID and mount namespaces here (root in an unprivileged container cannot);
 * asked once per host, the answer kept in the host dir. Without them a zone is a plain chroot.
 */
function namespacesWork(root) {
  // REDDWARF_FAKE_NAMESPACES=no runs zones as plain chroots (to try what an unprivileged CI sees).
  if (process.env.REDDWARF_FAKE_NAMESPACES === 'no') return false;
  const mark = join(DIR, 'namespaces');
  if (existsSync(mark)) return readFileSync(mark, 'utf8') === 'yes';
  const unshare = which('unshare');
  mkdirSync(join(root, 'proc'), { recursive: true });
  const ok = !!unshare && spawnSync(unshare, ['--pid', '--fork', '--mount', `--mount-proc=${join(root, 'proc')}`, '--kill-child=SIGKILL', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  writeFileSync(mark, ok ? 'yes' : 'no');
  return ok;
}

/**
 * Boots a real zone: checks init like zoneadmd (stat, executable), then starts it detached. Returns
 * the record to keep in state, or undefined when this host cannot run zones (not root).
 */
export function bootRoot(zone, z) {
  const root = zoneRoot(z);
  const { init, rest } = parseBootargs(z.bootargs);
  const initPath = join(root, init);
  let st;
  try {
    st = statSync(initPath);
  } catch (e) {
    throw toolError(`zone '${zone}': could not stat ${initPath}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}\nzoneadm: zone '${zone}': call to zoneadmd failed`);
  }
  if (!st.isFile() || (st.mode & 0o100) === 0) throw toolError(`zone '${zone}': ${initPath} is not an executable\nzoneadm: zone '${zone}': call to zoneadmd failed`);
  if (!isRoot()) return undefined;
  makeDevices(root);
  const chroot = which('chroot');
  if (!chroot) throw toolError(`zoneadm: zone '${zone}': the simulated host has no chroot(8)`);
  const unshare = namespacesWork(root) ? which('unshare') : undefined;
  mkdirSync(join(root, 'proc'), { recursive: true });
  // --kill-child: when unshare dies (halt), its child — the namespace's init — gets SIGKILL, and the kernel kills the rest of the namespace.
  const argv = unshare
    ? [unshare, '--pid', '--fork', '--mount', `--mount-proc=${join(root, 'proc')}`, '--kill-child=SIGKILL', chroot, root, init, ...rest]
    : [chroot, root, init, ...rest];
  mkdirSync(join(DIR, 'console'), { recursive: true });
  const console = openSync(join(DIR, 'console', `${zone}.log`), 'a');
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', console, console], env: { PATH: SYSTEM_PATH } });
  closeSync(console);
  child.unref();
  const pid = child.pid;
  if (!pid) throw toolError(`zoneadm: zone '${zone}': could not start init`);
  return { pid, start: procStat(pid)?.start, root, namespaces: !!unshare };
}

/** Kills every process of a zone (its init record and anything rooted in it) and waits until they are gone. */
export function killZone(z) {
  const root = z.init?.root ?? (z.zonepath ? zoneRoot(z) : undefined);
  if (alive(z.init)) {
    try {
      process.kill(z.init.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (!root) return;
  const deadline = Date.now() + HALT_WAIT_MS;
  for (;;) {
    const pids = processesIn(root);
    if (alive(z.init)) pids.push(z.init.pid);
    if (pids.length === 0) {
      unmountUnder(root);
      return;
    }
    if (Date.now() > deadline) throw toolError(`zoneadm: zone processes did not exit: ${pids.join(' ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    sleepSync(20);
  }
}

/**
 * Unmounts whatever is mounted under `root` in this (the host's) mount namespace, deepest first, as
 * halting a zone unmounts its filesystems. Only a zone without its own mount namespace leaves any
 * (the supervisor bind-mounts /dev and /proc into container roots).
 */
export function unmountUnder(root) {
  let mounts;
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return;
  }
  const prefix = resolve(root);
  // /proc/self/mounts escapes space, tab, newline and backslash as octal.
  const points = mounts.split('\n').map((l) => l.split(' ')[1]).filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === prefix || p.startsWith(prefix + '/'))
    .sort((a, b) => b.length - a.length);
  const umount = which('umount');
  for (const p of points) if (umount) spawnSync(umount, ['-l', p], { stdio: 'ignore' });
}

/** A booted zone whose init died goes down and is halted by zoneadmd (no restart-init here): installed again. */
export function reconcile(state) {
  for (const z of Object.values(state.zones)) {
    if (!z.init || alive(z.init)) continue;
    if (['running', 'ready', 'shutting_down', 'down'].includes(z.state)) {
      killZone(z);
      z.state = 'installed';
      delete z.id;
    }
    delete z.init;
  }
}

/** Removes an uninstalled zone's root. */
export function removeRoot(z) {
  const root = zoneRoot(z);
  if (!existsSync(root)) return;
  if (processesIn(root).length > 0) killZone(z);
  rmSync(root, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `kill-all` (dispose): every zone of this host and anything rooted under the host dir;
  // `kill <zone>` (crash): that zone's processes.
  const [verb, only] = process.argv.slice(2);
  let state;
  try {
    state = JSON.parse(readFileSync(join(DIR, 'state.json'), 'utf8'));
  } catch {
    state = { zones: {} };
  }
  for (const [name, z] of Object.entries(state.zones ?? {})) {
    if (verb === 'kill' && name !== only) continue;
    try {
      if (z.init || isReal(z)) killZone(z);
    } catch (e) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    }
  }
  if (verb === 'kill-all') {
    try {
      killZone({ init: { root: DIR } });
    } catch (e) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    }
  }
}
