import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

describe('the exit code of portcullis scan, through the real process', () => {
  it('is 0 below --fail-on, 1 at or above it, 2 when the scan cannot be done', async () => {
    const everything = ['--stdio', '--', NODE, REFERENCE_SERVERS.everything];
    assert.equal((await runCli(['scan', '--quiet', ...everything])).code, 0);
    assert.equal((await runCli(['scan', '--quiet', '--fail-on', 'low', ...everything])).code, 1);
    const refused = await runCli(['scan', 'http://127.0.0.1:9/mcp', '--quiet']);
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.stdout, /scan failed/);
    const missing = await runCli(['scan', '--stdio', '--quiet', '--', '/nonexistent/server']);
    assert.equal(missing.code, 2);
    assert.equal((await runCli(['scan'])).code, 2);
    assert.equal((await runCli(['scan', 'ftp://example.com/mcp'])).code, 2);
    assert.equal((await runCli(['scan', 'http://127.0.0.1:9/mcp', '--fail-on', 'severe'])).code, 2);
  });
});
