// The base of the commands that talk to an API server: --kubeconfig, one RemoteClient, and errors
// as one line with a hint (exit 1), usage errors exit 2.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Option, UsageError } from 'clipanion';
import { ClientError } from '../client/client.ts';
import { readKubeconfig, type KubeconfigAccess } from '../client/kubeconfig.ts';
import { RemoteClient } from '../client/remote.ts';
import { withFlags } from './flags.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** Flags every client command takes. */
export const clientFlags = () => ({
  kubeconfig: Option.String('--kubeconfig', { description: 'kubeconfig to use (default: $KUBECONFIG, else ./reddwarf-data/kubeconfig)' }),
});

/** A failure already explained to the user: its message is the whole line. */
export class CliFailure extends Error {}

const UNREACHABLE_HINT = ' — start one with `reddwarf up`';

/** The one line (with hint) a command prints for an error. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ClientError) {
    if (e.code === 503 && msg.startsWith('cannot reach the API server')) return msg + UNREACHABLE_HINT;
    const missing = e.code === 404 ? /^(pods|nodes|services|namespaces) "/.exec(msg) : null;
    if (missing) return `${msg} — see \`reddwarf get ${missing[1]}\``;
    if (e.code === 401 || e.code === 403) return `${msg} (check the token in your kubeconfig)`;
  }
  return msg;
}

export abstract class ClientCommand extends withFlags(clientFlags) {
  private remote: RemoteClient | undefined;
  private kc: KubeconfigAccess | undefined;
  /** Ages, timeouts and polls: wall-clock time, with timers that keep a waiting command alive. */
  clock: Clock = realClock;

  /** The kubeconfig's access details (read once). */
  get access(): KubeconfigAccess {
    this.kc ??= readKubeconfig(this.kubeconfig);
    return this.kc;
  }

  /** The client for the kubeconfig's server (made once, closed after run). */
  get client(): RemoteClient {
    const a = this.access;
    this.remote ??= new RemoteClient({ server: a.server, token: a.token, ca: a.ca, insecureSkipTlsVerify: a.insecureSkipTlsVerify, clock: this.clock });
    return this.remote;
  }

  /** `-n` if given, else the kubeconfig context's namespace, else `default`. */
  namespaceOr(flag: string | undefined): string {
    if (flag) return flag;
    try {
      return this.access.namespace ?? 'default';
    } catch {
      return 'default';
    }
  }

  abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      return await this.run();
    } catch (e) {
      if (e instanceof UsageError) {
        this.context.stderr.write(`error: ${e.message} — see \`reddwarf ${this.path.join(' ')} --help\`\n`);
        return 2;
      }
      this.context.stderr.write(`error: ${errorLine(e)}\n`);
      return 1;
    } finally {
      this.remote?.close();
    }
  }
}

/** The server's /version answer, or why it could not be had within `timeoutMs` on `clock`. */
export async function serverVersion(a: KubeconfigAccess, clock: Clock, timeoutMs = 3_000): Promise<{ gitVersion?: string; error?: string }> {
  return new Promise((resolve) => {
    const url = new URL(a.server.replace(/\/+$/, '') + '/version');
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (a.token) headers.authorization = `Bearer ${a.token}`;
    const tls = url.protocol === 'https:' ? { ca: a.ca, rejectUnauthorized: !a.insecureSkipTlsVerify } : {};
    const timer = clock.setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const req = request(url, { headers, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('error', (e) => {
        clock.clearTimeout(timer);
        resolve({ error: e.message });
      });
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        clock.clearTimeout(timer);
        try {
          const v = JSON.parse(body) as { gitVersion?: string };
          resolve(res.statusCode === 200 && v.gitVersion ? { gitVersion: v.gitVersion } : { error: `answered ${res.statusCode ?? 0}` });
        } catch {
          resolve({ error: 'answered with invalid JSON' });
        }
      });
    });
    req.on('error', (e) => {
      clock.clearTimeout(timer);
      resolve({ error: e.message });
    });
    req.end();
  });
}
