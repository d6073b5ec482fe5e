// Typed store errors → Kubernetes Status: the one translation the API server and the in-process
// client share (what kubectl and client-go switch on: code, reason, message, details).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError, invalidObject } from '../../src/api/model/errors.ts';
import { toApiError } from '../../src/api/wire/error-status.ts';
import { ApiError, cause } from '../../src/api/model/status.ts';

describe('store errors as Status', () => {
  const cases: [StoreError, number, string, string, Record<string, unknown> | undefined][] = [
    [new StoreError('NotFound', 'pods', 'web'), 404, 'NotFound', 'pods "web" not found', { name: 'web', kind: 'pods' }],
    [new StoreError('NotFound', 'runtimeclasses', 'lx'), 404, 'NotFound', 'runtimeclasses.node.k8s.io "lx" not found', { name: 'lx', group: 'node.k8s.io', kind: 'runtimeclasses' }],
    [new StoreError('AlreadyExists', 'pods', 'web'), 409, 'AlreadyExists', 'pods "web" already exists', { name: 'web', kind: 'pods' }],
    [new StoreError('Conflict', 'pods', 'web'), 409, 'Conflict', 'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again', { name: 'web', kind: 'pods' }],
    [new StoreError('Conflict', 'pods/binding', 'web', 'pod web is already assigned to node "n1"'), 409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "n1"', { name: 'web', kind: 'pods/binding' }],
    [invalidObject('pods', 'Bad', [cause.required('spec.containers')]), 422, 'Invalid', 'Pod "Bad" is invalid: spec.containers: Required value', { name: 'Bad', kind: 'Pod', causes: [cause.required('spec.containers')] }],
    [new StoreError('BadRequest', '', '', 'continue key is not valid'), 400, 'BadRequest', 'continue key is not valid', undefined],
    [new StoreError('Forbidden', 'pods', 'web', 'pods "web" is forbidden: pod rejected: RuntimeClass "x" not found'), 403, 'Forbidden', 'pods "web" is forbidden: pod rejected: RuntimeClass "x" not found', { kind: 'pods', name: 'web' }],
    [new StoreError('Expired', 'pods', '', 'too old resource version: 3 (7)'), 410, 'Expired', 'too old resource version: 3 (7)', undefined],
    [new StoreError('NamespaceNotFound', 'pods', 'nope'), 404, 'NotFound', 'namespaces "nope" not found', { name: 'nope', kind: 'namespaces' }],
    [new StoreError('NamespaceTerminating', 'pods', 'going'), 403, 'Forbidden', 'pods is forbidden: unable to create new content in namespace going because it is being terminated', { kind: 'pods' }],
    [new StoreError('TooLarge', 'pods', 'web', 'the object is too large'), 413, 'RequestEntityTooLarge', 'the object is too large', undefined],
  ];
  for (const [err, code, reason, message, details] of cases) {
    it(`${err.reason} of ${err.resource || 'a list'} → ${code} ${reason}`, () => {
      const status = toApiError(err).toStatus();
      assert.equal(status.code, code);
      assert.equal(status.reason, reason);
      assert.equal(status.message, message);
      assert.deepEqual(status.details, details);
    });
  }

  it('passes ApiErrors through and makes anything else a 500', () => {
    const api = new ApiError(415, 'UnsupportedMediaType', 'no');
    assert.equal(toApiError(api), api);
    const internal = toApiError(new TypeError('boom')).toStatus();
    assert.equal(internal.code, 500);
    assert.equal(internal.reason, 'InternalError');
    assert.equal(internal.message, 'Internal error occurred: boom');
  });
});
