import { classifyInboundRequest } from '@modelcontextprotocol/server';

/**
 * The SDK's era classification of one POST body, remembered for bodies that classify alike.
 *
 * `classifyInboundRequest` validates the whole message with zod on every request (about 60–100
 * µs, and much of the gateway's garbage). Its outcome depends only on a small part of the body,
 * fixed by the SDK's schemas: the top-level keys (the JSON-RPC schemas are strict), `jsonrpc`,
 * the id's kind (a string, or an integer), `method`, and `params._meta` (`params` itself is a
 * loose object: its other keys take any value). So the body is reduced to exactly that part —
 * the id replaced by a representative of its kind — and the outcome for the reduced body, which
 * is the outcome for the body, is kept under the reduced body's JSON text. A client sends the
 * same envelope on every call, so after its first call each is a lookup.
 *
 * Only shapes the reduction is exact for are remembered; anything else (a posted response, an
 * extra top-level key, params that are not an object, an id of another kind, a large `_meta`)
 * goes to the SDK as it is, every time. Refusals are never remembered (they are rare and some
 * carry request data). classify-request.test.ts holds this equal to the SDK on every case of
 * check-request.test.ts and on mutated bodies, first and second time.
 */

type Outcome = ReturnType<typeof classifyInboundRequest>;
export interface ClassifyInput {
  readonly protocolVersionHeader: string | undefined;
  readonly mcpMethodHeader: string | undefined;
  readonly mcpNameHeader: string | undefined;
  readonly body: unknown;
}

const TOP_LEVEL = new Set(['jsonrpc', 'id', 'method', 'params']);
/** Entries kept; the least recently added goes first. Each is a few hundred bytes. */
const CAPACITY = 256;
/** A reduced body longer than this is not remembered (one client's `_meta` is far shorter). */
const MAX_KEY = 2048;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The part of the body the classification reads, as JSON text; undefined when the body's shape
 * is not one the reduction is proven exact for.
 */
function reducedKey(input: ClassifyInput): string | undefined {
  const body = input.body;
  if (!isObject(body)) return undefined;
  for (const k in body) if (!TOP_LEVEL.has(k)) return undefined;
  // Own enumerable keys only: JSON.parse makes nothing else, and `in` on a prototype key
  // (a body built elsewhere) would not be what the schemas see.
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const { jsonrpc, id, method, params } = body;
  let idKind: string | number;
  if (typeof id === 'string') idKind = '';
  else if (typeof id === 'number' && Number.isSafeInteger(id)) idKind = 0;
  else return undefined; // absent (a notification), null, a fraction: to the SDK each time
  if (typeof method !== 'string' || typeof jsonrpc !== 'string') return undefined;
  // The legacy handshake's classification also reads params.protocolVersion.
  if (method === 'initialize') return undefined;
  let meta: unknown;
  if (params !== undefined) {
    if (!isObject(params) || Object.getPrototypeOf(params) !== Object.prototype) return undefined;
    meta = Object.hasOwn(params, '_meta') ? params._meta : undefined;
  }
  const key = JSON.stringify([
    input.protocolVersionHeader ?? null,
    input.mcpMethodHeader ?? null,
    input.mcpNameHeader ?? null,
    jsonrpc,
    idKind,
    method,
    params === undefined ? 0 : 1,
    meta === undefined ? null : [meta],
  ]);
  return key.length <= MAX_KEY ? key : undefined;
}

/** The reduced body the key stands for: what the SDK classifies in its place. */
function reducedBody(body: Record<string, unknown>): Record<string, unknown> {
  const id = typeof body.id === 'string' ? '' : 0;
  const out: Record<string, unknown> = { jsonrpc: body.jsonrpc, id, method: body.method };
  if (body.params !== undefined) {
    const params = body.params as Record<string, unknown>;
    out.params = Object.hasOwn(params, '_meta') ? { _meta: params._meta } : {};
  }
  return out;
}

const remembered = new Map<string, Outcome>();

/** The outcome as the SDK gives it for this body, with `message` the body itself. */
export function classifyPost(input: ClassifyInput): Outcome {
  const direct = () =>
    classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: input.protocolVersionHeader,
      mcpMethodHeader: input.mcpMethodHeader,
      mcpNameHeader: input.mcpNameHeader,
      body: input.body,
    });
  const key = reducedKey(input);
  if (key === undefined) return direct();
  let outcome = remembered.get(key);
  if (outcome === undefined) {
    // Classified from the reduced body, so what is kept cannot hold anything of this request
    // beyond the key itself.
    outcome = classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: input.protocolVersionHeader,
      mcpMethodHeader: input.mcpMethodHeader,
      mcpNameHeader: input.mcpNameHeader,
      body: reducedBody(input.body as Record<string, unknown>),
    });
    if (outcome.kind === 'reject') return direct();
    if (remembered.size >= CAPACITY) remembered.delete(remembered.keys().next().value!);
    remembered.set(key, outcome);
  }
  return 'message' in outcome ? ({ ...outcome, message: input.body } as Outcome) : { ...outcome };
}

/** For tests: forget every remembered outcome. */
export function forgetClassifications(): void {
  remembered.clear();
}
