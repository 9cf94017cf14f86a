import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { configSchema } from '../config/index.js';
import { createOutputGuard } from '../safety/index.js';
import { createLogger, plainErrors } from './logger.js';

const SECRET = 'upstream-token-9c1e44b7d2a0f6e3';

/** A logger built as the gateway builds it (the output guard's redactor, one known secret). */
function gatewayLogger() {
  const safety = configSchema.parse({}).safety;
  const output = createOutputGuard({
    maxTextBytes: safety.maxResultBytes,
    maxDepth: safety.maxResultDepth,
    injectionAction: safety.injectionAction,
    injectionActions: safety.injectionActions,
    piiTools: safety.piiTools,
  });
  output.setKnownSecrets([SECRET]);
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('info', { redact: (v) => output.redactValue(v), destination });
  return { logger, lines: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

class ProbeError extends Error {
  override readonly name = 'ProbeError';
  readonly code = 'probe-failed';
}

describe('the gateway logger and errors', () => {
  it('keeps an error’s type, message, stack and fields, with a known secret redacted from each', () => {
    const { logger, lines } = gatewayLogger();
    const err = Object.assign(new ProbeError(`upstream refused token ${SECRET} at /v1/tools`), {
      url: `https://api.example/v1?token=${SECRET}`,
    });
    logger.error({ err, requestId: 'r-1' }, 'tool execution failed');
    const [line] = lines();
    assert.ok(line);
    assert.ok(!JSON.stringify(line).includes(SECRET), 'the secret never reaches the log');
    assert.equal(line.err.type, 'ProbeError');
    assert.equal(line.err.code, 'probe-failed');
    assert.match(line.err.message, /^upstream refused token \[REDACTED[^\]]*\] at \/v1\/tools$/);
    assert.match(
      line.err.stack,
      /^ProbeError: upstream refused token \[REDACTED[^\]]*\] at \/v1\/tools\n\s+at /,
    );
    assert.match(line.err.stack, /logger\.test\.js/);
    assert.match(line.err.url, /^https:\/\/api\.example\/v1\?token=\[REDACTED/);
    assert.equal(line.requestId, 'r-1');
    assert.equal(line.msg, 'tool execution failed');
  });

  it('keeps the cause chain, each cause redacted and with its own stack', () => {
    const { logger, lines } = gatewayLogger();
    const root = new Error(`connect refused for ${SECRET}`);
    const middle = new TypeError('fetch failed', { cause: root });
    logger.error({ err: new Error('audit commit failed', { cause: middle }) }, 'audit append failed');
    const [line] = lines();
    assert.ok(line);
    assert.ok(!JSON.stringify(line).includes(SECRET));
    assert.equal(line.err.message, 'audit commit failed');
    assert.equal(line.err.cause.type, 'TypeError');
    assert.equal(line.err.cause.message, 'fetch failed');
    assert.match(line.err.cause.stack, /^TypeError: fetch failed\n/);
    assert.match(line.err.cause.cause.message, /^connect refused for \[REDACTED/);
    assert.match(line.err.cause.cause.stack, /^Error: connect refused for \[REDACTED/);
  });

  it('an error passed as the first argument is logged the same way', () => {
    const { logger, lines } = gatewayLogger();
    logger.warn(new Error(`bad ${SECRET}`));
    const [line] = lines();
    assert.ok(line);
    assert.match(line.err.message, /^bad \[REDACTED/);
    assert.match(line.msg, /^bad \[REDACTED/);
    assert.ok(!JSON.stringify(line).includes(SECRET));
  });

  it('survives cycles and non-Error causes', () => {
    const err = new Error('loop') as Error & { self?: unknown };
    err.self = err;
    const plain = plainErrors({ err, other: new Error('x', { cause: 'a string' }) }) as Record<string, any>;
    assert.equal(plain.err.self, '[Circular]');
    assert.equal(plain.other.cause, 'a string');
  });
});
