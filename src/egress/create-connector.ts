import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { buildConnector } from 'undici';
import type { AddressAllowList } from './classify-address.js';
import { assertAddressAllowed } from './check-url.js';
import { EgressError } from './errors.js';
import { loadUndici } from './load-undici.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Turns a host name into every address it resolves to. Injectable so tests can stage rebinding. */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/**
 * The DNS lookup handed to the socket. The address the socket connects to is one that this very
 * function resolved and judged, so a name that answers "public" to a check and "127.0.0.1" a
 * moment later (DNS rebinding) cannot slip between check and use. If any answer is forbidden the
 * whole name is refused: a resolver that mixes public and internal answers is not to be trusted
 * to pick for us.
 */
function createCheckedLookup(resolve: Resolve, allow: AddressAllowList): LookupFunction {
  return (hostname, options, callback) => {
    const settle = (answer: readonly ResolvedAddress[]): void => {
      const family = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = answer.filter((a) => family === 0 || a.family === family);
      const first = usable[0];
      if (first === undefined) {
        const err = new EgressError('egress-network-error', `Could not resolve host "${hostname}".`);
        if (options.all) callback(err, []);
        else callback(err, '', 0);
      } else if (options.all) {
        callback(
          null,
          usable.map((a): LookupAddress => ({ address: a.address, family: a.family })),
        );
      } else {
        callback(null, first.address, first.family);
      }
    };
    resolve(hostname).then(
      (answer) => {
        let failure: unknown;
        try {
          for (const a of answer) assertAddressAllowed(a.address, hostname, allow);
        } catch (err) {
          failure = err;
        }
        if (failure === undefined) settle(answer);
        else if (options.all) callback(failure as Error, []);
        else callback(failure as Error, '', 0);
      },
      (err: unknown) => {
        const failure = new EgressError('egress-network-error', `Could not resolve host "${hostname}".`, {
          cause: err,
        });
        if (options.all) callback(failure, []);
        else callback(failure, '', 0);
      },
    );
  };
}

/**
 * undici's connector with the checked lookup, plus a last look at the connected peer: whatever
 * path Node took to the socket (an IP literal skips the lookup entirely), the address actually
 * connected to must pass the same judgement, or the socket is destroyed before a byte is sent.
 */
export async function createCheckedConnector(
  resolve: Resolve,
  allow: AddressAllowList,
  timeoutMs: number,
  /** Extra trust anchors for TLS (PEM), for a receiver with a private CA (the syslog sink). */
  tls?: { readonly ca?: string },
): Promise<buildConnector.connector> {
  // undici (about a hundred modules) is loaded by the first connection, not at start.
  const { buildConnector } = await loadUndici();
  const connect = buildConnector({
    lookup: createCheckedLookup(resolve, allow),
    timeout: timeoutMs,
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
  });
  return (options, callback) => {
    connect(options, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      const peer = socket.remoteAddress;
      try {
        if (peer === undefined)
          throw new EgressError('egress-network-error', 'The connection closed before use.');
        assertAddressAllowed(peer, options.hostname, allow);
      } catch (failure) {
        socket.destroy();
        callback(failure as Error, null);
        return;
      }
      callback(null, socket);
    });
  };
}
