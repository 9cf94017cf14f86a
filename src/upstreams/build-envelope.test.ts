import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server';
import { relayedCapabilities, requestEnvelope, splitRequired, standardHeaders } from './build-envelope.js';

const DEFAULT = { elicitation: true, urlElicitation: false, sampling: false, roots: false };
const ALL = { elicitation: true, urlElicitation: true, sampling: true, roots: true };

describe('the 2026-07-28 request envelope', () => {
  it('declares only what the caller declared and the operator relays, without sub-options', () => {
    assert.deepEqual(relayedCapabilities(undefined, ALL), {});
    assert.deepEqual(relayedCapabilities({}, ALL), {});
    // A bare elicitation is form mode; URL mode only when both sides have it.
    assert.deepEqual(relayedCapabilities({ elicitation: {} }, DEFAULT), { elicitation: { form: {} } });
    assert.deepEqual(relayedCapabilities({ elicitation: { url: {} } }, DEFAULT), {});
    assert.deepEqual(relayedCapabilities({ elicitation: { form: {}, url: {} } }, ALL), {
      elicitation: { form: {}, url: {} },
    });
    assert.deepEqual(
      relayedCapabilities({ sampling: { tools: {}, context: {} }, roots: { listChanged: true } }, ALL),
      {
        sampling: {},
        roots: {},
      },
    );
    assert.deepEqual(relayedCapabilities({ sampling: {}, roots: {}, experimental: { x: {} } }, DEFAULT), {});
    // Not an object is not a declaration.
    assert.deepEqual(relayedCapabilities({ elicitation: true, sampling: 'yes' }, ALL), {});
  });

  it('carries the revision, the gateway as client, the capabilities and an asked-for log level', () => {
    const meta = requestEnvelope({
      clientVersion: '1.2.3',
      capabilities: { sampling: {} },
      logLevel: 'warning',
    });
    assert.equal(meta[PROTOCOL_VERSION_META_KEY], '2026-07-28');
    assert.deepEqual(meta[CLIENT_CAPABILITIES_META_KEY], { sampling: {} });
    assert.equal(meta[LOG_LEVEL_META_KEY], 'warning');
    assert.deepEqual(meta['io.modelcontextprotocol/clientInfo'], { name: 'portcullis', version: '1.2.3' });
    assert.equal(LOG_LEVEL_META_KEY in requestEnvelope({ clientVersion: '1', capabilities: {} }), false);
  });

  it('names the method and target in the standard headers, Base64 when not plain header text', () => {
    assert.deepEqual(standardHeaders({ method: 'tools/call', params: { name: 'get_weather' } }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'get_weather',
    });
    assert.equal(
      standardHeaders({ method: 'resources/read', params: { uri: 'file:///café' } })['mcp-name'],
      `=?base64?${Buffer.from('file:///café').toString('base64')}?=`,
    );
    assert.deepEqual(standardHeaders({ method: 'tools/list', params: {} }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
    });
    assert.deepEqual(standardHeaders({ id: 1, result: {} }), { 'mcp-protocol-version': '2026-07-28' });
  });

  it('splits a -32021 into what the caller could declare and what no declaration supplies', () => {
    assert.deepEqual(splitRequired({ requiredCapabilities: { sampling: {} } }, {}), {
      caller: { sampling: {} },
      gateway: [],
    });
    // Declared, yet missing upstream: the operator filtered it (or the server is inconsistent).
    assert.deepEqual(splitRequired({ requiredCapabilities: { sampling: {} } }, { sampling: {} }), {
      caller: {},
      gateway: ['sampling'],
    });
    // Form declared, URL needed: the caller could declare URL mode.
    assert.deepEqual(
      splitRequired(
        { requiredCapabilities: { elicitation: { url: {}, extra: 1 } } },
        { elicitation: { form: {} } },
      ),
      { caller: { elicitation: { url: {} } }, gateway: [] },
    );
    assert.deepEqual(splitRequired({ requiredCapabilities: { tasks: {} } }, {}), {
      caller: {},
      gateway: ['tasks'],
    });
    assert.equal(splitRequired({ requiredCapabilities: ['sampling'] }, {}), undefined);
    assert.equal(splitRequired(undefined, {}), undefined);
    assert.equal(splitRequired({ requiredCapabilities: {} }, {}), undefined);
  });
});
