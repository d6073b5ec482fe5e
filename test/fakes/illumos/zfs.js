#!/usr/bin/env node
// Simulated zfs(8): create (-p, -o), destroy (-r), list -H -o, get, set, snapshot, clone, with the
// real rules: the parent must exist, children need -r, a snapshot with clones needs them gone
// first, a mounted zone root or delegated dataset of a booted zone is busy. Datasets mounted under
// the fake host's dir are real directories (snapshots are copies kept under snapshots/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { isBooted, isRealMount, mountpointOf, snapshotDir, tool, toolError, withHost } from './host.js';

/** `cp -a src/. dst`: a copy keeping owners, modes and links, as a ZFS snapshot or clone would. */
function copyTree(src, dst) {
  mkdirSync(dst, { recursive: true });
  if (existsSync(src)) execFileSync('cp', ['-a', `${src}/.`, dst]);
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*(@[A-Za-z0-9_.:-]+)?$/;
const SIZE_RE = /^(none|\d+(\.\d+)?[KMGTPE]?)$/i;

const parentOf = (n) => (n.includes('/') ? n.slice(0, n.lastIndexOf('/')) : undefined);
const descendants = (state, n) => Object.keys(state.datasets).filter((d) => d.startsWith(`${n}/`) || d.startsWith(`${n}@`));

function setProp(state, ds, k, v, verb) {
  if (k === 'quota' && !SIZE_RE.test(v)) throw toolError(`cannot ${verb} '${ds}': bad numeric value '${v}'`);
  if (k === 'mountpoint' && !(v.startsWith('/') || v === 'none' || v === 'legacy')) throw toolError(`cannot ${verb} '${ds}': '${v}' must be an absolute path, 'none', or 'legacy'`);
  state.datasets[ds].props[k] = v;
}

function value(state, name, field) {
  const d = state.datasets[name];
  switch (field) {
    case 'name': return name;
    case 'type': return name.includes('@') ? 'snapshot' : 'filesystem';
    case 'mountpoint': return name.includes('@') ? '-' : mountpointOf(state, name);
    case 'quota': return d.props.quota ?? 'none';
    case 'origin': return d.origin ?? '-';
    case 'used': case 'refer': return '96K';
    case 'avail': case 'available': return '100G';
    default: return d.props[field] ?? '-';
  }
}

function create(state, args, { clone } = {}) {
  const props = [];
  let parents = false;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-p') parents = true;
    else if (args[i] === '-o') props.push(args[++i] ?? '');
    else pos.push(args[i]);
  }
  const name = pos.at(-1) ?? '';
  const origin = clone ? pos[0] : undefined;
  if (!NAME_RE.test(name) || name.includes('@')) throw toolError(`cannot create '${name}': invalid character in name`);
  if (origin !== undefined && !state.datasets[origin]) throw toolError(`cannot open '${origin}': dataset does not exist`);
  if (state.datasets[name]) {
    if (parents) return;
    throw toolError(`cannot create '${name}': dataset already exists`);
  }
  const pool = name.split('/')[0];
  if (!state.datasets[pool]) throw toolError(`cannot create '${name}': no such pool '${pool}'`);
  const parent = parentOf(name);
  if (parent && !state.datasets[parent]) {
    if (!parents) throw toolError(`cannot create '${name}': parent does not exist`);
    create(state, ['-p', parent]);
  }
  state.datasets[name] = { props: {}, ...(origin ? { origin } : {}) };
  for (const p of props) {
    const [k, ...v] = p.split('=');
    setProp(state, name, k, v.join('='), 'create');
  }
  const mp = mountpointOf(state, name);
  if (isRealMount(mp)) {
    if (origin) copyTree(snapshotDir(origin), mp);
    else mkdirSync(mp, { recursive: true });
  }
}

