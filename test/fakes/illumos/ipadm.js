#!/usr/bin/env node
// Simulated ipadm(8) in the global zone: IP interfaces over existing links and static addresses.
import { tool, toolError, withHost } from './host.js';

tool('ipadm', (argv) => argv[0] ?? '', (argv) => {
  const [verb = '', ...args] = argv;
  withHost((state) => {
    switch (verb) {
      case 'create-if': {
        const name = args.at(-1) ?? '';
        if (!state.links[name]) throw toolError(`ipadm: Could not create ${name} : Interface does not exist`);
        if (state.ifs.includes(name)) throw toolError(`ipadm: Could not create ${name} : Interface already exists`);
        state.ifs.push(name);
        return;
      }
      case 'delete-if': {
        const name = args.at(-1) ?? '';
        if (!state.ifs.includes(name)) throw toolError(`ipadm: Could not delete interface ${name}: Interface does not exist`);
        state.ifs = state.ifs.filter((i) => i !== name);
        for (const a of Object.keys(state.addrs)) if (a.startsWith(`${name}/`)) delete state.addrs[a];
        return;
      }
      case 'create-addr': {
        const a = args.indexOf('-a');
        const cidr = a >= 0 ? args[a + 1] : undefined;
        const addrobj = args.at(-1) ?? '';
        const iface = addrobj.split('/')[0] ?? '';
        if (!cidr || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) throw toolError('ipadm: Could not create address: Invalid argument provided');
        if (!state.ifs.includes(iface)) throw toolError('ipadm: Could not create address: Interface does not exist');
        if (state.addrs[addrobj]) throw toolError('ipadm: Could not create address: Address object already exists');
        state.addrs[addrobj] = cidr;
        return;
      }
      case 'delete-addr': {
        const addrobj = args.at(-1) ?? '';
        if (!state.addrs[addrobj]) throw toolError('ipadm: could not delete address: Address object not found');
        delete state.addrs[addrobj];
        return;
      }
      case 'show-addr': {
        const o = args.indexOf('-o');
        const fields = o >= 0 ? (args[o + 1] ?? '').split(',') : ['addrobj', 'type', 'state', 'addr'];
        const names = args.filter((x, i) => !x.startsWith('-') && args[i - 1] !== '-o');
        const name = names[0];
        if (name !== undefined && !state.addrs[name]) throw toolError('ipadm: Address object not found');
        const rows = Object.entries(state.addrs).filter(([k]) => name === undefined || k === name).map(([addrobj, addr]) => ({ addrobj, type: 'static', state: 'ok', addr }));
        for (const r of rows) process.stdout.write(`${fields.map((f) => String(r[f] ?? '').replace(/:/g, '\\:')).join(':')}\n`);
        return;
      }
      default:
        throw toolError(`ipadm: unknown subcommand '${verb}'`, 1);
    }
  });
});
