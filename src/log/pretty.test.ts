import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyLine } from './pretty.js';

describe('pretty log lines', () => {
  it('shows time, level, message and fields on one line, coloured only when asked', () => {
    const json = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      service: 'portcullis',
      msg: 'portcullis listening',
      url: 'http://127.0.0.1:8080/',
    });
    assert.equal(prettyLine(json, false), '03:04:05 INFO  portcullis listening url=http://127.0.0.1:8080/');
    assert.ok(prettyLine(json, true).includes('\u001b[32mINFO \u001b[0m'));
  });

  it('never passes a control character or escape from a logged value to the terminal', () => {
    const json = JSON.stringify({
      level: 40,
      time: 0,
      msg: 'tool \u001b[2Jcalled',
      tool: 'x\u001b]0;owned\u0007',
    });
    const line = prettyLine(json, false);
    assert.ok(
      ![...line].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)),
    );
    assert.match(line, /tool \\u001b\[2Jcalled/);
  });

  it('prints a line that is not JSON inert, as it is', () => {
    assert.equal(prettyLine('plain \u0007text', false), 'plain \\u0007text');
  });
});
