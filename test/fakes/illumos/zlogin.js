#!/usr/bin/env node
// Simulated zlogin(1), non-interactive: `zlogin [-Q] [-n] [-S] [-l user] <zone> <cmd…>` runs the
// command line the real one builds (prep_args in illumos zlogin.c) with `sh -c`, inside the zone's
// root (and its namespaces) when the zone is real, else on this host. Its exit status is
// WEXITSTATUS, so a command killed by a signal returns 0, as upstream.
import { spawnSync } from 'node:child_process';
import { tool, toolError, withHost } from './host.js';
import { alive, isReal, nsInit, reconcile, which, zoneRoot } from './zoneproc.js';

/**
 * The real zlogin's subshell string: arguments joined by spaces; when there is more than one, an
 * argument containing a space or tab is wrapped in single quotes — nothing else is escaped, so `$`,
 * quotes and globs are interpreted by the zone's shell. Never hand it argv you need kept intact.
 */
function joinArgs(argv) {
  return argv.map((a) => (argv.length > 1 && /[ \t]/.test(a) ? `'${a}'` : a)).join(' ');
}

tool('zlogin', () => '', (argv) => {
  let i = 0;
  for (; i < argv.length && argv[i]?.startsWith('-'); i++) {
    if (argv[i] === '-l' || argv[i] === '-e' || argv[i] === '-R') i++;
  }
  const [zone, ...cmd] = argv.slice(i);
  if (cmd.length === 0) throw toolError('zlogin: interactive login is not simulated', 2);
  const z = withHost((state) => {
    reconcile(state);
    const found = state.zones[zone ?? ''];
    if (!found) throw toolError(`zlogin: zone '${zone}' unknown`);
    if (found.state !== 'running') throw toolError(`zlogin: login allowed only to running zones (${zone} is '${found.state}').`);
    return found;
  });
  const line = joinArgs(cmd);
  const env = { PATH: z.brand === 'lx' ? '/bin:/usr/bin:/sbin:/usr/sbin' : '/usr/sbin:/usr/bin', HOME: '/', SHELL: '/bin/sh' };
  let r;
  if (isReal(z) && alive(z.init)) {
    const target = z.init.namespaces ? nsInit(z.init) : undefined;
    const nsenter = target ? which('nsenter') : undefined;
    // Join the zone's PID and mount namespaces and its root (nsenter -r), as zone_enter does; else chroot.
    const [file, ...args] = nsenter
      ? [nsenter, '-t', String(target), '-p', '-m', '-r', '-w', '/bin/sh', '-c', line]
      : [which('chroot') ?? 'chroot', zoneRoot(z), '/bin/sh', '-c', line];
    r = spawnSync(file, args, { stdio: 'inherit', env, cwd: '/' });
  } else {
    r = spawnSync('/bin/sh', ['-c', line], { stdio: 'inherit' });
  }
  if (r.error) throw toolError(`zlogin: ${r.error.message}`);
  return r.status ?? 0;
});
