// The simulated illumos host running zones for real (test/fakes/illumos/zoneproc.js): install fills
// the zone root, boot runs bootargs' init chrooted in its own PID namespace, zlogin runs inside it
// with the real zlogin's argument joining, a zone whose init dies is installed again, halt and
// dispose leave no process behind.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FakeIllumosHost } from '../fakes/host.ts';
import { pollUntil } from '../helpers/process.ts';
import { configureZone, realZoneSkipReason, runTool, skipLoudly, tool, zoneState } from '../helpers/realzone.ts';

const skip = skipLoudly('real zones on the simulated illumos host', realZoneSkipReason());
const hosts: FakeIllumosHost[] = [];
const newHost = () => {
  const h = FakeIllumosHost.create();
  hosts.push(h);
  return h;
};

const INIT = '#!/bin/sh\necho "pid=$$ args=$*" > /tmp/booted\nexec sleep 100000\n';

/** A native zone with a shell-script init at /sbin/zinit, booted. */
async function bootedZone(host: FakeIllumosHost, name = 'z1', init = INIT, bootargs = '-i /sbin/zinit'): Promise<string> {
  await configureZone(host, name, { bootargs });
  await tool(host, ['zoneadm', '-z', name, 'install']);
  const root = host.zoneRoot(name);
  writeFileSync(join(root, 'sbin/zinit'), init, { mode: 0o755 });
  await tool(host, ['zoneadm', '-z', name, 'boot']);
  return root;
}

const pidAlive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Live processes whose root directory is inside `root`. */
function processesRootedIn(root: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const r = readlinkSync(`/proc/${n}/root`);
      return (r === root || r.startsWith(`${root}/`)) && pidAlive(Number(n));
    } catch {
      return false;
    }
  }).map(Number);
}

