import type { DefinitionFinding, DefinitionReport } from './scan-definition.js';
import { createRedactor, jsonPathKey } from './redact.js';
import { sanitiseText } from './sanitise-text.js';

/** A known secret value found in a definition (and replaced) at `path`. */
export interface LeakedSecret {
  readonly rule: 'known-secret';
  /** JSON path of the string; a key is reported as its own path plus `{key}`, as scans do. */
  readonly path: string;
}

export interface RedactedDefinition<T> {
  readonly value: T;
  readonly leaks: readonly LeakedSecret[];
}

const MARKER = '[REDACTED:known-secret]';

/**
 * Redacts the exact secret values the gateway knows (in every encoding the redactor knows) from
 * every string (and number) of a tool definition, keys included, before it is
 * hashed, stored, scanned or served. Token-format patterns are left alone: in a description
 * they are mostly examples, and rewriting them would change every pinned hash. A string in
 * which a secret only shows once invisible characters are removed (`sk-…` split by zero-width
 * spaces) is replaced whole, since there is no exact span to cut.
 */
export function createDefinitionRedactor(secrets: readonly string[]) {
  const redactor = createRedactor({ secrets, patterns: false });
  /** The text with secrets cut out, or undefined when it holds none. */
  const clean = (text: string): string | undefined => {
    const direct = redactor.redact(text);
    if (direct.findings.length > 0) return direct.text;
    return redactor.redact(sanitiseText(text).text).findings.length > 0 ? MARKER : undefined;
  };

  return function redactDefinition<T>(definition: T): RedactedDefinition<T> {
    const leaks: LeakedSecret[] = [];
    const walk = (v: unknown, path: string, depth: number): unknown => {
      if (typeof v === 'string') {
        const cleaned = clean(v);
        if (cleaned === undefined) return v;
        leaks.push({ rule: 'known-secret', path });
        return cleaned;
      }
      // A number can be a secret too (an all-digit credential as a `default` or an enum value).
      if (typeof v === 'number' && Number.isFinite(v)) {
        if (clean(String(v)) === undefined) return v;
        leaks.push({ rule: 'known-secret', path });
        return MARKER;
      }
      if (depth > 64 || v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        const cleaned = clean(k);
        // The path is built from the redacted key: it is stored and shown too.
        const key = cleaned ?? k;
        const keyPath = `${path}${jsonPathKey(key)}`;
        if (cleaned !== undefined) leaks.push({ rule: 'known-secret', path: `${keyPath}{key}` });
        // defineProperty, not assignment: a "__proto__" key from hostile input must stay a key.
        Object.defineProperty(out, key, {
          value: walk(item, keyPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    };
    return { value: walk(definition, '$', 0) as T, leaks };
  };
}

/**
 * The scan report of a definition that carried known secrets: malicious whatever else it says,
 * so trust-on-first-use never approves it and a bulk approval skips it (it must be approved by
 * name, once a person has seen the redacted definition).
 */
export function flagLeaks(report: DefinitionReport, leaks: readonly LeakedSecret[]): DefinitionReport {
  if (leaks.length === 0) return report;
  const findings: DefinitionFinding[] = [
    ...leaks.map((l) => ({ rule: l.rule, path: l.path, start: 0, end: 0 })),
    ...report.findings,
  ];
  return { verdict: 'malicious', score: 1, findings };
}
