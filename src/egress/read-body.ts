import { EgressError } from './errors.js';

/**
 * Reads a response body into memory, refusing as soon as it passes `maxBytes` rather than after
 * the fact, so a hostile server cannot make the gateway buffer an endless stream.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown },
  maxBytes: number,
  host: string,
  /** Each chunk within the cap, as it arrives. */
  onChunk?: (chunk: Uint8Array) => void,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw tooLarge(host, maxBytes);
    }
    chunks.push(chunk);
    onChunk?.(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function tooLarge(host: string, maxBytes: number): EgressError {
  return new EgressError(
    'egress-response-too-large',
    `Refused: the response from "${host}" is larger than the ${maxBytes}-byte limit.`,
  );
}
