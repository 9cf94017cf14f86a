import { pino, type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout. Credentials are never passed to it; the redaction
 * paths are a second line of defence in case a header object is logged whole.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['*.authorization', '*.headers.authorization', '*.headers.cookie', 'key', '*.key'],
        censor: '[REDACTED]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
