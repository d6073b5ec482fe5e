// Assembles the processes the commands run: the control plane (API server, scheduler, node
// liveness) and the node agent, from parsed flags.
import { UsageError } from 'clipanion';
import { fromCallback } from 'xstate';
import { LocalClient } from '../client/local.ts';
import type { Client } from '../client/client.ts';
import { startControlPlane, type ControlPlane } from '../control/plane.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startApiServer, parseBind, type ApiServer } from '../server/start.ts';
import { startAgent, type Agent } from '../agent/agent.ts';
import { nodeName } from '../agent/identity.ts';
import { parseBrands, parseCount, parseDuration, parseRuntime, type AgentFlags, type ControlPlaneFlags } from './flags.ts';

export interface RunningControlPlane {
  server: ApiServer;
  client: Client;
  plane: ControlPlane;
  stop(): Promise<void>;
}

/** Starts the API server and the control plane actors on it. */
export async function runControlPlane(f: ControlPlaneFlags, log: (m: string) => void): Promise<RunningControlPlane> {
  let bind: { host: string; port: number };
  try {
    bind = parseBind(f.bind);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!['auto', 'uws', 'node'].includes(f.http)) throw new UsageError(`--http must be auto, uws or node (got ${JSON.stringify(f.http)})`);
  const minor = Number(f.kubeMinor);
  if (!Number.isInteger(minor) || minor < 20 || minor > 40) throw new UsageError(`--kube-minor must be a Kubernetes minor version such as 31 (got ${JSON.stringify(f.kubeMinor)})`);
  const graceMs = parseDuration('--node-monitor-grace-period', f.nodeMonitorGracePeriod);
  const allowedOrigins = f.allowedOrigins.split(',').map((o) => o.trim()).filter(Boolean);
  const server = await startApiServer({ ...bind, dataDir: f.dataDir, http: f.http as 'auto' | 'uws' | 'node', kubeMinor: minor, allowedOrigins, inspectorUrl: f.inspectorUrl, log });
  const client = new LocalClient(server.store);
  let stopScheduler: Promise<void> | undefined;
  const scheduler = fromCallback(() => {
    const s = startScheduler({ client, log });
    return () => {
      stopScheduler = s.stop();
    };
  });
  const plane = startControlPlane({ client, nodeMonitorGraceMs: graceMs, scheduler, log });
  const unregister = server.inspect.register('control-plane', plane.actor);
  return {
    server,
    client,
    plane,
    async stop() {
      unregister();
      plane.stop();
      await stopScheduler;
      await server.stop();
    },
  };
}

/** Starts a node agent talking through `client`. */
export async function runAgent(f: AgentFlags, dataDir: string, client: Client, log: (m: string) => void): Promise<Agent> {
  let name: string;
  try {
    name = nodeName(f.nodeName);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return startAgent({
    client,
    nodeName: name,
    dataDir,
    runtime: parseRuntime(f.runtime),
    podCidr: f.podCidr,
    systemReservedCpu: f.systemReservedCpu,
    systemReservedMemory: f.systemReservedMemory,
    maxPods: parseCount('--max-pods', f.maxPods),
    brands: parseBrands(f.supportedBrands),
    etherstub: f.etherstubName,
    zonepathPrefix: f.zonepathPrefix,
    heartbeatMs: parseDuration('--node-status-update-frequency', f.nodeStatusUpdateFrequency),
    log,
  });
}