describe('real zones on the simulated illumos host', { skip }, () => {
  after(() => FakeIllumosHost.disposeAll(hosts));

  it('installs a native brand with busybox-static as its userland, in a root-owned 0700 zonepath', async () => {
    const host = newHost();
    const zonepath = await configureZone(host, 'n1', { brand: 'pkgsrc' });
    await tool(host, ['zoneadm', '-z', 'n1', 'install']);
    assert.equal(lstatSync(zonepath).mode & 0o777, 0o700);
    const root = join(zonepath, 'root');
    assert.equal(lstatSync(root).mode & 0o777, 0o755);
    assert.ok(lstatSync(join(root, 'usr/bin/busybox')).isFile());
    assert.equal(readlinkSync(join(root, 'usr/bin/sh')), 'busybox');
    assert.equal(readlinkSync(join(root, 'bin')), 'usr/bin');
    assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:/);
  });

  it('refuses a zonepath that is not mode 0700, as validate_zonepath does', async () => {
    const host = newHost();
    const zonepath = await configureZone(host, 'bad');
    mkdirSync(zonepath, { mode: 0o755 });
    chmodSync(zonepath, 0o755);
    const r = await runTool(host, ['zoneadm', '-z', 'bad', 'install']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /must not be group readable[\s\S]*could not verify zonepath/);
    assert.equal(await zoneState(host, 'bad'), 'configured');
  });

  it('installs lx from a directory (-s), a snapshot copy (-s ds@snap) or a tarball (-t); a file given to -s is not a ZFS stream', async () => {
    const host = newHost();
    const src = join(host.dir, 'image');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/os-release'), 'ID=test\n');
    const lx = { brand: 'lx', extra: ['add attr', 'set name=kernel-version', 'set type=string', 'set value=4.4', 'end'] };

    await configureZone(host, 'fromdir', lx);
    await tool(host, ['zoneadm', '-z', 'fromdir', 'install', '-s', src]);
    assert.equal(readFileSync(join(host.zoneRoot('fromdir'), 'etc/os-release'), 'utf8'), 'ID=test\n');

    const snap = join(host.dir, 'snapshots', 'rpool%images%abc@final');
    mkdirSync(join(snap, 'etc'), { recursive: true });
    writeFileSync(join(snap, 'etc/os-release'), 'ID=snap\n');
    await configureZone(host, 'fromsnap', lx);
    await tool(host, ['zoneadm', '-z', 'fromsnap', 'install', '-s', 'rpool/images/abc@final']);
    assert.equal(readFileSync(join(host.zoneRoot('fromsnap'), 'etc/os-release'), 'utf8'), 'ID=snap\n');

    const tarball = join(host.dir, 'image.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', src, '.']);
    await configureZone(host, 'fromtar', lx);
    await tool(host, ['zoneadm', '-z', 'fromtar', 'install', '-t', tarball]);
    assert.equal(readFileSync(join(host.zoneRoot('fromtar'), 'etc/os-release'), 'utf8'), 'ID=test\n');

    await configureZone(host, 'tarbys', lx);
    const r = await runTool(host, ['zoneadm', '-z', 'tarbys', 'install', '-s', tarball]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a ZFS send stream/);
    assert.equal(await zoneState(host, 'tarbys'), 'configured');
  });

  it('boot runs bootargs\' init as pid 1 of its own namespace, chrooted, with the remaining bootargs', async () => {
    const host = newHost();
    const root = await bootedZone(host, 'z1', INIT, '-i /sbin/zinit -v single');
    const booted = await pollUntil(() => existsSync(join(root, 'tmp/booted')) && readFileSync(join(root, 'tmp/booted'), 'utf8'), 10_000, 20);
    const init = host.zones()['z1']?.init;
    assert.ok(init);
    assert.equal(booted, `pid=${init.namespaces ? 1 : init.pid} args=-v single\n`);
    assert.equal(await zoneState(host, 'z1'), 'running');
    assert.ok(pidAlive(init.pid));
  });

  it('boot -- <args> overrides zonecfg bootargs for that boot', async () => {
    const host = newHost();
    await configureZone(host, 'over', { bootargs: '-i /sbin/missing' });
    await tool(host, ['zoneadm', '-z', 'over', 'install']);
    const root = host.zoneRoot('over');
    writeFileSync(join(root, 'sbin/zinit'), INIT, { mode: 0o755 });
    await tool(host, ['zoneadm', '-z', 'over', 'boot', '--', '-i', '/sbin/zinit', 'x']);
    const booted = await pollUntil(() => existsSync(join(root, 'tmp/booted')) && readFileSync(join(root, 'tmp/booted'), 'utf8'), 10_000, 20);
    assert.match(booted || '', / args=x\n$/);
  });

  it('boot fails as zoneadmd does when init is missing or not executable', async () => {
    const host = newHost();
    await configureZone(host, 'noinit', { bootargs: '-i /.reddwarf/init' });
    await tool(host, ['zoneadm', '-z', 'noinit', 'install']);
    let r = await runTool(host, ['zoneadm', '-z', 'noinit', 'boot']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /could not stat .*\/root\/\.reddwarf\/init: No such file or directory\nzoneadm: zone 'noinit': call to zoneadmd failed/);
    mkdirSync(join(host.zoneRoot('noinit'), '.reddwarf'));
    writeFileSync(join(host.zoneRoot('noinit'), '.reddwarf/init'), '#!/bin/sh\n', { mode: 0o644 });
    r = await runTool(host, ['zoneadm', '-z', 'noinit', 'boot']);
    assert.match(r.stderr, /\.reddwarf\/init is not an executable/);
    assert.equal(await zoneState(host, 'noinit'), 'installed');
  });

  it('a zone whose init exits goes down and is reported installed again', async () => {
    const host = newHost();
    await bootedZone(host, 'short', '#!/bin/sh\nexit 0\n');
    const state = await pollUntil(async () => ((await zoneState(host, 'short')) === 'installed' ? 'installed' : undefined), 10_000, 50);
    assert.equal(state, 'installed');
    // And it boots again.
    await tool(host, ['zoneadm', '-z', 'short', 'boot']);
  });

  it('zlogin runs in the zone (its root, its processes), joins arguments as illumos zlogin does, and passes the exit status', async () => {
    const host = newHost();
    const root = await bootedZone(host);
    writeFileSync(join(root, 'etc/zone-marker'), 'inside\n');
    await pollUntil(() => existsSync(join(root, 'tmp/booted')), 10_000, 20);
    assert.equal(await tool(host, ['zlogin', 'z1', 'cat', '/etc/zone-marker']), 'inside\n');
    if (host.zones()['z1']?.init?.namespaces) {
      // In the zone's PID namespace (its own /proc): init is pid 1.
      const ps = await tool(host, ['zlogin', 'z1', 'ps', '-o', 'pid,args']);
      assert.match(ps, /^\s*1 sleep 100000$/m, ps);
    }
    assert.equal((await runTool(host, ['zlogin', 'z1', 'exit', '3'])).code, 3);
    // The trap the runtime must avoid: one argument is not quoted; with several, only those holding a space or tab are, in single quotes; $ is expanded.
    assert.equal(await tool(host, ['zlogin', 'z1', 'echo a   b']), 'a b\n');
    assert.equal(await tool(host, ['zlogin', 'z1', 'echo', 'a   b', '$HOME']), 'a   b /\n');
    assert.notEqual((await runTool(host, ['zlogin', 'z1', 'echo', "it's here"])).code, 0);
    // WEXITSTATUS of a killed command is 0.
    assert.equal((await runTool(host, ['zlogin', 'z1', 'kill -9 $$'])).code, 0);
  });

  it('without namespaces (root in an unprivileged container) a zone is a chroot, and halt still finds and kills all of it', async () => {
    const host = newHost();
    writeFileSync(join(host.dir, 'namespaces'), 'no');
    const root = await bootedZone(host, 'plain', '#!/bin/sh\nsetsid sleep 100001 &\necho "pid=$$" > /tmp/booted\nexec sleep 100000\n');
    const init = host.zones()['plain']?.init;
    assert.ok(init && !init.namespaces);
    assert.equal(await pollUntil(() => existsSync(join(root, 'tmp/booted')) && readFileSync(join(root, 'tmp/booted'), 'utf8'), 10_000, 20), `pid=${init.pid}\n`);
    const escaped = await pollUntil(() => processesRootedIn(root).filter((p) => p !== init.pid)[0], 10_000, 20);
    assert.ok(escaped, 'the setsid child runs');
    await tool(host, ['zoneadm', '-z', 'plain', 'halt']);
    assert.deepEqual(processesRootedIn(root), []);
  });

  it('halt kills the whole zone and waits; dispose kills whatever is still running', async () => {
    const host = newHost();
    await bootedZone(host, 'h1');
    await bootedZone(host, 'h2');
    const h1 = host.zones()['h1']?.init;
    const h2 = host.zones()['h2']?.init;
    assert.ok(h1 && h2);
    await tool(host, ['zoneadm', '-z', 'h1', 'halt']);
    assert.equal(pidAlive(h1.pid), false);
    assert.equal(await zoneState(host, 'h1'), 'installed');
    assert.equal(pidAlive(h2.pid), true);
    host.dispose();
    assert.equal(pidAlive(h2.pid), false);
  });
});
