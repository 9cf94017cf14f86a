import { catalogueConfigSchema } from '../catalogue/index.js';
import { z } from 'zod';
import { oauthConfigSchema } from '../oauth/index.js';
import { policyConfigSchema } from '../policy/index.js';
import { rateLimitConfigSchema } from '../ratelimit/index.js';
import { secretRefSchema } from '../secrets/index.js';
import { storageConfigSchema } from '../storage/index.js';
import { toolsConfigSchema } from '../tools/index.js';
import { upstreamsConfigSchema } from '../upstreams/index.js';
import { connectionsConfigSchema } from '../connections/index.js';
import { telemetryConfigSchema } from '../telemetry/index.js';
import { isSecurityContactUri, SECURITY_CONTACT_RULE } from './security-contact.js';

/**
 * The configuration schema: the single source of truth for types, defaults and per-field
 * documentation. `docs/configuration.md` and the commented `portcullis.yaml` written by
 * `portcullis init` are both generated from it.
 *
 * No field holds a secret value. Fields that need one take a reference (`env:NAME` or
 * `file:PATH`) resolved at start-up, so the file can be reviewed and committed.
 */

const port = z.number().int().min(0).max(65535);

const tlsSchema = z
  .strictObject({
    cert: z.string().min(1).describe('Path to the PEM certificate chain.'),
    key: z.string().min(1).describe('Path to the PEM private key. Keep it readable only by the gateway.'),
  })
  .describe('Serve HTTPS directly from these files. Leave unset behind a TLS-terminating proxy.');

const seconds = (max: number, fallback: number, what: string) =>
  z.number().int().min(1).max(max).default(fallback).describe(what);

const connectionsSchema = z
  .strictObject({
    maxTotal: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(512)
      .describe(
        'Most open client connections in total; beyond it new ones are closed at once. Keep it well ' +
          'under the file-descriptor limit of the process (see docs/deploy.md).',
      ),
    maxPerAddress: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe(
        'Most open connections from one client address (an IPv6 /64 counts as one address); beyond ' +
          'it new ones are closed at once; 0 turns the cap off. Counted on the TCP peer. Default: 64, ' +
          'or 0 with trustProxy (every connection then comes from the proxy, which must cap clients).',
      ),
    headersTimeoutSeconds: seconds(
      300,
      10,
      'A connection must send a complete request head within this long (a new connection that sends ' +
        'nothing too); otherwise it gets 408 and is closed.',
    ),
    requestTimeoutSeconds: seconds(
      3600,
      30,
      'The whole request, body included, must arrive within this long (slow-body attacks); otherwise ' +
        '408 and closed. Responses, such as event streams, are not limited by it.',
    ),
    keepAliveTimeoutSeconds: seconds(300, 5, 'An idle keep-alive connection is closed after this long.'),
  })
  .refine((c) => c.headersTimeoutSeconds <= c.requestTimeoutSeconds, {
    path: ['headersTimeoutSeconds'],
    message: 'must not exceed requestTimeoutSeconds',
  })
  .describe(
    'Connection caps and timeouts of the listener, against connection exhaustion (idle sockets, ' +
      'slow headers or bodies). See docs/deploy.md for the file-descriptor limit to set.',
  );

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
    port: port.default(8080).describe('TCP port to listen on (0 picks a free port).'),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'The URL clients use to reach the gateway, without a trailing slash (e.g. https://mcp.example.com). ' +
          'Defaults to http(s)://host:port. It defines the canonical MCP URL `<publicUrl>/mcp`.',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Host header values accepted (host or host:port), against DNS rebinding. The host of publicUrl ' +
          'and, on a loopback bind, localhost/127.0.0.1/[::1] are always accepted.',
      ),
    allowedOrigins: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Origin header values accepted on /mcp (e.g. https://app.example.com). Requests without Origin ' +
          '(non-browser clients) are accepted; a request with any other Origin is refused with 403.',
      ),
    trustProxy: z
      .boolean()
      .default(false)
      .describe(
        'Trust X-Forwarded-For/-Proto from a reverse proxy that terminates TLS. Only enable when the ' +
          'gateway is reachable solely through that proxy.',
      ),
    allowInsecureHttp: z
      .boolean()
      .default(false)
      .describe(
        'Allow plain HTTP on a non-loopback address without trustProxy. Credentials would cross the ' +
          'network in clear text; never enable in production.',
      ),
    tls: tlsSchema.optional(),
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Largest request body accepted, in bytes; larger bodies get 413.'),
    jsonMaxDepth: z
      .number()
      .int()
      .min(4)
      .max(256)
      .default(32)
      .describe('Deepest nesting of arrays/objects accepted in a JSON-RPC body; deeper gets 400.'),
    connections: connectionsSchema.prefault({}),
    shutdownDrainSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(10)
      .describe(
        'On SIGTERM/SIGINT the listener stops accepting and in-flight requests get this long to finish ' +
          '(then their connections are cut) before the audit log is flushed and the pools closed. ' +
          "Keep it below the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds).",
      ),
  })
  .describe('HTTP listener.');

