// Kubernetes `meta.k8s.io/v1` Table conversion: the columns and cells `kubectl get` prints, as kube-apiserver's printers make them.
import { zoneName } from '../model/zone-names.ts';
import type { CoreEvent, KubeObject, Node, ObjectMeta, Pod, Service } from '../model/types.ts';
import { badRequest } from '../model/status.ts';

export interface ColumnDefinition {
  name: string;
  type: string;
  format?: string;
  description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: number;
}

export type Cell = string | number | boolean | null;

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

export interface TableRow {
  cells: Cell[];
  conditions?: TableRowCondition[];
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  /** Absent when the request (or a watch event after the first) asked for no headers. */
  columnDefinitions?: ColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** Wall clock in ms, for the Age-style cells. */
  now: number;
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
  noHeaders?: boolean;
}

const NONE = '<none>';

// ---------------------------------------------------------------------------------------------
// Durations (k8s.io/apimachinery/pkg/util/duration.HumanDuration) and timestamps.

/** kubectl's HumanDuration of a span in ms: "95s", "3m10s", "45m", "3h15m", "23h", "3d4h", "45d", "3y40d". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.trunc(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** kubectl's translateTimestampSince: the age of an RFC 3339 timestamp at `now`, "<unknown>" when unset. */
export function translateTimestampSince(timestamp: string | null | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

// ---------------------------------------------------------------------------------------------
// Column definitions (pkg/printers/internalversion/printers.go).

const DESC = {
  name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  age: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
} as const;

const col = (name: string, description: string, priority = 0, type = 'string', format?: string): ColumnDefinition =>
  format === undefined ? { name, type, description, priority } : { name, type, format, description, priority };

const NAME = col('Name', DESC.name, 0, 'string', 'name');
const AGE = col('Age', DESC.age);

const COLUMNS: Record<string, ColumnDefinition[]> = {
  pods: [
    NAME,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.', 1),
    col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True".', 1),
    col('Zone', 'The illumos zone that runs this pod once it is bound to a node (its name follows from namespace and name).', 1),
  ],
  nodes: [
    NAME,
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    AGE,
    col('Version', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'List of addresses reachable to the node.', 1),
    col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  namespaces: [
    NAME,
    col('Status', 'The status of the namespace'),
    AGE,
  ],
  services: [
    NAME,
    col('Type', 'type determines how the Service is exposed. Defaults to ClusterIP.'),
    col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'The list of ports that are exposed by this service.'),
    AGE,
    col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
  ],
  secrets: [
    NAME,
    col('Type', 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'Data contains the secret data.', 0, 'string'),
    AGE,
  ],
  runtimeclasses: [
    NAME,
    col('Handler', 'handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class; in reddwarf, the zone brand.'),
    AGE,
  ],
  leases: [
    NAME,
    col('Holder', 'holderIdentity contains the identity of the holder of a current lease.'),
    AGE,
  ],
  events: [
    col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'The object that this event is about.'),
    col('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 1),
    col('Source', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'The number of times this event has occurred.', 1),
    col('Name', DESC.name, 1, 'string', 'name'),
  ],
};

const DEFAULT_COLUMNS: ColumnDefinition[] = [NAME, AGE];

/** The column definitions of a resource's Table (plural name); Name and Age for kinds without a printer. */
export function tableColumns(resource: string): ColumnDefinition[] {
  return (COLUMNS[resource] ?? DEFAULT_COLUMNS).map((c) => ({ ...c }));
}

// ---------------------------------------------------------------------------------------------
// Rows.

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

interface Built {
  cells: Cell[];
  conditions?: TableRowCondition[];
}

const COMPLETED_OK: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const COMPLETED_FAILED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

function conditionTrue(conditions: unknown, type: string): boolean {
  for (const c of arr(conditions)) {
    const cr = rec(c);
    if (cr?.type === type) return cr.status === 'True';
  }
  return false;
}

/** The later of two RFC 3339 timestamps ('' is the zero time). */
const later = (a: string, b: string): string => (b && (!a || Date.parse(b) > Date.parse(a)) ? b : a);

function podRow(pod: Pod, now: number): Built {
  const spec = rec(pod.spec) ?? {};
  const status = rec(pod.status) ?? {};
  const phase = str(status.phase);
  let reason = str(status.reason) || phase || 'Pending';
  for (const c of arr(status.conditions)) {
    const cr = rec(c);
    if (cr?.type === 'PodScheduled' && cr.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs = new Map<string, Rec>();
  let total = arr(spec.containers).length;
  for (const ic of arr(spec.initContainers)) {
    const icr = rec(ic);
    if (!icr) continue;
    initSpecs.set(str(icr.name), icr);
    if (icr.restartPolicy === 'Always') total++;
  }
  const restartable = (name: string): boolean => initSpecs.get(name)?.restartPolicy === 'Always';

  let restarts = 0;
  let sidecarRestarts = 0;
  let ready = 0;
  let lastRestart = '';
  let lastSidecarRestart = '';
  let initializing = false;

  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = rec(initStatuses[i]) ?? {};
    const state = rec(cs.state) ?? {};
    const terminated = rec(state.terminated);
    const waiting = rec(state.waiting);
    const finished = str(rec(rec(cs.lastState)?.terminated)?.finishedAt);
    restarts += num(cs.restartCount);
    lastRestart = later(lastRestart, finished);
    if (restartable(str(cs.name))) {
      sidecarRestarts += num(cs.restartCount);
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    if (terminated && num(terminated.exitCode) === 0) continue;
    if (restartable(str(cs.name)) && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    if (terminated) {
      const r = str(terminated.reason);
      if (r) reason = `Init:${r}`;
      else if (num(terminated.signal) !== 0) reason = `Init:Signal:${num(terminated.signal)}`;
      else reason = `Init:ExitCode:${num(terminated.exitCode)}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = rec(statuses[i]) ?? {};
      const state = rec(cs.state) ?? {};
      const terminated = rec(state.terminated);
      const waiting = rec(state.waiting);
      restarts += num(cs.restartCount);
      lastRestart = later(lastRestart, str(rec(rec(cs.lastState)?.terminated)?.finishedAt));
      if (waiting && str(waiting.reason)) reason = str(waiting.reason);
      else if (terminated && str(terminated.reason)) reason = str(terminated.reason);
      else if (terminated) reason = num(terminated.signal) !== 0 ? `Signal:${num(terminated.signal)}` : `ExitCode:${num(terminated.exitCode)}`;
      // kubectl also requires state.running; a status without any state counts as running here.
      else if (cs.ready === true && (state.running !== undefined || (!waiting && !terminated))) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart ? `${restarts} (${translateTimestampSince(lastRestart, now)} ago)` : String(restarts);

  const podIP = str(rec(arr(status.podIPs)[0])?.ip) || str(status.podIP) || NONE;
  let gates = NONE;
  const readinessGates = arr(spec.readinessGates);
  if (readinessGates.length > 0) {
    let ok = 0;
    for (const g of readinessGates) if (conditionTrue(status.conditions, str(rec(g)?.conditionType))) ok++;
    gates = `${ok}/${readinessGates.length}`;
  }
  const zone = spec.nodeName ? zoneName(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '') : NONE;

  const built: Built = {
    cells: [
      pod.metadata.name ?? '', `${ready}/${total}`, reason, restartsCell, translateTimestampSince(pod.metadata.creationTimestamp, now),
      podIP, str(spec.nodeName) || NONE, str(status.nominatedNodeName) || NONE, gates, zone,
    ],
  };
  if (phase === 'Succeeded') built.conditions = COMPLETED_OK;
  else if (phase === 'Failed') built.conditions = COMPLETED_FAILED;
  return built;
}

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : NONE;
}

function nodeRow(node: Node, now: number): Built {
  const status = rec(node.status) ?? {};
  const parts: string[] = [];
  for (const c of arr(status.conditions)) {
    const cr = rec(c);
    if (cr?.type === 'Ready') {
      parts.push(cr.status === 'True' ? 'Ready' : 'NotReady');
      break;
    }
  }
  if (parts.length === 0) parts.push('Unknown');
  if (rec(node.spec)?.unschedulable === true) parts.push('SchedulingDisabled');
  const info = rec(status.nodeInfo) ?? {};
  const address = (type: string): string => str(rec(arr(status.addresses).find((a) => rec(a)?.type === type))?.address) || NONE;
  const orUnknown = (v: unknown): string => str(v) || '<unknown>';
  return {
    cells: [
      node.metadata.name ?? '', parts.join(','), nodeRoles(node.metadata.labels), translateTimestampSince(node.metadata.creationTimestamp, now), str(info.kubeletVersion),
      address('InternalIP'), address('ExternalIP'), orUnknown(info.osImage), orUnknown(info.kernelVersion), orUnknown(info.containerRuntimeVersion),
    ],
  };
}

function namespaceRow(ns: KubeObject, now: number): Built {
  return { cells: [ns.metadata.name ?? '', str(rec(ns.status)?.phase) || 'Active', translateTimestampSince(ns.metadata.creationTimestamp, now)] };
}

function serviceExternalIP(spec: Rec, status: Rec): string {
  const externalIPs = arr(spec.externalIPs).map(str).filter(Boolean);
  const type = str(spec.type) || 'ClusterIP';
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : NONE;
    case 'LoadBalancer': {
      const lb = new Set<string>();
      for (const ing of arr(rec(status.loadBalancer)?.ingress)) {
        const ir = rec(ing);
        const v = str(ir?.ip) || str(ir?.hostname);
        if (v) lb.add(v);
      }
      const all = [...[...lb].sort(), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

function labelString(selector: unknown): string {
  const entries = Object.entries(rec(selector) ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length ? entries.map(([k, v]) => `${k}=${str(v)}`).join(',') : NONE;
}

function serviceRow(svc: Service, now: number): Built {
  const spec = rec(svc.spec) ?? {};
  const status = rec(svc.status) ?? {};
  const clusterIP = str(arr(spec.clusterIPs)[0]) || str(spec.clusterIP) || NONE;
  const ports = arr(spec.ports).map((p) => {
    const pr = rec(p) ?? {};
    const proto = str(pr.protocol) || 'TCP';
    return num(pr.nodePort) > 0 ? `${num(pr.port)}:${num(pr.nodePort)}/${proto}` : `${num(pr.port)}/${proto}`;
  });
  return {
    cells: [
      svc.metadata.name ?? '', str(spec.type) || 'ClusterIP', clusterIP, serviceExternalIP(spec, status), ports.length ? ports.join(',') : NONE,
      translateTimestampSince(svc.metadata.creationTimestamp, now), labelString(spec.selector),
    ],
  };
}

function eventRow(ev: CoreEvent, now: number): Built {
  const firstSeen = ev.firstTimestamp ? translateTimestampSince(ev.firstTimestamp, now) : translateTimestampSince(ev.eventTime, now);
  let lastSeen = ev.lastTimestamp ? translateTimestampSince(ev.lastTimestamp, now) : firstSeen;
  let count = num(ev.count);
  const series = rec(ev.series);
  if (series) {
    lastSeen = translateTimestampSince(str(series.lastObservedTime), now);
    count = num(series.count);
  } else if (count === 0) {
    count = 1;
  }
  const involved = rec(ev.involvedObject) ?? {};
  const kind = str(involved.kind).toLowerCase();
  const target = str(involved.name) ? `${kind}/${str(involved.name)}` : kind;
  const source = rec(ev.source) ?? {};
  const component = str(source.component) || str(ev.reportingComponent);
  const instance = str(source.host) || str(ev.reportingInstance);
  return {
    cells: [
      lastSeen, str(ev.type), str(ev.reason), target, str(involved.fieldPath), instance ? `${component}, ${instance}` : component,
      str(ev.message).trim(), firstSeen, count, ev.metadata.name ?? '',
    ],
  };
}

function buildRow(resource: string, obj: KubeObject, now: number): Built {
  switch (resource) {
    case 'pods': return podRow(obj as Pod, now);
    case 'nodes': return nodeRow(obj as Node, now);
    case 'namespaces': return namespaceRow(obj, now);
    case 'services': return serviceRow(obj as Service, now);
    case 'events': return eventRow(obj as CoreEvent, now);
    case 'secrets': return { cells: [obj.metadata.name ?? '', str(obj.type), Object.keys(rec(obj.data) ?? {}).length, translateTimestampSince(obj.metadata.creationTimestamp, now)] };
    case 'runtimeclasses': return { cells: [obj.metadata.name ?? '', str(obj.handler), translateTimestampSince(obj.metadata.creationTimestamp, now)] };
    case 'leases': return { cells: [obj.metadata.name ?? '', str(rec(obj.spec)?.holderIdentity), translateTimestampSince(obj.metadata.creationTimestamp, now)] };
    default: return { cells: [obj.metadata.name ?? '', translateTimestampSince(obj.metadata.creationTimestamp, now)] };
  }
}

/** A Table of `objects` of one resource (plural name), rows carrying the object as `includeObject` asks. */
export function toTable(resource: string, objects: readonly KubeObject[], opts: TableOptions): Table {
  const metadata: Table['metadata'] = { resourceVersion: opts.resourceVersion };
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  const table: Table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, rows: [] };
  if (!opts.noHeaders) table.columnDefinitions = tableColumns(resource);
  for (const obj of objects) {
    const built = buildRow(resource, obj, opts.now);
    const row: TableRow = { cells: built.cells };
    if (built.conditions) row.conditions = built.conditions.map((c) => ({ ...c }));
    if (opts.includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    else if (opts.includeObject === 'Object') row.object = obj;
    table.rows.push(row);
  }
  return table;
}

/** The `includeObject` query parameter: Metadata when absent or empty; 400 BadRequest for anything but None/Metadata/Object. */
export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(v)}: must be 'Metadata', 'Object', 'None', or empty`);
}

// ---------------------------------------------------------------------------------------------
// Accept negotiation.

export interface MediaRange {
  /** `type/subtype`, lower-cased. */
  type: string;
  /** Parameters other than q, names lower-cased, values unquoted. */
  params: Record<string, string>;
  q: number;
}

/** The entries of an Accept header, most preferred first (by q, then order); q=0 entries dropped. */
export function parseAccept(accept: string | null | undefined): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of (accept ?? '').split(',')) {
    const [head, ...rest] = part.split(';');
    const type = (head ?? '').trim().toLowerCase();
    if (!type) continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const name = p.slice(0, eq).trim().toLowerCase();
      let value = p.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (name === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) ? n : 1;
      } else if (name) {
        params[name] = value;
      }
    }
    if (q > 0) out.push({ type, params, q });
  }
  return out.map((m, i) => ({ m, i })).sort((a, b) => b.m.q - a.m.q || a.i - b.i).map(({ m }) => m);
}

const JSONISH = new Set(['application/json', 'application/*', '*/*']);

/** True when the first Accept entry this server can answer (JSON, plain or as Table) is a meta.k8s.io v1/v1beta1 Table. */
export function wantsTable(accept: string | null | undefined): boolean {
  for (const m of parseAccept(accept)) {
    if (!JSONISH.has(m.type)) continue;
    const as = m.params.as;
    if (as === undefined) return false;
    if (as === 'Table' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return true;
    // Another `as=` (PartialObjectMetadata, …) is not served; look further.
  }
  return false;
}
