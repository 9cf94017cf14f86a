/**
 * The CLI's only way to its output streams. What it prints is partly data that strangers chose —
 * a name typed on the sign-in page, a tool name an unknown caller sent, an upstream's tool
 * definitions, a quarantined result, an identity provider's claims — and a terminal acts on
 * control characters in it: OSC 52 writes the operator's clipboard, `ESC[2K` with a carriage
 * return erases a line and forges another, bidi controls reorder what is shown. So every
 * human-readable line passes through `escapeForTerminal` (src/safety), and JSON output through
 * `escapeJsonForTerminal`; the lint configuration lets no other CLI file touch
 * `process.stdout`/`process.stderr`.
 *
 * Data inside a line goes through `shown` or the `text` template tag, which escape newlines too
 * (a newline in a value is a forged line); the writers escape everything but the line breaks
 * the program meant, so a value that missed `shown` still cannot drive the terminal.
 */
import { Writable } from 'node:stream';
import { escapeForTerminal, escapeJsonForTerminal } from '../safety/index.js';

/** One value inside a line: controls, invisible characters, tabs and newlines as visible escapes. */
export function shown(value: unknown): string {
  return escapeForTerminal(String(value));
}

/** A line of program text around data: the literal parts are kept, every `${value}` is `shown`. */
export function text(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => out + (i === 0 ? '' : shown(values[i - 1])) + s, '');
}

/** Human-readable text on stdout; line breaks are kept, every other control is escaped. */
export function printOut(s: string): void {
  process.stdout.write(escapeForTerminal(s, { lineBreaks: true }));
}

/** Human-readable text on stderr (warnings, errors, the start banner), escaped as printOut. */
export function printErr(s: string): void {
  process.stderr.write(escapeForTerminal(s, { lineBreaks: true }));
}

/** One JSON document on stdout (pretty-printed with `indent`), every hidden character `\uXXXX`. */
export function printJson(value: unknown, indent?: number): void {
  process.stdout.write(`${escapeJsonForTerminal(JSON.stringify(value, null, indent))}\n`);
}

/** JSON lines on stdout, one value a line, escaped as printJson. */
export function printJsonLines(values: readonly unknown[]): void {
  process.stdout.write(values.map((v) => `${escapeJsonForTerminal(JSON.stringify(v))}\n`).join(''));
}

/**
 * A stream for code that writes JSON lines itself (audit export, inspect): each chunk is JSON
 * text, escaped as printJson on its way to stdout.
 */
export function jsonStdout(): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      process.stdout.write(escapeJsonForTerminal(String(chunk)), (err) => done(err ?? null));
    },
  });
}

/**
 * Fixed-width columns two spaces apart under a header, one line per row. Cells are escaped before
 * they are measured, so a cell can neither break its row nor push the columns out of line with
 * characters that take no width.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => header.map((_, i) => shown(r[i] ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  return [header, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Prints `renderTable` on stdout. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  printOut(`${renderTable(header, rows)}\n`);
}
