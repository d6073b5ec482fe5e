// Reads a kubeconfig (ours or kubectl's) into what RemoteClient needs: the current context's
// server, CA and token.
import { readFileSync } from 'node:fs';
import { delimiter, dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface KubeconfigAccess {
  server: string;
  /** PEM, from certificate-authority-data or the certificate-authority file. */
  ca?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** The context's default namespace, when it names one. */
  namespace?: string;
  /** The file this was read from (for messages). */
  path: string;
}

export const DEFAULT_KUBECONFIG = './reddwarf-data/kubeconfig';

/** The kubeconfig file to read: the argument, else $KUBECONFIG's first entry, else ours. */
export function kubeconfigPath(path?: string): string {
  if (path) return resolve(path);
  const first = (process.env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  return resolve(first ?? DEFAULT_KUBECONFIG);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads the current context of a kubeconfig; errors name the file and what is wrong with it. */
export function readKubeconfig(path?: string): KubeconfigAccess {
  const file = kubeconfigPath(path);
  const fail = (why: string): Error => new Error(`kubeconfig ${file}: ${why}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail('no such file (start the server with `reddwarf serve`, or pass --kubeconfig / set KUBECONFIG)');
    throw fail(`cannot be read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw fail(`not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw fail('not a kubeconfig (expected a YAML mapping)');

  const pick = (section: string, name: string): Record<string, unknown> => {
    const entries = doc[section];
    if (entries !== undefined && entries !== null && !Array.isArray(entries)) throw fail(`${section} must be a list`);
    const entry = ((entries ?? []) as unknown[]).filter(isRecord).find((e) => e.name === name);
    if (!entry) throw fail(`${section} has no entry named ${JSON.stringify(name)}`);
    const body = entry[section.replace(/s$/, '')];
    if (!isRecord(body)) throw fail(`${section} entry ${JSON.stringify(name)} has no ${section.replace(/s$/, '')} mapping`);
    return body;
  };

  let contextName = doc['current-context'];
  if (typeof contextName !== 'string' || contextName === '') {
    // kubectl refuses too, but a file with a single context has only one sensible reading.
    const contexts = Array.isArray(doc.contexts) ? (doc.contexts as unknown[]).filter(isRecord) : [];
    if (contexts.length !== 1 || typeof contexts[0]?.name !== 'string') throw fail('current-context is not set');
    contextName = contexts[0].name;
  }
  const context = pick('contexts', contextName as string);
  if (typeof context.cluster !== 'string' || context.cluster === '') throw fail(`context ${JSON.stringify(contextName)} names no cluster`);
  const cluster = pick('clusters', context.cluster);
  const server = cluster.server;
  if (typeof server !== 'string' || server === '') throw fail(`cluster ${JSON.stringify(context.cluster)} has no server`);
  try {
    new URL(server);
  } catch {
    throw fail(`cluster ${JSON.stringify(context.cluster)} has an invalid server URL ${JSON.stringify(server)}`);
  }
  const out: KubeconfigAccess = { server, path: file };
  if (typeof context.namespace === 'string' && context.namespace !== '') out.namespace = context.namespace;
  if (cluster['insecure-skip-tls-verify'] === true) out.insecureSkipTlsVerify = true;

  // Relative file names are relative to the kubeconfig itself, as kubectl resolves them.
  const readRelative = (what: string, p: string): string => {
    const full = resolve(dirname(file), p);
    try {
      return readFileSync(full, 'utf8');
    } catch (e) {
      throw fail(`${what} ${full} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const caData = cluster['certificate-authority-data'];
  const caFile = cluster['certificate-authority'];
  if (typeof caData === 'string' && caData.trim() !== '') {
    const pem = Buffer.from(caData, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw fail(`certificate-authority-data of cluster ${JSON.stringify(context.cluster)} is not a base64 PEM certificate`);
    out.ca = pem;
  } else if (typeof caFile === 'string' && caFile !== '') {
    out.ca = readRelative('certificate-authority', caFile);
  }

  if (context.user !== undefined && context.user !== '') {
    if (typeof context.user !== 'string') throw fail(`context ${JSON.stringify(contextName)} has an invalid user`);
    const user = pick('users', context.user);
    if (typeof user.token === 'string' && user.token !== '') out.token = user.token;
    else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') out.token = readRelative('tokenFile', user.tokenFile).trim();
  }
  return out;
}
