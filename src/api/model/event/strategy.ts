// Event policy: written whole by whoever reports, no status subresource.
import type { CoreEvent } from '../types.ts';
import type { Strategy } from '../strategy.ts';
import { validateEvent } from '../validation.ts';

export const eventStrategy: Strategy<CoreEvent> = {
  tracksGeneration: false,
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: validateEvent,
};
