import path from 'node:path';

/** The repository root (this file runs from dist/test/conformance/). */
export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CONFORMANCE = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance');
export const CONFORMANCE_BIN = path.join(CONFORMANCE, 'dist/index.js');
