import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runNode } from '../helpers/run-node.js';
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
      const { code, output } = await runNode(runner);
      assert.equal(code, 0, output.slice(-4000));
      assert.doesNotMatch(output, /\b[1-9]\d* failed/);
    },
  );
});
