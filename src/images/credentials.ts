// Registry credentials from Kubernetes `kubernetes.io/dockerconfigjson` Secrets: the data key
// `.dockerconfigjson` (base64 in Secret.data) holds {"auths": {"<host or URL>": {auth | username+password}}}.
import { DOCKER_HUB } from './reference.ts';

/** Credentials for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Finds the credentials for a registry host (as in ImageRef.registry). */
export type CredentialLookup = (registry: string) => RegistryCredentials | undefined;

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** `https://index.docker.io/v1/` → docker.io; `host:5000/path` → host:5000. */
export function normaliseRegistryKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  k = k.toLowerCase();
  return HUB_ALIASES.has(k) ? DOCKER_HUB : k;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

function entryCredentials(e: AuthEntry): RegistryCredentials | undefined {
  if (e.username !== undefined && e.password !== undefined) return { username: e.username, password: e.password };
  if (e.auth) {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  return undefined;
}

/**
 * A lookup over the `data` maps of dockerconfigjson Secrets (values base64, as the API serves them);
 * the first Secret naming a registry wins, as kubelet tries imagePullSecrets in order.
 * @example credentialsFromDockerConfigSecrets([secret.data])('docker.io')
 */
export function credentialsFromDockerConfigSecrets(datas: Record<string, string>[]): CredentialLookup {
  const found = new Map<string, RegistryCredentials>();
  for (const data of datas) {
    const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
    if (!raw) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch {
      continue;
    }
    if (!parsed || typeof parsed !== 'object') continue;
    // .dockercfg (legacy) is the auths map itself.
    const auths = ('auths' in parsed ? (parsed as { auths: unknown }).auths : parsed) as Record<string, AuthEntry> | undefined;
    if (!auths || typeof auths !== 'object') continue;
    for (const [key, entry] of Object.entries(auths)) {
      if (!entry || typeof entry !== 'object') continue;
      const c = entryCredentials(entry);
      const host = normaliseRegistryKey(key);
      if (c && !found.has(host)) found.set(host, c);
    }
  }
  return (registry) => found.get(normaliseRegistryKey(registry));
}
