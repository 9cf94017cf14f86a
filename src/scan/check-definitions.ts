import {
  createRedactor,
  detectInjection,
  revealHidden,
  scanDefinition,
  type DefinitionReport,
} from '../safety/index.js';
import type { Listed } from './list-inventory.js';
import { finding, type Finding, type FindingLocation } from './report.js';
import { isObject } from './session.js';

/**
 * The passive checks of what a server lists: poisoning (the gateway's own detector), secrets
 * (the gateway's redaction patterns), and the shape of each tool (schemas, annotations, generic
 * capabilities). Pure: definitions in, findings out.
 */

/** Identifier words: `deleteAllFiles`, `delete_all-files.v2` → `delete all files v2`. */
export function wordsOf(identifier: string): string {
  return identifier
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/[_\-.:/]+/g, ' ')
    .toLowerCase();
}

const DESTRUCTIVE_WORDS =
  /\b(?:delete|remove|rm|drop|destroy|erase|purge|wipe|truncate|kill|terminate|revoke|pay|payment|transfer|send|refund|charge|withdraw|deploy|shutdown|reset|overwrite|uninstall|unlink|rmdir|archive|ban|suspend|expire|forget|clear)\b/;
const WRITE_WORDS =
  /\b(?:create|add|update|set|write|edit|move|rename|insert|upload|post|put|patch|save|modify|append|commit|push|merge|publish|install|run|exec|execute|start|stop|restart|apply|approve|grant|invite|book|order|submit|trigger|enable|disable|assign|register|import|sync|replace|store|upsert|mutate|change|toggle|schedule|notify|email|message|call|invoke)\b/;

/** A tool whose name says it destroys, sends or pays. */
export function looksDestructive(name: string): boolean {
  return DESTRUCTIVE_WORDS.test(wordsOf(name));
}

const READ_VERBS =
  /^(?:get|list|read|lookup|look|search|find|fetch|show|describe|query|count|check|view|inspect|browse|preview|resolve|validate|explain|summari[sz]e|whoami|echo|ping|status|health)\b/;

/**
 * A tool whose name says it changes something (or destroys): never probed, whatever its
 * annotations say. A name that starts with a read verb (`lookup_order`, `get_post`) is read by
 * that verb — unless a destructive word appears anywhere in it (`get_and_delete`).
 */
export function looksLikeWrite(name: string): boolean {
  const words = wordsOf(name);
  if (DESTRUCTIVE_WORDS.test(words)) return true;
  return !READ_VERBS.test(words) && WRITE_WORDS.test(words);
}

const annotationsOf = (tool: Record<string, unknown>): Record<string, unknown> =>
  isObject(tool.annotations) ? tool.annotations : {};

/**
 * Characters that hide or reorder text: bidi embeddings, overrides, isolates and marks, zero-width
 * characters, tag characters, and C0/C1 controls other than tab, newline and carriage return.
 * (Variation selectors, joiners and no-break spaces occur in ordinary emoji and prose, so they
 * are left to the detector, which judges them in context.)
 */
const SEVERE_HIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u180e]|[\u{e0000}-\u{e007f}]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/u;

/** Every string of a value (keys too), with its JSON path. */
function* stringsOf(value: unknown, path = '$', depth = 0): Generator<[string, string]> {
  if (depth > 32) return;
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value))
    for (const [i, v] of value.entries()) yield* stringsOf(v, `${path}[${i}]`, depth + 1);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      yield [k, `${p}{key}`];
      yield* stringsOf(v, p, depth + 1);
    }
  }
}

function locationOf(item: Listed, path?: string): FindingLocation {
  return { kind: item.kind, name: item.name, ...(path !== undefined ? { path } : {}) };
}

