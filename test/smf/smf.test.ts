// `reddwarf smf manifest` and `reddwarf smf method`, run as the real binary: the manifest against
// the service_bundle DTD (our subset in service_bundle.dtd: xmllint when on PATH, and always a
// structural check read from the same file), and the method script under `sh` with a fake svcprop
// answering from a table and a fake reddwarf printing the argv it was exec'd with.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, REPO_ROOT, makeTempDir } from '../helpers/process.ts';

const DTD = join(dirname(fileURLToPath(import.meta.url)), 'service_bundle.dtd');
const FMRI = 'svc:/system/reddwarf:default';

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** Runs `reddwarf …args` to completion; fails the test on a non-zero exit. */
function reddwarf(...args: string[]): string {
  const r = run(...args);
  assert.equal(r.status, 0, `reddwarf ${args.join(' ')}: exit ${String(r.status)}\n${r.stderr}`);
  return r.stdout;
}

const helpCache = new Map<string, { flag: string; takesValue: boolean }[]>();

/** The flags `reddwarf <mode> -h` lists: independent of how the SMF code reads them. */
function helpFlags(mode: 'up' | 'agent'): { flag: string; takesValue: boolean }[] {
  const cached = helpCache.get(mode);
  if (cached) return cached;
  const help = reddwarf(mode, '-h');
  const flags = [...help.matchAll(/^ {2}(--[a-z0-9-]+)( #0)? /gm)].map((m) => ({ flag: m[1] ?? '', takesValue: m[2] !== undefined }));
  assert.ok(flags.length > 3, `no flags found in \`reddwarf ${mode} -h\`:\n${help}`);
  helpCache.set(mode, flags);
  return flags;
}

const propertyOf = (flag: string): string => flag.slice(2).replaceAll('-', '_');

// ---- a small XML reader: enough for well-formedness of what the manifest writer produces ----

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, where: string): string {
  if (s.includes('<')) throw new Error(`${where}: raw "<"`);
  return s.replace(/&([^;]*);?/g, (all, name: string) => {
    const c = all.endsWith(';') ? ENTITIES[name] : undefined;
    if (c === undefined) throw new Error(`${where}: bad entity reference ${JSON.stringify(all)}`);
    return c;
  });
}

/** Parses `xml` (prolog, one DOCTYPE, comments, elements, text), throwing where it is not well-formed. */
function parseXml(xml: string): { doctype: string; root: XmlElement } {
  const token = /<!--(?:(?!--)[\s\S])*-->|<\?xml[^?]*\?>|<!DOCTYPE([^>]*)>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|[^<]+/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let doctype = '';
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const m = token.exec(xml);
    if (!m) throw new Error(`not well-formed at offset ${at}: ${JSON.stringify(xml.slice(at, at + 40))}`);
    const [all, dt, close, open, attrText, selfClose] = m;
    const parent = stack.at(-1);
    if (dt !== undefined) doctype = dt.trim();
    else if (close !== undefined) {
      if (stack.pop()?.name !== close) throw new Error(`</${close}> at offset ${at} closes nothing open`);
    } else if (open !== undefined) {
      const e: XmlElement = { name: open, attrs: {}, children: [], text: '' };
      for (const a of (attrText ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const name = a[1] ?? '';
        if (name in e.attrs) throw new Error(`<${open}> repeats the attribute ${name}`);
        e.attrs[name] = decode(a[2] ?? a[3] ?? '', `<${open} ${name}>`);
      }
      if (parent) parent.children.push(e);
      else if (root) throw new Error(`a second root element <${open}>`);
      else root = e;
      if (!selfClose) stack.push(e);
    } else if (!all.startsWith('<')) {
      if (parent) parent.text += decode(all, `text in <${parent.name}>`);
      else if (all.trim()) throw new Error(`text outside the root element: ${JSON.stringify(all.trim())}`);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.map((e) => e.name).join('>, <')}>`);
  if (!root) throw new Error('no root element');
  return { doctype, root };
}

// ---- the structural check: content models and attribute lists read from service_bundle.dtd ----

interface ElementRule {
  children: RegExp;
  text: boolean;
  attrs: Map<string, { values?: string[]; required: boolean }>;
}

function readDtd(text: string): Map<string, ElementRule> {
  const rules = new Map<string, ElementRule>();
  const rule = (name: string): ElementRule => {
    const r = rules.get(name) ?? { children: /^$/, text: false, attrs: new Map() };
    rules.set(name, r);
    return r;
  };
  for (const [, name = '', model = ''] of text.matchAll(/<!ELEMENT ([\w:.-]+) (.*)>/g)) {
    const r = rule(name);
    if (model === '(#PCDATA)') r.text = true;
    else if (model !== 'EMPTY') {
      // Each child name becomes "name " in a regex matched against the children's names, each followed by a space.
      r.children = new RegExp(`^${model.replace(/\s+/g, '').replace(/[\w:.-]+|[(),|?*+]/g, (t) => (t === ',' ? '' : t === '(' ? '(?:' : /[)|?*+]/.test(t) ? t : `(?:${t} )`))}$`);
    }
  }
  for (const [, name = '', list = ''] of text.matchAll(/<!ATTLIST ([\w:.-]+) (.*)>/g)) {
    const words = list.split(/\s+/);
    if (words.length % 3) throw new Error(`service_bundle.dtd: cannot read <!ATTLIST ${name} ${list}>`);
    for (let i = 0; i < words.length; i += 3) {
      const [attr = '', type = '', dflt = ''] = words.slice(i, i + 3);
      const values = type === 'CDATA' ? undefined : /^\(([\w|]+)\)$/.exec(type)?.[1]?.split('|');
      if (type !== 'CDATA' && !values) throw new Error(`service_bundle.dtd: cannot read the type ${type} of ${name}/${attr}`);
      rule(name).attrs.set(attr, { values, required: dflt === '#REQUIRED' });
    }
  }
  return rules;
}

/** Every violation of the DTD's element nesting, text and attribute rules under `e`. */
function violations(e: XmlElement, rules: Map<string, ElementRule>, path = e.name): string[] {
  const r = rules.get(e.name);
  if (!r) return [`${path}: <${e.name}> is not declared`];
  const out: string[] = [];
  const children = e.children.map((c) => `${c.name} `).join('');
  if (!r.children.test(children)) out.push(`${path}: children (${children.trim() || 'none'}) do not match ${String(r.children)}`);
  if (!r.text && e.text.trim()) out.push(`${path}: text is not allowed here: ${JSON.stringify(e.text.trim())}`);
  for (const [attr, value] of Object.entries(e.attrs)) {
    const a = r.attrs.get(attr);
    if (!a) out.push(`${path}: undeclared attribute ${attr}`);
    else if (a.values && !a.values.includes(value)) out.push(`${path}: ${attr}=${JSON.stringify(value)} is not one of ${a.values.join(', ')}`);
  }
  for (const [attr, a] of r.attrs) if (a.required && !(attr in e.attrs)) out.push(`${path}: missing the required attribute ${attr}`);
  for (const c of e.children) out.push(...violations(c, rules, `${path}/${c.name}${c.attrs.name ? `[${c.attrs.name}]` : ''}`));
  return out;
}

const find = (e: XmlElement, name: string, attrName?: string): XmlElement => {
  const c = e.children.find((x) => x.name === name && (attrName === undefined || x.attrs.name === attrName));
  assert.ok(c, `<${e.name}${e.attrs.name ? ` name="${e.attrs.name}"` : ''}> has no <${name}${attrName ? ` name="${attrName}"` : ''}>`);
  return c;
};

describe('reddwarf smf manifest', () => {
  let xml = '';
  let service: XmlElement;
  let upFlags: { flag: string; takesValue: boolean }[];
  let agentFlags: { flag: string; takesValue: boolean }[];

  before(() => {
    xml = reddwarf('smf', 'manifest');
    const { doctype, root } = parseXml(xml);
    assert.equal(doctype, 'service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1"');
    assert.equal(root.name, 'service_bundle');
    assert.deepEqual(root.attrs, { type: 'manifest', name: 'reddwarf' });
    service = find(root, 'service');
    upFlags = helpFlags('up');
    agentFlags = helpFlags('agent');
  });

  it('follows the nesting, text and attribute rules of the service_bundle DTD', () => {
    const rules = readDtd(readFileSync(DTD, 'utf8'));
    assert.deepEqual(violations(parseXml(xml).root, rules), []);
    // The checker itself rejects what the DTD forbids.
    const broken = xml.replace('<single_instance/>', '<single_instance/><single_instance/>').replace('value="Evolving"', 'value="Beta"').replace('<instance name="default" enabled="false"/>', '<instance name="default"/>');
    assert.deepEqual(
      violations(parseXml(broken).root, rules).map((v) => v.split(':')[0]),
      ['service_bundle/service[system/reddwarf]', 'service_bundle/service[system/reddwarf]/instance[default]', 'service_bundle/service[system/reddwarf]/stability'],
    );
  });

  it('validates against service_bundle.dtd with xmllint', (t) => {
    if (spawnSync('xmllint', ['--version']).error) {
      const why = 'xmllint is not on PATH (apt-get install libxml2-utils): SKIPPED the DTD validation, only the structural check ran';
      console.warn(`\n*** ${why} ***\n`);
      t.skip(why);
      return;
    }
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--dtdvalid', DTD, '-'], { input: xml, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('is svc:/system/reddwarf:default, disabled, a wait-model service stopped by SIGTERM', () => {
    assert.deepEqual(service.attrs, { name: 'system/reddwarf', type: 'service', version: '1' });
    assert.deepEqual(find(service, 'instance').attrs, { name: 'default', enabled: 'false' });
    assert.deepEqual(
      service.children.filter((c) => c.name === 'dependency').map((d) => find(d, 'service_fmri').attrs.value),
      ['svc:/system/filesystem/local', 'svc:/network/loopback', 'svc:/network/physical'],
    );
    const startd = find(service, 'property_group', 'startd');
    assert.equal(startd.attrs.type, 'framework');
    assert.equal(find(startd, 'propval', 'duration').attrs.value, 'child');
    assert.equal(find(startd, 'propval', 'ignore_error').attrs.value, 'core,signal');
    const start = find(service, 'exec_method', 'start');
    assert.equal(start.attrs.exec, '/opt/reddwarf/lib/svc/method/reddwarf %m');
    assert.equal(find(find(start, 'method_context'), 'method_credential').attrs.user, 'root');
    const stop = find(service, 'exec_method', 'stop');
    assert.equal(stop.attrs.exec, ':kill -TERM');
    assert.equal(find(service, 'exec_method', 'refresh').attrs.exec, ':true');
    // reddwarf exits within 5 s of SIGTERM; svc.startd must not SIGKILL it before.
    assert.ok(Number(stop.attrs.timeout_seconds) >= 10, `stop timeout ${stop.attrs.timeout_seconds}`);
  });

  it('has a config property for every flag of `reddwarf up` and `reddwarf agent`, plus application/mode', () => {
    const config = find(service, 'property_group', 'application');
    assert.equal(config.attrs.type, 'application');
    const props = new Map(config.children.map((p) => [p.attrs.name ?? '', p]));
    for (const { flag } of [...upFlags, ...agentFlags]) {
      const p = props.get(propertyOf(flag));
      assert.ok(p, `${flag} has no application/${propertyOf(flag)} property`);
      assert.equal(p.attrs.type, 'astring', flag);
    }
    const flagProps = new Set([...upFlags, ...agentFlags].map((f) => propertyOf(f.flag)));
    assert.deepEqual([...props.keys()].filter((n) => !flagProps.has(n)), ['mode', 'read_authorization']);
    assert.equal(props.get('mode')?.attrs.value, 'up');
    // Empty means the flag's default, except the data dir: the default is relative to the cwd (/).
    assert.deepEqual([...props.values()].filter((p) => p.attrs.value && p.attrs.name !== 'mode' && p.attrs.name !== 'read_authorization').map((p) => [p.attrs.name, p.attrs.value]), [['data_dir', '/var/lib/reddwarf']]);
    // svccfg describe: each property is documented.
    const patterns = find(find(service, 'template'), 'pg_pattern', 'application').children.map((p) => p.attrs.name);
    assert.deepEqual(patterns, [...props.keys()].filter((n) => n !== 'read_authorization'));
  });

  it('points the start method at --method-path, which must be absolute and blank-free', () => {
    const custom = parseXml(reddwarf('smf', 'manifest', '--method-path', '/usr/local/lib/svc/method/reddwarf')).root;
    assert.equal(find(find(custom, 'service'), 'exec_method', 'start').attrs.exec, '/usr/local/lib/svc/method/reddwarf %m');
    const r = run('smf', 'manifest', '--method-path', '/opt/my methods/reddwarf');
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /--method-path must be an absolute path without blanks or %/);
  });
});

/** svcprop(1)'s rendering of one astring value: `""` when empty, shell metacharacters backslashed. */
const svcpropQuote = (v: string): string => (v === '' ? '""' : v.replace(/[;&()|^<>\n\t \\"'`]/g, '\\$&'));

