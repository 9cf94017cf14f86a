import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { classifyPost, forgetClassifications, type ClassifyInput } from './classify-request.js';

// The remembered classification must be the SDK's, for every body: the same outcome the first
// time (a miss) and every later time (a hit, possibly filled by another body with the same key).

const V = 'io.modelcontextprotocol/protocolVersion';
const INFO = 'io.modelcontextprotocol/clientInfo';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const LEVEL = 'io.modelcontextprotocol/logLevel';
const TASK = 'io.modelcontextprotocol/related-task';

/** A small seeded generator, so a failure names a case that can be run again. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mostly the first (valid) value, so that many cases are accepted and remembered. */
const pick = <T>(r: () => number, xs: readonly T[]): T =>
  r() < 0.85 ? xs[0]! : xs[Math.floor(r() * xs.length)]!;
const ABSENT = Symbol('absent');
type Maybe<T> = T | typeof ABSENT;

const versions: Maybe<unknown>[] = [
  '2026-07-28',
  ABSENT,
  '2025-11-25',
  '2025-06-18',
  '2099-01-01',
  7,
  null,
  '',
];
const infos: Maybe<unknown>[] = [
  { name: 'c', version: '1' },
  ABSENT,
  { name: 'c' },
  { name: 'c', version: 1 },
  { name: 'c', version: '1', title: 'C' },
  { name: 'c', version: '1', extra: [1] },
  'c',
  null,
];
const caps: Maybe<unknown>[] = [
  {},
  ABSENT,
  { elicitation: {} },
  { sampling: {}, roots: { listChanged: true } },
  { roots: { listChanged: 'yes' } },
  [],
  null,
];
const levels: Maybe<unknown>[] = ['info', ABSENT, 'debug', 'loud', 3];
const progress: Maybe<unknown>[] = ['tok', ABSENT, 5, 1.5, { a: 1 }, null];
const tasks: Maybe<unknown>[] = [{ taskId: 't' }, ABSENT, { taskId: 3 }, 'x'];
const ids: Maybe<unknown>[] = [1, ABSENT, 0, -0, 42, 'a', '', 1.5, null, 2 ** 60, { x: 1 }, true];
const jsonrpcs: Maybe<unknown>[] = ['2.0', '2.0', '2.0', '1.0', 2, ABSENT];
const methods: Maybe<unknown>[] = [
  'tools/call',
  'tools/list',
  'initialize',
  'ping',
  'notifications/initialized',
  'subscriptions/listen',
  'resources/read',
  'nope/nope',
  5,
  ABSENT,
];
const headerVersions = ['2026-07-28', undefined, ' 2026-07-28\t', '2025-11-25', '2025-06-18', 'garbage'];
const headerMethods = ['tools/call', undefined, 'tools/list', 'initialize', ' tools/call '];
const headerNames = ['memory_search', undefined, 'other'];

function set(o: Record<string, unknown>, k: string, v: Maybe<unknown>) {
  if (v !== ABSENT) o[k] = v;
}

function randomInput(r: () => number): ClassifyInput {
  const meta: Record<string, unknown> = {};
  set(meta, V, pick(r, versions));
  set(meta, INFO, pick(r, infos));
  set(meta, CAPS, pick(r, caps));
  if (r() < 0.3) set(meta, LEVEL, pick(r, levels));
  if (r() < 0.3) set(meta, 'progressToken', pick(r, progress));
  if (r() < 0.2) set(meta, TASK, pick(r, tasks));
  if (r() < 0.1) meta['vendor/extra'] = { any: 'thing' };
  const paramsChoice = r();
  let params: Maybe<unknown>;
  if (paramsChoice < 0.7) {
    params = { name: 'memory_search', arguments: { query: 'q' }, _meta: meta };
    if (r() < 0.2) (params as Record<string, unknown>).protocolVersion = pick(r, ['2025-06-18', 9]);
  } else if (paramsChoice < 0.8) params = { name: 'x' };
  else if (paramsChoice < 0.85) params = ABSENT;
  else params = pick(r, [null, [], 'p', 3, { _meta: 'not an object' }, { _meta: null }]);
  const body: Record<string, unknown> = {};
  set(body, 'jsonrpc', pick(r, jsonrpcs));
  set(body, 'id', pick(r, ids));
  set(body, 'method', pick(r, methods));
  set(body, 'params', params);
  const extra = r();
  if (extra < 0.05) body.result = {};
  else if (extra < 0.1) body.error = { code: -1, message: 'e' };
  else if (extra < 0.13) body.other = 1;
  const shape = r();
  return {
    protocolVersionHeader: pick(r, headerVersions),
    mcpMethodHeader: pick(r, headerMethods),
    mcpNameHeader: pick(r, headerNames),
    body: shape < 0.03 ? [body] : shape < 0.05 ? 'text' : body,
  };
}

