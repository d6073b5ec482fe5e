// Field validation of the kinds we serve, in Kubernetes' wording (apimachinery util/validation, pkg/apis/core/validation).
import type { CoreEvent, Namespace, Node, ObjectMeta, Pod, Service } from './types.ts';
import { cause, type StatusCause } from './status.ts';
import { PLANNED_BRANDS, POD_BRANDS, ZONE_BRAND_ANNOTATION } from './brands.ts';
import { jsonEqual } from './json-value.ts';

// The patterns and texts are Kubernetes' own, so clients and people see the messages they know.
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;

const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);

const DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Kubernetes' quantity grammar (resource.ParseQuantity), including the n/u suffixes it accepts. */
const QUANTITY_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_SCALE: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const MAX_INT32 = 2147483647;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
// Kubernetes' API defaults: absent on a PUT body means these, so they are not "changes".
const DEFAULT_RESTART_POLICY = 'Always';
const DEFAULT_GRACE_SECONDS = 30;

/** Kubernetes' reason for refusing a pod spec change (ValidatePodUpdate). */
export const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** apimachinery's RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is '…')`, double space and all. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

const maxLenError = (n: number): string => `must be no more than ${n} characters`;
const rangeError = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

// Names are ASCII once valid; Go measures bytes, and so does this for the non-ASCII invalid ones.
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Error texts for a DNS-1123 subdomain (<=253 chars); empty when valid. Like Kubernetes, labels are not capped at 63. */
export function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = [];
  if (byteLength(s) > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(s)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** Error texts for a DNS-1123 label (<=63 chars); empty when valid. */
export function dns1123LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (byteLength(s) > 63) errs.push(maxLenError(63));
  if (!DNS1123_LABEL_RE.test(s)) errs.push(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  return errs;
}

/** Error texts for a DNS-1035 label (a DNS-1123 label that starts with a letter); empty when valid. */
export function dns1035LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (byteLength(s) > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL_RE.test(s)) errs.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

/** Whether `s` is a DNS-1123 subdomain, the rule for most object names. */
export const isDns1123Subdomain = (s: string): boolean => dns1123SubdomainErrors(s).length === 0;

/** Whether `s` is a DNS-1123 label (namespace names, container names). */
export const isDns1123Label = (s: string): boolean => dns1123LabelErrors(s).length === 0;

/** Error texts for a qualified name (`[prefix/]name`, label and annotation keys); empty when valid. */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = value;
  } else if (parts.length === 2) {
    const prefix = parts[0] as string;
    name = parts[1] as string;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME_RE.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** Error texts for a label value (empty, or <=63 chars of [-A-Za-z0-9_.] starting and ending alphanumeric). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** Causes for a label map (metadata.labels, nodeSelector): every key a qualified name, every value a label value. */
export function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (!isRecord(labels)) return [cause.invalid(field, labels, 'must be a map of string keys to string values')];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of qualifiedNameErrors(k)) causes.push(cause.invalid(field, k, m));
    if (typeof v !== 'string') causes.push(cause.invalid(field, v, 'must be a string'));
    else for (const m of labelValueErrors(v)) causes.push(cause.invalid(field, v, m));
  }
  return causes;
}

function validateAnnotations(annotations: unknown, field: string): StatusCause[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isRecord(annotations)) return [cause.invalid(field, annotations, 'must be a map of string keys to string values')];
  const causes: StatusCause[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    // Annotation keys are qualified names in which case does not matter.
    for (const m of qualifiedNameErrors(k.toLowerCase())) causes.push(cause.invalid(field, k, m));
    if (typeof v !== 'string') causes.push(cause.invalid(field, v, 'must be a string'));
    size += byteLength(k) + (typeof v === 'string' ? byteLength(v) : 0);
  }
  // Kubernetes' TooLong omits the value: annotations this big would swamp the message.
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) causes.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  return causes;
}

/** Which name rule a kind uses: DNS-1123 subdomain, DNS-1123 label, or DNS-1035 label (services). */
export type NameRule = 'subdomain' | 'label' | 'dns1035';

