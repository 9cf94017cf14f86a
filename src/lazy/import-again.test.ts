import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { importAgain, ModuleLoadError } from './import-again.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-again-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const g = globalThis as { __importAgainFail?: boolean; __importAgainRuns?: number };

/** A module that throws while it evaluates as long as the flag is set, and counts its runs. */
function flakyModule(name: string): URL {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    'globalThis.__importAgainRuns = (globalThis.__importAgainRuns ?? 0) + 1;\n' +
      "if (globalThis.__importAgainFail) throw new Error('transient');\n" +
      'export const value = 42;\n',
  );
  return pathToFileURL(file);
}

describe('importAgain', () => {
  it('tries a failed load again on the next use, where a plain import() keeps the failure', async () => {
    const url = flakyModule('flaky.mjs');
    g.__importAgainFail = true;
    await assert.rejects(import(url.href), /transient/);
    const load = importAgain<{ value: number }>(url);
    // The plain import above failed first: this loader's first attempt meets Node's kept failure.
    await assert.rejects(
      load(),
      (err: unknown) => err instanceof ModuleLoadError && /restart/.test(err.message),
    );
    g.__importAgainFail = false;
    await assert.rejects(import(url.href), /transient/, 'Node keeps the failed load of the same URL');
    assert.equal((await load()).value, 42);
    assert.equal(await load(), await load(), 'a success is kept');
  });

  it('shares one attempt between concurrent callers', async () => {
    const url = flakyModule('shared.mjs');
    g.__importAgainFail = false;
    g.__importAgainRuns = 0;
    const load = importAgain<{ value: number }>(url);
    const all = await Promise.all(Array.from({ length: 20 }, () => load()));
    assert.ok(all.every((m) => m === all[0]));
    assert.equal(g.__importAgainRuns, 1);
  });
});
