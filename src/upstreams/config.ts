import path from 'node:path';
import { z } from 'zod';
import { secretRefSchema } from '../secrets/index.js';

/**
 * Configuration of the upstream MCP servers Portcullis fronts. Mounted as `upstreams` in the
 * gateway's configuration schema; every field documents itself into docs/configuration.md.
 *
 * Nothing here holds a secret value: credentials are references (`env:`, `file:`, `vault:`)
 * resolved when the upstream starts and injected only into that upstream's process or requests.
 */

const absolutePath = z
  .string()
  .min(1)
  .refine((p) => path.posix.isAbsolute(p) && path.posix.normalize(p) === p, {
    message: 'must be an absolute, normalised path (no "..", no "." segments)',
  });

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name' });

const stdioSchema = z
  .strictObject({
    command: z
      .string()
      .min(1)
      .describe(
        'The executable: a name looked up on PATH (node, npx, uvx) or an absolute path. Never a shell ' +
          'command line: arguments go in `args`.',
      ),
    args: z
      .array(z.string())
      .default([])
      .describe(
        'Arguments, one per element, passed as they are (no shell, no globbing). Absolute paths among ' +
          'them are made visible read-only inside the sandbox.',
      ),
    env: z
      .record(envName, z.string())
      .default({})
      .describe('Environment variables with literal, non-secret values (e.g. LOG_LEVEL: info).'),
    secretEnv: z
      .record(envName, secretRefSchema)
      .default({})
      .describe(
        'Environment variables whose values are secrets, given as references (env:NAME, file:/path, ' +
          'vault:mount/path#key). Resolved at start and injected only into this process.',
      ),
    inheritEnv: z
      .array(envName)
      .default([])
      .describe(
        "Names of the gateway's own environment variables passed through, beyond PATH, LANG, LC_ALL, " +
          'LC_CTYPE and TZ. Everything else in the gateway environment stays out of the process.',
      ),
    cwd: absolutePath
      .optional()
      .describe('Working directory (made visible read-only in the sandbox). Default: the private /tmp.'),
  })
  .describe('Run the server as a local process speaking MCP over stdin/stdout.');

const sandboxSchema = z
  .strictObject({
    network: z
      .boolean()
      .default(false)
      .describe('Give the process network access. Without it only a loopback device exists inside.'),
    readable: z
      .array(absolutePath)
      .default([])
      .describe(
        'Extra absolute paths visible read-only (the executable, its package and absolute-path ' +
          'arguments are added automatically).',
      ),
    writable: z.array(absolutePath).default([]).describe('Absolute paths visible and writable.'),
    memoryMb: z
      .number()
      .int()
      .min(64)
      .max(65_536)
      .default(2048)
      .describe('Address-space limit of the process, in MiB (RLIMIT_AS).'),
    cpuSeconds: z
      .number()
      .int()
      .min(1)
      .max(604_800)
      .default(3600)
      .describe('CPU time the process may use over its life, in seconds (RLIMIT_CPU); it is then restarted.'),
    openFiles: z
      .number()
      .int()
      .min(16)
      .max(65_536)
      .default(1024)
      .describe('Most open file descriptors (RLIMIT_NOFILE).'),
  })
  .describe(
    'Isolation of a stdio server (Linux, bubblewrap): new namespaces, read-only system, private /tmp, ' +
      'only declared paths visible, no network unless allowed, resource limits. The string "off" runs ' +
      'it unconfined (loudly warned); a stdio upstream is refused when no sandbox is available.',
  );

const bearerAuthSchema = z
  .strictObject({
    secret: secretRefSchema.describe('Reference to the token sent as `Authorization: Bearer <token>`.'),
  })
  .describe("A static bearer token: the gateway's own credential for this server.");

const headerAuthSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .describe('Header name, e.g. X-API-Key.'),
    secret: secretRefSchema.describe('Reference to the header value.'),
  })
  .describe('A static secret sent in a header of your choice.');

