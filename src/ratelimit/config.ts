import { z } from 'zod';

// Every field has its own default and every object a prefault, so overriding one field (in
// YAML or one PORTCULLIS_* variable) keeps the defaults of its siblings.
const windowLimit = (points: number, windowSeconds: number, what: string) =>
  z
    .object({
      points: z.number().int().positive().default(points).describe(`Calls allowed per window (${what}).`),
      windowSeconds: z
        .number()
        .int()
        .positive()
        .default(windowSeconds)
        .describe('Window length in seconds; it starts at the first call.'),
    })
    .strict()
    .prefault({});

/** Mounted at `rateLimits` in the main configuration schema. */
export const rateLimitConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Enforce every tier below. Turning it off (benchmarks, a limiter in front) is reported loudly at start.',
      ),
    credential: z
      .object({
        points: z
          .number()
          .int()
          .positive()
          .default(60)
          .describe(
            'Calls per window for one credential: an API key, or one OAuth grant (client and user), ' +
              'shared by every token issued or refreshed for it.',
          ),
        windowSeconds: z.number().int().positive().default(60).describe('Window length in seconds.'),
        burst: z
          .number()
          .int()
          .nonnegative()
          .default(0)
          .describe(
            'Extra calls allowed once the window is spent, refilled every burstWindowSeconds; 0 (the default) makes the per-minute limit exact.',
          ),
        burstWindowSeconds: z
          .number()
          .int()
          .positive()
          .default(600)
          .describe('How often the burst allowance refills, in seconds (longer than the window).'),
      })
      .strict()
      .prefault({})
      .describe(
        'Per credential (API key, or OAuth client and user; a fresh token does not reset it): the main limit, with an optional burst allowance.',
      ),
    tools: z
      .record(
        z.string().min(1),
        z
          .object({
            points: z
              .number()
              .int()
              .positive()
              .describe('Calls per window for one credential on the matching tools.'),
            windowSeconds: z.number().int().positive().describe('Window length in seconds.'),
          })
          .strict(),
      )
      .default({})
      .describe(
        'Per tool, per credential: tool-name glob (`*` matches any run of characters) to limit. The first matching glob in file order applies.',
      ),
    session: windowLimit(120, 60, 'one MCP session').describe('Per MCP session.'),
    dailyQuota: z
      .object({
        points: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('Calls per 24 hours for one credential.'),
      })
      .strict()
      .prefault({})
      .describe('Daily quota per credential: a 24-hour window from its first call, not a calendar day.'),
    concurrency: z
      .object({
        maxInFlight: z
          .number()
          .int()
          .positive()
          .default(8)
          .describe('Tool calls one credential may have running at once.'),
      })
      .strict()
      .prefault({})
      .describe('Concurrent calls per credential, counted per replica.'),
    upstream: windowLimit(300, 60, 'one credential on one upstream server').describe(
      'Per upstream server, per credential, so one client cannot exhaust a third-party quota.',
    ),
    upstreams: z
      .record(
        z.string().min(1),
        z
          .object({
            points: z
              .number()
              .int()
              .positive()
              .describe('Calls per window for one credential on this upstream.'),
            windowSeconds: z.number().int().positive().describe('Window length in seconds.'),
          })
          .strict(),
      )
      .default({})
      .describe('Per-upstream overrides of `upstream`, by upstream server name.'),
    failedAuth: z
      .object({
        points: z
          .number()
          .int()
          .positive()
          .default(20)
          .describe('Failed authentications allowed per window from one IP address.'),
        windowSeconds: z.number().int().positive().default(60).describe('Window length in seconds.'),
        blockSeconds: z
          .number()
          .int()
          .nonnegative()
          .default(300)
          .describe('Once exceeded, refuse the address for this long.'),
      })
      .strict()
      .prefault({})
      .describe('Brute-force protection: failed authentications per source IP.'),
    oauth: windowLimit(120, 60, 'one IP address on the OAuth endpoints and sign-in pages').describe(
      'Requests to the OAuth endpoints and the pages people sign in on (/oauth/*, /account/*, ' +
        '/approvals/*) per source IP: one budget across all of them.',
    ),
    registration: windowLimit(20, 3600, 'one IP address registering OAuth clients').describe(
      'Dynamic Client Registrations (POST /oauth/reg) per source IP, on top of the OAuth limit.',
    ),
  })
  .strict()
  .describe('Rate limits for every tier. Counters live in memory, or in Redis when Redis is configured.');

export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
