// Kubernetes Status errors. Every failure the API answers is one of these, so clients that switch
// on `reason` (kubectl, client-go, client-node) get what they expect.

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'MethodNotAllowed' | 'NotAcceptable' | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType' | 'TooManyRequests' | 'InternalError' | 'ServerTimeout'
  | 'ServiceUnavailable' | 'Timeout';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An error that knows the Status it answers with. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The wire form, as kube-apiserver writes it. */
  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** A Success Status (deletes of kinds that answer with a Status, binding, eviction). */
export function successStatus(details?: StatusDetails, code = 200): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) s.details = details;
  return s;
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

/** `pods`, or `runtimeclasses.node.k8s.io` for a named group (Kubernetes' GroupResource.String()). */
const qualified = (resource: string, group: string): string => (group ? `${resource}.${group}` : resource);
const detailsOf = (resource: string, name: string, group: string): StatusDetails => (group ? { name, group, kind: resource } : { name, kind: resource });

export const notFound = (resource: string, name: string, group = ''): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, detailsOf(resource, name, group));

export const alreadyExists = (resource: string, name: string, group = ''): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, detailsOf(resource, name, group));

export const conflict = (resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again', group = ''): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, detailsOf(resource, name, group));

/** 422 with field causes, e.g. `Pod "X" is invalid: metadata.name: Invalid value: "X": …`. */
export function invalid(kind: string, name: string, causes: StatusCause[], group = ''): ApiError {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const details: StatusDetails = { name, kind, causes };
  if (group) details.group = group;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${text}`, details);
}

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const forbidden = (message: string, resource?: string, name?: string): ApiError =>
  new ApiError(403, 'Forbidden', message, resource ? { kind: resource, ...(name ? { name } : {}) } : undefined);

export const methodNotAllowed = (method: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);

export const unsupportedMediaType = (type: string, accepted: string[]): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')} (got ${type || 'none'})`);

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`);

export const internalError = (message: string): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);

/** Field-error causes in Kubernetes' wording. */
export const cause = {
  required: (field: string): StatusCause => ({ reason: 'FieldValueRequired', field, message: 'Required value' }),
  invalid: (field: string, value: unknown, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` }),
  notSupported: (field: string, value: unknown, supported: string[]): StatusCause => ({
    reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` }),
  forbidden: (field: string, why: string): StatusCause => ({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` }),
};
