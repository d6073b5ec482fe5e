// Timestamps as Kubernetes writes them: RFC 3339, UTC, whole seconds.

/** `2026-11-26T23:59:01Z` for a time in milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