const sessionsSchema = z
  .strictObject({
    idleTtlSeconds: z
      .number()
      .int()
      .min(10)
      .max(86_400)
      .default(1800)
      .describe('A stateful session unused for this long is closed.'),
    maxPerPrincipal: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(8)
      .describe('Most open stateful sessions one credential may hold; the oldest idle one is closed first.'),
    maxTotal: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Most open stateful sessions in total; beyond it new sessions are refused with 503.'),
  })
  .describe(
    'Stateful sessions, used only by 2025-era clients that declare elicitation support (they need ' +
      'server-to-client requests). 2026-07-28 clients are served statelessly.',
  );

const securityTxtSchema = z
  .strictObject({
    contact: z
      .array(z.string().min(1).refine(isSecurityContactUri, `must be ${SECURITY_CONTACT_RULE}`))
      .default([])
      .describe(
        'RFC 9116 Contact values (mailto: or https: URIs). /.well-known/security.txt is 404 when empty.',
      ),
    expiresDays: z
      .number()
      .int()
      .min(1)
      .max(366)
      .default(180)
      .describe('The Expires field is set this many days ahead of the time of the request.'),
  })
  .describe('/.well-known/security.txt');

const loggingSchema = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Log level.'),
    format: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .describe(
        'How log lines look on stdout: `json` (one JSON object a line, for collectors), `pretty` (coloured, ' +
          'one short line each, for people), or `auto`: pretty when stdout is a terminal, JSON otherwise. ' +
          '`portcullis start --log-format` overrides it.',
      ),
  })
  .describe('Logging.');

const injectionAction = z.enum(['annotate', 'redact', 'quarantine']);

const safetySchema = z
  .strictObject({
    maxResultBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe(
        'Most UTF-8 bytes of text a tool result may carry to the model; the rest is cut with a notice.',
      ),
    maxResultDepth: z
      .number()
      .int()
      .min(2)
      .max(128)
      .default(32)
      .describe('Deepest nesting kept in structured results.'),
    injectionAction: injectionAction
      .default('annotate')
      .describe(
        'What to do with a result the injection detector finds suspicious or malicious: annotate (add a ' +
          'warning), redact (replace the flagged spans), quarantine (withhold the result for review).',
      ),
    injectionActions: z
      .record(z.string().min(1), injectionAction)
      .default({})
      .describe(
        'Per-tool overrides of injectionAction: tool-name glob (`*` wildcard) to action; first match wins.',
      ),
    piiTools: z
      .array(z.string().min(1))
      .default([])
      .describe('Tool-name globs whose results also get PII redaction (email, phone, card numbers, IBAN).'),
  })
  .describe('Output safety: every tool result is sanitised, redacted and (for untrusted sources) wrapped.');

const siemFormat = z
  .enum(['ocsf', 'record'])
  .default('ocsf')
  .describe(
    '`ocsf`: OCSF 1.3.0 events (API Activity, Authentication, Account Change); `record`: the audit record.',
  );

const siemSinkSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('jsonl').describe('A JSON-lines file, appended and fsynced per batch (0600).'),
      file: z.string().min(1).describe('The file, relative to the data dir unless absolute.'),
      format: siemFormat,
    }),
    z.strictObject({
      kind: z
        .literal('syslog')
        .describe('A syslog receiver over TLS (RFC 5425), octet-counted RFC 5424 messages.'),
      host: z
        .string()
        .min(1)
        .max(253)
        .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or an IP address (no scheme, port, path or brackets)')
        .describe('Receiver host name or address (through the egress guard).'),
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .default(6514)
        .describe('Receiver port (6514 is syslog over TLS).'),
      ca: z
        .string()
        .min(1)
        .optional()
        .describe('PEM file of the CA that signed the receiver certificate (default: the system roots).'),
      allowPrivateAddress: z
        .boolean()
        .default(false)
        .describe('Allow a receiver on a private or loopback address (an internal SIEM collector).'),
      facility: z.number().int().min(0).max(23).default(13).describe('RFC 5424 facility (13: log audit).'),
      format: siemFormat,
    }),
    z.strictObject({
      kind: z.literal('https').describe('An https endpoint receiving JSON lines (through the egress guard).'),
      url: z.url({ protocol: /^https$/ }).describe('The endpoint.'),
      allowPrivateAddress: z
        .boolean()
        .default(false)
        .describe('Allow an endpoint on a private or loopback address (an internal collector).'),
      format: siemFormat,
    }),
  ])
  .describe('One SIEM export.');

const auditSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Keep the audit log. Turning it off (benchmarks, throwaway runs) is reported loudly at start.',
      ),
    file: z
      .string()
      .min(1)
      .default('audit.db')
      .describe('Audit SQLite file, relative to the data dir unless absolute.'),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe(
        'Records older than this are pruned (up to a signed checkpoint, so verification still holds).',
      ),
    checkpointEvery: z
      .number()
      .int()
      .min(10)
      .max(1_000_000)
      .default(1000)
      .describe('Sign a checkpoint every this many records.'),
    fullPayloadTools: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Tool-name globs whose arguments are logged in full (redacted). Others log only a keyed hash and ' +
          'the argument shape.',
      ),
    jsonlFile: z
      .string()
      .min(1)
      .optional()
      .describe('Also append every committed record to this JSON-lines file (relative to the data dir).'),
    stdout: z.boolean().default(false).describe('Also write every committed record to stdout as a log line.'),
    webhookUrl: z
      .url({ protocol: /^https$/ })
      .optional()
      .describe(
        'Also deliver records to this https SIEM/webhook endpoint (through the egress guard, with retry).',
      ),
    siem: z
      .array(siemSinkSchema)
      .max(8)
      .default([])
      .describe(
        'SIEM-native exports: each committed record also goes, as an OCSF event (or the record itself), to ' +
          'a JSON-lines file, a syslog receiver over TLS (RFC 5424 / RFC 5425) or an https endpoint, in seq ' +
          'order, with retries.',
      ),
    deadLetterFile: z
      .string()
      .min(1)
      .default('audit-dead-letter.jsonl')
      .describe(
        'Where a SIEM export puts records its receiver refused for good (an HTTP 4xx, an oversize message), ' +
          'after 3 tries, so the records after them still flow (relative to the data dir).',
      ),
  })
  .describe('The tamper-evident audit log.');

const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics on their own listener.'),
    host: z.string().min(1).default('127.0.0.1').describe('Metrics listener address (keep it private).'),
    port: port.default(9464).describe('Metrics listener port (0 picks a free port).'),
  })
  .describe('Prometheus /metrics, on a separate listener so it is never exposed with /mcp.');

const consoleSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe(
            'Console listener address (keep it private: an admin network, or loopback behind a tunnel).',
          ),
        port: port.describe('Console listener port (0 picks a free port).'),
        publicUrl: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe(
            'The console’s external URL when it sits behind a proxy (default: derived from host and port, with ' +
              'the main listener’s scheme).',
          ),
      })
      .optional()
      .describe(
        'Serve the console (/admin, and the /admin/audit API) only on this separate listener, with the same TLS ' +
          'files, headers, CSRF and sign-in as the main one; the main listener then answers 404 for /admin*.',
      ),
  })
  .describe('The operator console (/admin).');

