// The memory tools over a fresh SQLite store seeded with the bench's notes, for the targets that
// call them without Portcullis (a′ and b), and the principal they run as.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStorage } from '../../src/storage/index.js';
import { createMemoryTools } from '../../src/tools/index.js';
import { SEED_NOTES } from '../request.js';

export const principal = {
  subject: 'bench',
  tenant: 'bench',
  credentialId: 'none',
  authMethod: 'api-key' as const,
  scopes: new Set<string>(),
  binding: 'none',
};

export async function openSeededTools(name: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const storage = openSqliteStorage(path.join(dir, 'bench.db'));
  const tools = createMemoryTools(storage.notes);
  const save = tools.find((t) => t.name === 'memory_save')!;
  for (const n of SEED_NOTES) {
    await save.execute(n, { principal, requestId: 'seed', signal: new AbortController().signal });
  }
  return { tools, removeStore: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
