// The control plane and one agent (mock zones) in this process, as `reddwarf up` runs them, with
// the agent's actors registered for /inspect.
import { runAgent, runControlPlane } from '../../src/cli/run.ts';
import { freePort } from './process.ts';
import { tempDir } from './server.ts';

/** Starts both on a free port and a fresh data dir; stop() ends them and removes the dir. */
export async function startInProcess(nodeName: string, inspectorUrl = 'https://stately.ai/inspect') {
  const { dir, remove } = tempDir();
  const port = await freePort();
  const cp = await runControlPlane({ bind: `127.0.0.1:${port}`, dataDir: dir, http: 'auto', kubeMinor: '31', nodeMonitorGracePeriod: '40s', allowedOrigins: '', inspectorUrl }, () => {});
  const agent = await runAgent({
    nodeName, runtime: 'mock', podCidr: '10.88.0.0/16', systemReservedCpu: '100m', systemReservedMemory: '256Mi', maxPods: '110',
    supportedBrands: 'auto', etherstubName: 'reddwarf0', zonepathPrefix: '/rpool/zones', nodeStatusUpdateFrequency: '10s',
  }, dir, cp.client, () => {});
  cp.server.inspect.register(`agent/${nodeName}`, agent.pods.actor, nodeName);
  return {
    dir,
    cp,
    agent,
    async stop() {
      await agent.stop();
      await cp.stop();
      remove();
    },
  };
}
