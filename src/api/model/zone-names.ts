// Zone and VNIC names for a pod: always valid on illumos and never shared by two pods
// (upstream's names could be 64 characters, invalid as links, and collide: SPEC §5.3, §6.3, §11.5).
import { createHash } from 'node:crypto';

/** illumos zone names: at most 63 characters (ZONENAME_MAX is 64 with the NUL). */
export const ZONE_NAME_MAX = 63;
/** Datalink names must be shorter than MAXLINKNAMELEN (32). */
export const LINK_NAME_MAX = 31;

const ZONE_PREFIX = 'reddwarf-';
const HASH_HEX = 8;
// The readable form keeps Kubernetes name characters; `_` never occurs in it, so it marks the hashed
// form and a plain name can never equal a hashed one.
const PLAIN_POD = /^[A-Za-z0-9.-]*$/;
const PLAIN_NAMESPACE = /^[A-Za-z0-9.]*$/;
const ZONE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const VNIC_PREFIX = 'rd_';
// The trailing digits are the link's PPA to IP (libinetutil dlparse_drvppa): no leading zero and at
// most UINT_MAX − 1. Ten digits from 1000000000 up stay within that.
const PPA_MAX = 4_294_967_294;
const VNIC_PPA_MIN = 1_000_000_000;
const VNIC_DIGITS = 10;
const VNIC_READABLE_MAX = LINK_NAME_MAX - VNIC_PREFIX.length - 1 - VNIC_DIGITS;
const LINK_NAME_RE = /^[A-Za-z][A-Za-z0-9_]*?([0-9]+)$/;

function digest(namespace: string, pod: string): Buffer {
  return createHash('sha256').update(`${namespace}/${pod}`).digest();
}

/**
 * The zone of pod `namespace/pod`: `reddwarf-<ns>-<pod>` when that is valid and can only come from
 * this pod, else a sanitized, shortened form with `_` and 8 hex digits of sha256(`<ns>/<pod>`).
 * @example zoneName('default', 'nginx') // 'reddwarf-default-nginx'
 * @example zoneName('kube-system', 'dns') // 'reddwarf-kube-system-dns_…' (a `-` in the namespace is ambiguous)
 */
export function zoneName(namespace: string, pod: string): string {
  const plain = `${ZONE_PREFIX}${namespace}-${pod}`;
  // With no `-` in the namespace the first `-` after the prefix ends it, so the split is unique.
  if (plain.length <= ZONE_NAME_MAX && PLAIN_NAMESPACE.test(namespace) && PLAIN_POD.test(pod)) return plain;
  const hash = digest(namespace, pod).toString('hex').slice(0, HASH_HEX);
  const readable = plain.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, ZONE_NAME_MAX - HASH_HEX - 1);
  return `${readable}_${hash}`;
}

/**
 * The VNIC of pod `namespace/pod`, within dladm's link-name rules (≤ 31 characters, letters,
 * digits and `_`, starting with a letter, ending with a digit that IP accepts as a PPA):
 * `rd_<ns>_<pod, shortened>_<10 digits>`.
 * @example vnicName('default', 'nginx') // 'rd_default_nginx_' + 10 digits
 */
export function vnicName(namespace: string, pod: string): string {
  const readable = `${namespace}_${pod}`.replace(/[^A-Za-z0-9]/g, '_').slice(0, VNIC_READABLE_MAX);
  // ~31.6 bits of the digest as the PPA, so the name ends with a digit as dladm requires.
  const ppa = VNIC_PPA_MIN + Number(digest(namespace, pod).readBigUInt64BE(0) % BigInt(PPA_MAX - VNIC_PPA_MIN + 1));
  return `${VNIC_PREFIX}${readable}_${ppa}`;
}

/** Whether `name` is a valid illumos zone name (the `SUNW` prefix and `global` are reserved). */
export function isValidZoneName(name: string): boolean {
  return name.length <= ZONE_NAME_MAX && ZONE_NAME_RE.test(name) && !name.startsWith('SUNW') && name !== 'global';
}

/**
 * Whether `name` passes libdladm's `dladm_valid_linkname` (without `.`, which older releases reject)
 * and can carry IP: its trailing digits are a PPA without a leading zero, at most UINT_MAX − 1.
 */
export function isValidLinkName(name: string): boolean {
  const ppa = name.length <= LINK_NAME_MAX ? LINK_NAME_RE.exec(name)?.[1] : undefined;
  if (ppa === undefined) return false;
  return (ppa === '0' || !ppa.startsWith('0')) && ppa.length <= 10 && Number(ppa) <= PPA_MAX;
}
