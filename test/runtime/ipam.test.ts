// IPAM: CIDR parsing (SPEC §6.1, masked: bug 19), lowest-free allocation, release, exhaustion,
// concurrency and persistence in LMDB.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { InvalidCidr, Ipam, IpamPoolExhausted, formatIpv4, parseCidr } from '../../src/runtime/ipam.ts';

/** A fresh LMDB environment; `reopen` closes it and opens the same files again. */
async function withEnv(fn: (env: { root: RootDatabase; reopen: () => Promise<RootDatabase> }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'reddwarf-ipam-'));
  const path = join(dir, 'db');
  let root = open({ path, compression: false });
  try {
    await fn({
      root,
      async reopen() {
        await root.close();
        root = open({ path, compression: false });
        return root;
      },
    });
  } finally {
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('parseCidr', () => {
  it('derives gateway, first host and broadcast (SPEC §6.1 vectors)', () => {
    const c = parseCidr('10.88.0.0/16');
    assert.equal(c.cidr, '10.88.0.0/16');
    assert.equal(c.prefixLen, 16);
    assert.equal(formatIpv4(c.gateway), '10.88.0.1');
    assert.equal(formatIpv4(c.first), '10.88.0.2');
    assert.equal(formatIpv4(c.broadcast), '10.88.255.255');
    const d = parseCidr('192.168.1.0/24');
    assert.deepEqual([d.gateway, d.first, d.broadcast].map(formatIpv4), ['192.168.1.1', '192.168.1.2', '192.168.1.255']);
  });

  it('masks the network address (upstream used 10.88.5.7/16 as given: bug 19)', () => {
    const c = parseCidr('10.88.5.7/16');
    assert.equal(c.cidr, '10.88.0.0/16');
    assert.equal(formatIpv4(c.gateway), '10.88.0.1');
    assert.equal(formatIpv4(c.first), '10.88.0.2');
  });

  it('handles /0 and /32', () => {
    assert.equal(formatIpv4(parseCidr('1.2.3.4/0').broadcast), '255.255.255.255');
    assert.equal(parseCidr('1.2.3.4/0').cidr, '0.0.0.0/0');
    assert.equal(parseCidr('1.2.3.4/32').cidr, '1.2.3.4/32');
  });

  it('accepts a prefix with a plus sign or leading zeros, as upstream does', () => {
    assert.equal(parseCidr('10.88.0.0/+16').prefixLen, 16);
    assert.equal(parseCidr('10.88.0.0/016').prefixLen, 16);
  });

  it('rejects malformed CIDRs with upstream messages', () => {
    const cases: [string, RegExp][] = [
      ['not-a-cidr', /Invalid CIDR format: 'not-a-cidr'/],
      ['10.88.0.0', /Invalid CIDR format/],
      ['10.88.0.0/16/1', /Invalid CIDR format/],
      ['bad/16', /Invalid network address: 'bad'/],
      ['010.88.0.0/16', /Invalid network address/],
      ['10.088.0.0/16', /Invalid network address/],
      ['10.88.0/16', /Invalid network address/],
      ['256.0.0.0/8', /Invalid network address/],
      [' 10.88.0.0/16', /Invalid network address/],
      ['10.88.0.0/33', /Prefix length 33 is out of range/],
      ['10.88.0.0/256', /Invalid prefix length: '256'/],
      ['10.88.0.0/-1', /Invalid prefix length/],
      ['10.88.0.0/ 16', /Invalid prefix length/],
      ['10.88.0.0/', /Invalid prefix length/],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => parseCidr(input), (e) => e instanceof InvalidCidr && message.test(e.message), input);
    }
  });
});

