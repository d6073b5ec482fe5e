// Merge patch (RFC 7386) and JSON patch (RFC 6902): the RFC appendix examples, errors, and input immutability.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/model/status.ts';
import { jsonPatch, mergePatch } from '../../src/api/wire/patch.ts';

/** Asserts an ApiError with this code and reason whose message matches. */
function fails(fn: () => unknown, code: number, reason: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    assert.match(e.message, message);
    return true;
  });
}

describe('mergePatch (RFC 7386)', () => {
  it('passes every example of RFC 7386 Appendix A', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, want] of cases) assert.deepEqual(mergePatch(target, patch), want, JSON.stringify({ target, patch }));
  });

  it('applies the RFC 7386 section 3 example', () => {
    const target = { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'This will be unchanged' };
    const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
    assert.deepEqual(mergePatch(target, patch), {
      title: 'Hello!', author: { givenName: 'John' }, tags: ['example'], content: 'This will be unchanged', phoneNumber: '+01-123-456-7890',
    });
  });

  it('removes a label the way kubectl label a- does', () => {
    const pod = { metadata: { name: 'p', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c' }] } };
    assert.deepEqual(mergePatch(pod, { metadata: { labels: { a: null, c: '3' } } }), { metadata: { name: 'p', labels: { b: '2', c: '3' } }, spec: { containers: [{ name: 'c' }] } });
  });

  it('mutates neither input, and shares no structure with them', () => {
    const target = { a: { b: [1, 2] }, keep: { x: 1 } };
    const patch = { a: { c: { d: 1 } }, n: [1] };
    const before = structuredClone({ target, patch });
    const out = mergePatch(target, patch) as { a: { b: number[]; c: { d: number } }; keep: { x: number }; n: number[] };
    assert.deepEqual({ target, patch }, before);
    out.a.b.push(3);
    out.keep.x = 2;
    out.a.c.d = 2;
    out.n.push(2);
    assert.deepEqual({ target, patch }, before);
  });

  it('keeps a "__proto__" key as data instead of changing the prototype', () => {
    const out = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    assert.equal(Object.hasOwn(out, '__proto__'), true);
    assert.equal((out as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
});

describe('jsonPatch (RFC 6902)', () => {
  it('passes the successful examples of RFC 6902 Appendix A', () => {
    const cases: [string, unknown, unknown, unknown][] = [
      ['A.1 add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
      ['A.2 add an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
      ['A.3 remove an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
      ['A.4 remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
      ['A.5 replace a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
      ['A.6 move a value', { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
        { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } }],
      ['A.7 move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
      ['A.8 test a value: success', { baz: 'qux', foo: ['a', 2, 'c'] }, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
        { baz: 'qux', foo: ['a', 2, 'c'] }],
      ['A.10 add a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
      ['A.11 ignore unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
      ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
      ['A.16 add an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    ];
    for (const [name, doc, ops, want] of cases) assert.deepEqual(jsonPatch(doc, ops), want, name);
  });

  it('fails A.9 (test a value: error) with 422 Invalid', () => {
    fails(() => jsonPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }]), 422, 'Invalid', /testing value \/baz failed/);
  });

  it('fails A.12 (add to a nonexistent target) with 422 Invalid', () => {
    fails(() => jsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]), 422, 'Invalid', /add operation does not apply: doc is missing path: "\/baz\/bat"/);
  });

  it('fails A.15 (a string is not a number) with 422 Invalid', () => {
    fails(() => jsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }]), 422, 'Invalid', /test failed/);
  });

  it('compares test values structurally, ignoring member order', () => {
    assert.doesNotThrow(() => jsonPatch({ a: { x: 1, y: [1, { z: null }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: null }], x: 1 } }]));
    fails(() => jsonPatch({ a: [1, 2] }, [{ op: 'test', path: '/a', value: [2, 1] }]), 422, 'Invalid', /test failed/);
    fails(() => jsonPatch({ a: {} }, [{ op: 'test', path: '/a/missing', value: null }]), 422, 'Invalid', /test failed/);
  });

  it('works on the whole document with the empty pointer', () => {
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'add', path: '', value: [1] }]), [1]);
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }]), { a: 1 });
  });

  it('copies values without aliasing them', () => {
    const out = jsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }, { op: 'replace', path: '/c/b', value: 2 }]);
    assert.deepEqual(out, { a: { b: 1 }, c: { b: 2 } });
  });

  it('reaches keys with / and ~ in them (kubectl patching annotations)', () => {
    const doc = { metadata: { annotations: { 'example.com/a~b': 'x' } } };
    assert.deepEqual(jsonPatch(doc, [{ op: 'replace', path: '/metadata/annotations/example.com~1a~0b', value: 'y' }]), { metadata: { annotations: { 'example.com/a~b': 'y' } } });
  });

  it('answers out-of-range and malformed indexes with 422', () => {
    fails(() => jsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/3', value: 0 }]), 422, 'Invalid', /invalid index/);
    fails(() => jsonPatch({ a: [1, 2] }, [{ op: 'remove', path: '/a/2' }]), 422, 'Invalid', /invalid index/);
    fails(() => jsonPatch({ a: [1, 2] }, [{ op: 'replace', path: '/a/-', value: 0 }]), 422, 'Invalid', /missing value/);
    fails(() => jsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/01', value: 0 }]), 422, 'Invalid', /invalid index/);
    assert.deepEqual(jsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }]), { a: [1, 2, 3] });
  });

  it('answers missing targets of remove, replace, move and copy with 422', () => {
    fails(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]), 422, 'Invalid', /nonexistent key: b/);
    fails(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]), 422, 'Invalid', /replace operation does not apply: doc is missing key: \/b/);
    fails(() => jsonPatch({ a: 1 }, [{ op: 'move', from: '/b', path: '/c' }]), 422, 'Invalid', /move operation does not apply/);
    fails(() => jsonPatch({ a: 1 }, [{ op: 'copy', from: '/b', path: '/c' }]), 422, 'Invalid', /copy operation does not apply/);
  });

  it('refuses to move a location into its own child', () => {
    fails(() => jsonPatch({ a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), 422, 'Invalid', /proper prefix/);
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }]), { a: 1 });
  });

  it('answers malformed patch documents with 400 BadRequest', () => {
    fails(() => jsonPatch({}, { op: 'add', path: '/a', value: 1 }), 400, 'BadRequest', /must be a JSON array/);
    fails(() => jsonPatch({}, ['add']), 400, 'BadRequest', /operation 0: must be an object/);
    fails(() => jsonPatch({}, [{ path: '/a', value: 1 }]), 400, 'BadRequest', /missing "op"/);
    fails(() => jsonPatch({}, [{ op: 'merge', path: '/a' }]), 400, 'BadRequest', /unsupported "op" "merge"/);
    fails(() => jsonPatch({}, [{ op: 'add', value: 1 }]), 400, 'BadRequest', /missing "path"/);
    fails(() => jsonPatch({}, [{ op: 'add', path: '/a' }]), 400, 'BadRequest', /missing "value"/);
    fails(() => jsonPatch({}, [{ op: 'move', path: '/a' }]), 400, 'BadRequest', /missing "from"/);
    fails(() => jsonPatch({}, [{ op: 'add', path: 'a', value: 1 }]), 400, 'BadRequest', /JSON pointer starting with "\/"/);
    fails(() => jsonPatch({}, [{ op: 'add', path: '/a~2', value: 1 }]), 400, 'BadRequest', /invalid "~" escape/);
  });

  it('accepts null as a value', () => {
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'add', path: '/b', value: null }]), { a: 1, b: null });
  });

  it('applies all operations or none, and never mutates its inputs', () => {
    const doc = { spec: { containers: [{ name: 'c', image: 'a' }] } };
    const ops = [{ op: 'replace', path: '/spec/containers/0/image', value: 'b' }, { op: 'add', path: '/spec/x', value: { y: [1] } }];
    const before = structuredClone({ doc, ops });
    const out = jsonPatch(doc, ops) as { spec: { x: { y: number[] } } };
    assert.deepEqual(out, { spec: { containers: [{ name: 'c', image: 'b' }], x: { y: [1] } } });
    out.spec.x.y.push(2);
    assert.deepEqual({ doc, ops }, before);
    fails(() => jsonPatch(doc, [...ops, { op: 'test', path: '/spec/x', value: 0 }]), 422, 'Invalid', /test failed/);
    assert.deepEqual(doc, before.doc);
  });
});
