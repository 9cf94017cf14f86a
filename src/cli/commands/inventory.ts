import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { loadObserved, loadPins } from '../../pins/index.js';
import { buildInventory, type InventoryEntry } from '../../upstreams/index.js';
import { withLocalPins } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printOut, renderTable, text } from '../print.js';

function renderInventory(entries: readonly InventoryEntry[]): string {
  if (entries.length === 0) return 'No upstream servers configured.\n';
  const out: string[] = [];
  for (const e of entries) {
    const server = e.server.name ? `${e.server.name} ${e.server.version ?? ''}`.trim() : 'not observed yet';
    // The server's name and version are what the upstream says about itself: escaped.
    out.push(
      text`${e.name}`,
      text`  server       ${server}` +
        (e.server.protocolVersion ? text` (MCP ${e.server.protocolVersion})` : ''),
      text`  transport    ${e.transport}: ${e.target}`,
      text`  sandbox      ${e.sandbox}`,
      text`  pinning      ${e.pinning}` + (e.instructions ? text`; instructions ${e.instructions}` : ''),
      text`  observed     ${e.observedAt ?? '-'}`,
      text`  approved     ${e.lastApprovalAt ?? 'never'}`,
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
    for (const [title, items] of [
      ['PROMPT', e.prompts],
      ['RESOURCE TEMPLATE', e.resourceTemplates],
    ] as const) {
      if (items.length === 0) continue;
      const rows = items.map((i) => [i.servedAs, i.labels.join(',') || '-', i.scope, i.pin]);
      out.push(
        '',
        ...renderTable([title, 'LABELS', 'SCOPE', 'PIN'], rows)
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
          'scope and pin state, prompts and resource templates with labels, scope and pin state, and the last approval (from the config, the stored pins and what the gateways last saw).',
      )
      .option('--json', 'one JSON document'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const config = loadConfig({ file: dataDirLayout(dataDir).config, required: true });
    const entries = await withLocalPins(dataDir, async (store) =>
      buildInventory(config.upstreams, (await loadPins(store)).lock, await loadObserved(store)),
    );
    if (opts.json) printJson({ upstreams: entries }, 2);
    else printOut(renderInventory(entries));
  });
}
