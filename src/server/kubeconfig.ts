// The kubeconfig `serve` and `up` write beside the data, ready for kubectl and client libraries.
import { writeFileSync, renameSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caData?: string;
  token?: string;
}

/** Renders a one-cluster, one-user kubeconfig. */
export function renderKubeconfig(o: KubeconfigOptions): string {
  const cluster: Record<string, unknown> = { server: o.server };
  if (o.caData) cluster['certificate-authority-data'] = o.caData;
  // client-node 1.x refuses http:// servers unless TLS verification is declared off (KUBECTL.md §4).
  else if (o.server.startsWith('http://')) cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'reddwarf', cluster }],
    users: [{ name: 'reddwarf-admin', user: o.token ? { token: o.token } : {} }],
    contexts: [{ name: 'reddwarf', context: { cluster: 'reddwarf', user: 'reddwarf-admin', namespace: 'default' } }],
    'current-context': 'reddwarf',
    preferences: {},
  });
}

/** Writes the kubeconfig atomically (a reader never sees half a file), owner-only. */
export function writeKubeconfig(path: string, o: KubeconfigOptions): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, renderKubeconfig(o), { mode: 0o600 });
  renameSync(tmp, path);
}

/** The URL clients use for a bind address (a wildcard bind is reached on loopback). */
export function clientUrl(host: string, port: number, tls: boolean): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}
