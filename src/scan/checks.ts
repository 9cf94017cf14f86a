/**
 * Every check the scanner has, in one table: a stable id (CI suppressions, SARIF rule ids and
 * baselines key on it — never rename one, retire it), the checklist area it belongs to, its
 * severity, what it means, why it matters, how to fix it, and where the rule comes from (a spec
 * section or a checklist item). A finding carries only the id and what was seen; everything a
 * reader needs to act on it is here, so the human, JSON and SARIF reports say the same.
 */

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export type Area =
  | 'transport'
  | 'authentication'
  | 'authorization'
  | 'tool-surface'
  | 'poisoning'
  | 'secrets'
  | 'input-validation'
  | 'rate-limiting'
  | 'drift'
  | 'client-config'
  | 'scan';

/** The areas in the order the human report shows them. */
export const AREAS: readonly Area[] = [
  'authentication',
  'authorization',
  'transport',
  'poisoning',
  'secrets',
  'tool-surface',
  'input-validation',
  'rate-limiting',
  'drift',
  'client-config',
  'scan',
];

export interface CheckDefinition {
  readonly area: Area;
  readonly severity: Severity;
  readonly title: string;
  readonly why: string;
  readonly fix: string;
  /** The spec section or checklist item the check comes from. */
  readonly source: string;
}

const SPEC_TRANSPORT =
  'MCP specification 2025-11-25, Basic › Transports › Streamable HTTP › Security Warning';
const SPEC_AUTH = 'MCP specification 2025-11-25, Basic › Authorization';
const BEST_PRACTICES = 'MCP Security Best Practices';
const CHECKLIST = 'Portcullis checklist (docs/scanner.md)';

