import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { eventually } from '../helpers/upstream-servers.js';

interface LoggedError {
  readonly type?: string;
  readonly message?: string;
  readonly stack?: string;
  readonly code?: string;
  readonly path?: string;
}

/**
 * An operator investigating a failure (or an attack that provokes one) needs the error's message
 * and stack in the log; the redactor used to reduce every Error to its name. And an error message
 * may quote a secret, which must not reach the log. Here a real `portcullis start` process fails to
 * write its audit copy to a path that contains a signing-key secret.
 */
describe('error detail in the gateway log', () => {
  const dir = tempDir('portcullis-errlog-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the message, code and stack of a logged error and redacts the known secret inside them', async () => {
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    const signing = JSON.parse(fs.readFileSync(path.join(dir, 'keys', 'signing-keys.json'), 'utf8')) as {
      keys: { d: string }[];
    };
    const secret = signing.keys[0]!.d;
    // A directory where the JSON-lines copy of the audit log should be: every write fails.
    const target = `audit-copy-${secret}`;
    fs.mkdirSync(path.join(dir, target));
    fs.appendFileSync(path.join(dir, 'portcullis.yaml'), `\naudit:\n  jsonlFile: ${target}\n`);

    const { child, stdout } = await startCli(['--data-dir', dir, '--port', '0']);
    try {
      const line = await eventually(async () => {
        // Any request leaves an audit record, and so a write to the broken copy.
        const port = /"url":"http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout())?.[1];
        if (port) await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST' }).catch(() => undefined);
        return stdout()
          .split('\n')
          .find((l) => l.includes('audit JSON-lines sink failed'));
      }, 'the sink failure to be logged');
      assert.ok(!line.includes(secret), 'the secret never reaches the log');
      const err = (JSON.parse(line) as { err: LoggedError }).err;
      assert.equal(err.code, 'EISDIR');
      assert.match(
        err.message ?? '',
        /^EISDIR: illegal operation on a directory, open '.*audit-copy-\[REDACTED/,
      );
      assert.match(err.stack ?? '', /EISDIR: illegal operation on a directory/);
      assert.match(err.path ?? '', /audit-copy-\[REDACTED/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
