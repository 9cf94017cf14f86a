import type { HttpBindings } from '@hono/node-server';

/** What OAuth routes get from the gateway's Hono app: raw Node req/res and the request id. */
export type OAuthEnv = { Bindings: HttpBindings; Variables: { requestId: string } };
