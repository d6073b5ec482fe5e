// Host brand detection (/usr/lib/brand/<brand>/config.xml) and distribution detection (/etc/release,
// uname -v), and what `--supported-brands` resolves to on illumos and on the mock.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrandsError, detectBrands, detectDistribution, distributionOf, MOCK_BRANDS, parseBrandList, podBrandsOf, resolveHostBrands } from '../../src/runtime/brands.ts';
import { tempDir } from '../helpers/server.ts';

const t = tempDir('reddwarf-brands-');
after(() => t.remove());

/** A fake /usr/lib/brand: `with` get a config.xml, `without` only a directory. */
function brandDir(name: string, withXml: string[], without: string[] = []): string {
  const dir = join(t.dir, name);
  for (const b of withXml) {
    mkdirSync(join(dir, b), { recursive: true });
    writeFileSync(join(dir, b, 'config.xml'), '<brand/>');
  }
  for (const b of without) mkdirSync(join(dir, b), { recursive: true });
  return dir;
}

function releaseFile(name: string, text: string): string {
  const f = join(t.dir, name);
  writeFileSync(f, text);
  return f;
}

describe('detectBrands', () => {
  it('lists brand directories holding a config.xml, sorted', () => {
    const omnios = brandDir('omnios', ['sparse', 'lipkg', 'ipkg', 'pkgsrc', 'bhyve', 'lx'], ['shared', 'illumos-broken']);
    assert.deepEqual(detectBrands(omnios), ['bhyve', 'ipkg', 'lipkg', 'lx', 'pkgsrc', 'sparse']);
    assert.deepEqual(podBrandsOf(detectBrands(omnios)), ['lx', 'sparse', 'lipkg', 'pkgsrc', 'ipkg'], 'pod brands, lx first, natives by preference, bhyve left out');
    assert.deepEqual(detectBrands(join(t.dir, 'missing')), []);
  });
});

describe('detectDistribution', () => {
  it('reads the first line of /etc/release', () => {
    assert.deepEqual(detectDistribution({ releaseFile: releaseFile('omnios-release', '  OmniOS v11 r151050y\n  Copyright (c) 2012-2017 OmniTI Computer Consulting, Inc.\n'), uname: () => 'x' }), { name: 'OmniOS', release: 'OmniOS v11 r151050y' });
    assert.equal(detectDistribution({ releaseFile: releaseFile('smartos-release', '                       SmartOS 20240111T000432Z x86_64\n') }).name, 'SmartOS');
    assert.equal(detectDistribution({ releaseFile: releaseFile('oi-release', '             OpenIndiana Hipster 2024.04 (powered by illumos)\n') }).name, 'OpenIndiana');
  });

  it('falls back to uname -v, then to plain illumos', () => {
    const none = join(t.dir, 'no-release');
    assert.deepEqual(detectDistribution({ releaseFile: none, uname: () => 'joyent_20240111T000432Z' }), { name: 'SmartOS', release: 'joyent_20240111T000432Z' });
    assert.equal(detectDistribution({ releaseFile: none, uname: () => 'omnios-r151050-6e8a5fa8b2' }).name, 'OmniOS');
    assert.equal(detectDistribution({ releaseFile: none, uname: () => 'helios-2.0.22844' }).name, 'Helios');
    assert.deepEqual(detectDistribution({ releaseFile: none, uname: () => undefined }), { name: 'illumos', release: 'illumos' });
    assert.equal(distributionOf('illumos-7f3c2b1'), 'illumos');
  });
});

describe('--supported-brands', () => {
  it('parses an explicit list of pod brands, refusing planned and unknown ones', () => {
    assert.deepEqual(parseBrandList('lx, sparse,lx'), ['lx', 'sparse']);
    assert.throws(() => parseBrandList('bhyve'), (e) => e instanceof BrandsError && /the bhyve brand cannot hold pods yet/.test(e.message));
    assert.throws(() => parseBrandList('kvm'), /kvm brand cannot hold pods yet/);
    assert.throws(() => parseBrandList('reddwarf'), /unknown brand "reddwarf" \(known: lx, sparse, lipkg, pkgsrc, ipkg, nlipkg, joyent, joyent-minimal\)/);
    assert.throws(() => parseBrandList(' , '), /at least one brand/);
  });

  it('auto: the mock offers lx and sparse; illumos what is installed', () => {
    assert.deepEqual(resolveHostBrands('auto', 'mock'), { brands: [...MOCK_BRANDS], distribution: { name: 'mock', release: `mock zones on ${process.platform}` } });
    assert.deepEqual(MOCK_BRANDS, ['lx', 'sparse']);
    const smartos = brandDir('smartos', ['joyent', 'joyent-minimal', 'lx', 'bhyve', 'kvm', 'builder']);
    const r = resolveHostBrands('auto', 'illumos', { brandDir: smartos, releaseFile: releaseFile('s2', 'SmartOS 20240111T000432Z x86_64\n') });
    assert.deepEqual(r, { brands: ['lx', 'joyent', 'joyent-minimal'], distribution: { name: 'SmartOS', release: 'SmartOS 20240111T000432Z x86_64' } });
    const oi = brandDir('oi', ['ipkg', 'nlipkg']);
    assert.deepEqual(resolveHostBrands('auto', 'illumos', { brandDir: oi, releaseFile: join(t.dir, 'none'), uname: () => 'illumos-1' }).brands, ['ipkg', 'nlipkg']);
    assert.throws(() => resolveHostBrands('auto', 'illumos', { brandDir: brandDir('vm-only', ['bhyve']) }), /no brand that can hold pods is installed .*has bhyve/);
  });

  it('an explicit list must be installed on illumos; the mock takes any pod brand', () => {
    const oi = join(t.dir, 'oi');
    assert.throws(() => resolveHostBrands('lx', 'illumos', { brandDir: oi, uname: () => 'x' }), /lx not installed on this host/);
    assert.deepEqual(resolveHostBrands('nlipkg', 'illumos', { brandDir: oi, uname: () => 'x' }).brands, ['nlipkg']);
    assert.deepEqual(resolveHostBrands('joyent,lx', 'mock').brands, ['joyent', 'lx']);
    assert.deepEqual(resolveHostBrands('sparse', 'illumos', { brandDir: join(t.dir, 'no-such-dir'), uname: () => 'x' }).brands, ['sparse'], 'no brand directory at all: the list stands');
  });
});
