// IllumosRuntime on the simulated illumos host (test/fakes): the ZoneRuntime contract, then the
// wrappers, parsers, zonecfg text, storage engine, datalinks and the command runner.
//
// SPEC §9.6 runtime/zone/network/storage/IPAM tests → their counterparts in this repository:
// | upstream test                                   | here                                                    |
// |-------------------------------------------------|---------------------------------------------------------|
// | test_lx_install_args_with_image / _missing_image | 'zoneadm argv' below; contract 'refuses an lx zone…'   |
// | test_pod_zone_name_basic/_sanitization/_truncation | test/api/zone-names.test.ts                            |
// | test_pod_to_zone_config_* (maps, unique_ips, no_spec, limits, requests, aggregates, no_resources, brand_*) | test/runtime/zonespec.test.ts (+ 'zonecfg text' here) |
// | test_exec_in_zone_running_default_success / _not_running_errors / _not_found_errors / _custom_result | 'zlogin exec' below |
// | test_provision_transitions_to_running           | contract 'provisions a running zone…'                   |
// | test_deprovision_removes_zone                   | contract 'deprovisions zone, VNIC and dataset…'          |
// | test_duplicate_create_zone_returns_error        | contract 'refuses a zone name held by another pod…'      |
// | test_ops_on_missing_zone_return_not_found       | contract 'reports ZoneNotFound for boot, shutdown…'      |
// | test_list_zones_returns_all_provisioned         | contract 'lists every zone it manages'                   |
// | test_zone_info                                  | 'zoneadm parsing' + contract status checks              |
// | test_parse_cidr_* / test_allocate_* / test_release_* / test_pool_exhaustion / test_get_all_allocations | test/runtime/ipam.test.ts; 'IP released' in illumos-pods.test.ts |
// | test_vnic_name_short / _long                    | test/api/zone-names.test.ts; contract 'refuses an invalid VNIC name' |
// | test_mock_initialize_creates_base_datasets      | 'storage engine' (zfs and mock) below                   |
// | test_mock_zone_dataset_lifecycle / test_mock_volume_lifecycle | 'storage engine' below                     |
// | test_detect_system_resources / test_format_memory_quantity_* / test_compute_reserves_subtracted / test_reservation_clamp_to_zero | test/runtime/host.test.ts |
// | test_zone_state_to_pod_phase / test_zone_brand_display / test_zone_state_from_str | 'zoneadm parsing' below (states) |
// | test_generate_zonecfg_lx_brand / _custom_brand_with_fs_mounts | 'zonecfg text' below (datasets instead of fs mounts) |
// | test_parse_valid_zoneadm_line / _unbooted_zone / _malformed_line / _unknown_state | 'zoneadm parsing' below |
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { FakeIllumosHost } from '../fakes/host.ts';
import { testSpec, zoneRuntimeContract, type RuntimeHarness } from './contract.ts';
import { CommandError } from '../../src/runtime/illumos/command.ts';
import { ExecRunner } from '../../src/runtime/illumos/exec.ts';
import { gatewayLinkName, IllumosRuntime, LinkUnavailable, type PodLink } from '../../src/runtime/illumos/runtime.ts';
import { parseZoneadmLine, zoneadmArgv } from '../../src/runtime/illumos/zoneadm.ts';
import { parseAttrs, zonecfgText } from '../../src/runtime/illumos/zonecfg.ts';
import { parseLinks } from '../../src/runtime/illumos/dladm.ts';
import { MockStorageEngine, StorageInitFailed, storagePoolConfig, ZfsStorageEngine } from '../../src/runtime/storage.ts';
import { ZoneNotFound } from '../../src/runtime/errors.ts';

function illumosOn(host: FakeIllumosHost, link: PodLink = { kind: 'etherstub', name: 'reddwarf0' }, gateway?: { ip: string; prefixLen: number }): IllumosRuntime {
  const runner = new ExecRunner({ env: host.env() });
  return new IllumosRuntime({ runner, storage: new ZfsStorageEngine(runner, storagePoolConfig()), link, ...(gateway ? { gateway } : {}) });
}

async function fakeHost(): Promise<RuntimeHarness> {
  const host = FakeIllumosHost.create({ seeded: true });
  let current = illumosOn(host);
  return {
    get runtime() {
      return current;
    },
    datasets: () => host.datasets(),
    vnics: () => host.vnics(),
    injectFault: (step, opts) => host.injectFault(step, opts),
    crash: (zone, opts) => host.crash(zone, opts),
    async reopen() {
      current = illumosOn(host);
      return current;
    },
    async dispose() {
      host.dispose();
    },
  };
}

