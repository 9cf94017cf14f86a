import type { StdioConfig } from './config.js';

/** Inherited by every stdio server: what programs need to find binaries and decode text. */
const BASE_INHERITED_ENV = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'] as const;

/**
 * The complete environment of a stdio server, and nothing more: the allow-listed names from the
 * gateway's environment, the declared literal values, and this upstream's own resolved secrets
 * (last, so nothing can shadow them). The gateway's secrets and other upstreams' secrets are
 * never inherited because nothing is inherited by default.
 */
export function buildProcessEnv(
  stdio: StdioConfig,
  gatewayEnv: NodeJS.ProcessEnv,
  secrets: Readonly<Record<string, string>>,
  sandboxed: boolean,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_INHERITED_ENV, ...stdio.inheritEnv]) {
    const value = gatewayEnv[name];
    if (value !== undefined) env[name] = value;
  }
  // Inside the sandbox only the private /tmp is writable; tools that write caches under HOME
  // (npm, uv, pip) then work without seeing the gateway user's home directory.
  if (sandboxed) {
    env.HOME = '/tmp';
    env.TMPDIR = '/tmp';
  } else if (env.HOME === undefined && gatewayEnv.HOME !== undefined) {
    env.HOME = gatewayEnv.HOME;
  }
  Object.assign(env, stdio.env, secrets);
  return env;
}
