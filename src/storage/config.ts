import { z } from 'zod';

/** The `storage` section of the configuration. */
export const storageConfigSchema = z
  .strictObject({
    driver: z
      .enum(['sqlite', 'memory'])
      .default('sqlite')
      .describe(
        '`sqlite` keeps state in one file in the data dir; `memory` loses everything on exit (tests).',
      ),
    sqliteFile: z
      .string()
      .min(1)
      .default('portcullis.db')
      .describe('SQLite file, relative to the data dir unless absolute.'),
  })
  .describe('Where durable state lives.');

export type StorageConfig = z.output<typeof storageConfigSchema>;