// Each tool call is a node process; three hosts at a time keep the suite short.
describe('IllumosRuntime contract (simulated host)', { concurrency: 3 }, () => {
  zoneRuntimeContract(fakeHost);
});

describe('zoneadm parsing', () => {
  it('parses a running zone line', () => {
    assert.deepEqual(parseZoneadmLine('1:myzone:running:/zones/myzone:abc-123:lx:excl'), { zoneName: 'myzone', zoneId: 1, state: 'running', zonepath: '/zones/myzone', uuid: 'abc-123', brand: 'lx', ipType: 'excl' });
  });

  it('has no id for an unbooted zone, a negative or an out-of-range one', () => {
    for (const id of ['-', '-1', '2147483648']) assert.equal(parseZoneadmLine(`${id}:z:installed:/z::reddwarf:excl`).zoneId, undefined);
    assert.equal(parseZoneadmLine('0:z:running:/z::reddwarf:excl').zoneId, 0);
  });

  it('parses every zoneadm state', () => {
    for (const s of ['configured', 'incomplete', 'installed', 'ready', 'running', 'shutting_down', 'down']) assert.equal(parseZoneadmLine(`-:z:${s}:/z::reddwarf:excl`).state, s);
  });

  it('rejects a malformed line and an unknown state', () => {
    assert.throws(() => parseZoneadmLine('bad:data'), /expected at least 7 colon-delimited fields, got 2/);
    assert.throws(() => parseZoneadmLine('-:z:bogus:/z::reddwarf:excl'), /Unknown zone state: 'bogus'/);
  });

  it('unescapes a colon inside the zonepath', () => {
    assert.equal(parseZoneadmLine('3:z:running:/zones/a\\:b:u:reddwarf:excl').zonepath, '/zones/a:b');
  });

  it('builds install with -s for lx and uninstall with -F', () => {
    assert.deepEqual(zoneadmArgv('z', 'install', '/images/ubuntu.tar.gz'), ['zoneadm', '-z', 'z', 'install', '-s', '/images/ubuntu.tar.gz']);
    assert.deepEqual(zoneadmArgv('z', 'install'), ['zoneadm', '-z', 'z', 'install']);
    assert.deepEqual(zoneadmArgv('z', 'uninstall'), ['zoneadm', '-z', 'z', 'uninstall', '-F']);
  });
});

describe('zonecfg text', () => {
  it('writes the lx configuration with the supervisor as init, max-lwps, kernel-version and caps (SPEC §5.5)', () => {
    const spec = testSpec('x', { brand: 'lx', imagePath: '/i.tgz', zonepath: '/zones/x', cpuCapMillis: 2000, memoryCapBytes: 2 ** 30 });
    spec.network = { vnic: 'vnic0', link: 'stub0', ip: '10.0.0.2', prefixLen: 16, gateway: '10.0.0.1' };
    const text = zonecfgText(spec, { init: '/.reddwarf/init' });
    assert.ok(!text.endsWith('\n'));
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 11), ['create', 'set brand=lx', 'set zonepath=/zones/x', 'set ip-type=exclusive', 'set bootargs="-i /.reddwarf/init"', 'set max-lwps=10000', 'add net', 'set physical=vnic0', 'set allowed-address=10.0.0.2/16', 'set defrouter=10.0.0.1', 'end']);
    assert.deepEqual(lines.slice(11, 16), ['add attr', 'set name=kernel-version', 'set type=string', 'set value=4.4', 'end']);
    assert.deepEqual(lines.slice(16, 22), ['add capped-cpu', 'set ncpus=2.00', 'end', 'add capped-memory', 'set physical=1G', 'end']);
    assert.deepEqual(lines.slice(-2), ['verify', 'commit']);
  });

  it('writes a native brand without capped-cpu, with delegated volume datasets and owner attributes', () => {
    const spec = testSpec('y', { memoryCapBytes: 512 * 2 ** 20 });
    const text = zonecfgText(spec, { datasets: ['rpool/volumes/data'] });
    assert.match(text, /set brand=sparse/);
    assert.doesNotMatch(text, /capped-cpu/);
    assert.match(text, /add capped-memory\nset physical=512M\nend/);
    assert.match(text, /add dataset\nset name=rpool\/volumes\/data\nend/);
    assert.deepEqual(parseAttrs('attr:\n\tname: reddwarf-pod-uid\n\ttype: string\n\tvalue: uid-y\n'), { 'reddwarf-pod-uid': 'uid-y' });
    assert.match(text, /add attr\nset name=reddwarf-pod-uid\nset type=string\nset value=uid-y\nend/);
  });
});

