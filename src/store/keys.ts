// Key layout of the objects table: `<resource>/<namespace>/<name>` or `<resource>/<name>`.
// Names never contain '/', so prefixes separate namespaces exactly ('default/' ≠ 'default2/').

/** The key of one object. */
export function objectKey(resource: string, namespace: string, name: string): string {
  return namespace ? `${resource}/${namespace}/${name}` : `${resource}/${name}`;
}

/** The key range holding every object of a resource, or of one namespace of it. */
export function keyRange(resource: string, namespace?: string): { start: string; end: string } {
  const prefix = namespace ? `${resource}/${namespace}/` : `${resource}/`;
  // '\xff' sorts after every ASCII byte a DNS name can hold.
  return { start: prefix, end: `${prefix}\xff` };
}
