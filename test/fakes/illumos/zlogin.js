#!/usr/bin/env node
// Simulated zlogin(1): runs the joined arguments with /bin/sh on this host when the zone is running.
import { spawnSync } from 'node:child_process';
import { tool, toolError, withHost } from './host.js';

tool('zlogin', () => '', (argv) => {
  const [zone, ...cmd] = argv;
  withHost((state) => {
    const z = state.zones[zone ?? ''];
    if (!z) throw toolError(`zlogin: zone '${zone}' unknown`);
    if (z.state !== 'running') throw toolError(`zlogin: login allowed only to running zones (${zone} is '${z.state}').`);
  });
  // zlogin hands the zone's shell one command line: arguments with spaces are split again.
  const r = spawnSync('/bin/sh', ['-c', cmd.join(' ')], { stdio: 'inherit' });
  return r.status ?? 1;
});
