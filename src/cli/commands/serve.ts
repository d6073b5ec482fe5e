// `reddwarf serve`: the control plane (API server and its controllers), until SIGTERM/SIGINT.
import { Command, Option, UsageError } from 'clipanion';
import { startApiServer, parseBind, type ApiServer } from '../../server/start.ts';
import { DEFAULT_KUBE_MINOR } from '../../server/api.ts';
import { log } from '../log.ts';

export class ServeCommand extends Command {
  static override paths = [['serve']];
  static override usage = Command.Usage({
    description: 'run the API server (control plane) on this host',
    details: 'Serves the Kubernetes API for Namespaces, Pods, Nodes, Services and Events from an LMDB store in the data directory, and writes `<data-dir>/kubeconfig` for kubectl.',
    examples: [['Serve on the default address', 'reddwarf serve --bind 127.0.0.1:6443 --data-dir ./reddwarf-data']],
  });

  bind = Option.String('--bind', '127.0.0.1:6443', { description: 'address:port to listen on' });
  dataDir = Option.String('--data-dir', './reddwarf-data', { description: 'directory for the store, kubeconfig and TLS material' });
  http = Option.String('--http', 'auto', { description: 'HTTP transport: auto (uWebSockets.js, else node:http), uws or node' });
  kubeMinor = Option.String('--kube-minor', String(DEFAULT_KUBE_MINOR), { description: 'the Kubernetes minor version /version reports (27–33)' });

  protected what = 'API server';

  async execute(): Promise<number> {
    const server = await this.start();
    log(`${this.what} listening on ${server.url} (${server.listening.transport}); kubeconfig: ${server.kubeconfig}`);
    log(`try: kubectl --kubeconfig ${server.kubeconfig} get namespaces`);
    await waitForSignal();
    log('shutting down');
    await server.stop();
    return 0;
  }

  protected async start(): Promise<ApiServer> {
    let bind: { host: string; port: number };
    try {
      bind = parseBind(this.bind);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!['auto', 'uws', 'node'].includes(this.http)) throw new UsageError(`--http must be auto, uws or node (got ${JSON.stringify(this.http)})`);
    const minor = Number(this.kubeMinor);
    if (!Number.isInteger(minor) || minor < 20 || minor > 40) throw new UsageError(`--kube-minor must be a Kubernetes minor version such as 31 (got ${JSON.stringify(this.kubeMinor)})`);
    return startApiServer({ ...bind, dataDir: this.dataDir, http: this.http as 'auto' | 'uws' | 'node', kubeMinor: minor, log });
  }
}

/** Resolves on the first SIGTERM or SIGINT. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
