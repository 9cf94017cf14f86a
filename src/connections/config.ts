import { z } from 'zod';
import { secretRefSchema } from '../secrets/index.js';

/**
 * Settings of people's own upstream credentials (the vault that keeps them, the connect flow).
 * Which upstreams take a person's credential is each upstream's `auth` (upstreams/config.ts).
 */
export const connectionsConfigSchema = z
  .strictObject({
    keyEncryptionKey: secretRefSchema
      .optional()
      .describe(
        "The key-encryption key that wraps the vault's data key: 32 random bytes, base64 or hex, as a " +
          'reference (env:, file:, vault:). Default: keys/connections-kek in the data directory, made on ' +
          'first start (mode 0600). Rotate with `portcullis keys rotate-vault`.',
      ),
    pendingTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(3600)
      .default(600)
      .describe('How long a started "Connect" (sent to the upstream\'s sign-in page) may take to come back.'),
    refreshBeforeSeconds: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(120)
      .describe('An upstream access token this close to expiry is refreshed before the call that needs it.'),
    oauthEgress: z
      .strictObject({
        allowAddresses: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'CIDRs an upstream authorization server may sit on although they are internal (a company IdP). ' +
              'Link-local is refused whatever is listed.',
          ),
        allowHttpHosts: z
          .array(z.string().min(1))
          .default([])
          .describe('Authorization server hosts that may be reached over plain http (development only).'),
      })
      .prefault({})
      .describe(
        "How the gateway reaches upstreams' authorization servers: https to public addresses only, no " +
          'redirects, 256 KiB answers, unless listed here.',
      ),
  })
  .describe("People's own upstream credentials: the vault and the connect flow (see docs/upstreams.md).");

export type ConnectionsConfig = z.output<typeof connectionsConfigSchema>;
