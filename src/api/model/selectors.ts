// Label and field selectors: Kubernetes' grammar (apimachinery labels/selector.go, fields/selector.go), parsed once, matched cheaply.
import type { KubeObject } from './types.ts';
import { badRequest } from './status.ts';
import { labelValueErrors, qualifiedNameErrors } from './validation.ts';

export type LabelOp = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  /** Sorted, as Kubernetes keeps them; one value for =, ==, !=, gt, lt; none for exists and !. */
  readonly values: readonly string[];
  /** For in/notin: the values as a set, so matching stays O(1) per requirement. */
  readonly set?: ReadonlySet<string>;
  /** For gt/lt: the integer bound. */
  readonly bound?: number;
}

/** A parsed label selector: all requirements must match (an empty list matches everything). */
export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
}

export interface FieldRequirement {
  readonly field: string;
  /** `==` is parsed as `=`, as Kubernetes does. */
  readonly op: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector: all requirements must match (an empty list matches everything). */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

// ---------------------------------------------------------------------------------------------
// Label selectors

type TokKind = 'id' | 'end' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'error';
interface Tok { kind: TokKind; lit: string }

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOL_TOKENS: Record<string, TokKind> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', '(': '(', '<': '<', '!=': '!=' };
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const BINARY_OPS = 'in, notin, =, ==, !=, gt, lt';

/** Kubernetes' selector lexer: symbols take the longest known run ("!=" over "!"), anything else up to a symbol or space is an identifier. */
function lex(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (true) {
    while (i < text.length && isSpace(text[i] as string)) i++;
    if (i >= text.length) {
      toks.push({ kind: 'end', lit: '' });
      return toks;
    }
    const c = text[i] as string;
    if (SPECIAL.has(c)) {
      let buf = '';
      let last: Tok | undefined;
      while (i < text.length && SPECIAL.has(text[i] as string)) {
        buf += text[i];
        const kind = SYMBOL_TOKENS[buf];
        if (kind) last = { kind, lit: buf };
        else if (last) break;
        i++;
      }
      toks.push(last ?? { kind: 'error', lit: buf });
      if (!last) {
        toks.push({ kind: 'end', lit: '' });
        return toks;
      }
      continue;
    }
    const start = i;
    while (i < text.length && !isSpace(text[i] as string) && !SPECIAL.has(text[i] as string)) i++;
    toks.push({ kind: 'id', lit: text.slice(start, i) });
  }
}

class LabelParser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.pos] as Tok;
  }

