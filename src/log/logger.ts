import { pino, type Logger } from 'pino';

export interface LoggerOptions {
  readonly destination?: NodeJS.WritableStream;
  /** Scrubs secrets from every logged object (the output guard's redactor). */
  readonly redact?: <T>(value: T) => T;
}

/**
 * The process logger: JSON lines on stdout. Credentials are never passed to it; as a second line
 * of defence every log object and message goes through the redactor, and header paths that could
 * carry a credential are censored outright.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const redact = options.redact;
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['*.authorization', '*.headers.authorization', '*.headers.cookie', 'key', '*.key'],
        censor: '[REDACTED]',
      },
      ...(redact
        ? {
            formatters: { log: (object: Record<string, unknown>) => redact(object) },
            hooks: {
              logMethod(args: unknown[], method: (...a: unknown[]) => void) {
                method.apply(
                  this,
                  args.map((a) => (typeof a === 'string' ? redact(a) : a)),
                );
              },
            },
          }
        : {}),
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
