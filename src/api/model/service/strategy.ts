// Service policy: stored as given (no ClusterIP allocation yet), status is the status writer's.
import type { Service } from '../types.ts';
import { keepAllButStatus, keepStatus, type Strategy } from '../strategy.ts';
import { validateService } from '../validation.ts';

export const serviceStrategy: Strategy<Service> = {
  tracksGeneration: true,
  prepareForCreate(svc) {
    svc.spec = { type: 'ClusterIP', ...svc.spec };
    svc.status = { loadBalancer: {} };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepAllButStatus,
  validate: validateService,
};
