// The SMF manifest of svc:/system/reddwarf:default, for `svccfg import`: a wait-model
// (duration=child) service whose start method execs `reddwarf up|agent` in the foreground, with
// one application/* property per flag of those commands.
import { DEFAULT_MODE, MODES, smfProperties, type Mode, type SmfProperty } from './properties.ts';

/** Where `reddwarf smf method` is meant to be installed. */
export const DEFAULT_METHOD_PATH = '/opt/reddwarf/lib/svc/method/reddwarf';

/** The method's PATH: it runs `reddwarf` and that runs `node`, wherever the usual packagings put them. */
export const METHOD_PATH_ENV = '/opt/reddwarf/bin:/opt/ooce/bin:/opt/local/bin:/usr/local/bin:/usr/bin:/usr/sbin';

/** SPEC §8.4 timeouts. reddwarf exits within 5 s of SIGTERM; svc.startd sends SIGKILL after the stop timeout. */
const START_TIMEOUT_SECONDS = 60;
const STOP_TIMEOUT_SECONDS = 30;
const REFRESH_TIMEOUT_SECONDS = 10;

/** Flag properties shipped with a value; every other one is empty, meaning the flag's default. */
const SHIPPED: Record<string, string> = {
  // The flag's defaults are relative to the cwd, which is / under svc.startd.
  data_dir: '/var/lib/reddwarf',
};

interface XmlElement {
  name: string;
  attrs?: Record<string, string>;
  children?: XmlElement[];
  text?: string;
}

const el = (name: string, attrs?: Record<string, string>, ...children: XmlElement[]): XmlElement => ({ name, attrs, children });
const loctext = (text: string): XmlElement => ({ name: 'loctext', attrs: { 'xml:lang': 'C' }, text });

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

function render(e: XmlElement, indent = ''): string {
  const attrs = Object.entries(e.attrs ?? {}).map(([k, v]) => ` ${k}="${escape(v)}"`).join('');
  if (e.text !== undefined) return `${indent}<${e.name}${attrs}>${escape(e.text)}</${e.name}>\n`;
  if (!e.children?.length) return `${indent}<${e.name}${attrs}/>\n`;
  return `${indent}<${e.name}${attrs}>\n${e.children.map((c) => render(c, `${indent}  `)).join('')}${indent}</${e.name}>\n`;
}

const dependency = (name: string, fmri: string, grouping: 'require_all' | 'optional_all'): XmlElement =>
  el('dependency', { name, grouping, restart_on: 'error', type: 'service' }, el('service_fmri', { value: fmri }));

const propval = (name: string, value: string): XmlElement => el('propval', { name, type: 'astring', value });

/** What `svccfg describe` says of a property: its flag, modes, each mode's description, and values. */
function describe(p: SmfProperty): string {
  const modes = Object.entries(p.modes) as [Mode, { description: string; required: boolean }][];
  const first = modes[0]?.[1].description;
  const what = modes.every(([, m]) => m.description === first) ? first : modes.map(([mode, m]) => `${mode}: ${m.description}`).join('; ');
  const required = modes.filter(([, m]) => m.required).map(([mode]) => mode);
  const values = required.length ? `required in mode ${required.join(' and ')}` : p.takesValue ? 'empty for the default' : 'true, false, or empty for the default';
  return `${p.flag}, mode ${modes.map(([mode]) => mode).join(' and ')}: ${what} (${values})`;
}

function propPattern(name: string, description: string, ...extra: XmlElement[]): XmlElement {
  return el('prop_pattern', { name, type: 'astring', required: 'false' }, el('description', {}, loctext(description)), ...extra);
}

/**
 * The service bundle XML. `methodPath` is where the method script is installed.
 * @example writeFileSync('reddwarf.xml', manifest()); // then: svccfg import reddwarf.xml
 */
export function manifest({ methodPath = DEFAULT_METHOD_PATH }: { methodPath?: string } = {}): string {
  const properties = smfProperties();
  const modes = Object.keys(MODES) as Mode[];
  const service = el(
    'service',
    { name: 'system/reddwarf', type: 'service', version: '1' },
    el('single_instance'),
    dependency('filesystem', 'svc:/system/filesystem/local', 'require_all'),
    dependency('loopback', 'svc:/network/loopback', 'require_all'),
    dependency('physical', 'svc:/network/physical', 'optional_all'),
    // duration=child: svc.startd hands a wait-model start method to its wait thread, so the
    // timeout never cuts the running service.
    el(
      'exec_method',
      { type: 'method', name: 'start', exec: `${methodPath} %m`, timeout_seconds: String(START_TIMEOUT_SECONDS) },
      el('method_context', {}, el('method_credential', { user: 'root', group: 'root' }), el('method_environment', {}, el('envvar', { name: 'PATH', value: METHOD_PATH_ENV }))),
    ),
    el('exec_method', { type: 'method', name: 'stop', exec: ':kill -TERM', timeout_seconds: String(STOP_TIMEOUT_SECONDS) }),
    // Properties are read at start; a refresh changes nothing until the next restart.
    el('exec_method', { type: 'method', name: 'refresh', exec: ':true', timeout_seconds: String(REFRESH_TIMEOUT_SECONDS) }),
    el(
      'property_group',
      { name: 'startd', type: 'framework' },
      propval('duration', 'child'),
      // Zone commands that reddwarf aborts die of its signal: that is no reason to restart reddwarf.
      propval('ignore_error', 'core,signal'),
    ),
    el(
      'property_group',
      { name: 'application', type: 'application' },
      propval('mode', DEFAULT_MODE),
      ...properties.map((p) => propval(p.name, SHIPPED[p.name] ?? '')),
      // application/token is a join token: only root (and holders of this authorization) may read it.
      propval('read_authorization', 'solaris.smf.read.reddwarf'),
    ),
    el('instance', { name: 'default', enabled: 'false' }),
    el('stability', { value: 'Evolving' }),
    el(
      'template',
      {},
      el('common_name', {}, loctext('Reddwarf Kubernetes Control Plane')),
      el('description', {}, loctext('Runs `reddwarf up` (API server, scheduler and node agent) or `reddwarf agent` (a node joining another API server), as application/mode says.')),
      el(
        'pg_pattern',
        { name: 'application', type: 'application', target: 'this', required: 'false' },
        propPattern('mode', `which command to run: ${modes.join(' or ')}`, el('constraints', {}, ...modes.map((m) => el('value', { name: m })))),
        ...properties.map((p) => propPattern(p.name, describe(p))),
      ),
    ),
  );
  return `<?xml version="1.0"?>
<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1">
<!-- Written by \`reddwarf smf manifest\`; the start method is \`reddwarf smf method\`, installed at the exec path below. -->
${render(el('service_bundle', { type: 'manifest', name: 'reddwarf' }, service))}`;
}
