import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { csvCell } from '../../src/console/index.js';
import { adminBrowser } from '../helpers/console.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { TestBrowser } from '../helpers/oauth-browser.js';
import { connectV2 } from '../helpers/policy-clients.js';

const FORMULAS = [
  "=cmd|' /C calc'!A0",
  '+1+1',
  '-2+3',
  '@SUM(A1:A9)',
  '=HYPERLINK("https://evil.example","x")',
];

/**
 * Attack: CSV formula injection. A caller names a tool `=cmd|' /C calc'!A0`; the operator
 * exports the audit search as CSV and opens it in a spreadsheet, which runs the cell as a
 * formula. Every cell that would start a formula is exported with a leading apostrophe (text),
 * and still quoted correctly; ordinary cells are untouched.
 */
describe('attack: formula injection through the CSV export', () => {
  let t: TestGateway;
  let admin: TestBrowser;
  before(async () => {
    t = await startTestGateway();
    admin = await adminBrowser(t);
    const { client } = await connectV2(t.url, (await t.key({ owner: 'alice' })).key);
    try {
      for (const name of FORMULAS) await client.callTool({ name, arguments: {} }).catch(() => undefined);
    } finally {
      await client.close();
    }
  });
  after(() => t.close());

  it('no exported cell starts a formula; the values are still all there', async () => {
    const res = await admin.request('/admin/search/export?format=csv&since=1h');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="portcullis-audit-/);
    const csv = await res.text();
    const cells = csv.split('\r\n').flatMap((line) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? []);
    for (const raw of cells) {
      const cell = raw.replace(/,$/, '').replace(/^"|"$/g, '');
      assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `a cell starts a formula: ${cell}`);
    }
    for (const f of FORMULAS) assert.ok(csv.includes(csvCell(f)), `${f} is exported as text`);
    assert.ok(csv.includes(`"'=cmd|' /C calc'!A0"`) || csv.includes(`'=cmd|' /C calc'!A0`));
    const jsonl = await (await admin.request('/admin/search/export?format=jsonl&since=1h')).text();
    const tools = jsonl
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { tool?: string }).tool);
    for (const f of FORMULAS) assert.ok(tools.includes(f), 'JSON lines keep the value exactly');
  });

  it('cells are quoted and neutralised by the rules, and plain ones left alone', () => {
    assert.equal(csvCell('memory_save'), 'memory_save');
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=A1,"x"'), `"'=A1,""x"""`);
    assert.equal(csvCell('\tcmd'), "'\tcmd");
    assert.equal(csvCell(12.5), '12.5');
    assert.equal(csvCell(undefined), '');
  });
});
