import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TEST_CERT, TEST_KEY } from './oauth-tls.js';

export interface OtlpPost {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Every byte the exporter sent, as received (no decoding beyond the bytes). */
  readonly raw: Buffer;
  readonly body: any;
}

/**
 * An OTLP/HTTP collector on loopback (https, TEST_CERT): keeps every POST with its raw bytes and
 * its decoded JSON body (the exporters' JSON encoding), answering 200 `{}` as a collector does.
 */
export async function startOtlpCollector(): Promise<{
  readonly origin: string;
  readonly posts: OtlpPost[];
  /** Every span received, flattened out of resourceSpans / scopeSpans. */
  spans(): any[];
  /** Every metric received, by name, flattened out of resourceMetrics / scopeMetrics. */
  metrics(): Map<string, any[]>;
  close(): Promise<void>;
}> {
  const posts: OtlpPost[] = [];
  const server: Server = createServer({ cert: TEST_CERT, key: TEST_KEY }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
      posts.push({ path: req.url ?? '', headers: req.headers, raw, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    spans: () =>
      posts
        .filter((p) => p.path === '/v1/traces')
        .flatMap((p) => p.body?.resourceSpans ?? [])
        .flatMap((r: any) => r.scopeSpans ?? [])
        .flatMap((s: any) => s.spans ?? []),
    metrics: () => {
      const out = new Map<string, any[]>();
      for (const p of posts.filter((x) => x.path === '/v1/metrics'))
        for (const r of p.body?.resourceMetrics ?? [])
          for (const s of r.scopeMetrics ?? [])
            for (const m of s.metrics ?? []) out.set(m.name, [...(out.get(m.name) ?? []), m]);
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A span's attributes as a plain object (OTLP JSON: [{key, value: {stringValue|intValue|…}}]). */
export function spanAttributes(span: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of span.attributes ?? []) {
    const v = a.value ?? {};
    out[a.key] =
      v.stringValue ??
      v.intValue ??
      v.doubleValue ??
      v.boolValue ??
      (v.arrayValue ? (v.arrayValue.values ?? []).map((x: any) => x.stringValue) : undefined);
  }
  return out;
}

export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
