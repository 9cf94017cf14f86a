import type { Config } from './schema.js';

/** Whether an address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export interface ConfigProblem {
  readonly severity: 'fatal' | 'warning';
  readonly message: string;
}

/**
 * Insecure settings, judged once at start. Fatal problems stop the gateway; warnings are
 * printed loudly. Pure: the configuration is the only input.
 */
export function checkInsecureSettings(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { server } = config;
  const loopback = isLoopbackHost(server.host);
  if (!loopback && !server.tls && !server.trustProxy) {
    problems.push(
      server.allowInsecureHttp
        ? {
            severity: 'warning',
            message: `Serving plain HTTP on ${server.host}: credentials cross the network unencrypted (server.allowInsecureHttp is on).`,
          }
        : {
            severity: 'fatal',
            message:
              `Refusing to serve plain HTTP on non-loopback address ${server.host}. Configure server.tls, ` +
              'or server.trustProxy behind a TLS-terminating proxy, or (never in production) server.allowInsecureHttp.',
          },
    );
  }
  if (server.trustProxy && !loopback) {
    problems.push({
      severity: 'warning',
      message: `server.trustProxy is on while listening on ${server.host}: make sure only the proxy can reach this address.`,
    });
  }
  if (server.publicUrl?.startsWith('http://') && !isLoopbackHost(new URL(server.publicUrl).hostname)) {
    problems.push({ severity: 'warning', message: `server.publicUrl ${server.publicUrl} is not https.` });
  }
  if (!config.audit.enabled) {
    problems.push({
      severity: 'warning',
      message: 'audit.enabled is false: tool calls leave no audit record.',
    });
  }
  if (!config.rateLimits.enabled) {
    problems.push({
      severity: 'warning',
      message: 'rateLimits.enabled is false: no call, credential or address is limited.',
    });
  }
  if (config.securityTxt.contact.length === 0) {
    problems.push({
      severity: 'warning',
      message:
        'no security contact: /.well-known/security.txt (RFC 9116) answers 404, so whoever finds a ' +
        'vulnerability here has nobody to tell. Set securityTxt.contact (`portcullis init --security-contact`).',
    });
  }
  for (const [name, ref] of [
    ['url', config.storage.url],
    ['readUrl', config.storage.readUrl],
    ['migrateUrl', config.storage.migrateUrl],
  ] as const) {
    if (config.storage.driver === 'postgres' && ref && /^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(ref)) {
      problems.push({
        severity: 'warning',
        message: `storage.${name} is a literal URL with a password: the configuration file now holds a secret. Use env:NAME or file:/path.`,
      });
    }
  }
  if (config.storage.driver === 'memory') {
    problems.push({
      severity: 'warning',
      message: 'storage.driver is memory: every key and note is lost on exit.',
    });
  }
  return problems;
}
