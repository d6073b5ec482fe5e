#!/usr/bin/env node
// Simulated zoneadm(8): list -p/-cp, install, boot, shutdown, halt, uninstall -F, with zone states.
// A zone whose zonepath lies under the host dir is real (zoneproc.js): install fills its root, boot
// runs its init, halt kills its processes, and a zone whose init died is found installed again.
import { randomUUID } from 'node:crypto';
import { bootedZoneUsingLink, isBooted, mountpointOf, tool, toolError, withHost } from './host.js';
import { bootRoot, installRoot, isReal, killZone, reconcile, removeRoot, sourceDir } from './zoneproc.js';

const zoneOf = (argv) => (argv[0] === '-z' ? argv[1] : undefined);
const verbOf = (argv) => (argv[0] === '-z' ? argv[2] : argv[0]) ?? '';

const esc = (s) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
const line = (name, z) => [z.id ?? '-', name, z.state, esc(z.zonepath), z.uuid, z.brand, z.ipType === 'shared' ? 'shared' : 'excl'].join(':');
const GLOBAL = '0:global:running:/::ipkg:shared';

tool('zoneadm', verbOf, (argv) => {
  const zone = zoneOf(argv);
  const verb = verbOf(argv);
  const args = argv.slice(zone === undefined ? 1 : 3);
  return withHost((state) => {
    reconcile(state);
    if (verb === 'list') {
      const all = args.some((a) => a.includes('c'));
      if (zone !== undefined) {
        if (zone === 'global') return void process.stdout.write(`${GLOBAL}\n`);
        const z = state.zones[zone];
        if (!z) throw toolError(`zoneadm: ${zone}: No such zone configured`);
        process.stdout.write(`${line(zone, z)}\n`);
        return;
      }
      const rows = Object.entries(state.zones)
        .filter(([, z]) => all || z.state === 'running')
        .sort(([a, x], [b, y]) => (x.id ?? 1e9) - (y.id ?? 1e9) || a.localeCompare(b))
        .map(([n, z]) => line(n, z));
      process.stdout.write([GLOBAL, ...rows].map((l) => `${l}\n`).join(''));
      return;
    }
    if (zone === undefined) throw toolError(`zoneadm: subcommand '${verb}' requires a zonename\nusage: zoneadm -z <zone> ${verb}`, 253);
    const z = state.zones[zone];
    if (!z) throw toolError(`zoneadm: ${zone}: No such zone configured`);
    const invalid = () => toolError(`zoneadm: zone '${zone}': ${verb} operation is invalid for ${z.state} zones.`);
    switch (verb) {
      case 'install': {
        if (z.state !== 'configured') throw invalid();
        const opt = (flag) => {
          const i = args.indexOf(flag);
          return i >= 0 ? args[i + 1] : undefined;
        };
        const image = opt('-s');
        const tarball = opt('-t');
        if (z.brand === 'lx' && !image && !tarball) throw toolError(`zoneadm: zone '${zone}': lx brand install requires an image (-s <path>)`);
        for (const ds of z.datasets) if (!state.datasets[ds]) throw toolError(`zoneadm: zone '${zone}': could not verify zfs dataset ${ds}: dataset does not exist`);
        if (isReal(z)) installRoot(zone, z, { tarball, dir: image ? sourceDir(state, image, mountpointOf) : undefined });
        z.state = 'installed';
        z.uuid = randomUUID();
        return;
      }
      case 'boot': {
        if (isBooted(z)) throw toolError(`zoneadm: zone '${zone}': zone is already booted`);
        if (z.state !== 'installed') throw invalid();
        for (const n of z.nets) {
          if (!state.links[n.physical]) throw toolError(`zoneadm: zone '${zone}': WARNING: skipping network interface '${n.physical}': object not found\nzoneadm: zone '${zone}': call to zoneadmd failed`);
          const other = bootedZoneUsingLink(state, n.physical);
          if (other) throw toolError(`zoneadm: zone '${zone}': could not assign ${n.physical}: link busy (in use by zone ${other})`);
        }
        for (const ds of z.datasets) if (!state.datasets[ds]) throw toolError(`zoneadm: zone '${zone}': could not verify zfs dataset ${ds}: dataset does not exist`);
        if (isReal(z)) {
          // `boot -- <bootargs>` overrides zonecfg's bootargs for this boot, as zoneadmd does.
          const dash = args.indexOf('--');
          const init = bootRoot(zone, dash >= 0 ? { ...z, bootargs: args.slice(dash + 1).join(' ') } : z);
          if (init) z.init = init;
        }
        z.state = 'running';
        z.id = state.nextZoneId++;
        return;
      }
      case 'shutdown':
        if (z.state !== 'running') throw invalid();
        killZone(z);
        delete z.init;
        z.state = 'installed';
        delete z.id;
        return;
      case 'halt':
        if (!isBooted(z)) throw invalid();
        killZone(z);
        delete z.init;
        z.state = 'installed';
        delete z.id;
        return;
      case 'uninstall':
        if (args[0] !== '-F') throw toolError(`zoneadm: zone '${zone}': uninstall needs -F when not interactive`);
        if (z.state !== 'installed' && z.state !== 'incomplete') throw invalid();
        if (isReal(z)) removeRoot(z);
        z.state = 'configured';
        return;
      default:
        throw toolError(`zoneadm: unknown subcommand '${verb}'`, 253);
    }
  });
});
