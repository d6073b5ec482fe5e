// Image reference parsing (Docker's normalisation), pull policy defaults, dockerconfigjson
// credentials, chain ids and whiteout classification: pure functions, no registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { credentialsFromDockerConfigSecrets } from '../../src/images/credentials.ts';
import { chainIds } from '../../src/images/layers.ts';
import { pullPolicy } from '../../src/images/policy.ts';
import { apiHost, InvalidReference, parseImageRef } from '../../src/images/reference.ts';
import { parseChallenge } from '../../src/images/registry.ts';
import { whiteoutsOf } from '../../src/images/tar.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef', () => {
  const table: [string, string, string, string, string | undefined, string | undefined][] = [
    // input, name, registry, repository, tag, digest
    ['nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:1.27', 'docker.io/library/nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['library/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['docker.io/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined],
    ['ghcr.io/org/app:v1', 'ghcr.io/org/app:v1', 'ghcr.io', 'org/app', 'v1', undefined],
    ['localhost/app', 'localhost/app:latest', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/a/b/c:t', 'localhost:5000/a/b/c:t', 'localhost:5000', 'a/b/c', 't', undefined],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest', '127.0.0.1:5000', 'app', 'latest', undefined],
    ['myhost:5000/app', 'myhost:5000/app:latest', 'myhost:5000', 'app', 'latest', undefined],
    ['foo/bar', 'docker.io/foo/bar:latest', 'docker.io', 'foo/bar', 'latest', undefined],
    [`nginx@${D}`, `docker.io/library/nginx@${D}`, 'docker.io', 'library/nginx', undefined, D],
    [`nginx:1.27@${D}`, `docker.io/library/nginx:1.27@${D}`, 'docker.io', 'library/nginx', '1.27', D],
    ['org/a_b.c-d__e/f---g:T_1.x-y', 'docker.io/org/a_b.c-d__e/f---g:T_1.x-y', 'docker.io', 'org/a_b.c-d__e/f---g', 'T_1.x-y', undefined],
  ];
  for (const [input, name, registry, repository, tag, digest] of table) {
    it(`${input} → ${name}`, () => {
      const r = parseImageRef(input);
      assert.equal(r.name, name);
      assert.equal(r.registry, registry);
      assert.equal(r.repository, repository);
      assert.equal(r.tag, tag);
      assert.equal(r.digest, digest);
    });
  }
  for (const bad of ['', 'Nginx', 'nginx:', 'nginx@sha256:abc', 'nginx:-bad', '/nginx', 'a//b', 'nginx:tag with space', 'ex ample.com/a', `host:5000/${'a'.repeat(260)}`, 'a/-b', 'UPPER/case']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseImageRef(bad), InvalidReference));
  }
  it('sends Docker Hub to registry-1.docker.io', () => {
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('ghcr.io'), 'ghcr.io');
  });
});

describe('pullPolicy', () => {
  it('defaults as Kubernetes does', () => {
    assert.equal(pullPolicy('nginx'), 'Always');
    assert.equal(pullPolicy('nginx:latest'), 'Always');
    assert.equal(pullPolicy('nginx:1.27'), 'IfNotPresent');
    assert.equal(pullPolicy(`nginx@${D}`), 'IfNotPresent');
    assert.equal(pullPolicy(`nginx:latest@${D}`), 'Always');
    assert.equal(pullPolicy('nginx', 'Never'), 'Never');
    assert.equal(pullPolicy('nginx:1', 'Always'), 'Always');
    assert.equal(pullPolicy('nginx', 'IfNotPresent'), 'IfNotPresent');
  });
});

describe('credentialsFromDockerConfigSecrets', () => {
  const secret = (auths: Record<string, unknown>): Record<string, string> => ({ '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') });
  it('reads auth (base64 user:pass) and username/password, by host, Docker Hub aliases folded', () => {
    const lookup = credentialsFromDockerConfigSecrets([
      secret({ 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') } }),
      secret({ 'registry.example.com:5000': { username: 'u', password: 'p' }, 'https://other.example/v2/': { auth: Buffer.from('o:q').toString('base64') } }),
    ]);
    assert.deepEqual(lookup('docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(lookup('registry-1.docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(lookup('registry.example.com:5000'), { username: 'u', password: 'p' });
    assert.deepEqual(lookup('other.example'), { username: 'o', password: 'q' });
    assert.equal(lookup('registry.example.com'), undefined);
  });
  it('first Secret wins; junk is skipped', () => {
    const lookup = credentialsFromDockerConfigSecrets([{ '.dockerconfigjson': 'not base64 json' }, secret({ 'a.io': { username: '1', password: '1' } }), secret({ 'a.io': { username: '2', password: '2' } })]);
    assert.deepEqual(lookup('a.io'), { username: '1', password: '1' });
  });
});

describe('registry auth challenge', () => {
  it('parses Bearer and Basic challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(null), undefined);
  });
});

describe('chainIds', () => {
  it('follows the OCI definition', () => {
    const a = `sha256:${'1'.repeat(64)}`;
    const b = `sha256:${'2'.repeat(64)}`;
    const [c0, c1] = chainIds([a, b]);
    assert.equal(c0, a);
    assert.equal(c1, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`);
  });
});

describe('whiteoutsOf', () => {
  it('finds plain and opaque whiteouts, refuses climbing names', () => {
    assert.deepEqual(whiteoutsOf(['./', './etc/', './etc/.wh.passwd', './opt/x/.wh..wh..opq', '.wh.top', './usr/bin/ok']), { deleted: ['etc/passwd', 'top'], opaque: ['opt/x'] });
    assert.throws(() => whiteoutsOf(['../.wh.x']));
  });
});
