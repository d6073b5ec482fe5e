// Secret validation in kube-apiserver's wording (pkg/apis/core/validation ValidateSecret,
// ValidateSecretUpdate), plus the one check reddwarf adds: a docker config holds `auths`.
import { cause, type StatusCause } from '../status.ts';
import type { KubeObject } from '../types.ts';
import { validateObjectMeta } from '../validation.ts';

/** The Secret types with required keys, and those keys (k8s.io/api/core/v1 types.go). */
export const SECRET_TYPES = {
  opaque: 'Opaque',
  dockercfg: 'kubernetes.io/dockercfg',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
  tls: 'kubernetes.io/tls',
  serviceAccountToken: 'kubernetes.io/service-account-token',
} as const;

const MAX_SECRET_BYTES = 1024 * 1024;
const KEY_RE = /^[-._a-zA-Z0-9]+$/;
const KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
// Kubernetes never echoes secret contents in errors.
const REDACTED = '<secret contents redacted>';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The decoded bytes of `data[key]`, or undefined (data values are checked base64 before validation). */
function bytes(data: Rec, key: string): Buffer | undefined {
  const v = data[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
}

/** Kubernetes' IsConfigMapKey: the rule for Secret and ConfigMap data keys. */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!KEY_RE.test(key)) errs.push(`${KEY_MSG} (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`);
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** Causes for a Secret (data already merged from stringData and known to be base64). */
export function validateSecret(secret: KubeObject): StatusCause[] {
  const causes = validateObjectMeta(secret.metadata, true, 'subdomain');
  const data: Rec = isRecord(secret.data) ? secret.data : {};
  if (secret.data !== undefined && secret.data !== null && !isRecord(secret.data)) causes.push(cause.invalid('data', REDACTED, 'must be a map of keys to base64 values'));
  let total = 0;
  for (const key of Object.keys(data)) {
    for (const m of configMapKeyErrors(key)) causes.push(cause.invalid(`data[${key}]`, key, m));
    total += bytes(data, key)?.length ?? 0;
  }
  if (total > MAX_SECRET_BYTES) causes.push({ reason: 'FieldValueTooLong', field: 'data', message: `Too long: may not be more than ${MAX_SECRET_BYTES} bytes` });
  const type = secret.type;
  if (type !== undefined && typeof type !== 'string') causes.push(cause.invalid('type', type, 'must be a string'));
  if (secret.immutable !== undefined && secret.immutable !== null && typeof secret.immutable !== 'boolean') causes.push(cause.invalid('immutable', secret.immutable, 'must be a boolean'));
  const required = (key: string): void => {
    if (!(bytes(data, key)?.length)) causes.push(cause.required(`data[${key}]`));
  };
  const jsonKey = (key: string, needAuths: boolean): void => {
    const b = bytes(data, key);
    if (!b?.length) return required(key);
    let doc: unknown;
    try {
      doc = JSON.parse(b.toString('utf8'));
    } catch (e) {
      causes.push(cause.invalid(`data[${key}]`, REDACTED, (e as Error).message));
      return;
    }
    // Kubernetes accepts any JSON; an image pull needs registries, so refuse one without them.
    if (needAuths && !(isRecord(doc) && isRecord(doc.auths))) causes.push(cause.invalid(`data[${key}]`, REDACTED, 'must be a JSON object with an "auths" object mapping registries to credentials'));
  };
  switch (type) {
    case SECRET_TYPES.dockercfg:
      jsonKey('.dockercfg', false);
      break;
    case SECRET_TYPES.dockerConfigJson:
      jsonKey('.dockerconfigjson', true);
      break;
    case SECRET_TYPES.basicAuth:
      if (!bytes(data, 'username')?.length && !bytes(data, 'password')?.length) {
        required('username');
        required('password');
      }
      break;
    case SECRET_TYPES.sshAuth:
      required('ssh-privatekey');
      break;
    case SECRET_TYPES.tls:
      required('tls.key');
      required('tls.crt');
      break;
    case SECRET_TYPES.serviceAccountToken: {
      const name = secret.metadata?.annotations?.['kubernetes.io/service-account.name'];
      if (!name) causes.push(cause.required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    }
  }
  return causes;
}

/** Causes for a Secret update: the type never changes; an immutable Secret keeps its data and stays immutable. */
export function validateSecretUpdate(next: KubeObject, prev: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  if ((next.type ?? SECRET_TYPES.opaque) !== (prev.type ?? SECRET_TYPES.opaque)) causes.push(cause.invalid('type', next.type, 'field is immutable'));
  if (prev.immutable === true) {
    if (next.immutable !== true) causes.push(cause.forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (JSON.stringify(next.data ?? {}) !== JSON.stringify(prev.data ?? {})) causes.push(cause.forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return causes;
}
