// `reddwarf up`: everything on one host — API server, scheduler, node liveness and the node
// agent, in one process with the in-process client.
import { Command } from 'clipanion';
import { agentFlags, controlPlaneFlags, parseRuntime, withFlags } from '../flags.ts';
import { runAgent, runControlPlane } from '../run.ts';
import { configureLog, log, logFlags } from '../log.ts';
import { stopOnSignal } from '../signals.ts';

export class UpCommand extends withFlags(() => ({ ...controlPlaneFlags(), ...agentFlags(), ...logFlags() })) {
  static override paths = [['up']];
  static override usage = Command.Usage({
    description: 'run everything on this host: API server, scheduler, node liveness and the node agent',
    examples: [['Start on the default address', 'reddwarf up --data-dir ./reddwarf-data']],
  });

  async execute(): Promise<number> {
    configureLog(this);
    const runtime = parseRuntime(this.runtime);
    if (runtime === 'mock') log(`zone runtime: mock (this host is ${process.platform}, not illumos): zones are simulated in ${this.dataDir}/zones`);
    const cp = await runControlPlane(this, log);
    // The API server reaches this node's API without a socket; one listens only with --node-api-port.
    const nodes = cp.server.nodes;
    const agent = await runAgent(this, this.dataDir, cp.client, log, { cert: (node, sans) => nodes.issueServing(node, sans) }, cp.clock).catch(async (e: unknown) => {
      await cp.stop();
      throw e;
    });
    nodes.local.set(agent.node, agent.nodeApi);
    cp.server.inspect.register(`agent/${agent.node}`, agent.pods.actor, agent.node);
    log(`reddwarf is up on ${cp.server.url} (${cp.server.listening.transport}), node ${agent.node}`);
    log(`live pod machines: ${cp.server.url}/inspect`);
    log(`kubeconfig: ${cp.server.kubeconfig}  —  try: kubectl --kubeconfig ${cp.server.kubeconfig} get nodes`);
    await stopOnSignal(log, 'shutting down (zones keep running)', async () => {
      await agent.stop();
      await cp.stop();
    }, cp.clock);
    return 0;
  }
}
