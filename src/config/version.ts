import { createRequire } from 'node:module';

/** This build's version, from package.json (dist/src/config/ → the package root). */
export const PORTCULLIS_VERSION = (
  createRequire(import.meta.url)('../../../package.json') as { version: string }
).version;
