// Pod → ZoneSpec (SPEC §5.4): brand, containers, caps, names, network.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from '../../src/api/model/types.ts';
import { LX_IMAGE_ANNOTATION, PodSpecError, zoneSpecFor, zoneSpecProblem, type ZoneSpecOptions } from '../../src/runtime/zonespec.ts';
import { vnicName, zoneName } from '../../src/api/model/zone-names.ts';

const opts: ZoneSpecOptions = {
  zonepathPrefix: '/zones',
  link: 'reddwarf0',
  ip: { ip: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' },
  brands: ['sparse'],
  lxNeedsImage: true,
};

function pod(containers: Container[], annotations?: Record<string, string>): Pod {
  return { metadata: { name: 'test-pod', namespace: 'default', uid: 'u-1', ...(annotations ? { annotations } : {}) }, spec: { containers } };
}

const resources = (r: Container['resources']): Container => ({ name: 'c', image: 'x', resources: r });

describe('zoneSpecFor', () => {
  it('maps containers without resolved images to their command on the zone userland, with names and network (upstream test_pod_to_zone_config_maps_containers)', () => {
    const spec = zoneSpecFor(pod([
      { name: 'web', image: 'nginx', command: ['/usr/sbin/nginx'], args: ['-g', 'daemon off;'], workingDir: '/srv', env: [{ name: 'A', value: '1' }, { name: 'B' }, { name: 'C', value: '' }] },
      { name: 'sidecar', image: 'x', args: ['run'] },
    ]), opts);
    assert.deepEqual(spec, {
      pod: 'default/test-pod',
      uid: 'u-1',
      zoneName: 'reddwarf-default-test-pod',
      brand: 'sparse',
      zonepath: '/zones/reddwarf-default-test-pod',
      network: { vnic: vnicName('default', 'test-pod'), link: 'reddwarf0', ip: '10.88.0.2', prefixLen: 16, gateway: '10.88.0.1' },
      restartPolicy: 'Always',
      initContainers: [],
      containers: [
        { name: 'web', argv: ['/usr/sbin/nginx', '-g', 'daemon off;'], env: [['A', '1'], ['C', '']], cwd: '/srv', uid: 0, gid: 0 },
        { name: 'sidecar', argv: ['run'], env: [], cwd: '/', uid: 0, gid: 0 },
      ],
    });
    assert.equal(zoneSpecProblem(spec), undefined);
  });

  it('uses names.ts for zone and VNIC, and joins the zonepath prefix without a double slash', () => {
    const p: Pod = { metadata: { name: 'dns', namespace: 'kube-system' }, spec: { containers: [] } };
    const spec = zoneSpecFor(p, { ...opts, zonepathPrefix: '/rpool/zones/' });
    assert.equal(spec.zoneName, zoneName('kube-system', 'dns'));
    assert.equal(spec.zonepath, `/rpool/zones/${zoneName('kube-system', 'dns')}`);
    assert.equal(spec.network.vnic, vnicName('kube-system', 'dns'));
    assert.equal(spec.uid, '');
  });

  it('takes limits: 1 CPU and 512Mi', () => {
    const spec = zoneSpecFor(pod([resources({ limits: { cpu: '1', memory: '512Mi' } })]), opts);
    assert.equal(spec.cpuCapMillis, 1000);
    assert.equal(spec.memoryCapBytes, 512 * 2 ** 20);
  });

  it('falls back to requests when there are no limits', () => {
    const spec = zoneSpecFor(pod([resources({ requests: { cpu: '500m', memory: '256Mi' } })]), opts);
    assert.equal(spec.cpuCapMillis, 500);
    assert.equal(spec.memoryCapBytes, 256 * 2 ** 20);
  });

  it('takes a limits map even when it lacks a resource, as upstream does', () => {
    const spec = zoneSpecFor(pod([resources({ limits: { memory: '1Gi' }, requests: { cpu: '500m' } })]), opts);
    assert.equal(spec.cpuCapMillis, undefined);
    assert.equal(spec.memoryCapBytes, 2 ** 30);
  });

  it('sums over containers', () => {
    const c = resources({ limits: { cpu: '500m', memory: '256Mi' } });
    const spec = zoneSpecFor(pod([c, { ...c, name: 'd' }]), opts);
    assert.equal(spec.cpuCapMillis, 1000);
    assert.equal(spec.memoryCapBytes, 512 * 2 ** 20);
  });

  it('sets no caps without resources, and ignores unparsable and negative values', () => {
    const spec = zoneSpecFor(pod([{ name: 'c' }, resources({ limits: { cpu: 'lots', memory: '-1Gi' } })]), opts);
    assert.equal(spec.cpuCapMillis, undefined);
    assert.equal(spec.memoryCapBytes, undefined);
  });

  it('keeps huge sums a safe integer instead of wrapping (bug 22)', () => {
    const huge = resources({ limits: { memory: '9999999999999Gi', cpu: '1e30' } });
    const spec = zoneSpecFor(pod([huge, { ...huge, name: 'd' }]), opts);
    assert.equal(spec.memoryCapBytes, Number.MAX_SAFE_INTEGER);
    assert.equal(spec.cpuCapMillis, Number.MAX_SAFE_INTEGER);
  });

  it('takes the brand from the annotation or runtimeClassName, else lx when the node has it, else its native brand', () => {
    assert.equal(zoneSpecFor(pod([]), opts).brand, 'sparse');
    assert.equal(zoneSpecFor(pod([]), { ...opts, brands: ['pkgsrc', 'lipkg'] }).brand, 'lipkg');
    assert.equal(zoneSpecFor(pod([], { [LX_IMAGE_ANNOTATION]: '/images/a.tar' }), { ...opts, brands: ['sparse', 'lx'] }).brand, 'lx');
    const rc = pod([]);
    rc.spec.runtimeClassName = 'pkgsrc';
    assert.equal(zoneSpecFor(rc, { ...opts, brands: ['lx', 'pkgsrc'] }).brand, 'pkgsrc');
    const lx = zoneSpecFor(pod([], { 'reddwarf.io/zone-brand': 'lx', [LX_IMAGE_ANNOTATION]: '/images/alpine.tar.gz' }), opts);
    assert.equal(lx.brand, 'lx');
    assert.equal(lx.imagePath, '/images/alpine.tar.gz');
  });

  it('refuses an lx pod without an image before anything is built (illumos); the mock takes it', () => {
    assert.throws(() => zoneSpecFor(pod([], { 'reddwarf.io/zone-brand': 'lx' }), opts), (e) => e instanceof PodSpecError && e.pod === 'default/test-pod' && /reddwarf\.io\/lx-image/.test(e.message));
    const mock = zoneSpecFor(pod([], { 'reddwarf.io/zone-brand': 'lx' }), { ...opts, lxNeedsImage: false });
    assert.equal(mock.brand, 'lx');
    assert.equal(mock.imagePath, undefined);
    assert.equal(zoneSpecProblem(mock, false), undefined);
    assert.match(zoneSpecProblem(mock) ?? '', /LX brand zone requires an image path/);
  });

  it('refuses an unknown or planned brand instead of building some other zone (bug 21)', () => {
    assert.throws(() => zoneSpecFor(pod([], { 'reddwarf.io/zone-brand': 'reddwarf' }), opts), /unknown zone brand "reddwarf"/);
    assert.throws(() => zoneSpecFor(pod([], { 'reddwarf.io/zone-brand': 'bhyve' }), opts), /unknown zone brand "bhyve"/);
  });

  it('names the problem for a pod without a name or spec', () => {
    assert.throws(() => zoneSpecFor({ metadata: {}, spec: { containers: [] } } as Pod, opts), /Pod has no name/);
    assert.throws(() => zoneSpecFor({ metadata: { name: 'x' } } as Pod, opts), /pod default\/x: Pod has no spec/);
  });
});
