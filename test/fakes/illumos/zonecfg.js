#!/usr/bin/env node
// Simulated zonecfg(8): `-f <command file>` (create, set, add/end, verify, commit), `delete -F`,
// `info [attr]` and `export`, with zonecfg's name and property rules.
import { readFileSync } from 'node:fs';
import { tool, toolError, withHost } from './host.js';

const BRANDS = ['reddwarf', 'lx', 'sparse', 'ipkg', 'lipkg', 'nlipkg', 'pkgsrc', 'joyent', 'joyent-minimal', 'bhyve', 'illumos'];
const ZONE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IP_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const verbOf = (argv) => (argv[2] === '-f' ? '-f' : argv[2] ?? '');

const validIp = (s) => IP_RE.test(s) && s.split('.').every((o) => Number(o) <= 255);
const unquote = (v) => v.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');

/** Applies a command file to a blank configuration; throws zonecfg's complaint for the first bad line. */
function parse(zone, text, file) {
  const cfg = { brand: 'sparse', zonepath: '', ipType: 'shared', nets: [], datasets: [], attrs: [], fs: [] };
  let res;
  let created = false;
  let committed = false;
  const err = (n, m) => toolError(`${file}:${n}:${m}`);
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const l = raw.trim();
    if (!l || l.startsWith('#')) return;
    const [cmd, ...rest] = l.split(/\s+/);
    const arg = rest.join(' ');
    if (cmd === 'create') {
      created = true;
      return;
    }
    if (!created) throw err(n, `zone ${zone}: No such zone configured\nUse 'create' to begin configuring a new zone.`);
    if (cmd === 'add') {
      if (res) throw err(n, `Cannot add a resource inside another (${res.type}).`);
      if (!['net', 'capped-cpu', 'capped-memory', 'dataset', 'attr', 'fs'].includes(arg)) throw err(n, `unknown resource type: ${arg}`);
      res = { type: arg };
      return;
    }
    if (cmd === 'end') {
      if (!res) throw err(n, 'end: no resource in progress');
      const r = res;
      res = undefined;
      if (r.type === 'net') {
        if (!r.physical) throw err(n, 'net: physical required');
        if (r['allowed-address'] !== undefined) {
          const [ip, len] = r['allowed-address'].split('/');
          if (!validIp(ip ?? '') || !/^\d+$/.test(len ?? '') || Number(len) > 32) throw err(n, `${r['allowed-address']}: invalid allowed-address`);
        }
        if (r.defrouter !== undefined && !validIp(r.defrouter)) throw err(n, `${r.defrouter}: invalid defrouter`);
        cfg.nets.push({ physical: r.physical, allowedAddress: r['allowed-address'], defrouter: r.defrouter });
      } else if (r.type === 'capped-cpu') {
        if (!/^\d+(\.\d+)?$/.test(r.ncpus ?? '') || !(Number(r.ncpus) > 0)) throw err(n, `ncpus: invalid value '${r.ncpus}'`);
        cfg.cappedCpu = r.ncpus;
      } else if (r.type === 'capped-memory') {
        if (!/^\d+(\.\d+)?[KMGT]?$/i.test(r.physical ?? '')) throw err(n, `physical: invalid value '${r.physical}'`);
        cfg.cappedMemory = r.physical;
      } else if (r.type === 'dataset') {
        if (!r.name) throw err(n, 'dataset: name required');
        cfg.datasets.push(r.name);
      } else if (r.type === 'attr') {
        if (!r.name || !r.type2 || r.value === undefined) throw err(n, 'attr: name, type and value required');
        cfg.attrs.push({ name: r.name, type: r.type2, value: r.value });
      } else cfg.fs.push(r);
      return;
    }
    if (cmd === 'set') {
      const m = /^([a-z-]+)=(.*)$/.exec(arg);
      if (!m) throw err(n, `syntax error: ${l}`);
      const [, prop, v] = m;
      const value = unquote(v);
      if (res) res[res.type === 'attr' && prop === 'type' ? 'type2' : prop] = value;
      else if (prop === 'brand') {
        if (!BRANDS.includes(value)) throw err(n, `${value}: unknown brand.`);
        cfg.brand = value;
      } else if (prop === 'zonepath') {
        if (!value.startsWith('/')) throw err(n, `invalid zonepath '${value}': must be an absolute path`);
        cfg.zonepath = value;
      } else if (prop === 'ip-type') {
        if (value !== 'exclusive' && value !== 'shared') throw err(n, `${value}: invalid ip-type`);
        cfg.ipType = value;
      } else if (prop === 'bootargs') {
        // zoneadmd passes these to the zone's init; `-i <path>` chooses init itself.
        cfg.bootargs = value;
      } else if (['max-lwps', 'max-processes', 'max-shm-memory'].includes(prop)) {
        // Global rctl aliases: a positive integer, as zonecfg's set_func checks.
        if (!/^[1-9]\d*$/.test(value)) throw err(n, `${prop}: invalid value '${value}'`);
        cfg[prop] = value;
      } else if (!['autoboot', 'hostid', 'limitpriv', 'pool', 'scheduling-class'].includes(prop)) throw err(n, `unknown property: ${prop}`);
      return;
    }
    if (cmd === 'verify') {
      if (res) throw err(n, `resource ${res.type} not ended`);
      if (!cfg.zonepath) throw err(n, 'zonepath cannot be empty.');
      if (cfg.ipType === 'exclusive' && cfg.nets.length === 0) throw err(n, 'exclusive IP zones need a net resource');
      return;
    }
    if (cmd === 'commit') {
      if (!cfg.zonepath) throw err(n, 'zonepath cannot be empty.');
      committed = true;
      return;
    }
    throw err(n, `unknown command: ${cmd}`);
  });
  return committed ? cfg : undefined;
}

tool('zonecfg', verbOf, (argv) => {
  if (argv[0] !== '-z' || !argv[1]) throw toolError('usage: zonecfg -z <zone> [subcommand]', 253);
  const zone = argv[1];
  const verb = verbOf(argv);
  withHost((state) => {
    const z = state.zones[zone];
    if (verb === '-f') {
      if (zone.length > 63 || !ZONE_RE.test(zone) || zone === 'global' || zone.startsWith('SUNW')) throw toolError(`zonecfg: invalid zone name '${zone}'`);
      const file = argv[3] ?? '';
      let text;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw toolError(`zonecfg: could not open ${file}`);
      }
      if (z) throw toolError(`${file}:1:Zone ${zone} already exists; remove it first.`);
      const cfg = parse(zone, text, file);
      if (cfg) state.zones[zone] = { ...cfg, state: 'configured', uuid: '', text };
      return;
    }
    if (!z) throw toolError(`${zone}: No such zone configured`);
    if (verb === 'delete') {
      if (argv[3] !== '-F') throw toolError('zonecfg: delete needs -F when not interactive');
      if (z.state !== 'configured') throw toolError(`Zone ${zone} is ${z.state}: it must be uninstalled before it can be deleted.`);
      delete state.zones[zone];
      return;
    }
    if (verb === 'info') {
      const what = argv[3];
      if (what === 'attr' || what === undefined) {
        for (const a of z.attrs) process.stdout.write(`attr:\n\tname: ${a.name}\n\ttype: ${a.type}\n\tvalue: ${a.value}\n`);
      }
      return;
    }
    if (verb === 'export') {
      process.stdout.write(`${z.text}\n`);
      return;
    }
    throw toolError(`zonecfg: unknown subcommand '${verb}'`, 253);
  });
});
