import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runNode } from '../helpers/run-node.js';

/**
 * The conformance fixture upstream (test/fixtures/conformance-server.ts) measured by the pinned
 * @modelcontextprotocol/conformance directly, without the gateway, for both requirement sets: the
 * baseline that makes a failure through the gateway the gateway's own.
 */
describe('MCP conformance: the conformance fixture upstream on its own', () => {
  it('passes every scored server scenario of 2026-07-28 and of 2025-11-25', async () => {
    const runner = path.resolve(import.meta.dirname, '../conformance/run-fixture.js');
    const { code, output } = await runNode(runner);
    assert.equal(code, 0, output.slice(-4000));
    // The figures line per revision; "(0 fail)" counts scored scenarios only.
    assert.match(output, /fixture directly, 2026-07-28: (\d+) of \1 scored scenarios pass \(0 fail\)/);
    assert.match(output, /fixture directly, 2025-11-25: (\d+) of \1 scored scenarios pass \(0 fail\)/);
  });
});
