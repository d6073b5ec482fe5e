// The node's name: --node-name, else the host name, lower-cased; it must be a DNS subdomain
// (an upper-case host name used to keep the agent from ever registering, SPEC §11.9).
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { isDns1123Subdomain } from '../api/model/validation.ts';

/** The node name to register, or an error that says how to pick one. */
export function nodeName(flag: string | undefined, host: () => string = hostname): string {
  const raw = flag ?? host();
  const name = flag === undefined ? raw.toLowerCase().split('.')[0] ?? '' : raw;
  if (!isDns1123Subdomain(name)) {
    throw new Error(`node name ${JSON.stringify(name)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.'); pass --node-name`);
  }
  return name;
}

/**
 * The address other hosts reach this node at (Node InternalIP, pods' hostIP): --node-ip, else
 * the first non-internal IPv4 address, else the first non-internal IPv6 one; none on a host
 * with only loopback.
 */
export function nodeIp(flag: string | undefined, interfaces: () => ReturnType<typeof networkInterfaces> = networkInterfaces): string | undefined {
  if (flag !== undefined) {
    if (isIP(flag) === 0) throw new Error(`--node-ip ${JSON.stringify(flag)} is not an IP address`);
    return flag;
  }
  const all = Object.values(interfaces()).flatMap((list) => list ?? []).filter((a) => !a.internal);
  return (all.find((a) => a.family === 'IPv4') ?? all.find((a) => a.family === 'IPv6' && !a.address.startsWith('fe80:')))?.address;
}
