import { z } from 'zod';

const memoryToolsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve memory_save, memory_search, memory_get and memory_delete.'),
  })
  .describe('The built-in per-owner notes store.');

const hostList = z.array(z.string().min(1).max(253));

const webFetchSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve the web_fetch tool (scope web:fetch).'),
    allowHosts: hostList
      .default([])
      .describe(
        'Hosts web_fetch may reach: exact names or *.example.com wildcards; ["*"] means any host whose ' +
          'resolved address is public. Empty (the default) refuses every URL.',
      ),
    allowHttpHosts: hostList
      .default([])
      .describe('Hosts that may be fetched over plain http (all others need https).'),
    allowAddresses: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'CIDR ranges web_fetch may connect to even though they are private or loopback (deliberate ' +
          'exceptions for internal services). Empty by default.',
      ),
    maxChars: z
      .number()
      .int()
      .min(100)
      .max(1_000_000)
      .default(100_000)
      .describe('Longest page text returned.'),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(50 * 1024 * 1024)
      .default(5 * 1024 * 1024)
      .describe('Largest response body read, in bytes.'),
    timeoutMs: z.number().int().min(100).max(120_000).default(15_000).describe('Time limit per fetch.'),
  })
  .describe('The built-in web_fetch tool. Its results are labelled untrusted-source.');

/** The `tools` section of the configuration: the built-in tools. */
export const toolsConfigSchema = z
  .strictObject({
    memory: memoryToolsSchema.prefault({}),
    webFetch: webFetchSchema.prefault({}),
  })
  .describe('Built-in tools.');

export type ToolsConfig = z.output<typeof toolsConfigSchema>;
