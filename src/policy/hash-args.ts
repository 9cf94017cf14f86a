import { createHash } from 'node:crypto';
import { canonicalJson, CanonicalJsonError } from '../audit/index.js';

/**
 * SHA-256 (base64url) of the canonical JSON (RFC 8785) of a call's arguments: what a
 * confirmation is bound to. Canonical, so the same arguments hash the same whatever order a
 * client sends their keys in, and any change to any value gives another hash. Arguments that
 * are not I-JSON (lone surrogates) hash their exact serialisation under another prefix, so they
 * never collide with canonical ones nor with each other.
 */
export function hashArgs(args: unknown): string {
  let text: string;
  try {
    text = `c:${canonicalJson(args ?? {})}`;
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    text = `r:${JSON.stringify(args)}`;
  }
  return createHash('sha256').update(text).digest('base64url');
}
