// RuntimeClass policy (node.k8s.io/v1): `handler` names the zone brand and never changes;
// `overhead` and `scheduling` are stored as given. No spec, no status, no generation.
import type { Strategy } from '../strategy.ts';
import { validateRuntimeClass, validateRuntimeClassUpdate } from './validation.ts';

export const runtimeClassStrategy: Strategy = {
  tracksGeneration: false,
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: validateRuntimeClass,
  validateUpdate: validateRuntimeClassUpdate,
};
