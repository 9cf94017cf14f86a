import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

describe('MCP conformance (pinned @modelcontextprotocol/conformance)', () => {
  it('passes every server scenario except the listed expected failures, each with its reason', async () => {
    const runner = path.resolve(import.meta.dirname, '../conformance/run-server.js');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [runner], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output }));
    });
    assert.equal(code, 0, output.slice(-4000));
    assert.match(output, /all failures are expected/);
  });
});
