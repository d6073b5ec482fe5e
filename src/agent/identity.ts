// The node's name: --node-name, else the host name, lower-cased; it must be a DNS subdomain
// (an upper-case host name used to keep the agent from ever registering, SPEC §11.9).
import { hostname } from 'node:os';
import { isDns1123Subdomain } from '../api/validation.ts';

/** The node name to register, or an error that says how to pick one. */
export function nodeName(flag: string | undefined, host: () => string = hostname): string {
  const raw = flag ?? host();
  const name = flag === undefined ? raw.toLowerCase().split('.')[0] ?? '' : raw;
  if (!isDns1123Subdomain(name)) {
    throw new Error(`node name ${JSON.stringify(name)} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.'); pass --node-name`);
  }
  return name;
}