  private next(): Tok {
    const t = this.toks[this.pos] as Tok;
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    while (true) {
      const t = this.peek();
      if (t.kind === 'end') return reqs;
      if (t.kind !== 'id' && t.kind !== '!') throw new Error(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.requirement());
      } catch (e) {
        throw new Error(`unable to parse requirement: ${(e as Error).message}`, { cause: e });
      }
      const after = this.next();
      if (after.kind === 'end') return reqs;
      if (after.kind !== ',') throw new Error(`found '${after.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek();
      if (t2.kind !== 'id' && t2.kind !== '!') throw new Error(`found '${t2.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let negated = false;
    let t = this.next();
    if (t.kind === '!') {
      negated = true;
      t = this.next();
    }
    if (t.kind !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    checkKey(key);
    const la = this.peek().kind;
    if (negated) return makeRequirement(key, '!', []);
    if (la === 'end' || la === ',') return makeRequirement(key, 'exists', []);
    const opTok = this.next();
    let op: LabelOp;
    // "in" and "notin" are keywords only in operator position; as keys or values they are plain words.
    if (opTok.kind === 'id' && (opTok.lit === 'in' || opTok.lit === 'notin')) op = opTok.lit;
    else if (opTok.kind === '=' || opTok.kind === '==' || opTok.kind === '!=') op = opTok.kind;
    else if (opTok.kind === '>') op = 'gt';
    else if (opTok.kind === '<') op = 'lt';
    else throw new Error(`found '${opTok.lit}', expected: ${BINARY_OPS}`);
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
    return makeRequirement(key, op, values);
  }

  private exactValue(): string[] {
    const la = this.peek();
    // `a=` selects an empty value, as in Kubernetes.
    if (la.kind === 'end' || la.kind === ',') return [''];
    const t = this.next();
    if (t.kind === 'id') return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }

  private setValues(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new Error(`found '${open.lit}', expected: '('`);
    const la = this.peek();
    if (la.kind === ')') {
      this.next();
      return [''];
    }
    if (la.kind !== 'id' && la.kind !== ',') throw new Error(`found '${la.lit}', expected: ',', ')' or identifier`);
    const values = new Set<string>();
    // Empty slots, as in "(,a)" or "(a,)", stand for the empty value.
    let expectValue = true;
    while (true) {
      const t = this.next();
      if (t.kind === ')') {
        if (expectValue) values.add('');
        return [...values];
      }
      if (t.kind === ',') {
        if (expectValue) values.add('');
        expectValue = true;
        continue;
      }
      if (t.kind === 'id' && expectValue) {
        values.add(t.lit);
        expectValue = false;
        const la2 = this.peek();
        if (la2.kind !== ',' && la2.kind !== ')') throw new Error(`found '${la2.lit}', expected: ',' or ')'`);
        continue;
      }
      throw new Error(`found '${t.lit}', expected: ',', or identifier`);
    }
  }
}

function checkKey(key: string): void {
  const errs = qualifiedNameErrors(key);
  if (errs.length > 0) throw new Error(`key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function makeRequirement(key: string, op: LabelOp, raw: string[]): LabelRequirement {
  const values = [...raw].sort();
  values.forEach((v, i) => {
    const errs = labelValueErrors(v);
    if (errs.length > 0) throw new Error(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
  });
  if (op === 'in' || op === 'notin') return { key, op, values, set: new Set(values) };
  if (op === 'gt' || op === 'lt') {
    const v = values[0] as string;
    if (!/^[+-]?\d+$/.test(v)) throw new Error(`values[0]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
    return { key, op, values, bound: Number(v) };
  }
  return { key, op, values };
}

/** Parses a label selector (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`; comma = AND); throws 400 on bad syntax. */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    const requirements = new LabelParser(lex(text)).parse();
    // Sorted by key like Kubernetes, so the canonical string is stable.
    requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { requirements };
  } catch (e) {
    throw badRequest(`unable to parse label selector ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
}

/** A selector requiring each key to equal its value (nodeSelector, service selectors); no validation. */
export function labelSelectorFromMap(map: Record<string, string>): LabelSelector {
  const requirements = Object.keys(map).sort().map((key): LabelRequirement => ({ key, op: '=', values: [map[key] as string] }));
  return { requirements };
}

const GO_INT = /^[+-]?\d+$/;

/** Whether `labels` satisfy every requirement of `sel` (absent labels count as an empty map). */
export function matchesLabels(sel: LabelSelector, labels?: Record<string, string>): boolean {
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i] as LabelRequirement;
    const has = labels != null && Object.hasOwn(labels, r.key);
    const v = has ? (labels as Record<string, string>)[r.key] : undefined;
    switch (r.op) {
      case 'exists': if (!has) return false; break;
      case '!': if (has) return false; break;
      case '=': case '==': if (!has || v !== r.values[0]) return false; break;
      // "Not equal" also matches objects without the label, as in Kubernetes.
      case '!=': if (has && v === r.values[0]) return false; break;
      case 'in': if (!has || !r.set?.has(v as string)) return false; break;
      case 'notin': if (has && r.set?.has(v as string)) return false; break;
      case 'gt': case 'lt': {
        if (!has || !GO_INT.test(v as string)) return false;
        const n = Number(v);
        if (r.op === 'gt' ? !(n > (r.bound as number)) : !(n < (r.bound as number))) return false;
        break;
      }
    }
  }
  return true;
}

function requirementToString(r: LabelRequirement): string {
  switch (r.op) {
    case 'exists': return r.key;
    case '!': return `!${r.key}`;
    case 'in': case 'notin': return `${r.key} ${r.op} (${r.values.join(',')})`;
    case 'gt': return `${r.key}>${r.values[0]}`;
    case 'lt': return `${r.key}<${r.values[0]}`;
    default: return `${r.key}${r.op}${r.values[0]}`;
  }
}

/** The canonical text of a label selector (what Kubernetes' String() prints). */
export function selectorToString(sel: LabelSelector): string {
  return sel.requirements.map(requirementToString).join(',');
}

// ---------------------------------------------------------------------------------------------
// Field selectors

const META_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELD_LABELS: Record<string, ReadonlySet<string>> = {
  pods: new Set([...META_FIELDS, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName']),
  nodes: new Set([...META_FIELDS, 'spec.unschedulable']),
  namespaces: new Set([...META_FIELDS, 'status.phase']),
  services: new Set([...META_FIELDS, 'spec.clusterIP', 'spec.type']),
  secrets: new Set([...META_FIELDS, 'type']),
  events: new Set([
    ...META_FIELDS, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
  ]),
};
const DEFAULT_FIELD_LABELS: ReadonlySet<string> = new Set(META_FIELDS);
/** Old names Kubernetes still converts (pkg/apis/core/v1/conversion.go). */
const LEGACY_FIELD_LABELS: Record<string, Record<string, string>> = { pods: { 'spec.host': 'spec.nodeName' } };

/** Splits on commas that are not escaped (`\,`). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let slash = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (slash) slash = false;
    else if (c === '\\') slash = true;
    else if (c === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** Kubernetes' UnescapeValue: `\\`, `\,` and `\=` are escapes; a bare `,` or `=` or any other escape is an error. */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let slash = false;
  for (const c of s) {
    if (slash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      slash = false;
    } else if (c === '\\') {
      slash = true;
    } else if (c === ',' || c === '=') {
      throw badRequest(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  if (slash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Parses a field selector (`f=v`, `f==v`, `f!=v`; comma = AND) for a plural resource; unknown labels are 400s. */
/** The value a field selector pins `field` to with `=`, if it does (`spec.nodeName=n1` → n1). */
export function pinnedField(text: string | null | undefined, resource: string, field: string): string | undefined {
  if (!text) return undefined;
  return parseFieldSelector(text, resource).requirements.find((r) => r.field === field && r.op === '=')?.value;
}

export function parseFieldSelector(text: string, resource: string): FieldSelector {
  const supported = FIELD_LABELS[resource] ?? DEFAULT_FIELD_LABELS;
  const legacy = LEGACY_FIELD_LABELS[resource];
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(text).sort()) {
    if (term === '') continue;
    // The first operator wins, trying "!=" then "==" then "=" at each position (fields.splitTerm).
    const m = /!=|==|=/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const label = term.slice(0, m.index).trim();
    const value = unescapeValue(term.slice(m.index + m[0].length));
    const field = legacy?.[label] ?? label;
    if (!supported.has(field)) throw badRequest(`field label not supported: ${label}`);
    requirements.push({ field, op: m[0] === '!=' ? '!=' : '=', value });
  }
  return { requirements };
}

/** Whether `fields` (from fieldsOf) satisfy every requirement; a missing field reads as "". */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i] as FieldRequirement;
    const v = fields[r.field] ?? '';
    if ((v === r.value) !== (r.op === '=')) return false;
  }
  return true;
}

/** The value an `=`/`==` requirement pins `label` to, if any (lets the server narrow by namespace/name/nodeName). */
export function fieldSelectorRequires(sel: FieldSelector, label: string): string | undefined {
  for (const r of sel.requirements) if (r.field === label && r.op === '=') return r.value;
  return undefined;
}

/** The canonical text of a field selector, values escaped. */
export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.op}${r.value.replace(/[\\,=]/g, (c) => `\\${c}`)}`).join(',');
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const bool = (v: unknown): string => (v === true ? 'true' : 'false');
type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});

