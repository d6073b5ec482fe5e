// Pod policy: status belongs to the node agent, spec is mostly immutable, deletes are graceful
// for pods that a node is running.
import type { DeleteOptions, Pod } from '../types.ts';
import { keepAllButStatus, keepStatus, type Strategy } from '../strategy.ts';
import { validatePod, validatePodUpdate } from '../validation.ts';
import { admitRuntimeClass } from './runtimeclass.ts';
import { bindPod } from './binding.ts';
import { ZONE_BRAND_ANNOTATION } from '../brands.ts';

/** Grace period when neither the delete nor the pod names one (Kubernetes' default). */
export const DEFAULT_GRACE_SECONDS = 30;

export const podStrategy: Strategy<Pod> = {
  tracksGeneration: true,
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending' };
    if (pod.spec && pod.spec.restartPolicy === undefined) pod.spec.restartPolicy = 'Always';
    if (pod.spec && pod.spec.terminationGracePeriodSeconds === undefined) pod.spec.terminationGracePeriodSeconds = DEFAULT_GRACE_SECONDS;
  },
  prepareForUpdate(next, prev) {
    keepStatus(next, prev);
    // The brand admission wrote (from the RuntimeClass) stays when a whole-object write omits it.
    const brand = prev.metadata.annotations?.[ZONE_BRAND_ANNOTATION];
    if (brand !== undefined && next.metadata.annotations?.[ZONE_BRAND_ANNOTATION] === undefined) {
      next.metadata.annotations = { ...next.metadata.annotations, [ZONE_BRAND_ANNOTATION]: brand };
    }
  },
  prepareForStatusUpdate: keepAllButStatus,
  admitCreate: admitRuntimeClass,
  bind: bindPod,
  validate: validatePod,
  validateUpdate: validatePodUpdate,
  gracePeriod(pod: Pod, opts: Pick<DeleteOptions, 'gracePeriodSeconds'>): number {
    // CheckGracefulDelete: nothing runs an unbound or finished pod, so it goes at once.
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    const grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    return grace < 0 ? 1 : grace;
  },
};