/** A short quote of what a rule matched, for the evidence line. */
function quote(text: string, start: number, end: number): string {
  const s = text.slice(Math.max(0, start), Math.min(text.length, Math.max(end, start + 1)));
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

function valueAt(raw: unknown, path: string): string | undefined {
  for (const [s, p] of stringsOf(raw)) if (p === path) return s;
  return undefined;
}

/** Poisoning: the detector over every string of the definition (instructions as one text). */
export function checkPoisoning(target: string, item: Listed): Finding[] {
  let report: DefinitionReport;
  if (item.kind === 'instructions') {
    const text = typeof item.raw.instructions === 'string' ? item.raw.instructions : '';
    const r = detectInjection(text, { kind: 'tool-description' });
    report = { ...r, findings: r.findings.map((f) => ({ ...f, path: '$.instructions' })) };
  } else {
    report = scanDefinition(item.raw);
  }
  const out: Finding[] = [];
  if (report.verdict !== 'clean') {
    const rules = [...new Set(report.findings.map((f) => f.rule))];
    const first = report.findings[0];
    const path = first?.path.replace(/\{key\}$/, '');
    const text = first ? valueAt(item.raw, first.path) : undefined;
    const seen = first && text !== undefined ? `: “${quote(text, first.start, first.end)}”` : '';
    out.push(
      finding(
        report.verdict === 'malicious' ? 'poisoning/injection' : 'poisoning/suspicious-text',
        target,
        locationOf(item, path),
        `detector score ${report.score.toFixed(2)} (${rules.join(', ')}) at ${path ?? '$'}${seen}`,
      ),
    );
  }
  const hidden: string[] = [];
  for (const [s, path] of stringsOf(item.kind === 'instructions' ? item.raw.instructions : item.raw)) {
    if (!SEVERE_HIDDEN.test(s)) continue;
    const labels = revealHidden(s)
      .filter((p) => p.kind === 'hidden')
      .map((p) => (p.kind === 'hidden' ? p.label : ''));
    hidden.push(`${path}: ${[...new Set(labels)].slice(0, 3).join(', ')}`);
  }
  if (hidden.length > 0) {
    out.push(finding('poisoning/hidden-characters', target, locationOf(item), hidden.slice(0, 3).join('; ')));
  }
  return out;
}

const secretFinder = createRedactor({ patterns: true });

/** Secrets: the gateway's token and key patterns over every string of the definition. */
export function checkDefinitionSecrets(target: string, item: Listed): Finding[] {
  const { findings } = secretFinder.redactDeep(item.raw);
  const byPath = new Map<string, string[]>();
  for (const f of findings) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f.rule]);
  return [...byPath].map(([path, rules]) =>
    finding(
      'secrets/in-definition',
      target,
      locationOf(item, path),
      `${[...new Set(rules)].join(', ')} at ${path} (value not shown)`,
    ),
  );
}

/** Secrets in any text the server sent back (error messages, results). */
export function findSecretsIn(value: unknown): string[] {
  return [...new Set(secretFinder.redactDeep(value).findings.map((f) => f.rule))];
}

