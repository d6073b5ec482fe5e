// Zone and VNIC names: SPEC §5.3 and §6.3 examples, illumos validity and no collisions (bug 5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidLinkName, isValidZoneName, vnicName, zoneName } from '../../src/api/model/zone-names.ts';

// Pairs upstream mapped to one name.
const COLLIDING: [string, string, string, string][] = [
  ['a-b', 'c', 'a', 'b-c'],
  ['default', 'a.b', 'default', 'a-b'],
  ['my.namespace', 'my.pod', 'my-namespace', 'my-pod'],
  ['default', `${'x'.repeat(60)}1`, 'default', `${'x'.repeat(60)}2`],
  ['default', 'a_b', 'default', 'a-b'],
];

describe('zoneName', () => {
  it('is reddwarf-<ns>-<pod> for ordinary names (SPEC §5.3)', () => {
    assert.equal(zoneName('default', 'nginx'), 'reddwarf-default-nginx');
    assert.equal(zoneName('prod', 'web-7d4b9c-x2x'), 'reddwarf-prod-web-7d4b9c-x2x');
  });

  it('keeps dots, which zone names allow, instead of turning them into dashes', () => {
    // Upstream's test pins reddwarf-my-namespace-my-pod, the mapping that made a.b and a-b collide.
    assert.equal(zoneName('my.namespace', 'my.pod'), 'reddwarf-my.namespace-my.pod');
  });

  it('adds a stable hash when the namespace holds a dash, which would make the split ambiguous', () => {
    const name = zoneName('kube-system', 'coredns');
    assert.match(name, /^reddwarf-kube-system-coredns_[0-9a-f]{8}$/);
    assert.equal(zoneName('kube-system', 'coredns'), name);
  });

  it('replaces characters zone names cannot hold and adds the hash', () => {
    assert.match(zoneName('default', 'a b/c:d'), /^reddwarf-default-a-b-c-d_[0-9a-f]{8}$/);
  });

  it('stays within 63 characters, the illumos limit (upstream allowed 64)', () => {
    const name = zoneName('default', 'p'.repeat(60));
    assert.equal(name.length, 63);
    assert.ok(isValidZoneName(name));
    assert.equal(zoneName('default', 'p'.repeat(54)).length, 63);
    assert.equal(zoneName('default', 'p'.repeat(253)).length, 63);
    assert.equal(zoneName('default', 'p'.repeat(46)), `reddwarf-default-${'p'.repeat(46)}`);
  });

  it('gives distinct pods distinct names', () => {
    for (const [ns1, p1, ns2, p2] of COLLIDING) {
      assert.notEqual(zoneName(ns1, p1), zoneName(ns2, p2), `${ns1}/${p1} vs ${ns2}/${p2}`);
    }
  });

  it('never gives a plain name that equals a hashed one', () => {
    const hashed = zoneName('a-b', 'c');
    const [, ns, pod] = /^reddwarf-([^-]+)-(.*)$/.exec(hashed) ?? [];
    assert.notEqual(zoneName(ns ?? '', pod ?? ''), hashed);
  });

  it('is always a valid zone name', () => {
    for (const [ns, pod] of [['default', ''], ['UPPER', 'Case'], ['ns', '-lead'], ['x'.repeat(63), 'y'.repeat(253)], ['ü', 'ß']]) {
      assert.ok(isValidZoneName(zoneName(ns ?? '', pod ?? '')), `${ns}/${pod}`);
    }
  });
});

describe('vnicName', () => {
  it('follows dladm link-name rules: ≤ 31 characters, letters, digits and _, ending in a digit (bug 5)', () => {
    for (const [ns, pod] of [['default', 'nginx'], ['very-long-namespace-name', 'very-long-pod-name-here'], ['kube-system', 'coredns-abcdefghij'], ['default', 'a'.repeat(20)], ['my.ns', 'my.pod']]) {
      const name = vnicName(ns ?? '', pod ?? '');
      assert.ok(isValidLinkName(name), name);
      assert.ok(name.length <= 31, name);
    }
  });

  it('reads as rd_<ns>_<pod>_<digits> (upstream vnic_default_nginx is rejected by dladm)', () => {
    assert.match(vnicName('default', 'nginx'), /^rd_default_nginx_[1-4]\d{9}$/);
    assert.match(vnicName('very-long-namespace-name', 'very-long-pod-name-here'), /^rd_very_long_namespa_\d{10}$/);
    assert.ok(!isValidLinkName('vnic_default_nginx'));
  });

  it('is stable', () => {
    assert.equal(vnicName('default', 'nginx'), vnicName('default', 'nginx'));
  });

  it('gives distinct pods distinct names', () => {
    for (const [ns1, p1, ns2, p2] of COLLIDING) {
      assert.notEqual(vnicName(ns1, p1), vnicName(ns2, p2), `${ns1}/${p1} vs ${ns2}/${p2}`);
    }
    const names = new Set<string>();
    for (let i = 0; i < 5000; i++) names.add(vnicName('default', `web-${i}`));
    assert.equal(names.size, 5000);
  });
});

describe('name checks', () => {
  it('rejects invalid zone names', () => {
    for (const n of ['', '-x', 'a'.repeat(64), 'a b', 'global', 'SUNWfoo', 'a/b']) assert.ok(!isValidZoneName(n), n);
  });

  it('rejects invalid link names', () => {
    for (const n of ['', 'vnic0'.padStart(32, 'x'), '0vnic1', 'vnic', 'vnic-1', 'vnic.1', '_vnic1']) assert.ok(!isValidLinkName(n), n);
    for (const n of ['vnic0', 'reddwarf0', 'a_b_12', 'vnic4294967294', 'x'.repeat(30) + '1']) assert.ok(isValidLinkName(n), n);
  });

  it('rejects link names whose trailing digits IP cannot take as a PPA (leading zero, above UINT_MAX − 1)', () => {
    for (const n of ['vnic01', 'vnic00', 'vnic4294967295', 'vnic99999999999']) assert.ok(!isValidLinkName(n), n);
  });
});