/** The field-label values of an object, as its resource's field selectors see them (missing → ""). */
export function fieldsOf(resource: string, obj: KubeObject): Record<string, string> {
  const meta = rec(obj.metadata);
  const f: Record<string, string> = { 'metadata.name': str(meta.name), 'metadata.namespace': str(meta.namespace) };
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  switch (resource) {
    case 'pods': {
      const ips = Array.isArray(status.podIPs) ? status.podIPs.map((p) => str(rec(p).ip)) : [];
      f['spec.nodeName'] = str(spec.nodeName);
      f['spec.restartPolicy'] = str(spec.restartPolicy);
      // Kubernetes defaults schedulerName, so a pod without one is the default scheduler's.
      f['spec.schedulerName'] = str(spec.schedulerName) || 'default-scheduler';
      f['spec.serviceAccountName'] = str(spec.serviceAccountName);
      f['spec.hostNetwork'] = bool(spec.hostNetwork);
      f['status.phase'] = str(status.phase);
      f['status.podIP'] = str(status.podIP) || (ips[0] ?? '');
      // The downward API's rendering of podIPs: comma-separated.
      f['status.podIPs'] = ips.length > 0 ? ips.join(',') : str(status.podIP);
      f['status.nominatedNodeName'] = str(status.nominatedNodeName);
      break;
    }
    case 'nodes':
      f['spec.unschedulable'] = bool(spec.unschedulable);
      break;
    case 'namespaces':
      f['status.phase'] = str(status.phase);
      break;
    case 'services':
      f['spec.clusterIP'] = str(spec.clusterIP);
      f['spec.type'] = str(spec.type) || 'ClusterIP';
      break;
    case 'secrets':
      f.type = str(obj.type);
      break;
    case 'events': {
      const io = rec(obj.involvedObject);
      for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) f[`involvedObject.${k}`] = str(io[k]);
      f.reason = str(obj.reason);
      f.reportingComponent = str(obj.reportingComponent);
      f.source = str(rec(obj.source).component) || str(obj.reportingComponent);
      f.type = str(obj.type);
      break;
    }
  }
  return f;
}