describe('dladm parsing', () => {
  it('reads show-link -p lines, escaped colons included', () => {
    assert.deepEqual(parseLinks('net0:phys:\nrd_a_1:vnic:reddwarf0\n'), [{ link: 'net0', class: 'phys', over: '' }, { link: 'rd_a_1', class: 'vnic', over: 'reddwarf0' }]);
  });
});

describe('command runner', () => {
  it('names command, exit code and stderr when a tool fails', async () => {
    const host = FakeIllumosHost.create();
    try {
      const runner = new ExecRunner({ env: host.env() });
      await assert.rejects(runner.run(['zfs', 'destroy', '-r', 'rpool/nope']), (e) => {
        assert.ok(e instanceof CommandError);
        assert.deepEqual(e.argv, ['zfs', 'destroy', '-r', 'rpool/nope']);
        assert.equal(e.exitCode, 1);
        assert.match(e.stderr, /cannot open 'rpool\/nope': dataset does not exist/);
        assert.equal(e.message, "zfs destroy -r rpool/nope exited 1: cannot open 'rpool/nope': dataset does not exist");
        return true;
      });
    } finally {
      host.dispose();
    }
  });

  it('reports a program that is not on PATH with exit code -1', async () => {
    const runner = new ExecRunner({ env: { PATH: '/nonexistent' } });
    await assert.rejects(runner.run(['zoneadm', 'list', '-cp']), (e) => e instanceof CommandError && e.exitCode === -1 && /ENOENT/.test(e.stderr));
  });

  it('kills a command that outlives its timeout', async () => {
    const host = FakeIllumosHost.create({ seeded: true });
    try {
      host.injectCommandFault('zoneadm list', { hang: true });
      const clock = new SimulatedClock();
      const runner = new ExecRunner({ env: host.env(), clock });
      let settled = false;
      const ran = runner.run(['zoneadm', 'list', '-cp'], { timeoutMs: 60_000 }).finally(() => (settled = true));
      ran.catch(() => {});
      // Hung, it runs until its timeout passes on the runner's clock.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(settled, false, 'the hung command ended before its timeout');
      clock.increment(60_000);
      await assert.rejects(ran, (e) => e instanceof CommandError && e.exitCode === -1);
    } finally {
      host.dispose();
    }
  });
});

describe('storage engine', () => {
  it('creates the base datasets of --storage-pool at start, and accepts them when they exist', async () => {
    const host = FakeIllumosHost.create();
    try {
      const runner = new ExecRunner({ env: host.env() });
      const engine = new ZfsStorageEngine(runner, storagePoolConfig({ pool: 'rpool', volumesDataset: 'rpool/data/volumes' }));
      await engine.initialize();
      await engine.initialize();
      assert.deepEqual(host.datasets(), ['rpool', 'rpool/data', 'rpool/data/volumes', 'rpool/images', 'rpool/zones']);
    } finally {
      host.dispose();
    }
  });

  it('names the dataset it could not create', async () => {
    const host = FakeIllumosHost.create();
    try {
      const engine = new ZfsStorageEngine(new ExecRunner({ env: host.env() }), storagePoolConfig({ pool: 'tank' }));
      await assert.rejects(engine.initialize(), (e) => e instanceof StorageInitFailed && e.message === "Storage initialization failed: Failed to create dataset 'tank/zones': cannot create 'tank/zones': no such pool 'tank'");
    } finally {
      host.dispose();
    }
  });

  it('keeps a volume with its quota until it is destroyed, and lists it', async () => {
    const host = FakeIllumosHost.create({ seeded: true });
    try {
      const engine = new ZfsStorageEngine(new ExecRunner({ env: host.env() }), storagePoolConfig());
      assert.equal(await engine.createVolume('data-vol', '10G'), 'created');
      assert.equal(await engine.createVolume('data-vol', '10G'), 'exists');
      assert.deepEqual(await engine.listVolumes(), [{ name: 'data-vol', dataset: 'rpool/volumes/data-vol', quota: '10G' }]);
      assert.equal(await engine.destroyVolume('data-vol'), 'destroyed');
      assert.deepEqual(await engine.listVolumes(), []);
      assert.equal(await engine.destroyVolume('data-vol'), 'absent');
    } finally {
      host.dispose();
    }
  });

  it('has a mock engine with the same datasets (SPEC §5.9)', async () => {
    const engine = new MockStorageEngine(storagePoolConfig({ pool: 'testpool' }));
    await engine.initialize();
    assert.deepEqual(engine.datasets(), ['testpool/images', 'testpool/volumes', 'testpool/zones']);
    await engine.createZoneDataset('myzone');
    assert.ok(engine.datasets().includes('testpool/zones/myzone'));
    await engine.destroyZoneDataset('myzone');
    assert.ok(!engine.datasets().includes('testpool/zones/myzone'));
    await engine.createVolume('data-vol');
    assert.equal((await engine.listVolumes()).length, 1);
    await engine.destroyVolume('data-vol');
    assert.deepEqual(await engine.listVolumes(), []);
  });

  it('refuses a dataset flag that is not a dataset name', () => {
    assert.throws(() => storagePoolConfig({ pool: 'bad pool' }), /--storage-pool: "bad pool" is not a valid ZFS dataset name/);
  });
});