interface Param {
  readonly path: string;
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

/** The properties of a schema, nested objects and array items included (bounded depth). */
function paramsOf(schema: Record<string, unknown>, prefix = '', depth = 0): Param[] {
  if (depth > 5 || !isObject(schema.properties)) return [];
  const out: Param[] = [];
  for (const [name, s] of Object.entries(schema.properties)) {
    if (!isObject(s)) continue;
    const path = `${prefix}${name}`;
    out.push({ path, name, schema: s });
    out.push(...paramsOf(s, `${path}.`, depth + 1));
    if (isObject(s.items)) out.push(...paramsOf(s.items, `${path}[].`, depth + 1));
  }
  return out;
}

const typeOf = (s: Record<string, unknown>): string | undefined =>
  typeof s.type === 'string'
    ? s.type
    : Array.isArray(s.type) && s.type.includes('string')
      ? 'string'
      : undefined;
const constrained = (s: Record<string, unknown>): boolean =>
  ['enum', 'const', 'pattern', 'format'].some((k) => k in s) || typeof s.maxLength === 'number';
const hasTypeRule = (s: Record<string, unknown>): boolean =>
  ['type', 'enum', 'const', '$ref', 'anyOf', 'oneOf', 'allOf'].some((k) => k in s);

const GENERIC_NAME =
  /\b(?:shell|bash|sh|zsh|powershell|cmd|exec|execute|eval|sql|run command|run script|run code|run query|execute query|execute sql|query sql|raw query|python|javascript|js eval|system)\b/;
const GENERIC_DESCRIPTION =
  /\b(?:execut|run)\w*\s+(?:an?\s+|any\s+|arbitrary\s+|the\s+given\s+|raw\s+)*(?:shell|bash|system|terminal|sql|database)\s+(?:commands?|quer(?:y|ies)|statements?|scripts?)|\beval\w*\s+(?:arbitrary\s+|any\s+)?(?:javascript|python|code|expressions?)|\braw\s+sql\b/i;
const GENERIC_PARAMS =
  /^(?:command|cmd|shell|script|sql|sql_?query|statement|code|expression|query_?string_?sql)$/i;
const TARGET_PARAMS =
  /(?:^|[_-])(?:path|paths|file|files|filename|filepath|dir|directory|folder|url|uri|endpoint|href|link|host)$/i;
const CREDENTIAL_PARAMS =
  /^(?:api[_-]?key|apikey|token|access[_-]?token|auth[_-]?token|bearer|password|passwd|pwd|secret|client[_-]?secret|authorization|credentials?|private[_-]?key|session[_-]?token|cookie)$/i;
const ENUM_PROSE =
  /\b(?:one of|possible values|allowed values|valid values|must be either|either\s+['"`]?\w+['"`]?\s+or)\b/i;

/** The shape checks of one tool: what its name, annotations and schemas say it can do. */
export function checkToolShape(target: string, item: Listed): Finding[] {
  if (item.kind !== 'tool') return [];
  const tool = item.raw;
  const out: Finding[] = [];
  const at = (path?: string) => locationOf(item, path);
  const ann = annotationsOf(tool);
  const description = typeof tool.description === 'string' ? tool.description : '';
  const schema = isObject(tool.inputSchema) ? tool.inputSchema : undefined;
  const params = schema ? paramsOf(schema) : [];

  // Authorization: destructive names and what the annotations claim.
  if (looksDestructive(item.name)) {
    if (ann.readOnlyHint === true) {
      out.push(
        finding(
          'authz/destructive-marked-read-only',
          target,
          at('$.annotations.readOnlyHint'),
          `“${item.name}” is annotated readOnlyHint: true`,
        ),
      );
    } else if (ann.destructiveHint !== true) {
      out.push(
        finding(
          'authz/destructive-unannotated',
          target,
          at('$.annotations'),
          `“${item.name}” has ${'destructiveHint' in ann ? `destructiveHint: ${String(ann.destructiveHint)}` : 'no destructiveHint'}`,
        ),
      );
    }
  }

  // Generic capabilities.
  const genericParams = params.filter(
    (p) => GENERIC_PARAMS.test(p.name) && typeOf(p.schema) === 'string' && !('enum' in p.schema),
  );
  const sqlQuery =
    params.find((p) => /^query$/i.test(p.name)) && /\bsql\b/i.test(`${item.name} ${description}`);
  if (
    GENERIC_NAME.test(wordsOf(item.name)) ||
    GENERIC_DESCRIPTION.test(description) ||
    genericParams.length > 0 ||
    sqlQuery
  ) {
    const why = [
      GENERIC_NAME.test(wordsOf(item.name)) ? `name “${item.name}”` : undefined,
      GENERIC_DESCRIPTION.test(description) ? 'description says it executes commands or queries' : undefined,
      genericParams.length > 0
        ? `free-text parameter ${genericParams.map((p) => p.path).join(', ')}`
        : undefined,
      sqlQuery ? 'a SQL query parameter' : undefined,
    ].filter(Boolean);
    out.push(finding('tools/generic-execution', target, at(), why.join('; ')));
  }
  const targets = params.filter(
    (p) =>
      TARGET_PARAMS.test(p.name) &&
      typeOf(p.schema) === 'string' &&
      !['enum', 'const', 'pattern'].some((k) => k in p.schema),
  );
  if (targets.length > 0) {
    out.push(
      finding(
        'tools/arbitrary-target',
        target,
        at('$.inputSchema'),
        `unconstrained ${targets
          .map((p) => p.path)
          .slice(0, 5)
          .join(', ')}`,
      ),
    );
  }
  const credentials = params.filter((p) => CREDENTIAL_PARAMS.test(p.name));
  if (credentials.length > 0) {
    out.push(
      finding(
        'auth/credential-argument',
        target,
        at('$.inputSchema'),
        `parameter ${credentials.map((p) => p.path).join(', ')}`,
      ),
    );
  }

  // Input schemas.
  const props = schema && isObject(schema.properties) ? Object.keys(schema.properties) : [];
  if (!schema) {
    out.push(finding('tools/schema-accepts-anything', target, at('$.inputSchema'), 'no input schema'));
  } else if (props.length === 0 && schema.additionalProperties !== false) {
    const open =
      schema.additionalProperties === true || isObject(schema.additionalProperties) || !('type' in schema);
    if (open) {
      out.push(
        finding(
          'tools/schema-accepts-anything',
          target,
          at('$.inputSchema'),
          `schema ${JSON.stringify(schema).slice(0, 80)} accepts any arguments`,
        ),
      );
    } else {
      out.push(
        finding(
          'tools/open-schema',
          target,
          at('$.inputSchema'),
          'no parameters, but unknown parameters are not refused',
        ),
      );
    }
  } else if (props.length > 0) {
    const untyped = params.filter(
      (p) => !p.path.includes('.') && !p.path.includes('[]') && !hasTypeRule(p.schema),
    );
    if (untyped.length === props.length) {
      out.push(
        finding(
          'tools/schema-accepts-anything',
          target,
          at('$.inputSchema'),
          `no parameter has a type (${props.slice(0, 5).join(', ')})`,
        ),
      );
    }
    if (schema.additionalProperties !== false) {
      out.push(
        finding(
          'tools/open-schema',
          target,
          at('$.inputSchema.additionalProperties'),
          'additionalProperties is not false',
        ),
      );
    }
  }
  const unbounded = params
    .filter(
      (p) =>
        (typeOf(p.schema) === 'string' && !constrained(p.schema)) ||
        (p.schema.type === 'array' && typeof p.schema.maxItems !== 'number'),
    )
    .map((p) => p.path);
  if (unbounded.length > 0) {
    out.push(
      finding(
        'tools/unbounded-input',
        target,
        at('$.inputSchema'),
        `${unbounded.slice(0, 5).join(', ')}${unbounded.length > 5 ? ` and ${unbounded.length - 5} more` : ''}`,
      ),
    );
  }
  const prose = params.filter(
    (p) =>
      typeOf(p.schema) === 'string' &&
      !('enum' in p.schema) &&
      !('const' in p.schema) &&
      typeof p.schema.description === 'string' &&
      ENUM_PROSE.test(p.schema.description),
  );
  if (prose.length > 0) {
    out.push(
      finding('tools/enum-in-prose', target, at('$.inputSchema'), `${prose.map((p) => p.path).join(', ')}`),
    );
  }

  // Annotations and output.
  if (!('readOnlyHint' in ann) && !('destructiveHint' in ann)) {
    out.push(
      finding(
        'tools/no-annotations',
        target,
        at('$.annotations'),
        'neither readOnlyHint nor destructiveHint',
      ),
    );
  }
  if (!isObject(tool.outputSchema)) {
    out.push(finding('tools/no-output-schema', target, at('$.outputSchema'), 'no outputSchema'));
  }
  return out;
}

/** Resource templates whose variable is a whole path or URL. */
export function checkTemplateShape(target: string, item: Listed): Finding[] {
  if (item.kind !== 'resource-template') return [];
  const vars = [...item.name.matchAll(/\{[+#]?([^}]*)\}/g)].flatMap((m) => m[1]!.split(','));
  const open = vars.filter((v) => TARGET_PARAMS.test(v.replace(/\*$/, '')) || item.name.includes('{+'));
  return open.length > 0
    ? [
        finding(
          'tools/arbitrary-target',
          target,
          locationOf(item),
          `template variable ${open.join(', ')} takes any path or URL`,
        ),
      ]
    : [];
}

/** Every passive definition check of one item. */
export function checkItem(target: string, item: Listed): Finding[] {
  return [
    ...checkPoisoning(target, item),
    ...checkDefinitionSecrets(target, item),
    ...checkToolShape(target, item),
    ...checkTemplateShape(target, item),
  ];
}