function nameErrors(rule: NameRule, name: string, prefix: boolean): string[] {
  // A generateName prefix may end in '-'; Kubernetes masks it (maskTrailingDash, quirk included).
  const n = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
  if (rule === 'subdomain') return dns1123SubdomainErrors(n);
  if (rule === 'label') return dns1123LabelErrors(n);
  return dns1035LabelErrors(n);
}

/** Causes for metadata: name/generateName by `nameRule`, namespace presence, labels, annotations, finalizers. */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameRule: NameRule): StatusCause[] {
  if (!isRecord(meta)) return [cause.required('metadata.name')];
  const causes: StatusCause[] = [];
  const { name, generateName, namespace } = meta;
  if (typeof generateName === 'string' && generateName !== '') {
    for (const m of nameErrors(nameRule, generateName, true)) causes.push(cause.invalid('metadata.generateName', generateName, m));
  }
  if (name === undefined || name === null || name === '') {
    if (!(typeof generateName === 'string' && generateName !== '')) {
      causes.push({ ...cause.required('metadata.name'), message: 'Required value: name or generateName is required' });
    }
  } else if (typeof name !== 'string') {
    causes.push(cause.invalid('metadata.name', name, 'must be a string'));
  } else {
    for (const m of nameErrors(nameRule, name, false)) causes.push(cause.invalid('metadata.name', name, m));
  }
  if (namespaced) {
    if (namespace === undefined || namespace === '') causes.push(cause.required('metadata.namespace'));
    else if (typeof namespace !== 'string') causes.push(cause.invalid('metadata.namespace', namespace, 'must be a string'));
    else for (const m of dns1123LabelErrors(namespace)) causes.push(cause.invalid('metadata.namespace', namespace, m));
  } else if (namespace !== undefined && namespace !== '') {
    causes.push(cause.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  causes.push(...validateLabels(meta.labels, 'metadata.labels'));
  causes.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) causes.push(cause.invalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
    else {
      for (const f of meta.finalizers as unknown[]) {
        if (typeof f !== 'string') causes.push(cause.invalid('metadata.finalizers', f, 'must be a string'));
        else for (const m of qualifiedNameErrors(f)) causes.push(cause.invalid('metadata.finalizers', f, m));
      }
    }
  }
  return causes;
}

/** A quantity's value as a float (for comparisons), or undefined when it is not a quantity. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string' || !QUANTITY_RE.test(q)) return undefined;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$/.exec(q) as RegExpExecArray;
  const num = Number(m[1]);
  const suffix = m[2] as string;
  const scale = SUFFIX_SCALE[suffix] ?? 10 ** Number(suffix.slice(1));
  return num * scale;
}

function validateResources(resources: unknown, path: string): StatusCause[] {
  if (resources === undefined || resources === null) return [];
  if (!isRecord(resources)) return [cause.invalid(path, resources, 'must be an object')];
  const causes: StatusCause[] = [];
  const values: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    const list = resources[kind];
    if (list === undefined || list === null) continue;
    if (!isRecord(list)) {
      causes.push(cause.invalid(`${path}.${kind}`, list, 'must be a map of resource names to quantities'));
      continue;
    }
    for (const [res, q] of Object.entries(list)) {
      const field = `${path}.${kind}[${res}]`;
      const v = parseQuantity(q);
      if (v === undefined) causes.push(cause.invalid(field, q, QUANTITY_MSG));
      else if (v < 0) causes.push(cause.invalid(field, q, 'must be greater than or equal to 0'));
      else values[kind][res] = v;
    }
  }
  for (const [res, req] of Object.entries(values.requests)) {
    const lim = values.limits[res];
    // Floats stand in for exact decimals here; the tolerance keeps 1 vs 1000m equal.
    if (lim !== undefined && req > lim * (1 + 1e-12)) {
      const limitsRaw = (resources.limits as Rec)[res];
      causes.push(cause.invalid(`${path}.requests[${res}]`, (resources.requests as Rec)[res], `must be less than or equal to ${res} limit of ${String(limitsRaw)}`));
    }
  }
  return causes;
}

function validatePortNumber(port: unknown, field: string): StatusCause[] {
  if (!isInt(port) || port < 1 || port > 65535) return [cause.invalid(field, port, rangeError(1, 65535))];
  return [];
}

/** Kubernetes' IsValidPortName (IANA service names), for named targetPorts. */
function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

function validateContainers(list: unknown, path: string, names: Set<string>): StatusCause[] {
  if (!Array.isArray(list)) return [cause.invalid(path, list, 'must be a list of containers')];
  const causes: StatusCause[] = [];
  list.forEach((c: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(c)) {
      causes.push(cause.invalid(at, c, 'must be an object'));
      return;
    }
    const name = c.name;
    if (name === undefined || name === '') causes.push(cause.required(`${at}.name`));
    else if (typeof name !== 'string') causes.push(cause.invalid(`${at}.name`, name, 'must be a string'));
    else {
      for (const m of dns1123LabelErrors(name)) causes.push(cause.invalid(`${at}.name`, name, m));
      if (names.has(name)) causes.push(cause.duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (c.image === undefined || c.image === null || c.image === '') causes.push(cause.required(`${at}.image`));
    else if (typeof c.image !== 'string') causes.push(cause.invalid(`${at}.image`, c.image, 'must be a string'));
    causes.push(...validateResources(c.resources, `${at}.resources`));
    if (Array.isArray(c.ports)) {
      c.ports.forEach((p: unknown, j) => {
        if (isRecord(p)) causes.push(...validatePortNumber(p.containerPort, `${at}.ports[${j}].containerPort`));
      });
    }
  });
  return causes;
}

function validateTaintEffect(effect: unknown, field: string): StatusCause[] {
  return typeof effect === 'string' && TAINT_EFFECTS.includes(effect) ? [] : [cause.notSupported(field, effect, TAINT_EFFECTS)];
}

/** Causes for a toleration list (pods, RuntimeClass scheduling). */
export function validateTolerations(list: unknown, path: string): StatusCause[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [cause.invalid(path, list, 'must be a list of tolerations')];
  const causes: StatusCause[] = [];
  list.forEach((t: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(t)) {
      causes.push(cause.invalid(at, t, 'must be an object'));
      return;
    }
    const key = typeof t.key === 'string' ? t.key : '';
    const op = t.operator ?? '';
    const value = typeof t.value === 'string' ? t.value : '';
    const effect = t.effect ?? '';
    if (key !== '') for (const m of qualifiedNameErrors(key)) causes.push(cause.invalid(`${at}.key`, key, m));
    // An empty key with Exists is the "tolerate everything" toleration; anything else needs a key.
    if (key === '' && op !== 'Exists') {
      causes.push(cause.invalid(`${at}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute') {
      causes.push(cause.invalid(`${at}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const errs = labelValueErrors(value);
      if (errs.length > 0) causes.push(cause.invalid(`${at}.operator`, value, errs.join(';')));
    } else if (op === 'Exists') {
      if (value !== '') causes.push(cause.invalid(`${at}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    } else {
      causes.push(cause.notSupported(`${at}.operator`, op, ['Equal', 'Exists']));
    }
    if (effect !== '') causes.push(...validateTaintEffect(effect, `${at}.effect`));
  });
  return causes;
}

/** Causes for a Pod: metadata, containers, resources, restartPolicy, grace period, tolerations, nodeSelector. */
export function validatePod(pod: Pod): StatusCause[] {
  const causes = validateObjectMeta(pod.metadata, true, 'subdomain');
  const spec: unknown = pod.spec;
  if (!isRecord(spec)) return [...causes, cause.required('spec')];
  const names = new Set<string>();
  if (spec.containers === undefined || spec.containers === null || (Array.isArray(spec.containers) && spec.containers.length === 0)) {
    causes.push(cause.required('spec.containers'));
  } else {
    causes.push(...validateContainers(spec.containers, 'spec.containers', names));
  }
  if (Array.isArray(spec.containers)) causes.push(...validateZoneCaps(spec.containers));
  // Kubernetes keeps init and app container names in one namespace.
  if (spec.initContainers !== undefined && spec.initContainers !== null) causes.push(...validateContainers(spec.initContainers, 'spec.initContainers', names));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy as string)) {
    causes.push(cause.notSupported('spec.restartPolicy', spec.restartPolicy, RESTART_POLICIES));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && grace !== null) {
    if (!isInt(grace)) causes.push(cause.invalid('spec.terminationGracePeriodSeconds', grace, 'must be an integer'));
    else if (grace < 0) causes.push(cause.invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0'));
  }
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null && (!isInt(deadline) || deadline < 1 || deadline > MAX_INT32)) {
    causes.push(cause.invalid('spec.activeDeadlineSeconds', deadline, rangeError(1, MAX_INT32)));
  }
  causes.push(...validateLabels(spec.nodeSelector, 'spec.nodeSelector'));
  if (spec.nodeName !== undefined && spec.nodeName !== '') {
    const nodeName = spec.nodeName;
    if (typeof nodeName !== 'string') causes.push(cause.invalid('spec.nodeName', nodeName, 'must be a string'));
    else for (const m of dns1123SubdomainErrors(nodeName)) causes.push(cause.invalid('spec.nodeName', nodeName, m));
  }
  causes.push(...validateTolerations(spec.tolerations, 'spec.tolerations'));
  const rc = spec.runtimeClassName;
  if (rc !== undefined && rc !== null && rc !== '') {
    if (typeof rc !== 'string') causes.push(cause.invalid('spec.runtimeClassName', rc, 'must be a string'));
    else for (const m of dns1123SubdomainErrors(rc)) causes.push(cause.invalid('spec.runtimeClassName', rc, m));
  }
  causes.push(...validateZoneBrand(pod.metadata?.annotations));
  return causes;
}

/** zonecfg's minimums (illumos zonecfg.c): capped-cpu ncpus ≥ 0.01, capped-memory physical ≥ 1M. */
export const ZONE_MIN_CPU_MILLIS = 10;
export const ZONE_MIN_MEMORY_BYTES = 2 ** 20;

/**
 * What zonecfg would refuse when the pod becomes a zone: the zone's caps come from each container's
 * limits (its requests when it has no limits), as src/runtime/zonespec.ts sums them; a non-zero
 * value below the minimum fails there, so it is refused here, naming the field.
 */
function validateZoneCaps(containers: unknown[]): StatusCause[] {
  const causes: StatusCause[] = [];
  containers.forEach((c: unknown, i) => {
    if (!isRecord(c) || !isRecord(c.resources)) return;
    const which = isRecord(c.resources.limits) ? 'limits' : isRecord(c.resources.requests) ? 'requests' : undefined;
    if (!which) return;
    const list = c.resources[which] as Rec;
    const cpu = parseQuantity(list.cpu);
    if (cpu !== undefined && cpu > 0 && cpu * 1000 < ZONE_MIN_CPU_MILLIS - 1e-9) {
      causes.push(cause.invalid(`spec.containers[${i}].resources.${which}.cpu`, list.cpu, `must be at least 10m: a zone's capped-cpu ncpus must be at least 0.01 (zonecfg refuses less)`));
    }
    const memory = parseQuantity(list.memory);
    if (memory !== undefined && memory > 0 && memory < ZONE_MIN_MEMORY_BYTES) {
      causes.push(cause.invalid(`spec.containers[${i}].resources.${which}.memory`, list.memory, `must be at least 1Mi: a zone's capped-memory physical must be at least 1M (zonecfg refuses less)`));
    }
  });
  return causes;
}

/** The zone brand annotation names a brand the runtime builds (bhyve: not yet). */
function validateZoneBrand(annotations: unknown): StatusCause[] {
  const brand = isRecord(annotations) ? annotations[ZONE_BRAND_ANNOTATION] : undefined;
  if (typeof brand !== 'string' || POD_BRANDS.includes(brand)) return [];
  const field = `metadata.annotations[${ZONE_BRAND_ANNOTATION}]`;
  if (PLANNED_BRANDS.includes(brand)) return [cause.invalid(field, brand, `zone brand "${brand}" is not supported yet`)];
  return [cause.notSupported(field, brand, [...POD_BRANDS])];
}

/** Causes for a Node: metadata (subdomain name, cluster-scoped) and taints. */
export function validateNode(node: Node): StatusCause[] {
  const causes = validateObjectMeta(node.metadata, false, 'subdomain');
  const taints: unknown = node.spec?.taints;
  if (taints === undefined || taints === null) return causes;
  if (!Array.isArray(taints)) return [...causes, cause.invalid('spec.taints', taints, 'must be a list of taints')];
  const seen = new Set<string>();
  taints.forEach((t: unknown, i) => {
    const at = `spec.taints[${i}]`;
    if (!isRecord(t)) {
      causes.push(cause.invalid(at, t, 'must be an object'));
      return;
    }
    const key = typeof t.key === 'string' ? t.key : '';
    for (const m of qualifiedNameErrors(key)) causes.push(cause.invalid(`${at}.key`, key, m));
    const value = typeof t.value === 'string' ? t.value : '';
    const errs = labelValueErrors(value);
    if (errs.length > 0) causes.push(cause.invalid(`${at}.value`, value, errs.join(';')));
    if (t.effect === undefined || t.effect === '') causes.push(cause.required(`${at}.effect`));
    else causes.push(...validateTaintEffect(t.effect, `${at}.effect`));
    const id = `${String(t.effect)}\u0000${key}`;
    if (seen.has(id)) {
      const d = cause.duplicate(at, { key, effect: t.effect });
      causes.push({ ...d, message: `${d.message}: taints must be unique by key and effect pair` });
    }
    seen.add(id);
  });
  return causes;
}

/** Causes for a Namespace: its name is a DNS-1123 label and it has no namespace itself. */
export function validateNamespace(ns: Namespace): StatusCause[] {
  return validateObjectMeta(ns.metadata, false, 'label');
}

/** Causes for a Service: DNS-1035 name, type, and ports (number, protocol, names, targetPort). */
export function validateService(svc: Service): StatusCause[] {
  const causes = validateObjectMeta(svc.metadata, true, 'dns1035');
  const spec: unknown = svc.spec;
  if (spec === undefined || spec === null) return causes;
  if (!isRecord(spec)) return [...causes, cause.invalid('spec', spec, 'must be an object')];
  if (spec.type !== undefined && !SERVICE_TYPES.includes(spec.type as string)) causes.push(cause.notSupported('spec.type', spec.type, SERVICE_TYPES));
  const ports = spec.ports;
  if (ports === undefined || ports === null) return causes;
  if (!Array.isArray(ports)) return [...causes, cause.invalid('spec.ports', ports, 'must be a list of ports')];
  const names = new Set<string>();
  ports.forEach((p: unknown, i) => {
    const at = `spec.ports[${i}]`;
    if (!isRecord(p)) {
      causes.push(cause.invalid(at, p, 'must be an object'));
      return;
    }
    // With several ports, names are how endpoints and clients tell them apart.
    if (p.name === undefined || p.name === '') {
      if (ports.length > 1) causes.push(cause.required(`${at}.name`));
    } else if (typeof p.name !== 'string') {
      causes.push(cause.invalid(`${at}.name`, p.name, 'must be a string'));
    } else {
      for (const m of dns1123LabelErrors(p.name)) causes.push(cause.invalid(`${at}.name`, p.name, m));
      if (names.has(p.name)) causes.push(cause.duplicate(`${at}.name`, p.name));
      names.add(p.name);
    }
    causes.push(...validatePortNumber(p.port, `${at}.port`));
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol as string)) causes.push(cause.notSupported(`${at}.protocol`, p.protocol, PROTOCOLS));
    const target = p.targetPort;
    if (typeof target === 'number') {
      // 0 is Go's "unset" (defaulted to port), not an invalid port.
      if (target !== 0) causes.push(...validatePortNumber(target, `${at}.targetPort`));
    } else if (typeof target === 'string') {
      for (const m of portNameErrors(target)) causes.push(cause.invalid(`${at}.targetPort`, target, m));
    } else if (target !== undefined && target !== null) {
      causes.push(cause.invalid(`${at}.targetPort`, target, 'must be a port number or name'));
    }
  });
  return causes;
}

/** Causes for a core/v1 Event: metadata, a present involvedObject, and (legacy events) matching namespaces. */
export function validateEvent(ev: CoreEvent): StatusCause[] {
  const causes = validateObjectMeta(ev.metadata, true, 'subdomain');
  const involved: unknown = ev.involvedObject;
  if (!isRecord(involved)) return [...causes, cause.required('involvedObject')];
  // Old-style events (no eventTime) live in their object's namespace, or default for cluster-scoped objects.
  if (ev.eventTime === undefined || ev.eventTime === null || ev.eventTime === '') {
    const ns = ev.metadata?.namespace ?? '';
    const ins = typeof involved.namespace === 'string' ? involved.namespace : '';
    const ok = ins === '' ? ns === '' || ns === 'default' : ns === ins;
    if (!ok) causes.push(cause.invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
  }
  return causes;
}

/** A JSON value with undefined members dropped, for comparisons where absent and undefined agree. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function tolerationsErrors(next: unknown, prev: unknown): StatusCause[] {
  const olds = Array.isArray(prev) ? (prev as unknown[]) : [];
  const news = Array.isArray(next) ? (next as unknown[]) : [];
  for (const old of olds) {
    // tolerationSeconds may change (e.g. shortened by the taint manager); nothing else may.
    const found = news.some((n) => {
      if (!isRecord(old) || !isRecord(n)) return false;
      const o: Rec = { ...old };
      if (n.tolerationSeconds === undefined) delete o.tolerationSeconds;
      else o.tolerationSeconds = n.tolerationSeconds;
      return jsonEqual(o, n);
    });
    if (!found) return [cause.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return [];
}

/** Causes for a pod update: the spec is immutable except images, activeDeadlineSeconds, tolerations (additions), grace. */
export function validatePodUpdate(next: Pod, prev: Pod): StatusCause[] {
  if (!isRecord(next.spec) || !isRecord(prev.spec)) return [];
  const old = plain(prev.spec) as Rec;
  const munged = plain(next.spec) as Rec;
  const causes: StatusCause[] = [];
  for (const spec of [old, munged]) {
    spec.restartPolicy ??= DEFAULT_RESTART_POLICY;
    spec.terminationGracePeriodSeconds ??= DEFAULT_GRACE_SECONDS;
  }
  const newDeadline = munged.activeDeadlineSeconds;
  const oldDeadline = old.activeDeadlineSeconds;
  if (newDeadline !== undefined && newDeadline !== null) {
    if (isInt(oldDeadline) && isInt(newDeadline) && newDeadline > oldDeadline) {
      causes.push(cause.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value'));
    }
  } else if (oldDeadline !== undefined && oldDeadline !== null) {
    causes.push(cause.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  causes.push(...tolerationsErrors(munged.tolerations, old.tolerations));
  // Copy the updatable fields from the old spec; whatever still differs was a forbidden change.
  for (const list of ['containers', 'initContainers']) {
    const a = old[list];
    const b = munged[list];
    if (!Array.isArray(a) || !Array.isArray(b)) continue;
    b.forEach((c: unknown, i) => {
      const o: unknown = a[i];
      if (!isRecord(c) || !isRecord(o)) return;
      if (o.image === undefined) delete c.image;
      else c.image = o.image;
    });
  }
  for (const k of ['activeDeadlineSeconds', 'tolerations']) {
    if (old[k] === undefined) delete munged[k];
    else munged[k] = old[k];
  }
  const oldGrace = old.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  // nodeName is among the forbidden changes: it is set once, through pods/binding.
  if (!jsonEqual(old, munged)) causes.push(cause.forbidden('spec', POD_UPDATE_FORBIDDEN));
  // The zone was built with its brand: changing the annotation would only make the pod lie about it.
  const brandOf = (p: Pod): unknown => (isRecord(p.metadata?.annotations) ? p.metadata.annotations[ZONE_BRAND_ANNOTATION] : undefined);
  if (brandOf(next) !== brandOf(prev)) causes.push(cause.forbidden(`metadata.annotations[${ZONE_BRAND_ANNOTATION}]`, 'the zone brand cannot change once the pod exists'));
  return causes;
}
