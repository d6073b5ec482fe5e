// The one boundary where failures become Status replies: typed store errors and ApiErrors are
// translated by src/api/wire/error-status.ts; anything else is a bug, logged and answered with 500.
import { ApiError } from '../api/model/status.ts';
import { StoreError } from '../api/model/errors.ts';
import { toApiError as statusOf } from '../api/wire/error-status.ts';
import { json, type PlainReply } from './http.ts';

/** The ApiError a failure answers with; unknown failures are logged and become 500. */
export function toApiError(e: unknown): ApiError {
  if (!(e instanceof ApiError) && !(e instanceof StoreError)) console.error('internal error:', e);
  return statusOf(e);
}

/** A Status reply for any failure. */
export function errorReply(e: unknown): PlainReply {
  const err = toApiError(e);
  const headers: Record<string, string> = {};
  if (err.details?.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.details.retryAfterSeconds);
  return json(err.code, err.toStatus(), headers);
}