const table = {
  // ── transport ────────────────────────────────────────────────────────────────────────────
  'transport/plain-http': {
    area: 'transport',
    severity: 'high',
    title: 'Served over plain HTTP off loopback',
    why: 'Tokens, tool arguments and results cross the network readable and changeable by anyone on the path.',
    fix: 'Serve the endpoint over HTTPS (TLS on the server or a terminating proxy) and refuse plain HTTP.',
    source: `${SPEC_AUTH} › Communication Security (HTTPS required)`,
  },
  'transport/tls-invalid': {
    area: 'transport',
    severity: 'high',
    title: 'TLS certificate not valid',
    why: 'A client that accepts this certificate cannot tell the server from an impostor.',
    fix: 'Use a certificate from a trusted CA that matches the host name and has not expired.',
    source: `${SPEC_AUTH} › Communication Security`,
  },
  'transport/no-hsts': {
    area: 'transport',
    severity: 'low',
    title: 'HTTPS without Strict-Transport-Security',
    why: 'A browser-based client can be downgraded to plain HTTP on its first visit.',
    fix: 'Send `Strict-Transport-Security: max-age=31536000` on every HTTPS response.',
    source: 'RFC 6797',
  },
  'transport/foreign-origin-accepted': {
    area: 'transport',
    severity: 'high',
    title: 'Requests from a foreign Origin are served',
    why: 'A web page the user visits can talk to the server through their browser (DNS rebinding); the spec requires Origin validation.',
    fix: 'Validate the Origin header on every request and answer 403 to origins that are not yours.',
    source: `${SPEC_TRANSPORT} (servers MUST validate the Origin header)`,
  },
  'transport/wildcard-cors': {
    area: 'transport',
    severity: 'medium',
    title: 'CORS allows any origin',
    why: 'Any web page can read the server’s answers from a visitor’s browser.',
    fix: 'Answer CORS preflights only for the origins of your own web clients, never `*` or a reflected Origin.',
    source: 'Fetch standard › CORS protocol',
  },
  'transport/weak-session-id': {
    area: 'transport',
    severity: 'medium',
    title: 'Guessable session id',
    why: 'A short or patterned Mcp-Session-Id can be guessed and a session taken over.',
    fix: 'Use at least 128 bits from a cryptographic random source (a UUIDv4 or 22+ base64url characters).',
    source: `${BEST_PRACTICES} › Session Hijacking`,
  },
  'transport/session-not-bound': {
    area: 'transport',
    severity: 'high',
    title: 'A session id works without the credential',
    why: 'Whoever learns a session id gets the session: sessions must not be authentication.',
    fix: 'Authenticate every request and bind each session to the principal that created it.',
    source: `${BEST_PRACTICES} › Session Hijacking (MUST NOT use sessions for authentication)`,
  },
  // ── authentication ───────────────────────────────────────────────────────────────────────
  'auth/no-credential-required': {
    area: 'authentication',
    severity: 'critical',
    title: 'Tools listed or callable with no credential',
    why: 'Anyone who can reach the endpoint can use every tool it has.',
    fix: 'Require a bearer token (OAuth 2.1 per the MCP authorization spec, or an API key) on every request to the endpoint.',
    source: `${SPEC_AUTH}; ${CHECKLIST}: missing auth`,
  },
  'auth/missing-www-authenticate': {
    area: 'authentication',
    severity: 'medium',
    title: '401 without WWW-Authenticate',
    why: 'Clients cannot discover how to authenticate, so people paste long-lived tokens into configs instead.',
    fix: 'Answer 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1).',
    source: `${SPEC_AUTH} › Authorization Server Location; RFC 6750 §3`,
  },
  'auth/missing-resource-metadata': {
    area: 'authentication',
    severity: 'medium',
    title: 'No protected-resource metadata',
    why: 'MCP clients find the authorization server through RFC 9728 metadata; without it OAuth cannot start.',
    fix: 'Serve /.well-known/oauth-protected-resource (with the endpoint path) naming `resource` and `authorization_servers`, and point `resource_metadata` at it.',
    source: `${SPEC_AUTH} › Authorization Server Discovery (servers MUST implement RFC 9728)`,
  },
  'auth/resource-metadata-mismatch': {
    area: 'authentication',
    severity: 'high',
    title: 'Protected-resource metadata names another resource',
    why: 'RFC 9728 §3.3: a client must reject metadata whose `resource` differs from the URL it asked about; tokens get the wrong audience.',
    fix: 'Make `resource` exactly the MCP endpoint URL clients use.',
    source: 'RFC 9728 §3.3',
  },
  'auth/as-metadata-missing': {
    area: 'authentication',
    severity: 'medium',
    title: 'Authorization server metadata not found',
    why: 'Clients need RFC 8414 or OpenID Connect discovery metadata to find the endpoints and what they support.',
    fix: 'Serve /.well-known/oauth-authorization-server (or openid-configuration) at the issuer named in the resource metadata.',
    source: `${SPEC_AUTH} › Authorization Server Metadata Discovery`,
  },
  'auth/as-issuer-mismatch': {
    area: 'authentication',
    severity: 'high',
    title: 'Authorization server metadata names another issuer',
    why: 'RFC 8414 §3.3: the `issuer` must equal the URL the metadata was found from, or mix-up attacks become possible.',
    fix: 'Make `issuer` identical to the authorization server URL in the resource metadata.',
    source: 'RFC 8414 §3.3',
  },
  'auth/pkce-missing': {
    area: 'authentication',
    severity: 'high',
    title: 'PKCE S256 not advertised',
    why: 'MCP clients MUST refuse to proceed without S256; without PKCE an intercepted code is a token.',
    fix: 'Require PKCE with `S256` and list it in `code_challenge_methods_supported`.',
    source: `${SPEC_AUTH} › Authorization Code Protection (PKCE S256)`,
  },
  'auth/pkce-plain-allowed': {
    area: 'authentication',
    severity: 'medium',
    title: 'PKCE method `plain` allowed',
    why: 'With `plain` the challenge is the verifier: anyone who sees the authorization request can redeem the code.',
    fix: 'Accept only `S256`.',
    source: 'OAuth 2.1 §4.1.1; RFC 7636 §7.2',
  },
  'auth/open-registration': {
    area: 'authentication',
    severity: 'info',
    title: 'Open dynamic client registration',
    why: 'Anyone can register a client; that is fine only if a registered client gets nothing without a person consenting.',
    fix: 'Keep consent per client, show the client’s name and redirect host on the consent page, and never give self-registered clients client credentials.',
    source: `${BEST_PRACTICES} › Confused Deputy Problem`,
  },
  'auth/self-registered-client-credentials': {
    area: 'authentication',
    severity: 'critical',
    title: 'A self-registered client obtains tokens by itself',
    why: 'Anyone can register and get a token with no person behind it: authentication in name only.',
    fix: 'Refuse the client_credentials grant to dynamically registered clients; issue machine credentials only by an operator.',
    source: `${CHECKLIST}: client credentials reachable by self-registered clients`,
  },
  'auth/query-token-accepted': {
    area: 'authentication',
    severity: 'high',
    title: 'Access token accepted in the query string',
    why: 'URLs are logged by proxies and servers and kept in browser history: the token leaks.',
    fix: 'Accept bearer tokens only in the Authorization header.',
    source: `${SPEC_AUTH} › Token Requirements (MUST NOT be in the URI query string); OAuth 2.1 §5.1`,
  },
  'auth/forged-token-accepted': {
    area: 'authentication',
    severity: 'critical',
    title: 'A forged token is accepted',
    why: 'A token made without any secret unlocked the server: anyone can mint one.',
    fix: 'Verify signatures with the issuer’s keys only, allow-list algorithms (never `none`, never HMAC with a public key), ignore `jku`/`jwk` headers, and check `iss`, `aud` and `exp`.',
    source: 'RFC 8725 §2.1–2.2, §3.1; RFC 7515 §4.1.2–4.1.3',
  },
  'auth/credential-argument': {
    area: 'authentication',
    severity: 'medium',
    title: 'A tool takes a credential as an argument',
    why: 'The model is asked for a token or password: it ends up in prompts, logs and other tools (token passthrough by the back door).',
    fix: 'Keep credentials on the server and inject them server-side; never route them through the model.',
    source: `${BEST_PRACTICES} › Token Passthrough`,
  },
  // ── authorization ────────────────────────────────────────────────────────────────────────
  'authz/broad-scope': {
    area: 'authorization',
    severity: 'medium',
    title: 'Over-broad scope',
    why: 'A scope named `*`, `all` or `admin` gives a client everything at once; least privilege is lost.',
    fix: 'Name scopes per capability (`notes:read`, `notes:write`) and grant the narrowest one.',
    source: `${BEST_PRACTICES} › Scope Minimization`,
  },
  'authz/one-scope-for-all': {
    area: 'authorization',
    severity: 'medium',
    title: 'One credential unlocks every tool',
    why: 'A read-only client gets write and destructive tools too.',
    fix: 'Give write and destructive tools scopes of their own and list them in `scopes_supported`.',
    source: `${BEST_PRACTICES} › Scope Minimization; ${CHECKLIST}: over-broad scopes`,
  },
  'authz/destructive-marked-read-only': {
    area: 'authorization',
    severity: 'high',
    title: 'A destructive-looking tool claims to be read-only',
    why: 'Clients auto-approve read-only tools; a delete behind `readOnlyHint: true` runs without the person being asked.',
    fix: 'Annotate the tool truthfully (`readOnlyHint: false, destructiveHint: true`) and ask for confirmation.',
    source: 'MCP specification 2025-11-25, Server › Tools › Tool annotations',
  },
  'authz/destructive-unannotated': {
    area: 'authorization',
    severity: 'medium',
    title: 'A destructive-looking tool has no destructive annotation',
    why: 'Clients decide whether to ask the person from annotations; without them a delete, payment or send may run unconfirmed.',
    fix: 'Set `destructiveHint: true` (and `readOnlyHint: false`) and require confirmation for the call.',
    source: 'MCP specification 2025-11-25, Server › Tools › Tool annotations; human in the loop',
  },
  // ── tool surface ─────────────────────────────────────────────────────────────────────────
  'tools/generic-execution': {
    area: 'tool-surface',
    severity: 'high',
    title: 'Generic execution tool (shell, SQL, eval)',
    why: 'One prompt injection turns into arbitrary commands or queries; no policy can reason about a raw command.',
    fix: 'Replace it with narrow tools that take typed parameters (`find_orders(customer_id)`, not `sql(query)`).',
    source: `${CHECKLIST}: no raw shell, SQL or eval`,
  },
  'tools/arbitrary-target': {
    area: 'tool-surface',
    severity: 'medium',
    title: 'Tool takes an arbitrary path or URL',
    why: 'An unconstrained path or URL reaches files and hosts the tool was not meant for (traversal, SSRF).',
    fix: 'Constrain the argument (enum, pattern, format) and enforce a root directory or host allow-list on the server.',
    source: `${BEST_PRACTICES} › Server-Side Request Forgery; ${CHECKLIST}: no raw filesystem path`,
  },
  'tools/schema-accepts-anything': {
    area: 'tool-surface',
    severity: 'medium',
    title: 'Input schema validates nothing',
    why: 'Any arguments reach the tool’s code: validation is left to hope.',
    fix: 'Describe every parameter with a type and bounds, list `required`, and set `additionalProperties: false`.',
    source: `${CHECKLIST}: unvalidated inputs`,
  },
  'tools/open-schema': {
    area: 'tool-surface',
    severity: 'low',
    title: 'Input schema allows unknown parameters',
    why: 'Extra keys are forwarded to the tool; a model can be steered into passing hidden options.',
    fix: 'Set `additionalProperties: false` on the input schema.',
    source: `${CHECKLIST}: unvalidated inputs`,
  },
  'tools/unbounded-input': {
    area: 'tool-surface',
    severity: 'low',
    title: 'Unbounded string or array parameters',
    why: 'A parameter without a length limit carries anything, of any size, into the tool.',
    fix: 'Give strings `maxLength` (or `enum`/`pattern`/`format`) and arrays `maxItems`.',
    source: `${CHECKLIST}: unvalidated inputs`,
  },
  'tools/enum-in-prose': {
    area: 'tool-surface',
    severity: 'low',
    title: 'Fixed values described in prose, not in the schema',
    why: 'The description lists the allowed values but the schema accepts any text.',
    fix: 'Put the values in an `enum`.',
    source: `${CHECKLIST}: unvalidated inputs`,
  },
  'tools/no-annotations': {
    area: 'tool-surface',
    severity: 'low',
    title: 'No read-only or destructive annotation',
    why: 'Clients cannot tell a lookup from a change and must either ask for everything or for nothing.',
    fix: 'Set `readOnlyHint` (and `destructiveHint` for tools that change things).',
    source: 'MCP specification 2025-11-25, Server › Tools › Tool annotations',
  },
  'tools/no-output-schema': {
    area: 'tool-surface',
    severity: 'info',
    title: 'No output schema',
    why: 'Without `outputSchema` a gateway cannot check what comes back.',
    fix: 'Declare `outputSchema` and return `structuredContent` that matches it.',
    source: 'MCP specification 2025-11-25, Server › Tools › Output Schema',
  },
  // ── poisoning ────────────────────────────────────────────────────────────────────────────
  'poisoning/injection': {
    area: 'poisoning',
    severity: 'critical',
    title: 'Instructions for the model hidden in a definition',
    why: 'A model reads every description, schema string and instruction as guidance; this one tells it to act against its user (tool poisoning).',
    fix: 'Remove the text; if the server is not yours, do not connect it.',
    source: `${BEST_PRACTICES}; Portcullis detector (src/safety)`,
  },
  'poisoning/suspicious-text': {
    area: 'poisoning',
    severity: 'medium',
    title: 'Text that reads like instructions for the model',
    why: 'Part of a definition matches prompt-injection patterns; it may be benign wording or an attack being tested.',
    fix: 'Reword the description as a plain statement of what the tool does.',
    source: 'Portcullis detector (src/safety)',
  },
  'poisoning/hidden-characters': {
    area: 'poisoning',
    severity: 'high',
    title: 'Invisible or bidi characters in a definition',
    why: 'What the person reviews is not what the model reads: hidden text and reordered characters carry instructions past review.',
    fix: 'Remove invisible, tag and bidirectional control characters from names, descriptions and schemas.',
    source: 'Unicode TR36 / TR39; CVE-2021-42574 (Trojan Source)',
  },
  'poisoning/tool-shadowing': {
    area: 'poisoning',
    severity: 'high',
    title: 'Tool name shared by two servers',
    why: 'Two servers of one client expose the same name: one can shadow the other and receive its calls.',
    fix: 'Give the servers distinct tool names or connect them through a gateway that namespaces them.',
    source: `${CHECKLIST}: tool-name shadowing`,
  },
  // ── secrets ──────────────────────────────────────────────────────────────────────────────
  'secrets/in-definition': {
    area: 'secrets',
    severity: 'high',
    title: 'Credential-like value in a definition',
    why: 'Definitions are sent to every client and model: a key there is published.',
    fix: 'Remove the value and rotate the credential.',
    source: `${CHECKLIST}: leaked secrets; Portcullis redaction patterns (src/safety)`,
  },
  'secrets/in-response': {
    area: 'secrets',
    severity: 'high',
    title: 'Credential-like value in a response or error',
    why: 'A tool result or error message carried a token or key to the client.',
    fix: 'Redact secrets from results and errors on the server; rotate the credential.',
    source: `${CHECKLIST}: leaked secrets`,
  },
  // ── input validation (active) ────────────────────────────────────────────────────────────
  'validation/invalid-arguments-accepted': {
    area: 'input-validation',
    severity: 'medium',
    title: 'Invalid arguments accepted',
    why: 'Arguments that break the tool’s own schema ran as if valid: the tool does not validate its input.',
    fix: 'Validate arguments against the input schema and answer `isError: true` (or -32602) with what was wrong.',
    source: 'MCP specification 2025-11-25, Server › Tools › Error Handling',
  },
  'validation/error-leaks-internals': {
    area: 'input-validation',
    severity: 'medium',
    title: 'Error reveals internals',
    why: 'Stack traces, SQL and file paths in errors map the server for an attacker.',
    fix: 'Answer with a short message about the input; log the detail on the server.',
    source: `${CHECKLIST}: errors without internal detail`,
  },
  'validation/server-error': {
    area: 'input-validation',
    severity: 'low',
    title: 'Invalid arguments crash the request',
    why: 'A 500 or -32603 for a client mistake tells the model nothing it can correct.',
    fix: 'Treat invalid arguments as a client error: `isError: true` or -32602 with a usable message.',
    source: 'MCP specification 2025-11-25, Server › Tools › Error Handling',
  },
  // ── rate limiting (active) ───────────────────────────────────────────────────────────────
  'ratelimit/no-limit': {
    area: 'rate-limiting',
    severity: 'medium',
    title: 'No rate limit',
    why: 'A runaway agent or an attacker can call the server as fast as it answers.',
    fix: 'Limit requests per caller and answer 429 with Retry-After.',
    source: `${CHECKLIST}: rate limits`,
  },
  'ratelimit/no-retry-after': {
    area: 'rate-limiting',
    severity: 'low',
    title: '429 without Retry-After',
    why: 'Clients cannot tell when to try again and retry at once.',
    fix: 'Send `Retry-After` with every 429.',
    source: 'RFC 6585 §4; RFC 9110 §10.2.3',
  },
  // ── drift ────────────────────────────────────────────────────────────────────────────────
  'drift/listing-changed': {
    area: 'drift',
    severity: 'high',
    title: 'Definitions changed between two listings',
    why: 'A server that changes its tools after they were reviewed can swap a harmless tool for a harmful one (rug pull).',
    fix: 'Pin tool definitions and re-review every change before it is served.',
    source: `${CHECKLIST}: tool-definition pinning (rug pulls)`,
  },
  'drift/changed-since-baseline': {
    area: 'drift',
    severity: 'high',
    title: 'Definition changed since the baseline',
    why: 'A reviewed definition is no longer what the server serves (possible rug pull).',
    fix: 'Review the change; update the baseline only once it is understood.',
    source: `${CHECKLIST}: tool-definition pinning (rug pulls)`,
  },
  'drift/new-since-baseline': {
    area: 'drift',
    severity: 'medium',
    title: 'New item since the baseline',
    why: 'A tool, prompt or resource appeared that was not reviewed.',
    fix: 'Review it and update the baseline.',
    source: `${CHECKLIST}: tool-definition pinning`,
  },
  'drift/removed-since-baseline': {
    area: 'drift',
    severity: 'info',
    title: 'Item removed since the baseline',
    why: 'Something reviewed is gone; harmless by itself, but the baseline is stale.',
    fix: 'Update the baseline.',
    source: `${CHECKLIST}: tool-definition pinning`,
  },
  // ── client configuration files ───────────────────────────────────────────────────────────
  'config/plaintext-secret': {
    area: 'client-config',
    severity: 'high',
    title: 'Plaintext secret in a client configuration',
    why: 'Config files are synced, backed up, shared in bug reports and read by every local process.',
    fix: 'Reference the secret instead (`${input:…}` in VS Code, `${env:…}`/an environment variable, or an OAuth login) and rotate it.',
    source: `${CHECKLIST}: plaintext secrets in client configs`,
  },
  'config/insecure-url': {
    area: 'client-config',
    severity: 'high',
    title: 'Remote server configured over plain HTTP',
    why: 'The client sends its credential and data in clear text.',
    fix: 'Use the server’s https:// URL.',
    source: `${SPEC_AUTH} › Communication Security`,
  },
  'config/stdio-bridge': {
    area: 'client-config',
    severity: 'medium',
    title: 'Local stdio bridge to a remote server',
    why: 'A local process (often fetched at start) holds the remote credential and relays everything; it runs with the user’s full rights.',
    fix: 'Connect the client to the remote server directly over Streamable HTTP, or pin and sandbox the bridge.',
    source: `${CHECKLIST}: local stdio bridges to remote services`,
  },
  'config/unpinned-package': {
    area: 'client-config',
    severity: 'low',
    title: 'Server package run without a pinned version',
    why: '`npx -y pkg` / `uvx pkg` runs whatever the registry serves today: a compromised release runs on the next start.',
    fix: 'Pin an exact version (`pkg@1.2.3`) or install the server and run it from a path.',
    source: `${CHECKLIST}: supply chain`,
  },
  // ── the scan itself ──────────────────────────────────────────────────────────────────────
  'scan/credential-needed': {
    area: 'scan',
    severity: 'info',
    title: 'Listing needs a credential',
    why: 'The server refused the scanner without a credential, so its tools could not be checked.',
    fix: 'Run again with `--header`, `--bearer-env` or `--oauth` to check the tools too.',
    source: 'portcullis scan',
  },
  'scan/partial': {
    area: 'scan',
    severity: 'low',
    title: 'Part of the server could not be checked',
    why: 'A listing failed, was cut at a limit, or a probe could not run; what was not seen was not checked.',
    fix: 'See the evidence; fix the server or raise the limit and scan again.',
    source: 'portcullis scan',
  },
  'scan/target-failed': {
    area: 'scan',
    severity: 'high',
    title: 'A server could not be scanned',
    why: 'Nothing about it was checked.',
    fix: 'See the evidence: start command, URL, credentials, sandbox.',
    source: 'portcullis scan',
  },
} as const satisfies Record<string, CheckDefinition>;

export type CheckId = keyof typeof table;
export const CHECKS: Readonly<Record<CheckId, CheckDefinition>> = table;
export const CHECK_IDS = Object.keys(table) as CheckId[];
