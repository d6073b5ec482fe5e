// The agent's workload: which images a pod pulls (brand, policy, pull secrets) and what each
// container then runs, with kubelet's events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PodEventRecord } from '../../machines/pod.ts';
import type { Pod } from '../../src/api/model/types.ts';
import { LocalClient } from '../../src/client/local.ts';
import { podWorkload, simulatedSource, type ImageSource, type ResolvedImage } from '../../src/agent/workload.ts';
import { openStore } from '../helpers/server.ts';

const pod = (spec: Partial<Pod['spec']>, annotations?: Record<string, string>): Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'app', image: 'registry.test/app:1' }], ...spec },
});

/** An image source that records what it was asked and serves one image with a config. */
function countingSource(present: boolean): ImageSource & { pulls: string[] } {
  const image: ResolvedImage = { ref: 'registry.test/app:1', digest: `sha256:${'a'.repeat(64)}`, top: `sha256:${'b'.repeat(64)}`, config: { entrypoint: ['/bin/app'], cmd: ['--serve'], env: ['PATH=/bin', 'MODE=image'], workingDir: '/srv' }, size: 1234 };
  const pulls: string[] = [];
  return {
    simulated: false,
    pulls,
    present: () => (present ? image : undefined),
    pull: async (ref) => {
      pulls.push(ref);
      return { image, bytes: 1234, durationMs: 3200 };
    },
    root: async () => undefined,
    use: () => {},
    release: () => {},
  };
}

async function harness(images: ImageSource, brands: string[] = ['lx', 'sparse']) {
  const { store, close } = await openStore();
  const client = new LocalClient(store);
  const events: PodEventRecord[] = [];
  const w = podWorkload({ client, images, node: 'n1', brands, hostIP: '192.0.2.1', podIP: () => '10.88.0.5' });
  return { w, client, events, record: (e: PodEventRecord) => void events.push(e), close };
}

describe('pod workload', () => {
  it('pulls an lx pod’s image with kubelet’s events and resolves Entrypoint/Cmd, Env and WorkingDir', async () => {
    const src = countingSource(false);
    const h = await harness(src);
    const p = pod({ containers: [{ name: 'app', image: 'registry.test/app:1', args: ['--port', '$(PORT)'], env: [{ name: 'PORT', value: '80' }, { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] });
    await h.w.pull(p, h.record, new AbortController().signal);
    assert.deepEqual(src.pulls, ['registry.test/app:1']);
    assert.deepEqual(h.events.map((e) => e.reason), ['Pulling', 'Pulled']);
    assert.equal(h.events[1]?.message, 'Successfully pulled image "registry.test/app:1" in 3.2s (3.2s including waiting). Image size: 1234 bytes.');
    const r = await h.w.resolve(p);
    const c = r.containers[0];
    assert.deepEqual(c?.argv, ['/bin/app', '--port', '80']);
    assert.equal(c?.cwd, '/srv');
    const env = new Map(c?.env);
    assert.equal(env.get('MODE'), 'image');
    assert.equal(env.get('PORT'), '80');
    assert.equal(env.get('IP'), '10.88.0.5');
    assert.equal(c?.image?.digest, `sha256:${'a'.repeat(64)}`);
    await h.close();
  });

  it('does not pull a present image with IfNotPresent, refuses a missing one with Never', async () => {
    const present = await harness(countingSource(true));
    await present.w.pull(pod({}), present.record, new AbortController().signal);
    assert.deepEqual(present.events.map((e) => e.message), ['Container image "registry.test/app:1" already present on machine']);
    await present.close();
    const absent = await harness(countingSource(false));
    const never = pod({ containers: [{ name: 'app', image: 'registry.test/app:1', imagePullPolicy: 'Never' }] });
    await assert.rejects(absent.w.pull(never, absent.record, new AbortController().signal), /not present with pull policy of Never/);
    assert.equal(absent.events[0]?.reason, 'ErrImageNeverPull');
    await absent.close();
  });

  it('warns about a missing pull secret and still tries the pull', async () => {
    const src = countingSource(false);
    const h = await harness(src);
    await h.w.pull(pod({ imagePullSecrets: [{ name: 'nope' }] }), h.record, new AbortController().signal);
    assert.equal(h.events[0]?.reason, 'FailedToRetrieveImagePullSecret');
    assert.match(h.events[0]?.message ?? '', /nope/);
    assert.deepEqual(src.pulls, ['registry.test/app:1']);
    await h.close();
  });

  it('runs a native-brand pod’s command on the zone userland without pulling its image', async () => {
    const src = countingSource(false);
    const h = await harness(src, ['sparse']);
    const p = pod({ containers: [{ name: 'app', image: 'registry.test/app:1', command: ['/usr/bin/echo', '$(GREETING) world'], env: [{ name: 'GREETING', value: 'hello' }], securityContext: { runAsUser: 100, runAsGroup: 10 } }] });
    await h.w.pull(p, h.record, new AbortController().signal);
    assert.deepEqual(src.pulls, []);
    assert.match(h.events[0]?.message ?? '', /Zone brand sparse runs each container's command on the zone's own userland/);
    const c = (await h.w.resolve(p)).containers[0];
    assert.deepEqual(c?.argv, ['/usr/bin/echo', 'hello world']);
    assert.equal(c?.image, undefined);
    assert.deepEqual([c?.uid, c?.gid], [100, 10]);
    await assert.rejects(h.w.resolve(pod({})), /set command/);
    await h.close();
  });

  it('simulates pulls on the mock runtime: a digest from the name, nothing fetched', async () => {
    const h = await harness(simulatedSource());
    await h.w.pull(pod({}), h.record, new AbortController().signal);
    assert.match(h.events[0]?.message ?? '', /is simulated \(--image-pulls simulated\): nothing was pulled/);
    const c = (await h.w.resolve(pod({}))).containers[0];
    assert.match(c?.image?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    await h.close();
  });
});
