import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { chromiumMissing } from '../helpers/chromium.js';

/**
 * The official suite's authorization-server scenarios (metadata, authorization code grant with a
 * person in Chromium), from the pinned @modelcontextprotocol/conformance. The same behaviour is
 * covered without the suite by oauth-default-scope.test.ts.
 */
describe('MCP conformance: authorization server scenarios', () => {
  it(
    'passes every authorization scenario of the pinned conformance suite',
    { skip: chromiumMissing },
    async () => {
      const runner = path.resolve(import.meta.dirname, '../conformance/run-authorization.js');
      const { code, output } = await new Promise<{ code: number | null; output: string }>(
        (resolve, reject) => {
          const child = spawn(process.execPath, [runner], { stdio: ['ignore', 'pipe', 'pipe'] });
          let output = '';
          child.stdout.on('data', (d: Buffer) => (output += d.toString()));
          child.stderr.on('data', (d: Buffer) => (output += d.toString()));
          child.on('error', reject);
          child.on('close', (c) => resolve({ code: c, output }));
        },
      );
      assert.equal(code, 0, output.slice(-4000));
      assert.doesNotMatch(output, /\b[1-9]\d* failed/);
    },
  );
});