function destroy(state, args) {
  const recursive = args.includes('-r') || args.includes('-R');
  const name = args.filter((a) => !a.startsWith('-')).at(-1) ?? '';
  if (!state.datasets[name]) throw toolError(`cannot open '${name}': dataset does not exist`);
  const kids = descendants(state, name);
  if (kids.length && !recursive) throw toolError(`cannot destroy '${name}': filesystem has children\nuse '-r' to destroy the following datasets:\n${kids.join('\n')}`);
  for (const ds of [name, ...kids]) {
    for (const [zn, z] of Object.entries(state.zones)) {
      if (!isBooted(z)) continue;
      if (z.zonepath === mountpointOf(state, ds)) throw toolError(`cannot unmount '${z.zonepath}': Device busy`);
      if (z.datasets.includes(ds)) throw toolError(`cannot destroy '${ds}': dataset is busy (delegated to zone ${zn})`);
    }
  }
  for (const ds of [name, ...kids]) {
    if (!ds.includes('@')) continue;
    const clones = Object.entries(state.datasets).filter(([n, d]) => d.origin === ds && n !== name && !kids.includes(n)).map(([n]) => n);
    if (clones.length) throw toolError(`cannot destroy '${ds}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n${clones.join('\n')}`);
  }
  // Children first, so a mountpoint nested in another is removed with its own dataset.
  for (const ds of [...kids].reverse().concat(name)) {
    if (ds.includes('@')) rmSync(snapshotDir(ds), { recursive: true, force: true });
    else {
      const mp = mountpointOf(state, ds);
      if (isRealMount(mp)) rmSync(mp, { recursive: true, force: true });
    }
    delete state.datasets[ds];
  }
}

function list(state, args) {
  let fields = ['name', 'used', 'avail', 'refer', 'mountpoint'];
  let header = true;
  let recursive = false;
  let type;
  const names = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-H') header = false;
    else if (args[i] === '-r') recursive = true;
    else if (args[i] === '-o') fields = (args[++i] ?? '').split(',');
    else if (args[i] === '-t') type = args[++i];
    else names.push(args[i]);
  }
  let rows = [];
  if (names.length === 0) rows = Object.keys(state.datasets).filter((n) => !n.includes('@'));
  for (const n of names) {
    if (!state.datasets[n]) throw toolError(`cannot open '${n}': dataset does not exist`);
    rows.push(n, ...(recursive ? descendants(state, n).filter((d) => !d.includes('@') || type === 'snapshot' || type === 'all') : []));
  }
  rows = [...new Set(rows)].sort().filter((n) => !type || type === 'all' || value(state, n, 'type') === type);
  const lines = rows.map((n) => fields.map((f) => value(state, n, f)));
  if (header) lines.unshift(fields.map((f) => f.toUpperCase()));
  process.stdout.write(lines.map((l) => `${l.join(header ? '  ' : '\t')}\n`).join(''));
}

tool('zfs', (argv) => argv[0] ?? '', (argv) => {
  const [verb = '', ...args] = argv;
  withHost((state) => {
    switch (verb) {
      case 'create': return create(state, args);
      case 'clone': return create(state, args, { clone: true });
      case 'destroy': return destroy(state, args);
      case 'list': return list(state, args);
      case 'snapshot': {
        const name = args.at(-1) ?? '';
        const [ds] = name.split('@');
        if (!state.datasets[ds]) throw toolError(`cannot open '${ds}': dataset does not exist`);
        if (state.datasets[name]) throw toolError(`cannot create snapshot '${name}': dataset already exists`);
        state.datasets[name] = { props: {} };
        const mp = mountpointOf(state, ds);
        if (isRealMount(mp)) copyTree(mp, snapshotDir(name));
        return;
      }
      case 'set': {
        const [kv = '', ds = ''] = args;
        const [k, ...v] = kv.split('=');
        if (!state.datasets[ds]) throw toolError(`cannot open '${ds}': dataset does not exist`);
        const before = mountpointOf(state, ds);
        setProp(state, ds, k, v.join('='), 'set property for');
        const now = mountpointOf(state, ds);
        // A new mountpoint remounts the dataset there (its files move with it).
        if (k === 'mountpoint' && before !== now && isRealMount(before) && existsSync(before)) {
          if (isRealMount(now)) {
            mkdirSync(dirname(now), { recursive: true });
            renameSync(before, now);
          }
        } else if (k === 'mountpoint' && isRealMount(now)) mkdirSync(now, { recursive: true });
        return;
      }
      case 'get': {
        const pos = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-o');
        const [prop = '', ds = ''] = pos;
        if (!state.datasets[ds]) throw toolError(`cannot open '${ds}': dataset does not exist`);
        process.stdout.write(`${value(state, ds, prop)}\n`);
        return;
      }
      default:
        throw toolError(`unrecognized command '${verb}'`, 2);
    }
  });
});
