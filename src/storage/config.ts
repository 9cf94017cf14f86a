import { z } from 'zod';

/**
 * A PostgreSQL connection string or a reference to one: `env:NAME`, `file:/path`, or (for
 * development only; it puts any password in the configuration file) a literal
 * `postgres://…` / `postgresql://…` URL.
 */
const pgUrlSchema = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+|postgres(ql)?:\/\/.+)$/, {
  message:
    'must be env:NAME, file:/absolute/path or a postgres:// URL (a literal URL is for development only)',
});

const pgIdentifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, {
  message: 'must be a lower-case SQL identifier: letters, digits and _, at most 63 characters',
});

/** The `storage` section of the configuration. */
export const storageConfigSchema = z
  .strictObject({
    driver: z
      .enum(['sqlite', 'memory', 'postgres'])
      .default('sqlite')
      .describe(
        '`sqlite` keeps state in one file in the data dir; `postgres` in a PostgreSQL database (several gateway processes may share it); `memory` loses everything on exit (tests).',
      ),
    sqliteFile: z
      .string()
      .min(1)
      .default('portcullis.db')
      .describe('SQLite file, relative to the data dir unless absolute.'),
    url: pgUrlSchema
      .optional()
      .describe(
        'postgres: the connection of the write role (`env:PORTCULLIS_DATABASE_URL`, `file:/path`, or a literal URL for development). Never a superuser: the gateway refuses to start on one.',
      ),
    readUrl: pgUrlSchema
      .optional()
      .describe(
        'postgres: the connection of a role with SELECT only, used by every read. Absent: the write role, in read-only transactions. The migration runner grants this role SELECT on the tables.',
      ),
    migrateUrl: pgUrlSchema
      .optional()
      .describe(
        'postgres: the connection of the role that owns the schema and runs migrations (`portcullis migrate`, and start-up). Absent: `url`. It grants the write role SELECT, INSERT, UPDATE and DELETE.',
      ),
    schema: pgIdentifier.default('portcullis').describe('postgres: the schema holding every table.'),
    pool: z
      .strictObject({
        max: z.number().int().min(1).max(100).default(10).describe('Connections per pool.'),
      })
      .prefault({})
      .describe('postgres: connection pools (one for writes, one for reads).'),
    tls: z
      .strictObject({
        ca: z
          .string()
          .min(1)
          .optional()
          .describe('A PEM file of the CA that signed the server certificate (`file:/path` or a path).'),
        rejectUnauthorized: z
          .boolean()
          .default(true)
          .describe('Verify the server certificate. Turn off only for a local test database.'),
      })
      .optional()
      .describe('postgres: connect over TLS. Absent: whatever the URL says (`sslmode`).'),
  })
  .superRefine((s, ctx) => {
    if (s.driver === 'postgres' && !s.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'storage.driver postgres needs storage.url (for example env:PORTCULLIS_DATABASE_URL)',
      });
    }
  })
  .describe('Where durable state lives.');

export type StorageConfig = z.output<typeof storageConfigSchema>;