const sdk = (i: ClassifyInput) => classifyInboundRequest({ httpMethod: 'POST', ...i });

describe('remembered era classification', () => {
  it('equals the SDK on random bodies, on a miss and on every later hit', () => {
    forgetClassifications();
    const r = prng(20261202);
    const inputs = Array.from({ length: 4000 }, () => randomInput(r));
    let hits = 0;
    for (let round = 0; round < 2; round++) {
      for (const [n, input] of inputs.entries()) {
        const expected = sdk(input);
        const got = classifyPost(input);
        assert.deepEqual(got, expected, `case ${n} round ${round}: ${JSON.stringify(input)}`);
        if (got.kind === 'modern') assert.equal(got.message, input.body, 'message is the body itself');
        if (round === 1 && expected.kind !== 'reject') hits++;
      }
    }
    // The cases are not all refusals: the remembered path was exercised.
    assert.ok(hits > 500, `only ${hits} accepted cases`);
  });

  it('equals the SDK for one client calling many times, ids and arguments changing', () => {
    forgetClassifications();
    const meta = { [V]: '2026-07-28', [INFO]: { name: 'c', version: '1' }, [CAPS]: { elicitation: {} } };
    for (let i = 0; i < 200; i++) {
      const input: ClassifyInput = {
        protocolVersionHeader: '2026-07-28',
        mcpMethodHeader: 'tools/call',
        mcpNameHeader: 'memory_search',
        body: {
          jsonrpc: '2.0',
          id: i % 2 ? i : `id-${i}`,
          method: 'tools/call',
          params: { name: 'memory_search', arguments: { query: 'x'.repeat(i) }, _meta: meta },
        },
      };
      assert.deepEqual(classifyPost(input), sdk(input));
    }
  });

  it('a body that first classified as modern does not lend its outcome to a broken one', () => {
    forgetClassifications();
    const good = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { _meta: { [V]: '2026-07-28', [INFO]: { name: 'c', version: '1' }, [CAPS]: {} } },
    };
    const std = {
      protocolVersionHeader: '2026-07-28',
      mcpMethodHeader: 'tools/call',
      mcpNameHeader: undefined,
    };
    assert.equal(classifyPost({ ...std, body: good }).kind, 'modern');
    for (const broken of [
      { ...good, id: 1.5 },
      { ...good, id: null },
      { ...good, extra: true },
      { ...good, jsonrpc: '1.0' },
      { ...good, params: { _meta: { ...good.params._meta, progressToken: 1.5 } } },
      { ...good, params: { _meta: { ...good.params._meta, [INFO]: { name: 'c' } } } },
    ]) {
      const expected = sdk({ ...std, body: broken });
      assert.notEqual(expected.kind, 'modern', JSON.stringify(broken));
      assert.deepEqual(classifyPost({ ...std, body: broken }), expected, JSON.stringify(broken));
    }
  });

  it('initialize is classified from its own protocolVersion every time', () => {
    forgetClassifications();
    const std = { protocolVersionHeader: undefined, mcpMethodHeader: undefined, mcpNameHeader: undefined };
    for (const protocolVersion of ['2025-06-18', '2025-11-25', '2025-03-26', 7]) {
      const body = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      };
      assert.deepEqual(classifyPost({ ...std, body }), sdk({ ...std, body }), String(protocolVersion));
    }
  });
});
