import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/index.js';
import { dataDirLayout } from '../../data-dir/index.js';
import { PortcullisError } from '../../errors/index.js';
import { openOAuthDatabase, openSqliteOAuthDatabase } from '../../oauth/index.js';
import { loadObserved, loadPins } from '../../pins/index.js';
import {
  checkPolicy,
  compilePolicy,
  decide,
  expandRoles,
  hashArgs,
  type PolicyTool,
} from '../../policy/index.js';
import { globToRegExp } from '../../glob/index.js';
import { openMemoryStorage, openStorage } from '../../storage/index.js';
import { createBuiltInTools, type Tool, type ToolLabel } from '../../tools/index.js';
import { buildInventory } from '../../upstreams/index.js';
import { createPersonCeilings } from '../../users/index.js';
import { withLocalPins } from '../open-local.js';
import { resolveDataDir, withDataDir } from '../options.js';
import { printJson, printOut, shown, text } from '../print.js';
import { UsageError } from '../usage-error.js';

const LABELS: readonly ToolLabel[] = ['private-data', 'untrusted-source', 'external-sink'];

/** The built-in tools this configuration serves, as the gateway builds them (nothing is run). */
async function builtInTools(config: Config): Promise<Tool[]> {
  const builtIns = createBuiltInTools(config.tools, openMemoryStorage().notes, { offline: true });
  await builtIns.close();
  return builtIns.tools;
}

/** Every tool the policy will meet: built-ins, and upstream tools whose definitions are pinned. */
async function knownTools(
  config: Config,
  dataDir: string,
): Promise<{ tools: PolicyTool[]; builtIns: Tool[] }> {
  const builtIns = await builtInTools(config);
  const inventory =
    config.upstreams.length === 0
      ? []
      : await withLocalPins(dataDir, async (store) =>
          buildInventory(config.upstreams, (await loadPins(store)).lock, await loadObserved(store)),
        );
  const upstream = inventory.flatMap((u) =>
    u.tools.map((t) => ({
      name: t.servedAs,
      scope: t.scope,
      class: t.class,
      labels: t.labels,
      upstream: u.name,
      pin: t.pin,
    })),
  );
  return { tools: [...builtIns, ...upstream], builtIns };
}

function loadFor(opts: { dataDir?: string; config?: string }) {
  const dataDir = resolveDataDir(opts.dataDir);
  const config = loadConfig({ file: opts.config ?? dataDirLayout(dataDir).config, required: true });
  return { dataDir, config };
}

