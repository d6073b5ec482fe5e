// What the API server and the node API agree on: the API server's client identity, the paths,
// and the default port (kubelet's).

/** The node API's port unless --node-api-port says otherwise (kubelet's 10250). */
export const DEFAULT_NODE_API_PORT = 10250;

/**
 * The CN of the client certificate the API server presents to node APIs (signed by the cluster
 * CA). It is the only identity a node API serves; a node's own certificate (CN system:node:…)
 * is refused.
 */
export const APISERVER_CLIENT_CN = 'reddwarf:apiserver-kubelet-client';
export const APISERVER_CLIENT_O = 'reddwarf:apiservers';

/** `GET /containerLogs/{namespace}/{pod}/{container}?follow=…` (kubelet's path). */
export function containerLogsPath(namespace: string, pod: string, container: string): string {
  return `/containerLogs/${[namespace, pod, container].map(encodeURIComponent).join('/')}`;
}

/** The query parameters of pods/log that travel on to the node API as they came. */
export const LOG_PARAMS = ['follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes'] as const;
