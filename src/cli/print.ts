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

/** A styled run of text (src/scan's human report); styles are names, never escape sequences. */
export interface StyledSegment {
  readonly text: string;
  readonly style?: 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan' | 'magenta';
}

const SGR: Readonly<Record<NonNullable<StyledSegment['style']>, string>> = {
  bold: '1',
  dim: '2',
  red: '31',
  yellow: '33',
  green: '32',
  cyan: '36',
  magenta: '35',
};

/**
 * Whether stdout is a terminal that wants colour: a TTY, `NO_COLOR` unset (no-color.org) and
 * `TERM` not `dumb`. `FORCE_COLOR` turns colour on anyway (for tests and CI logs that render it).
 */
export function stdoutWantsColour(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/**
 * Lines of styled segments on stdout. Each segment's text is escaped exactly as `shown` escapes
 * a value (so data cannot drive the terminal or break the line); the only escape sequences
 * written are the SGR codes of the fixed table above, and only with `colour`.
 */
export function printStyled(lines: readonly (readonly StyledSegment[])[], colour: boolean): void {
  const out = lines
    .map((line) =>
      line
        .map((seg) => {
          const s = shown(seg.text);
          return colour && seg.style ? `\x1b[${SGR[seg.style]}m${s}\x1b[0m` : s;
        })
        .join(''),
    )
    .join('\n');
  process.stdout.write(`${out}\n`);
}
