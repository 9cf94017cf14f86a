import { pino, type Logger } from 'pino';
import { prettyStream } from './pretty.js';

export interface LoggerOptions {
  readonly destination?: NodeJS.WritableStream;
  /** Scrubs secrets from every logged object (the output guard's redactor). */
  readonly redact?: <T>(value: T) => T;
  /**
   * `json`: JSON lines. `pretty`: coloured short lines for a person. `auto` (the default): pretty
   * when stdout is a terminal, JSON otherwise. Ignored when `destination` is given.
   */
  readonly format?: 'auto' | 'json' | 'pretty';
}

/** Whether the logger writes for a person: `pretty`, or `auto` on a terminal. */
export function logsPretty(format: LoggerOptions['format'] = 'auto'): boolean {
  return format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
}

/** How deep a chain of `cause`s is followed, and how deep objects are searched for errors. */
const MAX_DEPTH = 8;

/**
 * The value with every Error in it turned into plain data: type, message, stack, the error's own
 * enumerable fields (`code`, `path`…) and its `cause`, recursively. The redactor walks only plain
 * data (an Error's message and stack are not enumerable), so without this an Error reached the log
 * as its name alone; with it, the redactor sees — and scrubs — the message, stack and causes too.
 */
export function plainErrors(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = {
        type: value.constructor.name || value.name,
        message: value.message,
        ...(value.stack !== undefined ? { stack: value.stack } : {}),
      };
      for (const [k, v] of Object.entries(value)) {
        if (!(k in out)) out[k] = plainErrors(v, depth + 1, seen);
      }
      if (value.cause !== undefined) out.cause = plainErrors(value.cause, depth + 1, seen);
      if (value instanceof AggregateError) {
        out.errors = value.errors.map((e: unknown) => plainErrors(e, depth + 1, seen));
      }
      return out;
    }
    if (Array.isArray(value)) return value.map((v: unknown) => plainErrors(v, depth + 1, seen));
    // Only plain objects are walked: anything else (a Buffer, a Date) is left to pino.
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: plainErrors(v, depth + 1, seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * The process logger: JSON lines on stdout (or pretty lines for a person, see `format`). Credentials are never passed to it; as a second line
 * of defence every log object and message goes through the redactor, and header paths that could
 * carry a credential are censored outright. Errors keep their message, stack, fields and causes,
 * redacted like everything else.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const redact = options.redact ?? (<T>(value: T) => value);
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['*.authorization', '*.headers.authorization', '*.headers.cookie', 'key', '*.key'],
        censor: '[REDACTED]',
      },
      // Errors are made plain (above) before redaction; pino's own serializer must not then treat
      // the plain result as an error again and rename its type.
      serializers: { err: (value: unknown) => value },
      formatters: {
        log: (object: Record<string, unknown>) => redact(plainErrors(object) as Record<string, unknown>),
      },
      hooks: {
        logMethod(args: unknown[], method: (...a: unknown[]) => void) {
          const [first, ...rest] = args;
          // `logger.error(err)` makes the error's message the line's message, which pino takes
          // before any formatter runs: hand it over as `{ err }` with the message redacted here.
          const lead =
            first instanceof Error
              ? [{ err: first }, ...(typeof rest[0] === 'string' ? [] : [first.message])]
              : args.slice(0, 1);
          method.apply(
            this,
            [...lead, ...rest].map((a) => (typeof a === 'string' ? redact(a) : a)),
          );
        },
      },
    },
    options.destination ??
      (logsPretty(options.format)
        ? prettyStream(process.stdout, process.stdout.isTTY === true)
        : pino.destination({ dest: 1, sync: false })),
  );
}

export type { Logger };
