import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/** Compiled schemas one gateway keeps for the elicitation answers of all its sessions. */
export const MAX_SHARED_SCHEMAS = 64;

/**
 * One JSON Schema validator for every SDK server the gateway builds (one per 2025 session, one
 * per stateless request). The SDK's default gives each server its own, and the first elicitation
 * answer a session validates builds it a whole Ajv engine with its formats: ~37 KiB kept per
 * session, more than the ~16 KiB the rest of a session holds.
 *
 * Shared naively, one engine would be wrong twice: Ajv keeps every schema object it compiles
 * (keyed by the object, so each call's fresh schema is a new entry, never freed), and an `$id` or
 * anchor is a name in the engine, so one session's (or upstream's) schema could claim a name
 * another's resolves. So the shared engine only compiles schemas that name nothing (no `$id`,
 * `$anchor`, `$dynamicAnchor`, and the default 2020-12 dialect), keyed by their JSON text, at most
 * `max` of them per engine (then a fresh engine); any other schema gets an engine of its own for
 * that one validation, as before, dropped with it.
 */
export function createSharedSchemaValidator(max = MAX_SHARED_SCHEMAS): jsonSchemaValidator & {
  readonly size: () => number;
} {
  // Built on the first answer it validates, with the options of the SDK's own 2020-12 engine.
  let engine: AjvJsonSchemaValidator | undefined;
  const shared = () =>
    (engine ??= new AjvJsonSchemaValidator(
      addFormats(
        new Ajv2020({ strict: false, validateFormats: true, validateSchema: false, allErrors: true }),
      ),
    ));
  const compiled = new Map<string, JsonSchemaValidator<unknown>>();
  return {
    getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
      const key = JSON.stringify(schema);
      if (!shareable(schema, key)) return new AjvJsonSchemaValidator().getValidator<T>(schema);
      const hit = compiled.get(key);
      if (hit) {
        return hit as JsonSchemaValidator<T>;
      }
      // Ajv never forgets what it compiled (`removeSchema` leaves the generated code's scope
      // values behind: 10,000 distinct schemas grew the heap by ~44 MiB with or without it), so
      // after `max` compilations the engine is replaced and the old one is dropped whole.
      if (compiled.size >= max) {
        engine = undefined;
        compiled.clear();
      }
      const validate = shared().getValidator<T>(schema);
      compiled.set(key, validate);
      return validate;
    },
    size: () => compiled.size,
  };
}

const NAMES = /"\$(id|anchor|dynamicAnchor|recursiveAnchor)"/;

function shareable(schema: JsonSchemaType, text: string): boolean {
  const dialect = (schema as { $schema?: unknown }).$schema;
  if (dialect !== undefined && dialect !== 'https://json-schema.org/draft/2020-12/schema') return false;
  return !NAMES.test(text);
}
