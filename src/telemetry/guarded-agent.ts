import https from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

/** Opens a checked TLS connection to the collector (the egress guard's `connectTls`). */
export type ConnectCollector = (target: { host: string; port: number }) => Promise<Duplex>;

/**
 * An https Agent whose every connection is opened by the egress guard: the host allow-list,
 * the address check at connect time and certificate verification are the guard's, so the OTLP
 * exporter cannot reach anything the guard would refuse (its own agent would connect anywhere,
 * and would honour proxy settings the gateway does not).
 */
export class GuardedAgent extends https.Agent {
  readonly #connect: ConnectCollector;

  constructor(connect: ConnectCollector) {
    super({ keepAlive: true, maxSockets: 4 });
    this.#connect = connect;
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.hostname ?? options.host ?? '').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 443);
    this.#connect({ host, port }).then(
      (socket) => callback?.(null, socket),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as never),
    );
    return undefined;
  }
}