describe('IllumosRuntime on the simulated host', () => {
  it('creates the etherstub and the gateway address at start, once', async () => {
    const host = FakeIllumosHost.create();
    try {
      const rt = illumosOn(host, { kind: 'etherstub', name: 'reddwarf0' }, { ip: '10.88.0.1', prefixLen: 16 });
      await rt.initialize();
      await rt.initialize();
      const s = host.state();
      assert.equal(s.links['reddwarf0']?.class, 'etherstub');
      assert.deepEqual(s.links[gatewayLinkName('reddwarf0')], { class: 'vnic', over: 'reddwarf0' });
      assert.equal(s.addrs[`${gatewayLinkName('reddwarf0')}/v4`], '10.88.0.1/16');
    } finally {
      host.dispose();
    }
  });

  it('puts VNICs on a physical link with --direct-nic, and refuses one that does not exist', async () => {
    const host = FakeIllumosHost.create();
    try {
      await assert.rejects(illumosOn(host, { kind: 'direct', name: 'e1000g9' }).initialize(), LinkUnavailable);
      const rt = illumosOn(host, { kind: 'direct', name: 'net0' });
      await rt.initialize();
      const spec = testSpec('web');
      spec.network.link = 'net0';
      await rt.provision(spec);
      assert.equal(host.state().links[spec.network.vnic]?.over, 'net0');
      assert.equal(host.state().links['reddwarf0'], undefined);
    } finally {
      host.dispose();
    }
  });

  it('delegates persistent volumes that outlive the pod, and mounts the zone root at its zonepath', async () => {
    const host = FakeIllumosHost.create({ seeded: true });
    try {
      const rt = illumosOn(host);
      const spec = { ...testSpec('db', { zonepath: '/zones/db', quota: '5G' }), volumes: ['default-data'] };
      await rt.provision(spec);
      const zone = host.zones()[spec.zoneName];
      assert.deepEqual(zone?.datasets, ['rpool/volumes/default-data']);
      const ds = host.state().datasets[`rpool/zones/${spec.zoneName}`];
      assert.deepEqual(ds?.props, { mountpoint: '/zones/db', quota: '5G' });
      assert.deepEqual(await rt.deprovision(spec), { problems: [] });
      assert.ok(host.datasets().includes('rpool/volumes/default-data'));
    } finally {
      host.dispose();
    }
  });

  it('runs commands in a running zone with zlogin; a failing command is a result', async () => {
    const host = FakeIllumosHost.create({ seeded: true });
    try {
      const rt = illumosOn(host);
      const spec = testSpec('web');
      await assert.rejects(rt.exec(spec.zoneName, ['true']), ZoneNotFound);
      await rt.provision(spec);
      assert.deepEqual(await rt.exec(spec.zoneName, ['echo', 'hi']), { exitCode: 0, stdout: 'hi\n', stderr: '' });
      assert.equal((await rt.exec(spec.zoneName, ['exit', '3'])).exitCode, 3);
      await rt.halt(spec.zoneName);
      await assert.rejects(rt.exec(spec.zoneName, ['true']), /login allowed only to running zones/);
    } finally {
      host.dispose();
    }
  });

  it('reports a vanished zone as absent, not as an error (bug 13)', async () => {
    const host = FakeIllumosHost.create({ seeded: true });
    try {
      const rt = illumosOn(host);
      assert.equal(await rt.state('reddwarf-default-gone'), 'absent');
      assert.deepEqual(await rt.list(), []);
    } finally {
      host.dispose();
    }
  });
});
