import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runNode } from '../helpers/run-node.js';

/**
 * The pinned @modelcontextprotocol/conformance server scenarios run THROUGH a real gateway that
 * fronts the conformance fixture upstream (test/conformance/run-through-gateway.ts), for both
 * requirement sets, the fixture spoken to in 2026-07-28 (`protocol: auto`). Every scored
 * failure must be one the baseline names with its reason; a baselined scenario that happens to
 * pass is reported by the suite but does not fail this test. The policy-on run shows the
 * scenarios the default policy refuses (sampling, roots) passing once the operator relays them.
 */
const run = (args: string[]) =>
  runNode(path.resolve(import.meta.dirname, '../conformance/run-through-gateway.js'), args);

const passed = (output: string, revision: string) => {
  const m = new RegExp(`through the gateway, ${revision}: (\\d+) of (\\d+) scored`).exec(output);
  assert.ok(m, `no figures for ${revision}:\n${output.slice(-3000)}`);
  return { pass: Number(m[1]), of: Number(m[2]) };
};

describe('MCP conformance through the gateway', () => {
  it('fails no scored scenario outside the baseline, on 2026-07-28 and 2025-11-25', async () => {
    const { output } = await run([]);
    assert.doesNotMatch(output, /Unexpected failures/, output.slice(-4000));
    // Before the surface was relayed: 14 of 37 and 11 of 30; with the upstream spoken to in
    // 2025: 31 of 37; in 2026-07-28: 33 (test/conformance/RESULTS.md).
    assert.ok(passed(output, '2026-07-28').pass >= 33);
    assert.ok(passed(output, '2025-11-25').pass >= 29);
  });

  it('passes the scenarios the default policy refuses once the operator relays sampling', async () => {
    const { code, output } = await run(['--policy-on']);
    assert.equal(code, 0, output.slice(-3000));
    assert.match(output, /Tool requests LLM sampling from client/);
    assert.match(output, /input-required-result-basic-sampling/);
    assert.match(output, /Passed: (\d+)\/\1, 0 failed/);
  });
});
