// Namespace policy: always Active on create; deletion drains the contents first (src/control).
import type { Namespace } from '../types.ts';
import { keepAllButStatus, keepStatus, type Strategy } from '../strategy.ts';
import { validateNamespace } from '../validation.ts';

export const namespaceStrategy: Strategy<Namespace> = {
  tracksGeneration: false,
  prepareForCreate(ns) {
    ns.spec = { finalizers: ['kubernetes'] };
    ns.status = { phase: 'Active' };
    ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name ?? '' };
  },
  prepareForUpdate(next, prev) {
    keepStatus(next, prev);
    next.spec = prev.spec;
    next.metadata.labels = { ...next.metadata.labels, 'kubernetes.io/metadata.name': prev.metadata.name ?? '' };
  },
  prepareForStatusUpdate: keepAllButStatus,
  validate: validateNamespace,
  // Deleting marks the namespace Terminating; the namespace controller empties it, then removes it.
  finalizers: (ns) => ns.spec?.finalizers ?? [],
  markDeleting(ns) {
    ns.status = { ...ns.status, phase: 'Terminating' };
  },
};