const clientCredentialsSchema = z
  .strictObject({
    tokenUrl: z.url({ protocol: /^https?$/ }).describe('The OAuth token endpoint.'),
    clientId: z.string().min(1).describe('The client id.'),
    clientSecret: secretRefSchema.describe('Reference to the client secret (sent with HTTP Basic).'),
    scope: z.string().optional().describe('Space-separated scopes to request.'),
    resource: z.url().optional().describe('RFC 8707 resource indicator to request the token for.'),
  })
  .describe('OAuth 2.0 client credentials (RFC 6749 §4.4): tokens are fetched and renewed by the gateway.');

const httpAuthSchema = z
  .strictObject({
    bearer: bearerAuthSchema.optional(),
    header: headerAuthSchema.optional(),
    clientCredentials: clientCredentialsSchema.optional(),
  })
  .refine((a) => [a.bearer, a.header, a.clientCredentials].filter(Boolean).length === 1, {
    message: 'set exactly one of bearer, header, clientCredentials',
  })
  .describe(
    "How the gateway authenticates to the server, with its own credential. A client's token is never " +
      'passed through.',
  );

const httpSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('The Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string())
      .default({})
      .describe('Extra request headers with literal, non-secret values.'),
    auth: httpAuthSchema.optional(),
    allowHttp: z
      .boolean()
      .default(false)
      .describe('Allow a plain http:// URL for this server (a local or test server only).'),
    allowAddresses: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'CIDRs this server may resolve to although they are private or loopback (the egress guard ' +
          'refuses internal addresses otherwise).',
      ),
  })
  .describe('Reach a remote server over Streamable HTTP, through the egress guard.');

const scopeTokenSchema = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { message: 'an OAuth scope token (RFC 6749 §3.3)' });

const fallbackSchema = z
  .literal('shared')
  .optional()
  .describe(
    'What a call of a person with no connection uses: absent (the default), nothing: the model is told to ' +
      "ask the person to connect. `shared`: the upstream's own credential (http.auth, stdio.secretEnv).",
  );

const personOAuthSchema = z
  .strictObject({
    mode: z.literal('person-oauth'),
    issuer: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "The upstream's authorization server. Default: discovered from the server's RFC 9728 metadata " +
          '(`/.well-known/oauth-protected-resource`).',
      ),
    clientId: z
      .string()
      .min(1)
      .max(512)
      .describe('The client id the gateway is registered under at that server.'),
    clientSecret: secretRefSchema
      .optional()
      .describe('Reference to the client secret; absent for a public client (PKCE only).'),
    scopes: z
      .array(scopeTokenSchema)
      .max(50)
      .default([])
      .describe('The minimum scopes to ask for, exactly these (the connect page lists them).'),
    scopeText: z
      .record(scopeTokenSchema, z.string().min(1).max(200))
      .default({})
      .describe(
        'Plain words for each scope, shown on the connect page (e.g. repo: "Read and write your repositories").',
      ),
    fallback: fallbackSchema,
  })
  .describe(
    "Each person connects their own account at the upstream's authorization server (OAuth 2.1: code + " +
      'PKCE, `resource` = the server URL); tokens are kept encrypted and refreshed by the gateway.',
  );

const personSecretSchema = z
  .strictObject({
    mode: z.literal('person-secret'),
    label: z
      .string()
      .min(1)
      .max(120)
      .describe('What the key is, in plain words, for the paste form (e.g. "your Acme CRM API key").'),
    env: envName
      .optional()
      .describe("stdio: the environment variable the key is given in (only in that person's process)."),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .optional()
      .describe('http: the request header the key is sent in (e.g. X-API-Key).'),
    scheme: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .optional()
      .describe(
        'http: a scheme put before the key in the header, e.g. Bearer for `Authorization: Bearer <key>`.',
      ),
    maxLength: z
      .number()
      .int()
      .min(8)
      .max(16_384)
      .default(4096)
      .describe('Longest key accepted, in characters.'),
    testCall: z
      .strictObject({
        tool: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/)
          .describe("The upstream tool (its own name, not the gateway's)."),
        arguments: z.record(z.string(), z.unknown()).default({}).describe('Its arguments.'),
      })
      .optional()
      .describe(
        'A harmless call made with a pasted key before it is kept (a key the call fails with is refused). ' +
          'Pick a read-only tool such as "whoami".',
      ),
    fallback: fallbackSchema,
  })
  .describe('Each person pastes their own API key for this upstream on the connections page.');

