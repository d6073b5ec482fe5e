// Typed failures of the store and of the per-kind strategies it runs: what went wrong, in the
// model's terms, never an HTTP code (error-status.ts says how a Status reports each).
import type { StatusCause } from './status.ts';

export type StoreErrorReason =
  | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'Forbidden' | 'Expired'
  | 'NamespaceNotFound' | 'NamespaceTerminating' | 'TooLarge';

export class StoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    /** The plural resource (`pods`), or a subresource (`pods/binding`). */
    readonly resource: string,
    /** The object's name (the namespace's for the namespace reasons). */
    readonly subject: string,
    /** Why, in words: a Conflict's or Expired's explanation, a Forbidden's or BadRequest's whole message. */
    readonly detail?: string,
    /** Invalid: the field errors. */
    readonly causes: readonly StatusCause[] = [],
  ) {
    super(detail ?? `${reason}: ${resource}/${subject}`);
    this.name = 'StoreError';
  }
}

/** The Invalid error of an object of `resource` named `name`. */
export const invalidObject = (resource: string, name: string, causes: StatusCause[]): StoreError =>
  new StoreError('Invalid', resource, name, `${resource} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`, causes);
