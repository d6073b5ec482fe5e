// The one translation of typed store errors to Kubernetes Status errors (storeerr.InterpretXError
// in Kubernetes). The API server and the in-process client both use it, so a caller sees the
// same code and reason whichever client it holds.
import { ApiError, alreadyExists, badRequest, conflict, expired, forbidden, internalError, invalid, notFound } from '../model/status.ts';
import { resourceDef } from '../model/resources.ts';
import { StoreError } from '../model/errors.ts';

/** The ApiError a failure answers with; anything neither typed nor an ApiError is a 500. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (!(e instanceof StoreError)) return internalError(e instanceof Error ? e.message : String(e));
  const def = resourceDef(e.resource);
  const group = def?.group ?? '';
  switch (e.reason) {
    case 'NotFound': return notFound(e.resource, e.subject, group);
    case 'AlreadyExists': return alreadyExists(e.resource, e.subject, group);
    case 'Conflict': return conflict(e.resource, e.subject, e.detail, group);
    case 'Invalid': return invalid(def?.kind ?? e.resource, e.subject, [...e.causes], group);
    case 'BadRequest': return badRequest(e.message);
    case 'Forbidden': return forbidden(e.message, e.resource, e.subject || undefined);
    case 'Expired': return expired(e.message);
    case 'NamespaceNotFound': return notFound('namespaces', e.subject);
    case 'NamespaceTerminating':
      return forbidden(`${e.resource} is forbidden: unable to create new content in namespace ${e.subject} because it is being terminated`, e.resource);
    case 'TooLarge': return new ApiError(413, 'RequestEntityTooLarge', e.message);
  }
}