const tokenExchangeSchema = z
  .strictObject({
    mode: z.literal('token-exchange'),
    issuer: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "The upstream's authorization server (its token endpoint is discovered from RFC 8414 metadata).",
      ),
    clientId: z.string().min(1).max(512).describe('The client id the gateway is registered under there.'),
    clientSecret: secretRefSchema.optional().describe('Reference to the client secret.'),
    scopes: z.array(scopeTokenSchema).max(50).default([]).describe('Scopes to ask for.'),
    subjectToken: z
      .enum(['access-token'])
      .default('access-token')
      .describe("What is exchanged: the caller's Portcullis access token."),
    fallback: fallbackSchema,
  })
  .describe(
    "RFC 8693 token exchange: the caller's Portcullis token is exchanged at the upstream's authorization " +
      'server for an upstream token of the same person (enterprise setups). Nothing to connect by hand.',
  );

const personAuthSchema = z
  .discriminatedUnion('mode', [personOAuthSchema, personSecretSchema, tokenExchangeSchema])
  .describe(
    "Whose credential reaches the server. Absent: the upstream's own (http.auth, stdio.secretEnv), the " +
      "same for every caller. Set: each person's own — person-oauth, person-secret or token-exchange " +
      '(see docs/upstreams.md, "People\'s own credentials").',
  );

const toolRuleSchema = z
  .strictObject({
    class: z
      .enum(['read', 'write', 'destructive'])
      .default('write')
      .describe('How much harm the tool can do; an upstream annotation can raise it, never lower it.'),
    labels: z
      .array(z.enum(['private-data', 'untrusted-source', 'external-sink']))
      .default([])
      .describe('Data labels for tool-chain rules.'),
    scope: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*(:[a-z0-9_.*-]+)*$/)
      .optional()
      .describe('Scope needed to see and call the tool, instead of the default `<upstream>:<class>`.'),
    approvalText: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe(
        'What the approval page says a call will change, in your words: `{name}` is replaced by that ' +
          'argument (shown as text, cut at 120 characters), e.g. "Deletes the issue #{number} of {repo}".',
      ),
  })
  .describe('Classification for the tools whose name matches the pattern.');

const scopeSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]*(:[a-z0-9_.*-]+)*$/);
const labelSchema = z.enum(['private-data', 'untrusted-source', 'external-sink']);

const surfaceRuleSchema = (what: string, defaultScope: string) =>
  z
    .strictObject({
      scope: scopeSchema
        .optional()
        .describe(`Scope needed to see and use the ${what}, instead of the default \`${defaultScope}\`.`),
      labels: z
        .array(labelSchema)
        .optional()
        .describe(
          `Data labels for tool-chain rules. Default: untrusted-source (what an upstream's ${what} bring ` +
            'in is untrusted text, and taints the caller).',
        ),
    })
    .describe(`Scope and labels for the ${what} that match the pattern.`);

const resourceRuleSchema = surfaceRuleSchema('resources', '<upstream>:resources');
const promptRuleSchema = surfaceRuleSchema('prompts', '<upstream>:prompts');

const upstreamSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, {
        message: 'must be 1–32 of a-z, 0-9 and -, starting alphanumeric',
      })
      .describe(
        'Identifier and tool prefix: tool `read_file` of upstream `files` is served as `files__read_file`.',
      ),
    stdio: stdioSchema.optional(),
    http: httpSchema.optional(),
    auth: personAuthSchema.optional(),
    sessions: z
      .strictObject({
        maxPerUpstream: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(20)
          .describe(
            'Most per-person sessions (stdio: processes) open at once; the longest idle is stopped for a new one.',
          ),
        idleSeconds: z
          .number()
          .int()
          .min(10)
          .max(86_400)
          .default(600)
          .describe('A per-person session unused this long is stopped (started again on the next call).'),
      })
      .prefault({})
      .describe("Per-person sessions of an upstream with `auth` (one each person's credential is used on)."),
    sandbox: z
      .union([z.literal('off'), sandboxSchema])
      .prefault({})
      .describe('Sandbox settings of a stdio server, or "off" to run it unconfined (not recommended).'),
    tools: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.*-]+$/, { message: 'a tool name or a pattern with *' }),
        toolRuleSchema,
      )
      .default({})
      .describe(
        'Classification by tool name or `*` pattern; the most specific match wins (exact name, then ' +
          'the pattern with most literal characters). Unmatched tools are write + untrusted-source + external-sink.',
      ),
    resources: z
      .record(
        z
          .string()
          .min(1)
          .max(2048)
          // eslint-disable-next-line no-control-regex -- control characters are what is refused
          .regex(/^[^\u0000-\u0020\u007f]+$/, { message: 'a URI or a pattern with *, without spaces' }),
        resourceRuleSchema,
      )
      .default({})
      .describe(
        "Scope and labels of the server's resources and resource templates, by the server's own URI (or " +
          'uriTemplate) or a `*` pattern (e.g. `file:///docs/*`); the most specific match wins, as for ' +
          'tools. Unmatched: scope `<upstream>:resources`, labels untrusted-source.',
      ),
    prompts: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.*-]+$/, { message: 'a prompt name or a pattern with *' }),
        promptRuleSchema,
      )
      .default({})
      .describe(
        "Scope and labels of the server's prompts, by prompt name or `*` pattern; the most specific " +
          'match wins. Unmatched: scope `<upstream>:prompts`, labels untrusted-source.',
      ),
    namespace: z
      .string()
      .optional()
      .describe(
        'How names and URIs are served. Default (absent): tools and prompts as `<name>__<tool>`, resources ' +
          'as `portcullis://<name>/<uri>`. The empty string serves them unchanged (for a single server ' +
          'behind the gateway, or a conformance run); at most one upstream may have it, and a name that ' +
          'would collide with a built-in tool or another upstream is not served. No other value is ' +
          "accepted: a gateway URI's namespace is how the gateway finds its upstream.",
      ),
    inputRequests: z
      .strictObject({
        elicitation: z
          .boolean()
          .default(true)
          .describe(
            "Relay the server's form elicitations (2025 `elicitation/create`) to the person behind the call, " +
              "labelled with the server's name. The person can always decline.",
          ),
        urlElicitation: z
          .boolean()
          .default(false)
          .describe(
            'Also relay URL-mode elicitations (the server sends the person to a web page of its choosing).',
          ),
        sampling: z
          .boolean()
          .default(false)
          .describe(
            "Relay `sampling/createMessage` (the server asks the caller's model to generate): off by default, " +
              "since it spends the caller's model and writes into its context.",
          ),
        roots: z
          .boolean()
          .default(false)
          .describe("Relay `roots/list` (the server learns the caller's filesystem roots): off by default."),
      })
      .prefault({})
      .describe(
        'Which requests of the server reach the person behind a call (MCP client features). Only what is ' +
          'on here is declared to the server; anything else it asks is refused. Relayed only to the caller ' +
          'whose call the request belongs to, and only when that caller can answer.',
      ),
    protocol: z
      .enum(['auto', '2026-07-28', '2025'])
      .optional()
      .describe(
        'Which MCP era the gateway speaks to the server. `auto` probes with the 2026-07-28 ' +
          '`server/discover` and falls back to the 2025 `initialize` handshake (2025-11-25 … 2024-11-05); ' +
          '`2026-07-28` requires the stateless era; `2025` only initializes. Default: `auto` over HTTP, ' +
          '`2025` over stdio (some 2025 stdio servers exit on any request before `initialize`; with ' +
          '`auto` such a server is restarted once and spoken to in 2025).',
      ),
    pinning: z
      .enum(['require-approval', 'trust-on-first-use'])
      .default('require-approval')
      .describe(
        'New or changed tool definitions are blocked until approved (`portcullis pins approve`). ' +
          'With trust-on-first-use the first definition seen is approved automatically; changes still block.',
      ),
    callTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(60)
      .describe('A tool call not answered in this time fails (and is cancelled upstream).'),
    startTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(30)
      .describe('Time allowed for the server to start, initialise and list its tools.'),
    relistIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe(
        'How often tools are listed again to catch definitions changed without notice (also the health probe).',
      ),
    maxOutputBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024)
      .describe(
        'Largest tool result passed on, in bytes; longer text is truncated with a notice. A single ' +
          'message over four times this closes the connection.',
      ),
  })
  .superRefine((u, ctx) => {
    if (!u.stdio === !u.http) ctx.addIssue({ code: 'custom', message: 'set exactly one of stdio or http' });
    if (u.namespace !== undefined && u.namespace !== '' && u.namespace !== u.name) {
      ctx.addIssue({
        code: 'custom',
        path: ['namespace'],
        message: `must be "" (serve names unchanged) or left out (serve them as ${u.name}__…)`,
      });
    }
    checkPersonAuth(u, ctx);
    if (u.http && u.sandbox !== 'off' && (u.sandbox.writable.length > 0 || u.sandbox.readable.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['sandbox'], message: 'sandbox applies to stdio upstreams only' });
    }
  })
  .describe('One upstream MCP server.');

