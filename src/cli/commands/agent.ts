// `reddwarf agent --server URL`: a node agent joining a remote API server.
import { Command, Option } from 'clipanion';
import { agentFlags, remoteAgentFlags, withFlags } from '../flags.ts';
import { remoteClientFor, runAgent } from '../run.ts';
import { configureLog, log, logFlags } from '../log.ts';
import { stopOnSignal } from '../signals.ts';

export class AgentCommand extends withFlags(() => ({ ...agentFlags(), ...remoteAgentFlags(), ...logFlags() })) {
  static override paths = [['agent']];
  static override usage = Command.Usage({
    description: 'run a node agent that joins a reddwarf API server',
    examples: [['Join a server', 'reddwarf agent --server http://10.0.0.1:6443 --node-name node-2 --data-dir ./node-2']],
  });

  server = Option.String('--server', { required: true, description: 'URL of the API server' });
  dataDir = Option.String('--data-dir', './reddwarf-agent', { description: 'directory for zones and IPAM state' });

  async execute(): Promise<number> {
    configureLog(this);
    const client = remoteClientFor(this.server, this, this.nodeName);
    const agent = await runAgent(this, this.dataDir, client, log);
    log(`agent for node ${agent.node} is running against ${this.server}`);
    await stopOnSignal(log, 'shutting down (zones keep running)', () => agent.stop());
    return 0;
  }
}
