#!/usr/bin/env node
// Simulated dladm(8): etherstubs and VNICs with libdladm's link-name rules; a VNIC needs its
// link, a link in use (by a booted zone, an IP interface or VNICs over it) cannot be deleted.
import { bootedZoneUsingLink, tool, toolError, withHost } from './host.js';

// dladm_valid_linkname: < 32 characters, a letter first, a digit last, letters, digits, _ and . between.
const validLink = (n) => n.length <= 31 && /^[A-Za-z][A-Za-z0-9_.]*[0-9]$/.test(n);

/** `-p -o a,b` and the positional name of a show-* subcommand. */
function showArgs(args) {
  let fields;
  let parsable = false;
  const names = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-p') parsable = true;
    else if (args[i] === '-o') fields = (args[++i] ?? '').split(',').map((f) => f.toLowerCase());
    else if (args[i] === '-po') {
      parsable = true;
      fields = (args[++i] ?? '').split(',').map((f) => f.toLowerCase());
    } else names.push(args[i]);
  }
  return { fields, parsable, name: names[0] };
}

function print(rows, fields, parsable) {
  if (parsable) {
    if (!fields) throw toolError('dladm: -p requires -o', 1);
    for (const r of rows) process.stdout.write(`${fields.map((f) => String(r[f] ?? '').replace(/:/g, '\\:')).join(':')}\n`);
    return;
  }
  const cols = fields ?? Object.keys(rows[0] ?? { link: '', class: '', mtu: '', state: '', bridge: '', over: '' });
  process.stdout.write(`${cols.map((c) => c.toUpperCase().padEnd(12)).join('')}\n`);
  for (const r of rows) process.stdout.write(`${cols.map((c) => String(r[c] ?? '--').padEnd(12)).join('')}\n`);
}

function busy(state, name) {
  return bootedZoneUsingLink(state, name) || state.ifs.includes(name) || Object.values(state.links).some((l) => l.over === name);
}

tool('dladm', (argv) => argv[0] ?? '', (argv) => {
  const [verb = '', ...args] = argv;
  withHost((state) => {
    switch (verb) {
      case 'create-etherstub': {
        const name = args.at(-1) ?? '';
        if (!validLink(name)) throw toolError(`dladm: invalid link name '${name}'`);
        if (state.links[name]) throw toolError('dladm: etherstub creation failed: object already exists');
        state.links[name] = { class: 'etherstub', over: '' };
        return;
      }
      case 'create-vnic': {
        const i = args.indexOf('-l');
        const over = i >= 0 ? args[i + 1] : undefined;
        const name = args.at(-1) ?? '';
        if (!over) throw toolError('dladm: create-vnic requires -l <link>', 1);
        if (!validLink(name)) throw toolError(`dladm: invalid link name '${name}'`);
        if (!state.links[over] || state.links[over].class === 'vnic') throw toolError(`dladm: vnic creation failed: object not found`);
        if (state.links[name]) throw toolError('dladm: vnic creation failed: object already exists');
        state.links[name] = { class: 'vnic', over };
        return;
      }
      case 'delete-vnic':
      case 'delete-etherstub': {
        const name = args.at(-1) ?? '';
        const what = verb === 'delete-vnic' ? 'vnic' : 'etherstub';
        const l = state.links[name];
        if (!l) throw toolError(`dladm: ${what} deletion failed: object not found`);
        if (l.class !== what) throw toolError(`dladm: ${what} deletion failed: invalid argument`);
        if (busy(state, name)) throw toolError(`dladm: ${what} deletion failed: link busy`);
        delete state.links[name];
        return;
      }
      case 'show-link':
      case 'show-vnic':
      case 'show-etherstub': {
        const { fields, parsable, name } = showArgs(args);
        const cls = { 'show-link': undefined, 'show-vnic': 'vnic', 'show-etherstub': 'etherstub' }[verb];
        if (name !== undefined && (!state.links[name] || (cls && state.links[name].class !== cls))) throw toolError(`dladm: invalid link name '${name}'`);
        const rows = Object.entries(state.links)
          .filter(([n, l]) => (name === undefined || n === name) && (!cls || l.class === cls))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([n, l]) => ({ link: n, class: l.class, mtu: 9000, state: 'up', bridge: '--', over: l.over }));
        print(rows, fields, parsable);
        return;
      }
      default:
        throw toolError(`dladm: unknown subcommand '${verb}'`, 1);
    }
  });
});