describe('Ipam', () => {
  it('allocates from network+2 upward with the gateway and prefix', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    assert.deepEqual(await ipam.allocate('default/a'), { ip: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' });
    assert.deepEqual(await ipam.allocate('default/b'), { ip: '10.88.0.3', prefixLen: 16, gateway: '10.88.0.1' });
  }));

  it('allocates from the masked network', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.5.7/16');
    assert.equal(ipam.cidr, '10.88.0.0/16');
    assert.deepEqual(await ipam.allocate('default/a'), { ip: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' });
  }));

  it('is idempotent per pod', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    const first = await ipam.allocate('default/a');
    await ipam.allocate('default/b');
    assert.deepEqual(await ipam.allocate('default/a'), first);
    assert.equal(ipam.list().length, 2);
  }));

  it('releases, and reuses the lowest free address', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    await ipam.allocate('default/a');
    await ipam.allocate('default/b');
    await ipam.allocate('default/c');
    assert.equal(await ipam.release('default/a'), '10.88.0.2');
    assert.equal(ipam.lookup('default/a'), undefined);
    assert.equal((await ipam.allocate('default/d')).ip, '10.88.0.2');
    assert.equal((await ipam.allocate('default/e')).ip, '10.88.0.5');
  }));

  it('releases nothing for an unknown pod, without an error', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    assert.equal(await ipam.release('default/nobody'), undefined);
  }));

  it('looks a pod up without allocating', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    assert.equal(ipam.lookup('default/a'), undefined);
    const a = await ipam.allocate('default/a');
    assert.deepEqual(ipam.lookup('default/a'), a);
    assert.equal(ipam.list().length, 1);
  }));

  it('lists allocations by address, not by text', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    for (let i = 0; i < 10; i++) await ipam.allocate(`default/p${i}`);
    await ipam.allocate('kube-system/dns');
    const list = ipam.list();
    assert.deepEqual(list.map((e) => e.ip).slice(7), ['10.88.0.9', '10.88.0.10', '10.88.0.11', '10.88.0.12']);
    assert.deepEqual(list[0], { ip: '10.88.0.2', pod: 'default/p0' });
    assert.deepEqual(list[10], { ip: '10.88.0.12', pod: 'kube-system/dns' });
  }));

  it('has exactly one address in a /30 and names the CIDR when full', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '192.168.7.0/30');
    assert.deepEqual(await ipam.allocate('default/a'), { ip: '192.168.7.2', prefixLen: 30, gateway: '192.168.7.1' });
    await assert.rejects(ipam.allocate('default/b'), (e) => e instanceof IpamPoolExhausted && e.cidr === '192.168.7.0/30' && /192\.168\.7\.0\/30/.test(e.message));
    // Still idempotent for the pod that holds the address.
    assert.equal((await ipam.allocate('default/a')).ip, '192.168.7.2');
  }));

  it('has no address in a /31 or a /32', () => withEnv(async ({ root }) => {
    await assert.rejects(Ipam.open(root, '10.0.0.0/31').allocate('default/a'), IpamPoolExhausted);
    await assert.rejects(Ipam.open(root, '10.0.0.7/32').allocate('default/a'), IpamPoolExhausted);
  }));

  it('never hands out network, gateway or broadcast', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.1.2.0/28');
    const ips: string[] = [];
    for (let i = 0; ; i++) {
      try {
        ips.push((await ipam.allocate(`default/p${i}`)).ip);
      } catch (e) {
        assert.ok(e instanceof IpamPoolExhausted);
        break;
      }
    }
    assert.deepEqual(ips, Array.from({ length: 13 }, (_, i) => `10.1.2.${i + 2}`));
  }));

  it('never hands one address to two concurrent callers', () => withEnv(async ({ root }) => {
    const ipam = Ipam.open(root, '10.88.0.0/24');
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => ipam.allocate(`default/p${i}`)));
    const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.ip] : []));
    assert.equal(ips.length, 253);
    assert.equal(new Set(ips).size, 253);
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof IpamPoolExhausted));
    // The same pod asked for concurrently still gets one address.
    const same = await Promise.all(Array.from({ length: 5 }, () => Ipam.open(root, '10.99.0.0/16').allocate('default/x')));
    assert.equal(new Set(same.map((a) => a.ip)).size, 1);
  }));

  it('keeps allocations across a reopen', () => withEnv(async ({ root, reopen }) => {
    const ipam = Ipam.open(root, '10.88.0.0/16');
    await ipam.allocate('default/a');
    await ipam.allocate('default/b');
    await ipam.release('default/a');
    const again = Ipam.open(await reopen(), '10.88.0.0/16');
    assert.deepEqual(again.list(), [{ ip: '10.88.0.3', pod: 'default/b' }]);
    assert.equal((await again.allocate('default/b')).ip, '10.88.0.3');
    assert.equal((await again.allocate('default/c')).ip, '10.88.0.2');
  }));

  it('moves a pod held under an old CIDR into the new one', () => withEnv(async ({ root, reopen }) => {
    await Ipam.open(root, '10.88.0.0/16').allocate('default/a');
    const ipam = Ipam.open(await reopen(), '10.99.0.0/16');
    assert.equal(ipam.lookup('default/a'), undefined);
    assert.equal((await ipam.allocate('default/a')).ip, '10.99.0.2');
    assert.deepEqual(ipam.list(), [{ ip: '10.99.0.2', pod: 'default/a' }]);
  }));

  it('refuses an invalid CIDR when opened', () => withEnv(async ({ root }) => {
    assert.throws(() => Ipam.open(root, '10.88.0.0/33'), InvalidCidr);
  }));
});
