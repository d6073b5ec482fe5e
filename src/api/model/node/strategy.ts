// Node policy: agents own status; the object is removed at once on delete.
import type { Node } from '../types.ts';
import { keepAllButStatus, keepStatus, type Strategy } from '../strategy.ts';
import { validateNode } from '../validation.ts';

export const nodeStrategy: Strategy<Node> = {
  tracksGeneration: true,
  prepareForCreate() {},
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepAllButStatus,
  validate: validateNode,
};
