// What a pod's containers run: their images pulled (imagePullPolicy, imagePullSecrets, kubelet's
// Pulling / Pulled / Failed events) and each container resolved against its image's config
// (Entrypoint/Cmd vs command/args, Env, WorkingDir, User) into what the zone's supervisor starts.
import { createHash } from 'node:crypto';
import type { PodEventRecord } from '../../machines/pod.ts';
import type { Container, KubeObject, Pod } from '../api/model/types.ts';
import { ClientError, type Client } from '../client/client.ts';
import { credentialsFromDockerConfigSecrets, type CredentialLookup } from '../images/credentials.ts';
import { ImagePullError } from '../images/errors.ts';
import { pullPolicy } from '../images/policy.ts';
import type { ImageConfig, ImageStore } from '../images/store.ts';
import type { ContainerImage, RuntimeContainer } from '../runtime/runtime.ts';
import { ContainerConfigError, resolveArgv, resolveEnv, resolveUser, type PodContext } from '../runtime/supervisor/bundle.ts';
import { LX_BRAND, podBrandOn } from '../api/model/brands.ts';
import type { PodWorkload } from './pods.ts';

/** Where images come from: the image store, or (mock runtime, `--image-pulls simulated`) nowhere at all. */
export interface ImageSource {
  /** Images exist nowhere: nothing is pulled (`--image-pulls simulated`). */
  readonly simulated: boolean;
  /** The stored image, when present. */
  present(ref: string): ResolvedImage | undefined;
  pull(ref: string, o: { credentials?: CredentialLookup; signal: AbortSignal }): Promise<{ image: ResolvedImage; bytes: number; durationMs: number }>;
  /** Host directory of the image's files (a user name is looked up in its /etc/passwd); undefined when there are none. */
  root(image: ResolvedImage): Promise<string | undefined>;
  use(image: ResolvedImage, podKey: string): void;
  release(podKey: string): void;
}

export interface ResolvedImage extends ContainerImage {
  config: ImageConfig;
  size: number;
}

/** The image store as an ImageSource. */
export function storeSource(store: ImageStore): ImageSource {
  const toResolved = (img: { ref: string; imageID: string; digest: string; top: string; config: ImageConfig; size: number }, ref: string): ResolvedImage => ({ ref, digest: img.digest, top: img.top, config: img.config, size: img.size });
  return {
    simulated: false,
    present: (ref) => {
      const img = store.get(ref);
      return img ? toResolved(img, ref) : undefined;
    },
    async pull(ref, o) {
      const r = await store.pull(ref, { policy: 'Always', signal: o.signal, ...(o.credentials ? { credentials: o.credentials } : {}) });
      return { image: toResolved(r.image, ref), bytes: r.bytes, durationMs: r.durationMs };
    },
    root: (image) => store.backend.path(image.top),
    use: (image, podKey) => store.use(image.digest, podKey),
    release: (podKey) => store.release(podKey),
  };
}

/**
 * Images that exist nowhere (the mock runtime's default, so the quickstart works offline): every
 * reference "pulls" at once to a digest made from its name, with an empty config.
 */
export function simulatedSource(): ImageSource {
  const resolve = (ref: string): ResolvedImage => {
    const digest = `sha256:${createHash('sha256').update(ref).digest('hex')}`;
    // No config exists: a shell stands in as the image's command, the default of most base images.
    return { ref, digest, top: digest, config: { cmd: ['/bin/sh'] }, size: 0 };
  };
  return {
    simulated: true,
    present: () => undefined,
    pull: async (ref) => ({ image: resolve(ref), bytes: 0, durationMs: 0 }),
    root: async () => undefined,
    use: () => {},
    release: () => {},
  };
}

export interface WorkloadOptions {
  client: Client;
  images: ImageSource;
  node: string;
  /** The brands this node runs: a pod in a native brand runs its command on the zone's own userland. */
  brands: readonly string[];
  hostIP?: string;
  /** The pod's address, once it has one (for `status.podIP` field references). */
  podIP(podKey: string): string | undefined;
}

