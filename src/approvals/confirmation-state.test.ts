import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfirmationKey } from './load-confirmation-key.js';
import { mintConfirmationState, verifyConfirmationState, type CallBinding } from './confirmation-state.js';

const key = randomBytes(32);
const T0 = 1_800_000_000_000;
const call: CallBinding = {
  binding: 'api-key:k1',
  subject: 'alice',
  clientId: '',
  tool: 'memory_delete',
  argsHash: 'h1',
};

describe('confirmation request state', () => {
  it('verifies for the exact call it was minted for, until it expires', () => {
    const state = mintConfirmationState(key, call, T0 + 1000);
    const ok = verifyConfirmationState(key, state, call, T0);
    assert.equal(ok.ok, true);
    assert.deepEqual(verifyConfirmationState(key, state, call, T0 + 1000), {
      ok: false,
      reason: 'confirmation-expired',
    });
  });

  it('carries a fresh nonce each time', () => {
    const a = verifyConfirmationState(key, mintConfirmationState(key, call, T0 + 1), call, T0);
    const b = verifyConfirmationState(key, mintConfirmationState(key, call, T0 + 1), call, T0);
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.claims.n, b.claims.n);
  });

  for (const [what, other] of [
    ['other arguments', { argsHash: 'h2' }],
    ['another tool', { tool: 'memory_get' }],
    ['another credential', { binding: 'api-key:k2' }],
    ['another person', { subject: 'bob' }],
    ['another OAuth client', { clientId: 'c2' }],
  ] as const) {
    it(`is refused for ${what}`, () => {
      const state = mintConfirmationState(key, call, T0 + 1000);
      assert.deepEqual(verifyConfirmationState(key, state, { ...call, ...other }, T0), {
        ok: false,
        reason: 'confirmation-mismatch',
      });
    });
  }

  it('refuses a forged, tampered or malformed state before reading it', () => {
    const state = mintConfirmationState(key, call, T0 + 1000);
    const [, body, tag] = /^pcs1\.([^.]+)\.([^.]+)$/.exec(state)!;
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, h: 'h2' })).toString('base64url');
    for (const bad of [
      `pcs1.${forgedBody}.${tag}`,
      mintConfirmationState(randomBytes(32), call, T0 + 1000),
      `${state}x`,
      `${state}.x`,
      'pcs1..',
      '',
      'accept',
      42,
      null,
      'x'.repeat(5000),
    ]) {
      assert.deepEqual(verifyConfirmationState(key, bad, call, T0), {
        ok: false,
        reason: 'confirmation-invalid',
      });
    }
  });

  it('generates its key once, 0600, and reads the same key again', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcs-key-'));
    try {
      const keys = path.join(dir, 'keys');
      const a = loadConfirmationKey(keys);
      assert.equal(a.length, 32);
      assert.equal(fs.statSync(path.join(keys, 'confirmation-key')).mode & 0o777, 0o600);
      assert.deepEqual(loadConfirmationKey(keys), a);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
