// The columns `reddwarf get` prints per resource type (`-o wide` adds some).
import { UsageError } from 'clipanion';
import { translateTimestampSince } from '../../api/wire/table.ts';
import type { KubeObject, Namespace, Node, Pod, Service } from '../../api/model/types.ts';
import { podReason, podRestarts, podState, podZone } from './state.ts';

export type Printable = 'pods' | 'nodes' | 'services' | 'namespaces' | 'runtimeclasses';

const ALIASES: Record<string, Printable> = {
  pod: 'pods', pods: 'pods', po: 'pods',
  node: 'nodes', nodes: 'nodes', no: 'nodes',
  service: 'services', services: 'services', svc: 'services',
  namespace: 'namespaces', namespaces: 'namespaces', ns: 'namespaces',
  runtimeclass: 'runtimeclasses', runtimeclasses: 'runtimeclasses',
};

/** The resource a type word names; unknown words are usage errors. */
export function resourceType(word: string): Printable {
  const r = ALIASES[word.toLowerCase()];
  if (!r) throw new UsageError(`unknown resource type "${word}" (known: pods, nodes, services, namespaces, runtimeclasses)`);
  return r;
}

export const NAMESPACED: Record<Printable, boolean> = { pods: true, nodes: false, services: true, namespaces: false, runtimeclasses: false };

const NONE = '<none>';

function nodeReady(n: Node): string {
  const c = n.status?.conditions?.find((x) => x.type === 'Ready');
  const s = c?.status === 'True' ? 'Ready' : c?.status === 'False' ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function ports(s: Service): string {
  const p = s.spec?.ports ?? [];
  return p.length ? p.map((x) => `${x.port}${x.nodePort ? `:${x.nodePort}` : ''}/${x.protocol ?? 'TCP'}`).join(',') : NONE;
}

/** Header and rows for objects of one type. */
export function tableFor(type: Printable, objs: KubeObject[], o: { wide: boolean; withNamespace: boolean; now: number }): { header: string[]; rows: string[][] } {
  const age = (x: KubeObject) => translateTimestampSince(x.metadata.creationTimestamp, o.now);
  let header: string[];
  let rows: string[][];
  switch (type) {
    case 'pods':
      header = ['NAME', 'STATE', 'NODE', 'IP', 'ZONE', 'AGE'];
      if (o.wide) header.push('RESTARTS', 'REASON');
      rows = (objs as Pod[]).map((p) => {
        const r = [p.metadata.name ?? '', podState(p), p.spec.nodeName || NONE, p.status?.podIP || NONE, podZone(p), age(p)];
        if (o.wide) r.push(String(podRestarts(p)), podReason(p) || NONE);
        return r;
      });
      break;
    case 'nodes':
      header = ['NAME', 'STATUS', 'AGE', 'VERSION'];
      if (o.wide) header.push('INTERNAL-IP', 'CPU', 'MEMORY', 'PODS');
      rows = (objs as Node[]).map((n) => {
        const r = [n.metadata.name ?? '', nodeReady(n), age(n), n.status?.nodeInfo?.kubeletVersion || NONE];
        const a = n.status?.allocatable ?? {};
        if (o.wide) r.push(n.status?.addresses?.find((x) => x.type === 'InternalIP')?.address ?? NONE, a.cpu ?? NONE, a.memory ?? NONE, a.pods ?? NONE);
        return r;
      });
      break;
    case 'services':
      header = ['NAME', 'TYPE', 'CLUSTER-IP', 'PORT(S)', 'AGE'];
      if (o.wide) header.push('SELECTOR');
      rows = (objs as Service[]).map((s) => {
        const r = [s.metadata.name ?? '', s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP || NONE, ports(s), age(s)];
        if (o.wide) r.push(Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || NONE);
        return r;
      });
      break;
    case 'namespaces':
      header = ['NAME', 'STATUS', 'AGE'];
      rows = (objs as Namespace[]).map((n) => [n.metadata.name ?? '', n.status?.phase ?? 'Active', age(n)]);
      break;
    case 'runtimeclasses':
      // The zone brands the cluster offers (HANDLER is the brand).
      header = ['NAME', 'HANDLER', 'AGE'];
      rows = objs.map((r) => [r.metadata.name ?? '', typeof r.handler === 'string' ? r.handler : NONE, age(r)]);
      break;
  }
  if (o.withNamespace) {
    header.unshift('NAMESPACE');
    rows.forEach((r, i) => r.unshift(objs[i]?.metadata.namespace ?? ''));
  }
  return { header, rows };
}
