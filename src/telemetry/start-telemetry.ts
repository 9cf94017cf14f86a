import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { classifyAddress, createEgressGuard, INTERNAL_NETWORK_RANGES } from '../egress/index.js';
import { PortcullisError } from '../errors/index.js';
import { resolveSecret } from '../secrets/index.js';
import type { CallTracer } from './call-tracer.js';
import type { OtlpConfig } from './config.js';

export interface Telemetry {
  readonly tracer: CallTracer;
  /** The resolved header values, for the redactor's known secrets. */
  readonly secrets: readonly string[];
  /** Flushes what is pending, then stops the exporters. */
  close(): Promise<void>;
}

/**
 * Starts the OTLP exporters, or returns undefined when telemetry is off, in which case nothing
 * of OpenTelemetry is imported (export-otlp.ts is loaded only here, dynamically).
 *
 * Like every other way out, the export goes through an egress guard that allows only the
 * collector's host, and a private or loopback collector only when the operator says so
 * (`allowPrivateAddress`, as `audit.siem` does). A collector written as an address the guard
 * would refuse is refused here, at start, rather than at each export.
 */
export async function startTelemetry(
  config: OtlpConfig,
  deps: {
    readonly env: NodeJS.ProcessEnv;
    readonly dataDir: string;
    readonly version: string;
    readonly logger: Logger;
  },
): Promise<Telemetry | undefined> {
  if (!config.enabled) return undefined;
  const endpoint = new URL(config.endpoint ?? '');
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  if (!config.allowPrivateAddress) {
    const range =
      isIP(host) !== 0 ? classifyAddress(host) : /^localhost\.?$/i.test(host) ? 'loopback' : undefined;
    if (range !== undefined)
      throw new PortcullisError(
        'config-invalid',
        `telemetry.otlp.endpoint ${endpoint.origin} is a ${range} address, which the egress guard refuses; ` +
          'set telemetry.otlp.allowPrivateAddress: true for a collector on this host or network.',
      );
  }
  const headers: Record<string, string> = {};
  for (const [name, ref] of Object.entries(config.headers)) {
    try {
      headers[name.toLowerCase()] = resolveSecret(ref, deps.env);
    } catch (err) {
      throw new PortcullisError(
        'config-invalid',
        `telemetry.otlp.headers.${name}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  let ca: string | undefined;
  if (config.ca !== undefined) {
    try {
      ca = readFileSync(path.resolve(deps.dataDir, config.ca), 'utf8');
    } catch (err) {
      throw new PortcullisError('config-invalid', 'telemetry.otlp.ca: the CA file cannot be read.', {
        cause: err,
      });
    }
  }
  const guard = createEgressGuard({
    allowHosts: [host],
    ...(config.allowPrivateAddress ? { allowAddresses: INTERNAL_NETWORK_RANGES } : {}),
    timeoutMs: 10_000,
  });
  const { exportOtlp } = await import('./export-otlp.js');
  const exporter = exportOtlp({
    endpoint,
    headers,
    serviceName: config.serviceName,
    version: deps.version,
    exportIntervalMs: config.exportIntervalMs,
    connect: (target) => guard.connectTls({ ...target, ...(ca !== undefined ? { ca } : {}) }),
    logger: deps.logger,
  });
  deps.logger.info({ endpoint: endpoint.origin }, 'OpenTelemetry export on (OTLP/HTTP, JSON)');
  return {
    tracer: exporter.tracer,
    secrets: Object.values(headers),
    async close() {
      await exporter.close();
      await guard.close();
    },
  };
}
