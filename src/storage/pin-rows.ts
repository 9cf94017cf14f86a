import type { UpstreamPins } from './contracts.js';

/** A row of pins_approved. */
export interface ApprovedRow {
  upstream: string;
  pin_key: string;
  hash: string;
  approved_at: string;
  definition: string;
}

/** A row of pins_rejected. */
export interface RejectedRow {
  upstream: string;
  pin_key: string;
  hash: string;
  rejected_at: string;
}

/** Pins from the two tables' rows (rejections in position order), as the SQL backends read them. */
export function pinsFromRows(
  approved: readonly ApprovedRow[],
  rejected: readonly RejectedRow[],
): Record<string, UpstreamPins> {
  const out: Record<string, UpstreamPins> = {};
  const of = (name: string) => (out[name] ??= { approved: {}, rejected: {} });
  for (const r of approved) {
    of(r.upstream).approved[r.pin_key] = {
      hash: r.hash,
      approvedAt: r.approved_at,
      definition: JSON.parse(r.definition) as unknown,
    };
  }
  for (const r of rejected) {
    (of(r.upstream).rejected[r.pin_key] ??= []).push({ hash: r.hash, rejectedAt: r.rejected_at });
  }
  return out;
}

/**
 * A definition as stored: JSON text. Refuses what JSON cannot carry (undefined), so a stored
 * approval always parses back to a definition.
 */
export function definitionText(definition: unknown): string {
  const text = JSON.stringify(definition);
  if (text === undefined) throw new TypeError('a pinned definition must be JSON');
  return text;
}
