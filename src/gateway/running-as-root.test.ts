import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runningAsRoot } from './running-as-root.js';

describe('runningAsRoot', () => {
  it('warns for uid 0 and points at the unprivileged ways to run', () => {
    assert.match(runningAsRoot(0) ?? '', /runs as root \(uid 0\).*DynamicUser.*runAsNonRoot/s);
  });
  it('says nothing for any other uid, or where there are no uids (Windows)', () => {
    assert.equal(runningAsRoot(1000), undefined);
    assert.equal(runningAsRoot(65534), undefined);
    assert.equal(runningAsRoot(undefined), undefined);
  });
});
