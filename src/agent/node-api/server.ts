// Serves the node API over HTTPS (node:http transport, which verifies client certificates against
// the cluster CA), and gets the serving certificate: from the API server (the agent makes a key
// and asks, authenticated as its node) or handed over by an API server in the same process.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '../../client/client.ts';
import type { HttpHandler } from '../../server/http.ts';
import type { Listening } from '../../server/listen.ts';
import type { NodeServingCert } from '../../server/node-authority.ts';

/** The files the TLS server reads: written under the agent's data dir, keys 0600. */
function writeTls(dir: string, cert: NodeServingCert & { key: string }): { certFile: string; keyFile: string; caFile: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = { certFile: join(dir, 'serving.pem'), keyFile: join(dir, 'serving-key.pem'), caFile: join(dir, 'ca.pem') };
  writeFileSync(f.keyFile, cert.key, { mode: 0o600 });
  chmodSync(f.keyFile, 0o600);
  writeFileSync(f.certFile, cert.certificate);
  writeFileSync(f.caFile, cert.ca);
  return f;
}

/**
 * A serving certificate for this node's API, signed by the cluster CA: a fresh key each start,
 * its request signed by the API server (POST nodes/<name>/servingcertificate, as the node).
 */
export async function requestServingCert(client: Client, node: string): Promise<NodeServingCert & { key: string }> {
  if (!client.requestServingCertificate) throw new Error('this client cannot ask for a node API serving certificate');
  const { generateCsr } = await import('../../server/tls.ts');
  const { csrPem, keyPem } = await generateCsr(`system:node:${node}`);
  const signed = await client.requestServingCertificate(node, csrPem);
  return { ...signed, key: keyPem };
}

export interface NodeApiServerOptions {
  handler: HttpHandler;
  host: string;
  /** 0: an ephemeral port (tests). */
  port: number;
  cert: NodeServingCert & { key: string };
  /** Where the TLS files are written (`<agent data-dir>/node-api`). */
  dir: string;
}

/** Listens with HTTPS; client certificates signed by the cluster CA are verified (the handler decides who may do what). */
export async function listenNodeApi(o: NodeApiServerOptions): Promise<Listening> {
  const { listenNode } = await import('../../server/node.ts');
  const files = writeTls(o.dir, o.cert);
  return listenNode(o.handler, o.host, o.port, files);
}