const alertsSchema = z
  .strictObject({
    webhookUrl: z
      .url({ protocol: /^https$/ })
      .optional()
      .describe('Also post security alerts to this https webhook (through the egress guard).'),
  })
  .describe(
    'Security alerts (denial spikes, call-volume anomalies, private data flowing to an external sink).',
  );

const keysSchema = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .default('keys')
      .describe(
        'Directory of the key files (token signing, cookies, audit signing and argument HMAC, confirmations, ' +
          'connections KEK), relative to the data dir. Replicas mount one copy of it (a Kubernetes Secret, read-only) ' +
          'so that every replica signs and verifies with the same keys. Files that exist are only read.',
      ),
    reloadSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(10)
      .describe(
        'How often the token-signing key file is checked for a rotation made elsewhere (`keys rotate-signing` on ' +
          'another replica or from a shell); a token naming a key this process does not hold also triggers a check ' +
          '(at most once a second). The new key signs from then on, without a restart.',
      ),
    tokenSigning: secretRefSchema
      .optional()
      .describe(
        'The token-signing key set (the private ES256 JWK set `keys rotate-signing` writes) from a secret reference ' +
          'instead of signing-keys.json in keys.dir. A `vault:` or `file:` reference is read again every ' +
          'reloadSeconds, so a set written into the secret store reaches every replica without a restart; `env:` is ' +
          'read once.',
      ),
    auditSigning: secretRefSchema
      .optional()
      .describe(
        "The audit log's Ed25519 signing key (PKCS#8 PEM) from a secret reference instead of audit-ed25519.pem.",
      ),
    auditArgsHmac: secretRefSchema
      .optional()
      .describe(
        'The key of the HMAC over tool-call arguments in audit records (32 bytes, base64) from a secret reference ' +
          'instead of audit-args-hmac.key.',
      ),
    confirmation: secretRefSchema
      .optional()
      .describe(
        'The key that signs confirmation request states (at least 32 bytes, base64url) from a secret reference ' +
          'instead of confirmation-key.',
      ),
  })
  .describe(
    'Where the gateway keys live, and how a rotation reaches a running gateway. Each key may instead come from a ' +
      'secret reference (env:, file:, vault:), so replicas share keys held in a secret store; the cookie keys ' +
      '(oauth.cookieKeys) and the connections KEK (connections.keyEncryptionKey) have their own references.',
  );

const redisSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^rediss?$/ })
      .refine((u) => new URL(u).password === '', {
        message: 'put the password in redis.password, not the URL',
      })
      .optional()
      .describe(
        'Redis for state shared by replicas (redis://host:port/db, or rediss:// for TLS; no password in the URL).',
      ),
    password: secretRefSchema.optional().describe('Redis password, as a secret reference.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64')
      .default('portcullis:')
      .describe(
        'Prefix of every Redis key and channel of this gateway, so several deployments can share one Redis. ' +
          'Every replica of one deployment must use the same prefix.',
      ),
  })
  .describe(
    'Redis (optional): fast state shared by replicas and allowed to be lost — rate counters, login ' +
      'throttles, 2025 session records, invalidation messages (docs/storage.md has the key schema). ' +
      'Without it, all of that lives in this process.',
  );

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    sessions: sessionsSchema.prefault({}),
    storage: storageConfigSchema.prefault({}),
    securityTxt: securityTxtSchema.prefault({}),
    catalogue: catalogueConfigSchema.prefault({}),
    logging: loggingSchema.prefault({}),
    tools: toolsConfigSchema.prefault({}),
    safety: safetySchema.prefault({}),
    rateLimits: rateLimitConfigSchema.prefault({}),
    audit: auditSchema.prefault({}),
    console: consoleSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    telemetry: telemetryConfigSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    redis: redisSchema.prefault({}),
    keys: keysSchema.prefault({}),
    upstreams: upstreamsConfigSchema,
    connections: connectionsConfigSchema.prefault({}),
    oauth: oauthConfigSchema.prefault({}),
    policy: policyConfigSchema.prefault({}),
  })
  .describe('Portcullis configuration (portcullis.yaml in the data dir).');

/** The validated configuration with every default applied. */
export type Config = z.output<typeof configSchema>;
