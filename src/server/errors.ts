// The one boundary where failures become Status replies (storeerr.InterpretXError in Kubernetes).
import { ApiError, internalError, notFound, alreadyExists, conflict, expired, forbidden } from '../api/status.ts';
import { StoreError } from '../store/store.ts';
import { resourceDef } from '../api/resources.ts';
import { json, type PlainReply } from './http.ts';

/** The ApiError a failure answers with; unknown failures are logged and become 500. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof StoreError) {
    const group = resourceDef(e.resource)?.group ?? '';
    switch (e.reason) {
      case 'NotFound': return notFound(e.resource, e.subject, group);
      case 'AlreadyExists': return alreadyExists(e.resource, e.subject, group);
      case 'Conflict':
        return e.message.startsWith('Precondition failed') ? conflict(e.resource, e.subject, e.message, group) : conflict(e.resource, e.subject, undefined, group);
      case 'Expired': return expired(e.message);
      case 'NamespaceNotFound': return notFound('namespaces', e.subject);
      case 'NamespaceTerminating':
        return forbidden(`${e.resource} is forbidden: unable to create new content in namespace ${e.subject} because it is being terminated`, e.resource);
      case 'TooLarge': return new ApiError(413, 'RequestEntityTooLarge', e.message);
    }
  }
  console.error('internal error:', e);
  return internalError(e instanceof Error ? e.message : String(e));
}

/** A Status reply for any failure. */
export function errorReply(e: unknown): PlainReply {
  const err = toApiError(e);
  const headers: Record<string, string> = {};
  if (err.details?.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.details.retryAfterSeconds);
  return json(err.code, err.toStatus(), headers);
}
