// The brand a pod asks for and the one it gets on a node (podBrandOn, for the node agent).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBrandOn, nodeBrands, podBrandOn, requestedBrand, zoneBrandError } from '../../src/api/model/brands.ts';

describe('podBrandOn', () => {
  it('takes the annotation, else spec.runtimeClassName, else lx when the node has it, else its native brand', () => {
    const annotated = { metadata: { annotations: { 'reddwarf.io/zone-brand': 'pkgsrc' } }, spec: { runtimeClassName: 'lx' } };
    assert.equal(podBrandOn(annotated, ['lx', 'pkgsrc']), 'pkgsrc');
    assert.equal(podBrandOn({ spec: { runtimeClassName: 'sparse' } }, ['lx', 'sparse']), 'sparse');
    assert.equal(podBrandOn({ metadata: {} }, ['sparse', 'lx']), 'lx');
    assert.equal(podBrandOn({ metadata: {} }, ['ipkg', 'lipkg', 'sparse']), 'sparse');
    assert.equal(podBrandOn({ metadata: {} }, ['joyent-minimal', 'joyent']), 'joyent');
    assert.equal(podBrandOn({ metadata: {} }, ['nlipkg', 'ipkg']), 'ipkg');
    assert.equal(podBrandOn({}, []), 'lx');
  });

  it('reads what the pod asks for and what a node label offers', () => {
    assert.equal(requestedBrand({ metadata: {} }), undefined);
    assert.equal(requestedBrand({ spec: { runtimeClassName: '' } }), undefined);
    assert.equal(defaultBrandOn([]), undefined);
    assert.deepEqual([...(nodeBrands({ 'reddwarf.io/zone-brands': 'lx_joyent-minimal' }) ?? [])], ['lx', 'joyent-minimal']);
  });

  it('names brands that cannot hold pods', () => {
    assert.equal(zoneBrandError('lx'), undefined);
    assert.equal(zoneBrandError('bhyve'), 'zone brand "bhyve" is not supported yet');
    assert.match(zoneBrandError('reddwarf') ?? '', /unknown zone brand "reddwarf"/);
  });
});
