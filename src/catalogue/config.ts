import { z } from 'zod';

export const catalogueConfigSchema = z
  .strictObject({
    visibility: z
      .enum(['public', 'signed-in', 'off'])
      .default('signed-in')
      .describe(
        'Who may read /catalogue and /catalogue.json (every tool, resource and prompt served, with its ' +
          'scope, class and whether it needs confirmation): `public` (anyone, e.g. for a security review), ' +
          '`signed-in` (any person signed in on the gateway’s pages), or `off` (404).',
      ),
  })
  .describe('The public security surface: /catalogue.');

export type CatalogueConfig = z.infer<typeof catalogueConfigSchema>;
