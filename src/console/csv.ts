/**
 * CSV (RFC 4180) of audit records for a spreadsheet. Cells are quoted when they hold a comma, a
 * quote or a line break; and a cell a spreadsheet would read as a formula (starting with `=`, `+`,
 * `-`, `@`, a tab or a carriage return — OWASP's "CSV injection") gets a leading apostrophe, so a
 * tool name or argument a caller chose (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`) stays text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  let text =
    value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
