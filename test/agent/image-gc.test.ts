// Image GC as kubelet does it: nothing below the high threshold; above it, enough to get back
// to five points under it, least recently used unused images first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToFree } from '../../src/agent/image-gc.ts';

const GiB = 2 ** 30;

describe('image gc', () => {
  it('frees nothing while the disk is at or under the threshold', () => {
    assert.equal(bytesToFree(100 * GiB, 20 * GiB, 85, 80), 0);
    assert.equal(bytesToFree(100 * GiB, 15 * GiB, 85, 80), 0);
    assert.equal(bytesToFree(0, 0, 85, 80), 0);
  });

  it('frees down to the low mark once the disk is fuller than the high one', () => {
    // 90 GiB used of 100: 10 GiB must go to reach 80 %.
    assert.equal(bytesToFree(100 * GiB, 10 * GiB, 85, 80), 10 * GiB);
    assert.equal(bytesToFree(100 * GiB, 0, 85, 80), 20 * GiB);
  });
});
