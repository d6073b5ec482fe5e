// Timestamps as Kubernetes writes them: RFC 3339, UTC, whole seconds.

// Every write stamps one; most fall in the same second as the one before.
let cachedSecond = NaN;
let cachedText = '';

/** `2026-11-26T23:59:01Z` for a time in milliseconds. */
export function rfc3339(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedText = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    cachedSecond = second;
  }
  return cachedText;
}
