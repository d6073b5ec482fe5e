// The write path's copies and comparisons of API objects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cloneJson, jsonEqual } from '../../src/api/model/json-value.ts';

describe('JSON values', () => {
  it('copies deeply, keeping a "__proto__" key as data', () => {
    const src = JSON.parse('{"a":[1,{"b":"c"}],"__proto__":{"polluted":true},"n":null}') as Record<string, unknown>;
    const copy = cloneJson(src);
    assert.deepEqual(copy, src);
    assert.notEqual(copy.a, src.a);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(copy), ['a', '__proto__', 'n']);
  });

  it('compares as JSON does, whatever the key order', () => {
    assert.ok(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }));
    assert.ok(jsonEqual({ a: 1, gone: undefined }, { a: 1 }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: null }));
    assert.ok(!jsonEqual({ c: [1, 2] }, { c: [2, 1] }));
    assert.ok(!jsonEqual([1], { 0: 1 }));
    assert.ok(!jsonEqual({ a: '1' }, { a: 1 }));
  });
});
