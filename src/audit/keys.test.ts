import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureAuditKeys, loadAuditKeys, ARGS_HMAC_KEY_FILE, SIGNING_KEY_FILE } from './keys.js';
import { AuditError } from './errors.js';

test('ensureAuditKeys creates private key files readable only by the owner', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const keysDir = path.join(dir, 'keys');
  const keys = await ensureAuditKeys(keysDir);
  assert.equal((await stat(keysDir)).mode & 0o777, 0o700);
  assert.equal((await stat(path.join(keysDir, SIGNING_KEY_FILE))).mode & 0o777, 0o600);
  assert.equal((await stat(path.join(keysDir, ARGS_HMAC_KEY_FILE))).mode & 0o777, 0o600);
  assert.equal(keys.argsHmacKey.length, 32);
  assert.match(keys.keyId, /^[0-9a-f]{16}$/);
});

test('ensureAuditKeys keeps existing keys', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await ensureAuditKeys(dir);
  const pem = await readFile(path.join(dir, SIGNING_KEY_FILE), 'utf8');
  const second = await ensureAuditKeys(dir);
  assert.equal(second.keyId, first.keyId);
  assert.deepEqual(second.argsHmacKey, first.argsHmacKey);
  assert.equal(await readFile(path.join(dir, SIGNING_KEY_FILE), 'utf8'), pem);
});

test('a key file readable by others is refused', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await ensureAuditKeys(dir);
  await chmod(path.join(dir, SIGNING_KEY_FILE), 0o644);
  await assert.rejects(
    loadAuditKeys(dir),
    (err: unknown) => err instanceof AuditError && err.code === 'config-invalid',
  );
});

test('loading keys from an empty directory says they are missing', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pc-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(
    loadAuditKeys(dir),
    (err: unknown) => err instanceof AuditError && err.code === 'not-found',
  );
});
