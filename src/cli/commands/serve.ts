// `reddwarf serve`: the control plane (API server, scheduler, node liveness), until SIGTERM/SIGINT.
import { Command } from 'clipanion';
import { controlPlaneFlags, withFlags } from '../flags.ts';
import { runControlPlane } from '../run.ts';
import { configureLog, log, logFlags } from '../log.ts';
import { stopOnSignal } from '../signals.ts';

export class ServeCommand extends withFlags(() => ({ ...controlPlaneFlags(), ...logFlags() })) {
  static override paths = [['serve']];
  static override usage = Command.Usage({
    description: 'run the control plane: API server, scheduler and node liveness',
    details: 'Serves the Kubernetes API from an LMDB store in the data directory and writes `<data-dir>/kubeconfig`. Nodes join with `reddwarf agent --server URL`.',
    examples: [['Serve on the default address', 'reddwarf serve --bind 127.0.0.1:6443 --data-dir ./reddwarf-data']],
  });

  async execute(): Promise<number> {
    configureLog(this);
    const cp = await runControlPlane(this, log);
    log(`API server listening on ${cp.server.url} (${cp.server.listening.transport}); kubeconfig: ${cp.server.kubeconfig}`);
    await stopOnSignal(log, 'shutting down', () => cp.stop(), cp.clock);
    return 0;
  }
}
