// Operator-facing log lines on stderr, timestamped.

/** Writes one log line. */
export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} reddwarf: ${message}\n`);
}
