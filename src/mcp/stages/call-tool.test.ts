import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confirmationChannel } from './call-tool.js';

const caps = (elicitation: unknown) => ({
  _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation } },
});

describe('how a client can be asked to confirm a call', () => {
  it('2025: on its session if it has one (only clients that declared elicitation do), else the page', () => {
    assert.deepEqual(confirmationChannel('legacy', undefined, true), { confirmVia: 'session' });
    assert.deepEqual(confirmationChannel('legacy', undefined, false), { confirmVia: 'none' });
  });

  it('2026-07-28: by input-required when the request declares form or URL elicitation', () => {
    assert.deepEqual(confirmationChannel('modern', caps({}), false).elicits, { form: true, url: false });
    assert.deepEqual(confirmationChannel('modern', caps({ url: {} }), false).elicits, {
      form: false,
      url: true,
    });
    assert.equal(
      confirmationChannel('modern', caps({ form: {}, url: {} }), false).confirmVia,
      'input-required',
    );
    assert.equal(confirmationChannel('modern', {}, false).confirmVia, 'none');
  });

  it("2026-07-28: a retry's echoed requestState and inputResponses are handed on", () => {
    const c = confirmationChannel('modern', { requestState: 's', inputResponses: { a: 1 } }, false);
    assert.equal(c.requestState, 's');
    assert.deepEqual(c.inputResponses, { a: 1 });
  });
});
