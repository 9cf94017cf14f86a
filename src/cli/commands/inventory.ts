import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { LOCKFILE_NAME, OBSERVED_FILE_NAME, readLockfile, readObserved } from '../../pins/index.js';
import { buildInventory, type InventoryEntry } from '../../upstreams/index.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { renderTable } from './pins.js';

function renderInventory(entries: readonly InventoryEntry[]): string {
  if (entries.length === 0) return 'No upstream servers configured.\n';
  const out: string[] = [];
  for (const e of entries) {
    const server = e.server.name ? `${e.server.name} ${e.server.version ?? ''}`.trim() : 'not observed yet';
    out.push(
      `${e.name}`,
      `  server       ${server}${e.server.protocolVersion ? ` (MCP ${e.server.protocolVersion})` : ''}`,
      `  transport    ${e.transport}: ${e.target}`,
      `  sandbox      ${e.sandbox}`,
      `  pinning      ${e.pinning}${e.instructions ? `; instructions ${e.instructions}` : ''}`,
      `  observed     ${e.observedAt ?? '-'}`,
      `  approved     ${e.lastApprovalAt ?? 'never'}`,
    );
    if (e.tools.length) {
      const rows = e.tools.map((t) => [t.servedAs, t.class, t.labels.join(',') || '-', t.scope, t.pin]);
      out.push(
        '',
        ...renderTable(['TOOL', 'CLASS', 'LABELS', 'SCOPE', 'PIN'], rows)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataDir(
    program
      .command('inventory')
      .description(
        'Every upstream server: version, transport, command or URL, sandbox, tools with class, labels, ' +
          'scope and pin state, and the last approval (from the config, the lockfile and what the gateway last saw).',
      )
      .option('--json', 'one JSON document'),
  ).action((opts: { dataDir?: string; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
    const entries = buildInventory(
      config.upstreams,
      readLockfile(path.join(dataDir, LOCKFILE_NAME)),
      readObserved(path.join(dataDir, OBSERVED_FILE_NAME)),
    );
    process.stdout.write(
      opts.json ? `${JSON.stringify({ upstreams: entries }, null, 2)}\n` : renderInventory(entries),
    );
  });
}