export function register(program: Command): void {
  const policy = program
    .command('policy')
    .description('Lint the policy, or explain what it decides for one call (see docs/policy.md).');

  withDataDir(
    policy
      .command('check')
      .description(
        'Lint the policy: names and globs that match no tool, rules that never decide, and scopes that ' +
          'grant a destructive tool without confirmation. Exit 1 when there are errors.',
      )
      .option('--config <file>', 'configuration file (default: portcullis.yaml in the data dir)')
      .option('--json', 'the findings as JSON'),
  ).action(async (opts: { dataDir?: string; config?: string; json?: boolean }) => {
    const { dataDir, config } = loadFor(opts);
    const { tools } = await knownTools(config, dataDir);
    const findings = checkPolicy(config.policy, tools);
    if (opts.json) printJson({ findings }, 2);
    else if (findings.length === 0) printOut(text`Policy OK: ${tools.length} tools checked, no findings.\n`);
    else {
      for (const f of findings)
        printOut(`${f.severity.padEnd(8)}${f.code.padEnd(34)}${text`${f.path}: ${f.message}`}\n`);
    }
    const errors = findings.filter((f) => f.severity === 'error').length;
    if (errors > 0) throw new PortcullisError('config-invalid', `the policy has ${errors} error(s)`);
  });

  withDataDir(
    policy
      .command('explain')
      .description('Print the decision for one call and why: scopes, classification, rules, confirmation.')
      .requiredOption(
        '--principal <p>',
        'an API key id, or the owner of API keys (their scopes are combined)',
      )
      .requiredOption('--tool <name>', 'the tool name (built-in or server__tool)')
      .option('--args <json>', 'the call’s arguments, as JSON: checked and hashed as a confirmation would be')
      .option('--scopes <a,b>', 'use these scopes instead of the principal’s keys')
      .option('--seen <labels>', `labels the session already took in: ${LABELS.join(', ')}`)
      .option('--config <file>', 'configuration file (default: portcullis.yaml in the data dir)'),
  ).action(
    async (opts: {
      dataDir?: string;
      config?: string;
      principal: string;
      tool: string;
      args?: string;
      scopes?: string;
      seen?: string;
    }) => {
      const { dataDir, config } = loadFor(opts);
      const { tools, builtIns } = await knownTools(config, dataDir);
      const tool = tools.find((t) => t.name === opts.tool);
      if (!tool)
        throw new UsageError(`unknown tool ${opts.tool} (not built in, and no pinned upstream tool)`);
      const seen = (opts.seen ?? '').split(',').filter(Boolean);
      for (const label of seen) {
        if (!LABELS.includes(label as ToolLabel)) throw new UsageError(`--seen: unknown label ${label}`);
      }
      let args: unknown;
      if (opts.args !== undefined) {
        try {
          args = JSON.parse(opts.args);
        } catch {
          throw new UsageError('--args must be JSON');
        }
      }

      let scopeSource: string;
      let scopes: Set<string>;
      let owner = opts.principal;
      if (opts.scopes !== undefined) {
        scopes = new Set(opts.scopes.split(',').filter(Boolean));
        scopeSource = 'given with --scopes';
      } else {
        const storage = await openStorage(config.storage, dataDir);
        try {
          const now = new Date();
          const keys = (await storage.apiKeys.list()).filter(
            (k) =>
              (k.id === opts.principal || k.owner === opts.principal) &&
              !k.revokedAt &&
              (!k.expiresAt || k.expiresAt > now),
          );
          scopes = new Set(keys.flatMap((k) => k.scopes));
          owner = keys.find((k) => k.id === opts.principal)?.owner ?? owner;
          scopeSource = keys.length
            ? `from API key${keys.length > 1 ? 's' : ''} ${keys.map((k) => k.id).join(', ')}`
            : 'no active API key found (OAuth tokens carry their own scopes; try --scopes)';
        } finally {
          await storage.close();
        }
      }

      const compiled = compilePolicy(config.policy);
      // As at authentication: a person's role caps every credential acting for them.
      const dbFile = path.resolve(dataDir, config.storage.sqliteFile);
      if (
        config.storage.driver === 'postgres' ||
        (config.storage.driver === 'sqlite' && fs.existsSync(dbFile))
      ) {
        const db =
          config.storage.driver === 'postgres'
            ? await openOAuthDatabase(config.storage, dataDir)
            : openSqliteOAuthDatabase(dbFile);
        try {
          const capped = await createPersonCeilings(db.users, compiled.roles).cap(owner, scopes);
          if (capped) {
            scopes = new Set(capped);
            scopeSource += `; capped by ${owner}’s role ${(await db.users.find(owner))?.role ?? '(none)'}`;
          }
        } finally {
          await db.close();
        }
      }
      const pin = 'pin' in tool ? (tool.pin as string) : undefined;
      const d = decide({
        policy: compiled,
        scopes,
        tool,
        taint: new Set(seen as ToolLabel[]),
        pinState: tool.upstream ? (pin === 'approved' ? 'approved' : 'pending') : 'built-in',
        // API keys (and the --scopes of a person's token) act for a person.
        actsFor: 'person',
        now: new Date(),
      });
      const effective = [...expandRoles(compiled, scopes)].sort();
      const limit = Object.entries(config.rateLimits.tools).find(([g]) => globToRegExp(g).test(tool.name));
      const lines = [
        ['Tool', `${tool.name} (${tool.upstream ? `upstream ${tool.upstream}, pin ${pin}` : 'built in'})`],
        [
          'Class',
          `${d.classification.class}${d.classification.class !== tool.class ? ` (was ${tool.class})` : ''}`,
        ],
        ['Labels', d.classification.labels.join(', ') || '-'],
        [
          'Needs scope',
          `${tool.scope}${compiled.scopeGrants.some((g) => g.tools.some((m) => m.test(tool.name))) ? ' (or a policy.scopes grant)' : ''}`,
        ],
        ['Principal', `${opts.principal}: ${effective.join(' ') || 'no scopes'} (${scopeSource})`],
        ['Session saw', seen.join(', ') || 'nothing'],
        ['Tool rule', d.matched.toolRule ? `policy.tools.${d.matched.toolRule}` : '-'],
        ['Flow rules', d.matched.flows.join(', ') || '-'],
        ['Decision', d.effect.toUpperCase()],
        ['Reasons', d.reasons.join(', ')],
      ];
      if (d.effect === 'confirm') {
        lines.push([
          'Confirmation',
          d.obligations.approval === 'out-of-band'
            ? 'out-of-band: the approval page /approvals/<id> (given as a URL-mode elicitation when the client supports it)'
            : 'in-band: a form elicitation when the client supports it and the call fits in it, else the approval page (never in-band for client credentials)',
        ]);
      }
      if (d.obligations.requiredScope)
        lines.push(['Refusal', `403 insufficient_scope, scope="${d.obligations.requiredScope}"`]);
      lines.push([
        'Rate limit',
        limit
          ? `rateLimits.tools.${limit[0]}: ${limit[1].points} per ${limit[1].windowSeconds}s`
          : 'credential tiers only',
      ]);
      if (args !== undefined) {
        const builtIn = builtIns.find((t) => t.name === tool.name);
        const checked = builtIn?.checkArgs(args);
        lines.push(['Arguments', `sha256 ${hashArgs(args)} (what a confirmation binds to)`]);
        if (checked && !checked.ok) {
          lines.push(['', `invalid: ${checked.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`]);
        } else if (checked) lines.push(['', 'valid']);
      }
      for (const [k = '', v = ''] of lines) printOut(`${k.padEnd(14)}${shown(v)}\n`);
    },
  );
}
