import { configSchema } from './schema.js';
import { walkSchema } from './walk-schema.js';

const fmtDefault = (v: unknown) => (v === undefined ? '—' : `\`${JSON.stringify(v)}\``);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Renders docs/configuration.md from the schema. A test fails when the committed file is stale. */
export function renderConfigDocs(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Portcullis reads `portcullis.yaml` from its data directory (or the file named by `--config`), then',
    'applies environment overrides: every field has a `PORTCULLIS_*` variable (path segments in',
    'UPPER_SNAKE_CASE joined by `__`; lists as comma-separated values or a JSON array). The whole',
    'configuration is validated once at start; any error names the failing path and nothing starts.',
    '',
    'No field holds a secret. Keys are generated into `<data dir>/keys/` by `portcullis init`.',
    '',
  ];
  for (const section of walkSchema(configSchema)) {
    if (section.fields.length === 0) continue;
    out.push(section.path ? `## \`${section.path}\`` : '## Top level', '', section.description, '');
    out.push('| Field | Type | Default | Environment | Description |', '| --- | --- | --- | --- | --- |');
    for (const f of section.fields) {
      out.push(
        `| \`${f.path}\` | ${cell(f.type)}${f.optional ? ' (optional)' : ''} | ${cell(fmtDefault(f.defaultValue))} | ${f.env ? `\`${f.env}\`` : '—'} | ${cell(f.description)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
