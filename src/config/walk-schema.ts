import type { z } from 'zod';

/** One documented leaf of the configuration schema. */
export interface ConfigField {
  /** Dotted path, e.g. `server.port`. */
  readonly path: string;
  /**
   * Environment variable that overrides it, e.g. `PORTCULLIS_SERVER__PORT`; empty for a field
   * inside a list element (the list is overridden whole, as JSON).
   */
  readonly env: string;
  /** Human-readable type, e.g. `integer (0–65535)` or `"sqlite" | "memory"`. */
  readonly type: string;
  readonly kind: 'string' | 'number' | 'boolean' | 'string-list' | 'json' | 'object';
  readonly defaultValue: unknown;
  readonly optional: boolean;
  readonly description: string;
}

/** One documented section (an object in the schema). */
export interface ConfigSection {
  readonly path: string;
  readonly description: string;
  readonly fields: readonly ConfigField[];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, string>;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean } } }[];
  format?: string;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** `publicUrl` → `PUBLIC_URL` */
const envSegment = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function envNameFor(path: readonly string[]): string {
  return `PORTCULLIS_${path.map(envSegment).join('__')}`;
}

function describeType(def: Def): { type: string; kind: ConfigField['kind'] } {
  switch (def.type) {
    case 'string':
      return { type: def.format === 'url' ? 'URL' : 'string', kind: 'string' };
    case 'number': {
      let min: number | undefined;
      let max: number | undefined;
      let integer = def.format === 'safeint';
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.check === 'greater_than') min = d.value;
        if (d.check === 'less_than') max = d.value;
        if (d.check === 'number_format') integer = true;
      }
      const range = min !== undefined && max !== undefined ? ` (${min}–${max})` : '';
      return { type: `${integer ? 'integer' : 'number'}${range}`, kind: 'number' };
    }
    case 'boolean':
      return { type: 'boolean', kind: 'boolean' };
    case 'enum':
      return {
        type: Object.values(def.entries ?? {})
          .map((v) => JSON.stringify(v))
          .join(' | '),
        kind: 'string',
      };
    case 'array':
      return { type: 'list of strings', kind: 'string-list' };
    case 'literal':
      return { type: (def.values ?? []).map((v) => JSON.stringify(v)).join(' | '), kind: 'string' };
    case 'record':
      return { type: 'map (name or glob → value; JSON in the environment)', kind: 'json' };
    default:
      return { type: def.type, kind: 'object' };
  }
}

/**
 * Walks the schema into documented sections. Objects become sections; everything else is a
 * field. Wrappers (default, prefault, optional) contribute the default and optionality.
 */
export function walkSchema(root: z.ZodType): ConfigSection[] {
  const sections: ConfigSection[] = [];

  // Lists of objects (`upstreams`), unions with an object (`sandbox: "off" | {…}`) and maps of
  // objects (`tools: {pattern: {…}}`) get a section for the object too, at `list[]`, the field's
  // own path, and `map.<key>` respectively. Inside a list element or a map value nothing has its
  // own variable: the list or map is overridden whole, as JSON.
  const nested = (s: z.ZodType, childPath: string[], inList: boolean): string | undefined => {
    const d = defOf(s);
    if (d.type === 'array' && d.element && defOf(d.element).type === 'object') {
      visitObject(d.element, [...childPath.slice(0, -1), `${childPath[childPath.length - 1]}[]`], true);
      return `list of objects (see \`${[...childPath.slice(0, -1), `${childPath[childPath.length - 1]}[]`].join('.')}\`)`;
    }
    // A list of tagged objects (`audit.siem`): one section per variant, named by its tag.
    if (d.type === 'array' && d.element && defOf(d.element).type === 'union') {
      const variants = (defOf(d.element).options ?? []).filter((o) => defOf(o).type === 'object');
      if (variants.length > 0) {
        const last = childPath[childPath.length - 1];
        const names = variants.map((o) => {
          const [tag, literal] =
            Object.entries(defOf(o).shape ?? {}).find(([, v]) => defOf(v).type === 'literal') ?? [];
          const value = literal ? (defOf(literal).values ?? [])[0] : undefined;
          const name = `${last}[${tag}=${String(value)}]`;
          visitObject(o, [...childPath.slice(0, -1), name], true);
          return `\`${[...childPath.slice(0, -1), name].join('.')}\``;
        });
        return `list of objects (see ${names.join(', ')})`;
      }
    }
    if (d.type === 'union' && d.options?.some((o) => defOf(o).type === 'object')) {
      const parts = d.options.map((o) => {
        const od = defOf(o);
        if (od.type === 'object') {
          visitObject(o, childPath, inList);
          return `object (see \`${childPath.join('.')}\`)`;
        }
        return od.type === 'literal' ? (od.values ?? []).map((v) => JSON.stringify(v)).join(' | ') : od.type;
      });
      return parts.join(' | ');
    }
    if (d.type === 'record' && d.valueType && defOf(d.valueType).type === 'object') {
      visitObject(d.valueType, [...childPath, '<key>'], true);
      return `map of name or pattern → object (see \`${[...childPath, '<key>'].join('.')}\`)`;
    }
    return undefined;
  };

  const visitObject = (schema: z.ZodType, path: string[], inList = false) => {
    const fields: ConfigField[] = [];
    const shape = defOf(schema).shape ?? {};
    for (const [key, child] of Object.entries(shape)) {
      let s = child;
      let defaultValue: unknown = undefined;
      let optional = false;
      const description = child.description ?? '';
      for (;;) {
        const d = defOf(s);
        if (d.type === 'default' || d.type === 'prefault') {
          defaultValue = d.defaultValue;
          s = d.innerType!;
        } else if (d.type === 'optional') {
          optional = true;
          s = d.innerType!;
        } else break;
      }
      const childPath = [...path, key];
      if (defOf(s).type === 'object') {
        visitObject(s, childPath, inList);
        continue;
      }
      const described = describeType(defOf(s));
      const nestedType = nested(s, childPath, inList);
      const { type, kind } = nestedType ? { type: nestedType, kind: 'json' as const } : described;
      fields.push({
        path: childPath.join('.'),
        env: inList ? '' : envNameFor(childPath),
        type,
        kind,
        defaultValue,
        optional,
        description: description || (s.description ?? ''),
      });
    }
    sections.unshift({ path: path.join('.'), description: schema.description ?? '', fields });
  };

  visitObject(root, []);
  return sections.sort((a, b) => a.path.localeCompare(b.path));
}
