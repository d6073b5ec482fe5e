// Image references as Docker reads them: `name[:tag][@digest]`, Docker Hub short names expanded
// (nginx → docker.io/library/nginx:latest), the registry host told apart from the first path
// component by a '.', a ':' or the name `localhost` (distribution/reference normalize.go).

/** A parsed, normalised image reference. */
export interface ImageRef {
  /** Registry host as written (docker.io for Docker Hub), with port if any. */
  registry: string;
  /** Repository path inside the registry (library/nginx). */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was given. */
  tag?: string;
  /** `sha256:<hex>` when pinned. */
  digest?: string;
  /** The canonical form: `docker.io/library/nginx:latest`, `host:5000/app@sha256:…`. */
  name: string;
}

/** A reference that Docker would refuse. */
export class InvalidReference extends Error {
  constructor(readonly ref: string, reason: string) {
    super(`invalid image reference "${ref}": ${reason}`);
    this.name = 'InvalidReference';
  }
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API host: docker.io serves no registry API. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const MAX_NAME = 255;

/**
 * Parses and normalises an image reference.
 * @example parseImageRef('nginx').name // 'docker.io/library/nginx:latest'
 */
export function parseImageRef(input: string): ImageRef {
  const s = input.trim();
  if (!s) throw new InvalidReference(input, 'empty');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new InvalidReference(input, `digest "${digest}" is not sha256:<64 hex>`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new InvalidReference(input, `tag "${tag}" is not valid`);
  }
  if (!rest) throw new InvalidReference(input, 'no repository name');
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!HOST_RE.test(registry)) throw new InvalidReference(input, `registry host "${registry}" is not valid`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  for (const c of repository.split('/')) {
    if (!COMPONENT_RE.test(c)) {
      throw new InvalidReference(input, /[A-Z]/.test(c) ? 'repository name must be lowercase' : `path component "${c}" is not valid`);
    }
  }
  if (`${registry}/${repository}`.length > MAX_NAME) throw new InvalidReference(input, `name longer than ${MAX_NAME} characters`);
  if (!tag && !digest) tag = 'latest';
  const name = `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), name };
}

/** The host:port that serves the registry API for `registry` (docker.io → registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** `registry/repository@digest`, as kubelet reports imageID. */
export function digestRef(ref: ImageRef, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}
