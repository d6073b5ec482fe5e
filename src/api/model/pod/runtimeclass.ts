// The RuntimeClass admission plugin (kube-apiserver plugin/pkg/admission/runtimeclass): a pod
// naming a RuntimeClass gets its overhead and scheduling constraints, or is refused when the
// RuntimeClass does not exist. reddwarf also writes the handler (the zone brand) into the brand
// annotation, so the scheduler and the node agent read one place.
import { StoreError } from '../errors.ts';
import type { ReadObject } from '../strategy.ts';
import type { KubeObject, Pod, Toleration } from '../types.ts';
import { POD_BRANDS, ZONE_BRAND_ANNOTATION } from '../brands.ts';

/** Resolves `spec.runtimeClassName`; refuses (Forbidden, as kube-apiserver) when it cannot be honoured. */
export function admitRuntimeClass(pod: Pod, read: ReadObject): void {
  const name = pod.spec?.runtimeClassName;
  if (typeof name !== 'string' || name === '') return;
  // admission.NewForbidden's wording: `pods "web" is forbidden: pod rejected: …`.
  const podName = pod.metadata.name ?? '';
  const rejected = (why: string): StoreError => new StoreError('Forbidden', 'pods', podName, `pods "${podName}" is forbidden: pod rejected: ${why}`);
  const rc = read('runtimeclasses', '', name) as (KubeObject & { handler?: string; overhead?: { podFixed?: Record<string, string> }; scheduling?: { nodeSelector?: Record<string, string>; tolerations?: Toleration[] } }) | undefined;
  if (!rc) throw rejected(`RuntimeClass "${name}" not found`);
  const spec = pod.spec;
  const podFixed = rc.overhead?.podFixed;
  if (podFixed) {
    if (spec.overhead !== undefined && JSON.stringify(spec.overhead) !== JSON.stringify(podFixed)) throw rejected("Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    spec.overhead = { ...podFixed };
  }
  const selector = rc.scheduling?.nodeSelector;
  if (selector) {
    const merged = { ...spec.nodeSelector };
    for (const [k, v] of Object.entries(selector)) {
      if (merged[k] !== undefined && merged[k] !== v) throw rejected(`conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${merged[k]}`);
      merged[k] = v;
    }
    spec.nodeSelector = merged;
  }
  for (const t of rc.scheduling?.tolerations ?? []) {
    const list = (spec.tolerations ??= []);
    if (!list.some((x) => JSON.stringify(x) === JSON.stringify(t))) list.push(t);
  }
  const handler = rc.handler ?? '';
  // A RuntimeClass made for another runtime names no zone brand: say so, rather than blame the annotation.
  if (!POD_BRANDS.includes(handler)) throw rejected(`RuntimeClass "${name}" has handler "${handler}", which is not a zone brand (${POD_BRANDS.join(', ')})`);
  const annotations = (pod.metadata.annotations ??= {});
  const asked = annotations[ZONE_BRAND_ANNOTATION];
  if (asked !== undefined && asked !== handler) {
    throw rejected(`annotation ${ZONE_BRAND_ANNOTATION}=${asked} conflicts with RuntimeClass "${name}" (handler ${handler})`);
  }
  annotations[ZONE_BRAND_ANNOTATION] = handler;
}