/** The combinations of `auth` with a transport that cannot work, named at their path. */
function checkPersonAuth(
  u: { stdio?: { secretEnv: Record<string, string> }; http?: { auth?: unknown }; auth?: PersonAuthConfig },
  ctx: z.RefinementCtx,
): void {
  const auth = u.auth;
  if (!auth) return;
  const issue = (path: string[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['auth', ...path], message });
  if ((auth.mode === 'person-oauth' || auth.mode === 'token-exchange') && !u.http)
    issue(['mode'], `${auth.mode} needs an http upstream (a stdio server has no authorization server)`);
  if (auth.mode === 'person-secret') {
    if (u.stdio && !auth.env)
      issue(['env'], 'a stdio upstream takes the key in an environment variable: set env');
    if (u.stdio && (auth.header || auth.scheme))
      issue(['header'], 'header and scheme apply to http upstreams only');
    if (u.http && !auth.header) issue(['header'], 'an http upstream takes the key in a header: set header');
    if (u.http && auth.env) issue(['env'], 'env applies to stdio upstreams only');
  }
  if (auth.fallback === 'shared') {
    const shared = u.http ? u.http.auth !== undefined : Object.keys(u.stdio?.secretEnv ?? {}).length > 0;
    if (!shared)
      issue(
        ['fallback'],
        'fallback: shared needs a shared credential (http.auth or stdio.secretEnv) to fall back to',
      );
  }
}

export const upstreamsConfigSchema = z
  .array(upstreamSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    let unprefixed: string | undefined;
    list.forEach((u, i) => {
      if (seen.has(u.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate upstream ${u.name}` });
      seen.add(u.name);
      if (u.namespace !== '') return;
      // Two servers serving unchanged names could claim each other's tools and URIs.
      if (unprefixed !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'namespace'],
          message: `only one upstream may have an empty namespace (${unprefixed} has it already)`,
        });
      }
      unprefixed ??= u.name;
    });
  })
  .describe(
    'Upstream MCP servers whose tools, prompts, resources and completions Portcullis serves, namespaced ' +
      '(`<name>__<tool>`, `portcullis://<name>/<uri>`), behind every control of the gateway. See docs/upstreams.md.',
  );

export type UpstreamConfig = z.output<typeof upstreamSchema>;

/** The era negotiation an upstream gets: its `protocol`, or the transport's safe default. */
export function protocolMode(
  config: Pick<UpstreamConfig, 'protocol' | 'http'>,
): 'auto' | '2026-07-28' | '2025' {
  return config.protocol ?? (config.http ? 'auto' : '2025');
}

export type PersonAuthConfig = z.output<typeof personAuthSchema>;
export type PersonOAuthConfig = z.output<typeof personOAuthSchema>;
export type PersonSecretConfig = z.output<typeof personSecretSchema>;
export type TokenExchangeConfig = z.output<typeof tokenExchangeSchema>;
export type StdioConfig = z.output<typeof stdioSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
export type SandboxConfig = z.output<typeof sandboxSchema>;
export type ToolRule = z.output<typeof toolRuleSchema>;
export type SurfaceRule = z.output<typeof resourceRuleSchema>;
