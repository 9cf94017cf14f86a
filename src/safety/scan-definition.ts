import {
  detectInjection,
  MALICIOUS_THRESHOLD,
  SUSPICIOUS_THRESHOLD,
  type InjectionFinding,
  type InjectionRule,
  type InjectionVerdict,
} from './detect-injection.js';
import { jsonPathKey } from './redact.js';

export interface DefinitionFinding extends Omit<InjectionFinding, 'rule'> {
  /** An injection rule, or `known-secret`: a secret value the gateway knows was found (and redacted). */
  readonly rule: InjectionRule | 'known-secret';
  /** JSON path of the string the finding is in; a key is reported as its own path plus `{key}`. */
  readonly path: string;
}

export interface DefinitionReport {
  readonly verdict: InjectionVerdict;
  readonly score: number;
  readonly findings: DefinitionFinding[];
}

// Identifiers (tool names, parameter names, object keys) use `_`, `-` and `.` where prose uses
// spaces; swapping them one for one lets the prose rules read `ignore_previous_instructions`
// while offsets still point into the original identifier.
function humanise(identifier: string): string {
  return identifier.replace(/[_\-.]/g, ' ');
}

/**
 * Scans every string of a tool definition as a tool description: name, title, description,
 * every key and value of the input/output schemas (parameter names, descriptions, enum values,
 * defaults, examples, nested schemas) and annotations. Poison can sit anywhere a model reads,
 * including places a human reviewer skims past such as an enum value or a parameter name.
 *
 * The score is the highest of any single string and of all strings read together, so an
 * instruction split across two fields is still seen whole.
 */
export function scanDefinition(definition: unknown): DefinitionReport {
  const findings: DefinitionFinding[] = [];
  const all: string[] = [];
  let score = 0;

  const check = (text: string, path: string): void => {
    if (text.trim() === '') return;
    all.push(text);
    const report = detectInjection(text, { kind: 'tool-description' });
    score = Math.max(score, report.score);
    for (const f of report.findings) findings.push({ ...f, path });
  };

  const walk = (value: unknown, path: string, depth: number): void => {
    if (depth > 64) return;
    if (typeof value === 'string') {
      check(path.endsWith('.name') ? humanise(value) : value, path);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        const keyPath = `${path}${jsonPathKey(key)}`;
        check(humanise(key), `${keyPath}{key}`);
        walk(v, keyPath, depth + 1);
      }
    }
  };

  walk(definition, '$', 0);
  score = Math.max(score, detectInjection(all.join('\n'), { kind: 'tool-description' }).score);
  const verdict: InjectionVerdict =
    score >= MALICIOUS_THRESHOLD ? 'malicious' : score >= SUSPICIOUS_THRESHOLD ? 'suspicious' : 'clean';
  return { verdict, score, findings };
}
