// The API server's side of the node API channel: the cluster CA that signs node API serving
// certificates, and the client certificate the API server presents to node APIs. Node API
// handlers of agents in this process (`reddwarf up`) are registered here and called directly.
import { join } from 'node:path';
import { isIP } from 'node:net';
import type { Node } from '../api/model/types.ts';
import { APISERVER_CLIENT_CN, APISERVER_CLIENT_O } from '../agent/node-api/protocol.ts';
import { NODE_PREFIX, NODES } from './auth.ts';
import type { HttpHandler } from './http.ts';
import type { Generated } from './tls.ts';
import { realClock, type Clock } from '../time/clock.ts';

/** A node API serving certificate with the CA that signed it (what a node's server needs). */
export interface NodeServingCert {
  certificate: string;
  key?: string;
  ca: string;
}

export class NodeAuthority {
  /** Node API handlers of agents in this process, by node name: called without a socket. */
  readonly local = new Map<string, HttpHandler>();

  private constructor(
    private readonly ca: Generated,
    /** The API server's client identity towards node APIs. */
    readonly client: Generated,
    private readonly clock: Clock,
  ) {}

  /** Loads (or creates) the cluster CA in `tlsDir` and the API server's node API client certificate. */
  static async open(tlsDir: string, clock: Clock = realClock): Promise<NodeAuthority> {
    const { ensureCa, ensureClientCert } = await import('./tls.ts');
    const { ca } = await ensureCa(tlsDir, clock);
    const client = await ensureClientCert(tlsDir, 'apiserver-kubelet-client', ca, { cn: APISERVER_CLIENT_CN, o: [APISERVER_CLIENT_O] }, clock);
    return new NodeAuthority(ca, client, clock);
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  /**
   * Signs a node's serving certificate request. The identity and names are the CA's choice, not
   * the request's: CN system:node:<name>, and as SANs the node's name and the addresses its Node
   * object reports (as kube's kubelet-serving approver insists).
   */
  async signServing(node: Node, csrPem: string): Promise<NodeServingCert> {
    const { signCsr } = await import('./tls.ts');
    const certificate = await signCsr(this.ca, csrPem, { cn: `${NODE_PREFIX}${node.metadata.name}`, o: [NODES], sans: servingSans(node), usage: 'server', clock: this.clock });
    return { certificate, ca: this.ca.certPem };
  }

  /** A serving certificate with its key, made here (an agent in this process needs no request). */
  async issueServing(nodeName: string, sans: readonly string[]): Promise<NodeServingCert> {
    const { generateLeaf } = await import('./tls.ts');
    const leaf = await generateLeaf(this.ca, { cn: `${NODE_PREFIX}${nodeName}`, o: [NODES], sans: [...new Set([nodeName, ...sans])], usage: 'server', clock: this.clock });
    return { certificate: leaf.certPem, key: leaf.keyPem, ca: this.ca.certPem };
  }
}

/** The names a node's serving certificate carries: its name and every address it reports. */
export function servingSans(node: Node): string[] {
  const sans = [node.metadata.name as string];
  for (const a of node.status?.addresses ?? []) if (a.address && (isIP(a.address) !== 0 || /^[a-z0-9.-]+$/i.test(a.address))) sans.push(a.address);
  return [...new Set(sans)];
}

/** Where the API server keeps the CA and its client certificate: `<data-dir>/tls`. */
export const tlsDirOf = (dataDir: string): string => join(dataDir, 'tls');
