import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The repository root (this file runs from dist/test/conformance/). */
export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CONFORMANCE = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance');
export const CONFORMANCE_BIN = path.join(CONFORMANCE, 'dist/index.js');

/**
 * The first release whose CLI has the `authorization` command (scenarios against an
 * authorization server). The 0.1.x line has only `client` and `server`.
 */
export const AUTHORIZATION_SINCE = '0.2.0-alpha.12';

/**
 * Why the authorization scenarios cannot run with the installed package, or false when they can.
 * Decided by asking the installed CLI, not by its version number.
 */
export function authorizationSuiteMissing(): string | false {
  const version = (
    JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const help = spawnSync(process.execPath, [CONFORMANCE_BIN, '--help'], { encoding: 'utf8' });
  if (/^\s+authorization\b/m.test(help.stdout)) return false;
  return `@modelcontextprotocol/conformance ${version} has no \`authorization\` command; pin ${AUTHORIZATION_SINCE} or later`;
}
