// Operator-facing logs on stderr: readable text by default, one JSON object per line with
// --log-format json; --log-level filters (debug shows every API request).
import { Option, UsageError } from 'clipanion';
import { realClock, type Clock } from '../time/clock.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';

/** The flags of the long-running commands (`up`, `serve`, `agent`). */
export const logFlags = () => ({
  logFormat: Option.String('--log-format', 'text', { description: 'log lines as readable text or one JSON object per line: text or json' }),
  logLevel: Option.String('--log-level', 'info', { description: 'least severe level logged: debug (every API request), info, warn or error' }),
});

let format: LogFormat = 'text';
let threshold = 1;
let clock: Clock = realClock;

/** Applies --log-format and --log-level (a bad value is a usage error); lines are stamped with `time`. */
export function configureLog(f: { logFormat: string; logLevel: string }, time: Clock = realClock): void {
  if (f.logFormat !== 'text' && f.logFormat !== 'json') throw new UsageError(`--log-format must be text or json (got ${JSON.stringify(f.logFormat)})`);
  const level = LOG_LEVELS.indexOf(f.logLevel as LogLevel);
  if (level < 0) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(f.logLevel)})`);
  format = f.logFormat;
  threshold = level;
  clock = time;
}

export const logEnabled = (level: LogLevel): boolean => LOG_LEVELS.indexOf(level) >= threshold;

/** Writes one line at `level` with structured `fields`, if the level is enabled. */
export function logAt(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (!logEnabled(level)) return;
  const time = new Date(clock.now()).toISOString();
  if (format === 'json') {
    process.stderr.write(JSON.stringify({ time, level, msg: message, ...fields }) + '\n');
    return;
  }
  const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`).join('');
  process.stderr.write(`${time} ${level === 'info' ? '' : `${level.toUpperCase()} `}reddwarf: ${message}${extra}\n`);
}

/** An info line (what the commands pass around as their `log`). */
export function log(message: string): void {
  logAt('info', message);
}
