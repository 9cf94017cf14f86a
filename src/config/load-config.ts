import fs from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PortcullisError } from '../errors/index.js';
import { configSchema, type Config } from './schema.js';
import { walkSchema, type ConfigField } from './walk-schema.js';

export const CONFIG_FILE_NAME = 'portcullis.yaml';

/** Formats zod issues as `path.to.field: message` lines, so an operator knows where to look. */
function formatIssues(issues: readonly z.core.$ZodIssue[], origin: string): string {
  return issues
    .map((i) => `  ${origin}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

function parseEnvValue(field: ConfigField, raw: string): unknown {
  switch (field.kind) {
    case 'number': {
      const n = Number(raw);
      return raw.trim() === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    case 'string-list':
      return raw.trim().startsWith('[') ? (JSON.parse(raw) as unknown) : raw.split(',').map((s) => s.trim());
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Reads `PORTCULLIS_*` overrides for every documented field. Unknown names are reported. */
function readEnvOverrides(env: NodeJS.ProcessEnv): {
  overrides: Record<string, unknown>;
  unknown: string[];
} {
  const fields = walkSchema(configSchema).flatMap((s) => s.fields);
  const byEnv = new Map(fields.map((f) => [f.env, f]));
  const overrides: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('PORTCULLIS_') || raw === undefined) continue;
    const field = byEnv.get(name);
    if (field) setPath(overrides, field.path, parseEnvValue(field, raw));
    else if (name.includes('__')) unknown.push(name);
  }
  return { overrides, unknown };
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
  return out;
}

/** Parses YAML text into a plain value; syntax errors name the line. */
function parseConfigYaml(text: string, origin: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PortcullisError(
      'config-invalid',
      `Configuration is not valid YAML:\n  ${origin}: ${doc.errors[0]!.message}`,
    );
  }
  return doc.toJS() ?? {};
}

/**
 * Loads the configuration once at start: the YAML file (if present), then `PORTCULLIS_*`
 * environment overrides, validated against the schema. Fails closed with every problem named
 * by path; nothing starts on an invalid configuration.
 */
export function loadConfig(options: { file: string; env?: NodeJS.ProcessEnv; required?: boolean }): Config {
  const env = options.env ?? process.env;
  let fromFile: unknown = {};
  if (fs.existsSync(options.file)) {
    fromFile = parseConfigYaml(fs.readFileSync(options.file, 'utf8'), options.file);
  } else if (options.required) {
    throw new PortcullisError('config-invalid', `Configuration file not found: ${options.file}`);
  }
  const { overrides, unknown } = readEnvOverrides(env);
  if (unknown.length > 0) {
    throw new PortcullisError(
      'config-invalid',
      `Unknown configuration environment variable(s): ${unknown.join(', ')}. See docs/configuration.md.`,
    );
  }
  const fileResult = configSchema.safeParse(fromFile);
  if (!fileResult.success) {
    throw new PortcullisError(
      'config-invalid',
      `Invalid configuration:\n${formatIssues(fileResult.error.issues, options.file)}`,
    );
  }
  const merged = configSchema.safeParse(deepMerge(fromFile, overrides));
  if (!merged.success) {
    throw new PortcullisError(
      'config-invalid',
      `Invalid configuration from environment:\n${formatIssues(merged.error.issues, 'environment')}`,
    );
  }
  return merged.data;
}
