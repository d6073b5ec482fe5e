// RuntimeClass validation in kube-apiserver's wording (pkg/apis/node/validation).
import { cause, type StatusCause } from '../status.ts';
import type { KubeObject } from '../types.ts';
import { dns1123LabelErrors, parseQuantity, validateLabels, validateObjectMeta, validateTolerations } from '../validation.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Causes for a RuntimeClass: subdomain name, a DNS-label handler, non-negative overhead, valid scheduling. */
export function validateRuntimeClass(rc: KubeObject): StatusCause[] {
  const causes = validateObjectMeta(rc.metadata, false, 'subdomain');
  const handler = rc.handler;
  if (handler === undefined || handler === null || handler === '') causes.push(cause.required('handler'));
  else if (typeof handler !== 'string') causes.push(cause.invalid('handler', handler, 'must be a string'));
  else for (const m of dns1123LabelErrors(handler)) causes.push(cause.invalid('handler', handler, m));
  const overhead = rc.overhead;
  if (overhead !== undefined && overhead !== null) {
    if (!isRecord(overhead)) causes.push(cause.invalid('overhead', overhead, 'must be an object'));
    else if (overhead.podFixed !== undefined && overhead.podFixed !== null) {
      if (!isRecord(overhead.podFixed)) causes.push(cause.invalid('overhead.podFixed', overhead.podFixed, 'must be a map of resource names to quantities'));
      else {
        for (const [res, q] of Object.entries(overhead.podFixed)) {
          const v = parseQuantity(q);
          if (v === undefined) causes.push(cause.invalid(`overhead.podFixed[${res}]`, q, 'must be a quantity'));
          else if (v < 0) causes.push(cause.invalid(`overhead.podFixed[${res}]`, q, 'must be greater than or equal to 0'));
        }
      }
    }
  }
  const scheduling = rc.scheduling;
  if (scheduling !== undefined && scheduling !== null) {
    if (!isRecord(scheduling)) causes.push(cause.invalid('scheduling', scheduling, 'must be an object'));
    else {
      causes.push(...validateLabels(scheduling.nodeSelector, 'scheduling.nodeSelector'));
      causes.push(...validateTolerations(scheduling.tolerations, 'scheduling.tolerations'));
    }
  }
  return causes;
}

/** Causes for a RuntimeClass update: the handler is immutable. */
export function validateRuntimeClassUpdate(next: KubeObject, prev: KubeObject): StatusCause[] {
  return next.handler === prev.handler ? [] : [cause.invalid('handler', next.handler, 'field is immutable')];
}
