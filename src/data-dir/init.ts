import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { PortcullisError } from '../errors/index.js';
import { renderDefaultConfigYaml } from '../config/index.js';
import { dataDirLayout } from './layout.js';

export interface InitResult {
  readonly dataDir: string;
  readonly created: readonly string[];
}

export interface InitOptions {
  /** RFC 9116 Contact values for /.well-known/security.txt, already validated by the caller. */
  readonly securityContacts?: readonly string[];
}

/** Writes a file that must not exist yet, readable only by its owner. */
function writeNew(file: string, contents: string, mode: number) {
  fs.writeFileSync(file, contents, { mode, flag: 'wx' });
}

/**
 * Initialises a data directory: a commented config and freshly generated keys. Refuses to
 * touch a directory that already holds a config or keys, so a mistyped command can never
 * replace the keys that existing tokens and audit checkpoints depend on.
 */
export function initDataDir(dataDir: string, options: InitOptions = {}): InitResult {
  const layout = dataDirLayout(dataDir);
  for (const existing of [layout.config, layout.signingKeys]) {
    if (fs.existsSync(existing)) {
      throw new PortcullisError(
        'already-initialised',
        `Refusing to overwrite ${existing}: ${dataDir} is already initialised.`,
      );
    }
  }
  fs.mkdirSync(layout.keys, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  fs.chmodSync(layout.keys, 0o700);

  // The token-signing key (ES256) for the OAuth authorization server; kept as a JWK set so
  // rotation can add keys while the old ones stay published until their tokens expire.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(12).toString('base64url'),
    alg: 'ES256',
    use: 'sig',
  };
  writeNew(
    layout.signingKeys,
    `${JSON.stringify({ keys: [{ ...jwk, createdAt: new Date().toISOString() }] }, null, 2)}\n`,
    0o600,
  );
  writeNew(layout.config, renderDefaultConfigYaml() + securityTxtYaml(options.securityContacts ?? []), 0o600);
  return { dataDir, created: [layout.config, layout.signingKeys] };
}

/** The one uncommented section `init --security-contact` adds (JSON strings are YAML scalars). */
function securityTxtYaml(contacts: readonly string[]): string {
  if (contacts.length === 0) return '';
  return [
    '',
    '# Set by `portcullis init --security-contact`: served at /.well-known/security.txt (RFC 9116).',
    'securityTxt:',
    '  contact:',
    ...contacts.map((c) => `    - ${JSON.stringify(c)}`),
    '',
  ].join('\n');
}

/** Whether the directory has been initialised (its config file exists). */
export function isInitialised(dataDir: string): boolean {
  return fs.existsSync(dataDirLayout(dataDir).config);
}