const keyOf = (pod: Pod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;
const allContainers = (pod: Pod): Container[] => [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 1).replace(/\.?0+$/, '')}s`;

/** The PodWorkload of an agent. */
export function podWorkload(o: WorkloadOptions): PodWorkload {
  // The image each pod's containers resolved to, so a resolve after the pull uses exactly what was pulled.
  const pulled = new Map<string, Map<string, ResolvedImage>>();

  /** imagePullSecrets → registry credentials; a missing Secret is warned about, not fatal (as kubelet). */
  const credentials = async (pod: Pod, record: (e: PodEventRecord) => void): Promise<CredentialLookup | undefined> => {
    const names = (pod.spec.imagePullSecrets ?? []).map((s) => s.name).filter((n): n is string => !!n);
    if (names.length === 0) return undefined;
    const datas: Record<string, string>[] = [];
    const missing: string[] = [];
    for (const name of names) {
      try {
        const secret = await o.client.get<KubeObject & { type?: string; data?: Record<string, string> }>('secrets', pod.metadata.namespace ?? 'default', name);
        if (secret.data) datas.push(secret.data);
      } catch (e) {
        if (!(e instanceof ClientError && (e.code === 404 || e.code === 403))) throw e;
        missing.push(name);
      }
    }
    if (missing.length > 0) record({ reason: 'FailedToRetrieveImagePullSecret', type: 'Warning', message: `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.` });
    return credentialsFromDockerConfigSecrets(datas);
  };

  return {
    async pull(pod, record, signal) {
      const key = keyOf(pod);
      const mine = new Map<string, ResolvedImage>();
      const brand = podBrandOn(pod, o.brands);
      if (brand !== LX_BRAND) {
        // A native zone cannot run a Linux image's programs: its containers run their command on the
        // zone's own (illumos) userland, and the image is only a name.
        record({ reason: 'Pulled', message: `Zone brand ${brand} runs each container's command on the zone's own userland: image not pulled` });
        pulled.set(key, mine);
        return;
      }
      let creds: CredentialLookup | undefined;
      let credsLoaded = false;
      // One pull per distinct image of the pod, in container order (kubelet pulls per container).
      for (const c of allContainers(pod)) {
        const ref = c.image ?? '';
        if (mine.has(ref)) continue;
        const policy = pullPolicy(ref, c.imagePullPolicy);
        const present = o.images.present(ref);
        if (present && policy !== 'Always') {
          record({ reason: 'Pulled', message: `Container image "${ref}" already present on machine` });
          mine.set(ref, present);
          continue;
        }
        if (policy === 'Never') {
          record({ reason: 'ErrImageNeverPull', type: 'Warning', message: `Container image "${ref}" is not present with pull policy of Never` });
          throw new Error(`Container image "${ref}" is not present with pull policy of Never`);
        }
        if (!credsLoaded) {
          creds = await credentials(pod, record);
          credsLoaded = true;
        }
        if (o.images.simulated) {
          const r = await o.images.pull(ref, { signal });
          record({ reason: 'Pulled', message: `Container image "${ref}" is simulated (--image-pulls simulated): nothing was pulled` });
          mine.set(ref, r.image);
          continue;
        }
        record({ reason: 'Pulling', message: `Pulling image "${ref}"` });
        try {
          const r = await o.images.pull(ref, { signal, ...(creds ? { credentials: creds } : {}) });
          record({ reason: 'Pulled', message: `Successfully pulled image "${ref}" in ${seconds(r.durationMs)} (${seconds(r.durationMs)} including waiting). Image size: ${r.image.size} bytes.` });
          mine.set(ref, r.image);
        } catch (e) {
          const why = pullFailure(e);
          record({ reason: 'Failed', type: 'Warning', message: `Failed to pull image "${ref}": ${why}` });
          record({ reason: 'Failed', type: 'Warning', message: 'Error: ErrImagePull' });
          throw new Error(`failed to pull image "${ref}": ${why}`, { cause: e });
        }
      }
      for (const image of mine.values()) o.images.use(image, key);
      pulled.set(key, mine);
    },

    async resolve(pod) {
      const key = keyOf(pod);
      const images = pulled.get(key) ?? new Map<string, ResolvedImage>();
      const podIP = o.podIP(key);
      const ctx: PodContext = {
        name: pod.metadata.name ?? '',
        namespace: pod.metadata.namespace ?? 'default',
        uid: pod.metadata.uid ?? '',
        nodeName: o.node,
        hostname: pod.metadata.name ?? '',
        ...(podIP ? { podIP } : {}),
        ...(o.hostIP ? { hostIP: o.hostIP } : {}),
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
        ...(pod.metadata.annotations ? { annotations: pod.metadata.annotations } : {}),
        ...(pod.spec.securityContext ? { securityContext: pod.spec.securityContext } : {}),
      };
      if (podBrandOn(pod, o.brands) !== LX_BRAND) {
        // Kubernetes' rules with an image that has no config: command/args as given, env expanded.
        const native = async (c: Container): Promise<RuntimeContainer> => {
          if (!c.command?.length && !c.args?.length) throw new ContainerConfigError(c.name, `zone brand ${podBrandOn(pod, o.brands)} runs the container's command on the zone's userland: set command`);
          const user = await resolveUser(c, {}, '/nonexistent', ctx);
          return { name: c.name, argv: resolveArgv(c, {}, ctx), env: resolveEnv(c, {}, ctx), cwd: c.workingDir || '/', uid: user.uid, gid: user.gid };
        };
        return { initContainers: await Promise.all((pod.spec.initContainers ?? []).map(native)), containers: await Promise.all(pod.spec.containers.map(native)) };
      }
      const one = async (c: Container): Promise<RuntimeContainer> => {
        // An image pulled for this pod, else (after an agent restart) the one the store holds.
        const image = images.get(c.image ?? '') ?? o.images.present(c.image ?? '');
        const config = image?.config ?? {};
        const root = image ? await o.images.root(image) : undefined;
        const user = await resolveUser(c, config, root ?? '/nonexistent', ctx);
        const out: RuntimeContainer = {
          name: c.name,
          argv: resolveArgv(c, config, ctx),
          env: resolveEnv(c, config, ctx),
          cwd: c.workingDir || config.workingDir || '/',
          uid: user.uid,
          gid: user.gid,
        };
        if (image) out.image = { ref: image.ref, digest: image.digest, top: image.top };
        return out;
      };
      return {
        initContainers: await Promise.all((pod.spec.initContainers ?? []).map(one)),
        containers: await Promise.all(pod.spec.containers.map(one)),
      };
    },

    release(podKey) {
      pulled.delete(podKey);
      o.images.release(podKey);
    },
  };
}

/** The registry's reason in words a user can act on: refused credentials, not found, unreachable. */
function pullFailure(e: unknown): string {
  if (e instanceof ImagePullError) {
    switch (e.kind) {
      case 'unauthorized': return `unauthorized: ${e.message} (check imagePullSecrets)`;
      case 'not-found': return `not found: ${e.message}`;
      case 'unreachable': return `registry unreachable: ${e.message}`;
      default: return e.message;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