describe('reddwarf smf method', () => {
  let dir = '';
  let script = '';
  let shipped: Record<string, string> = {};

  before(() => {
    dir = makeTempDir('reddwarf-smf-');
    script = join(dir, 'method');
    writeFileSync(script, reddwarf('smf', 'method'), { mode: 0o755 });
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // svcprop -p application/NAME FMRI: the file props/NAME, exit 1 when there is none (as for a missing property).
    writeFileSync(
      join(bin, 'svcprop'),
      `#!/bin/sh\n[ "$1" = -p ] && [ "$3" = '${FMRI}' ] || { echo "fake svcprop: unexpected arguments: $*" >&2; exit 2; }\nf="$FAKE_SVCPROP/\${2#application/}"\n[ -f "$f" ] || exit 1\ncat "$f"\n`,
    );
    writeFileSync(join(bin, 'reddwarf'), `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ pid: process.pid, argv: process.argv.slice(2), token: process.env.REDDWARF_TOKEN }));\n`);
    chmodSync(join(bin, 'svcprop'), 0o755);
    chmodSync(join(bin, 'reddwarf'), 0o755);
    const config = find(find(parseXml(reddwarf('smf', 'manifest')).root, 'service'), 'property_group', 'application');
    shipped = Object.fromEntries(config.children.map((p) => [p.attrs.name ?? '', p.attrs.value ?? '']));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the method with `props` as the service's config (absent: no such property) and returns what reddwarf got. */
  function start(props: Record<string, string>, { arg = 'start', fmri = FMRI }: { arg?: string; fmri?: string } = {}) {
    const table = makeTempDir('reddwarf-smf-props-');
    try {
      for (const [name, value] of Object.entries(props)) writeFileSync(join(table, name), `${svcpropQuote(value)}\n`);
      const r = spawnSync('sh', [script, arg], { encoding: 'utf8', env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, SMF_FMRI: fmri, FAKE_SVCPROP: table } });
      const out = r.status === 0 ? (JSON.parse(r.stdout) as { pid: number; argv: string[]; token?: string }) : undefined;
      return { code: r.status, stderr: r.stderr, argv: out?.argv, token: out?.token, execd: out?.pid === r.pid };
    } finally {
      rmSync(table, { recursive: true, force: true });
    }
  }

  it('is valid sh (sh -n)', () => {
    const r = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('execs `reddwarf up` in its own process with the shipped configuration, empty properties omitted', () => {
    const r = start(shipped);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.argv, ['up', '--data-dir=/var/lib/reddwarf']);
    // duration=child: the method process itself becomes reddwarf (exec, foreground).
    assert.equal(r.execd, true);
    assert.equal(r.stderr, '');
  });

  it('runs `reddwarf agent` with values containing spaces and shell metacharacters as single arguments', () => {
    const r = start({ ...shipped, mode: 'agent', server: 'https://10.0.0.1:6443', token: 'abc;$(touch /tmp/pwned) `x`', node_name: 'node 2', data_dir: '/srv/red dwarf\'s "data"', max_pods: '', bind: '0.0.0.0:6443' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.argv, ['agent', '--data-dir=/srv/red dwarf\'s "data"', '--node-name=node 2', '--server=https://10.0.0.1:6443']);
    // The join token goes through the environment, never the (world-readable) argument list.
    assert.equal(r.token, 'abc;$(touch /tmp/pwned) `x`');
    assert.match(r.stderr, /application\/bind is not used in mode agent/);
  });

  it('turns boolean properties into --flag / --no-flag and refuses other values with SMF_EXIT_ERR_CONFIG', () => {
    const r = start({ mode: 'up', tls: 'true', insecure_allow_anonymous: 'false', tls_san: 'a.example, b.example' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.argv, ['up', '--tls-san=a.example, b.example', '--tls', '--no-insecure-allow-anonymous']);
    const bad = start({ mode: 'up', tls: 'yes' });
    assert.equal(bad.code, 96);
    assert.match(bad.stderr, /application\/tls must be true, false or empty/);
  });

  it('passes every flag of `reddwarf up` and `reddwarf agent` from its property', () => {
    for (const mode of ['up', 'agent'] as const) {
      const flags = helpFlags(mode);
      const props = Object.fromEntries(flags.map(({ flag, takesValue }) => [propertyOf(flag), takesValue ? `value of ${flag}` : 'true']));
      const r = start({ ...props, mode });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.argv?.[0], mode);
      // --token reaches the agent as $REDDWARF_TOKEN instead.
      const passed = flags.filter(({ flag }) => flag !== '--token');
      assert.deepEqual(
        [...(r.argv ?? []).slice(1)].sort(),
        passed.map(({ flag, takesValue }) => (takesValue ? `${flag}=value of ${flag}` : flag)).sort(),
        `reddwarf ${mode}`,
      );
      assert.equal(r.token, flags.some(({ flag }) => flag === '--token') ? 'value of --token' : undefined);
    }
  });

  it('starts `reddwarf up` with defaults when the config properties are missing', () => {
    const r = start({});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.argv, ['up']);
  });

  it('exits with SMF_EXIT_ERR_CONFIG (96) on a bad mode or an agent without application/server', () => {
    const mode = start({ mode: 'server' });
    assert.equal(mode.code, 96);
    assert.equal(mode.argv, undefined);
    assert.match(mode.stderr, /application\/mode must be up or agent \(got 'server'\)/);
    const server = start({ mode: 'agent' });
    assert.equal(server.code, 96);
    assert.match(server.stderr, /application\/server must be set in mode agent/);
  });

  it('refuses other methods (SMF_EXIT_ERR_FATAL) and a run outside SMF (SMF_EXIT_ERR_NOSMF)', () => {
    assert.equal(start(shipped, { arg: 'stop' }).code, 95);
    assert.equal(start(shipped, { fmri: '' }).code, 99);
  });
});
