import { setOwnKey } from './own-key.js';
/** What a redaction matched. Stored verbatim in findings and audit records. */
export type RedactionRule =
  | 'known-secret'
  | 'aws-access-key-id'
  | 'aws-secret-key'
  | 'gcp-api-key'
  | 'github-token'
  | 'slack-token'
  | 'stripe-key'
  | 'anthropic-key'
  | 'openai-key'
  | 'portcullis-api-key'
  | 'private-key'
  | 'jwt'
  | 'bearer-token'
  | 'database-url'
  | 'url-credentials'
  | 'generic-secret'
  | 'email'
  | 'phone'
  | 'card-number'
  | 'iban';

export interface RedactionFinding {
  readonly rule: RedactionRule;
  /** UTF-16 offsets into the text given to `redact`. */
  readonly start: number;
  readonly end: number;
}

export interface PiiOptions {
  readonly email?: boolean;
  readonly phone?: boolean;
  readonly card?: boolean;
  readonly iban?: boolean;
}

export interface RedactorOptions {
  /** Exact secret values (upstream credentials, signing keys) to scrub in every known encoding. */
  readonly secrets?: readonly string[];
  /** Personal data rules, each off unless asked for: they are noisier than secret rules. */
  readonly pii?: PiiOptions;
  /**
   * The token-format and `password=…` rules (default on). Off where only exact secret values
   * may be replaced: in a tool definition a pattern match is usually documentation, and
   * rewriting it would change the definition's pinned hash.
   */
  readonly patterns?: boolean;
}

export interface DeepFinding extends RedactionFinding {
  /** JSON path of the string, e.g. `$.items[2].body`. */
  readonly path: string;
}

export interface Redactor {
  redact(text: string): { text: string; findings: RedactionFinding[] };
  /** Redacts every string, object key and number of a JSON value; returns a new value. */
  redactDeep<T>(value: T): { value: T; findings: DeepFinding[] };
}

/**
 * Secrets shorter than this are not scrubbed by value: an 8-character floor keeps a short
 * password like "admin" or "1234" from turning every occurrence of a common word into a
 * redaction marker, and anything shorter is weak enough that hiding it buys little.
 */
const MIN_SECRET_LENGTH = 8;

interface PatternRule {
  readonly rule: RedactionRule;
  /** Compiled with the `d` flag; when `group` is set only that capture group is redacted. */
  readonly re: RegExp;
  readonly group?: number;
  readonly accept?: (match: string) => boolean;
  readonly ruleFor?: (match: RegExpExecArray) => RedactionRule;
  /**
   * The prefilter: literals at least one of which every match of `re` contains, compared
   * case-insensitively. A text containing none of any rule's literals cannot match any rule and
   * is returned as it is without running the rules (most tool output: prose, ids, titles).
   */
  readonly need: string;
}

// Every pattern starts behind a negative look-behind for its own token alphabet, so inside a long
// run of token characters only the run's first position can start a match: that keeps scanning
// linear even for adversarial input such as a megabyte of "eyJeyJeyJ…".
const B64URL = 'A-Za-z0-9_\\-';

const DB_SCHEMES =
  /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|cockroachdb)$/i;

function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * A value after `password=` is a secret if it looks random: long enough, at least 3 bits of
 * entropy per character, more than one character class, not a dotted reference. That spares
 * `password=required`, `token: string`, `secret: ********` and `api_key = process.env.API_KEY`.
 */
function looksRandom(value: string): boolean {
  // `process.env.API_KEY`, `config.auth.token`: a reference to a secret, not the secret.
  if (value.length < 8 || /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z\d]/].filter((re) => re.test(value)).length;
  return classes >= 2 && shannonEntropy(value) >= 3;
}

function hasLetterAndDigit(s: string): boolean {
  return /\d/.test(s) && /[A-Za-z]/.test(s);
}

function isJwt(match: string): boolean {
  const header = match.slice(0, match.indexOf('.'));
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return (
      typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters to numbers, mod 97 must be 1. */
function ibanValid(raw: string): boolean {
  const iban = raw.replace(/ /g, '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

const SECRET_RULES: readonly PatternRule[] = [
  {
    rule: 'aws-access-key-id',
    need: 'AKIA|ASIA|ABIA|ACCA|A3T',
    re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])/dg,
  },
  {
    // 40 base64 characters only count as an AWS secret key near a keyword that says so.
    rule: 'aws-secret-key',
    need: 'aws|secret',
    re: /(?<![A-Za-z0-9_])(?:aws[\w .-]{0,20}?(?:secret|private)[\w .-]{0,20}?|secret_?access_?key)["']?\s{0,5}[:=]\s{0,5}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 1,
  },
  {
    rule: 'gcp-api-key',
    need: 'AIza',
    re: new RegExp(`(?<![${B64URL}])AIza[${B64URL}]{35}(?![${B64URL}])`, 'dg'),
  },
  {
    rule: 'github-token',
    need: 'gh[pousr]_|github_pat_',
    re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/dg,
  },
  { rule: 'slack-token', need: 'xox', re: /(?<![A-Za-z0-9-])xox[abprs]-[A-Za-z0-9-]{10,250}/dg },
  {
    rule: 'stripe-key',
    need: 'k_live_|k_test_',
    re: /(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{16,250}/dg,
  },
  {
    rule: 'anthropic-key',
    need: 'sk-ant-',
    re: new RegExp(`(?<![${B64URL}])sk-ant-[${B64URL}]{20,250}`, 'dg'),
  },
  {
    rule: 'openai-key',
    need: 'sk-',
    re: new RegExp(`(?<![${B64URL}])sk-(?!ant-)[${B64URL}]{20,250}`, 'dg'),
    // "sk-" starts ordinary hyphenated words too; real keys mix letters and digits.
    accept: hasLetterAndDigit,
  },
  {
    rule: 'portcullis-api-key',
    need: 'pcs_',
    re: new RegExp(`(?<![${B64URL}])pcs_[${B64URL}]{16,250}`, 'dg'),
  },
  {
    // The whole block, headers included; an unterminated block (cut-off output) is redacted to
    // the end of its body. The body class stops at any "-----", so a scan ends at the next marker.
    rule: 'private-key',
    need: '-----BEGIN',
    re: /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,.]|-(?!----))*(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/dg,
  },
  {
    rule: 'jwt',
    need: 'eyJ',
    re: new RegExp(`(?<![${B64URL}.])eyJ[${B64URL}]{8,}\\.[${B64URL}]{2,}\\.[${B64URL}]*`, 'dg'),
    accept: isJwt,
  },
  {
    rule: 'bearer-token',
    need: 'Bearer',
    re: /(?<![A-Za-z0-9])Bearer\s{1,5}([A-Za-z0-9._~+/-]{20,2048}=*)/dg,
    group: 1,
  },
  {
    // Only the password is replaced: the scheme, user and host stay readable.
    rule: 'url-credentials',
    need: '://',
    re: /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,20}):\/\/[^\s:@/]{0,256}:([^\s@/]{1,256})@/dg,
    group: 2,
    ruleFor: (m) => (DB_SCHEMES.test(m[1] ?? '') ? 'database-url' : 'url-credentials'),
  },
  {
    rule: 'generic-secret',
    need: 'passw|pwd|secret|token|key|credential',
    re: /(?<![A-Za-z0-9_])[A-Za-z0-9_.-]{0,40}?(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|client[_-]?secret)[A-Za-z0-9_.-]{0,20}["']?\s{0,5}[:=]\s{0,5}["']?([^\s"'`,;(){}<>$]{8,200})/dgi,
    group: 1,
    accept: looksRandom,
  },
];

const PII_RULES: Record<keyof PiiOptions, PatternRule> = {
  email: {
    rule: 'email',
    need: '@',
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/dg,
  },
  phone: {
    // E.164-ish: a leading "+" and 8–15 digits, with the usual separators between them.
    rule: 'phone',
    need: '\\+',
    re: /(?<![\w+])\+[1-9](?:[ .()-]{0,2}\d){7,14}(?!\d)/dg,
  },
  card: {
    rule: 'card-number',
    need: '\\d',
    re: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/dg,
    accept: (m) => luhn(m.replace(/[ -]/g, '')),
  },
  iban: {
    rule: 'iban',
    need: '[A-Z]{2}\\d{2}',
    re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/dg,
    accept: ibanValid,
  },
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The base64 characters that depend on the secret's bytes alone, with the secret `offset` bytes
 * (0, 1 or 2) into a 3-byte group. Base64 works in 3-byte groups, so the secret inside a longer
 * value — `Basic base64("user:" + secret)`, or followed by a newline — is not the base64 of the
 * secret alone: only these characters are the same whatever comes before and after.
 */
function base64Core(bytes: Buffer, offset: number, alphabet: 'base64' | 'base64url'): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
}

type FormKind = 'plain' | 'base64' | 'url';

/**
 * A secret as it may appear in output: verbatim, base64 (padded or not, and at each alignment
 * inside a longer value), base64url, hex, URL-encoded; each tagged for formPattern.
 */
function encodings(secret: string): { form: string; kind: FormKind }[] {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const hex = bytes.toString('hex');
  const url = encodeURIComponent(secret);
  const tag = (kind: FormKind) => (form: string) => ({ form, kind });
  return [
    ...[secret, hex, hex.toUpperCase()].map(tag('plain')),
    ...[
      b64,
      b64.replace(/=+$/, ''),
      bytes.toString('base64url'),
      ...[0, 1, 2].flatMap((k) => [base64Core(bytes, k, 'base64'), base64Core(bytes, k, 'base64url')]),
    ].map(tag('base64')),
    ...[url, url.replace(/%20/g, '+')].map(tag('url')),
  ];
}

/**
 * One encoded form as a pattern: a %XX escape may be written in either case (`%2f` decodes like
 * `%2F`). Wrapped base64 is found by `wrappedSecrets`, not here: a line break allowed between
 * every two characters would cost V8 its literal search (70× slower on a megabyte).
 */
function formPattern(form: string, kind: FormKind): string {
  if (kind === 'url')
    return escapeRegExp(form).replace(/%([0-9A-F])([0-9A-F])/g, (_m, a: string, b: string) => {
      const cls = (c: string) => (/[A-F]/.test(c) ? `[${c}${c.toLowerCase()}]` : c);
      return `%${cls(a)}${cls(b)}`;
    });
  return escapeRegExp(form);
}

function compileSecrets(secrets: readonly string[]): RegExp | undefined {
  const forms = new Map<string, FormKind>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    for (const { form, kind } of encodings(s)) if (!forms.has(form)) forms.set(form, kind);
  }
  if (forms.size === 0) return undefined;
  // Longest first so a padded base64 form wins over its unpadded prefix.
  const alternatives = [...forms]
    .sort(([a], [b]) => b.length - a.length)
    .map(([form, kind]) => formPattern(form, kind));
  return new RegExp(alternatives.join('|'), 'dg');
}

// A line break between two base64 characters: the text may hold wrapped base64 (`base64` wraps
// at 76 columns, MIME and PEM at 64 or 76).
const WRAPPED_BASE64 = /[A-Za-z0-9+/_-]\r?\n[A-Za-z0-9+/=_-]/;

/**
 * Known secrets inside wrapped base64: the text is scanned again with its line breaks taken out,
 * and each match is mapped back to the raw text (line breaks included in the span).
 */
function wrappedSecrets(text: string, secretRe: RegExp, found: RedactionFinding[]): void {
  // Every wrapped value has a line break; a string search says there is none far faster.
  if (!text.includes('\n') || !WRAPPED_BASE64.test(text)) return;
  // Most text holds no secret: one replace and one scan say so before any offset map is built.
  secretRe.lastIndex = 0;
  if (!secretRe.test(text.replace(/\r?\n/g, ''))) return;
  const removedAt: number[] = []; // view index at which each removed run ends, ascending
  const removedLen: number[] = []; // cumulative characters removed up to that point
  let view = '';
  let total = 0;
  let from = 0;
  for (const m of text.matchAll(/\r?\n/g)) {
    view += text.slice(from, m.index);
    total += m[0].length;
    removedAt.push(view.length);
    removedLen.push(total);
    from = m.index + m[0].length;
  }
  view += text.slice(from);
  // Raw offset of view index i: i plus what was removed before it (strictly before, for a start;
  // up to and including a break just before it would be crossed, for an end).
  const toRaw = (i: number, isEnd: boolean) => {
    let lo = 0;
    let hi = removedAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (isEnd ? removedAt[mid]! < i : removedAt[mid]! <= i) lo = mid + 1;
      else hi = mid;
    }
    return i + (lo > 0 ? removedLen[lo - 1]! : 0);
  };
  secretRe.lastIndex = 0;
  for (let m = secretRe.exec(view); m !== null; m = secretRe.exec(view)) {
    const start = toRaw(m.index, false);
    const end = toRaw(m.index + m[0].length, true);
    if (text.slice(start, end).includes('\n')) found.push({ rule: 'known-secret', start, end });
  }
}

function collect(
  text: string,
  rules: readonly PatternRule[],
  prefilter: RegExp | undefined,
  found: RedactionFinding[],
): void {
  if (prefilter && !prefilter.test(text)) return;
  for (const r of rules) {
    r.re.lastIndex = 0;
    for (let m = r.re.exec(text); m !== null; m = r.re.exec(text)) {
      const span = m.indices?.[r.group ?? 0];
      if (span === undefined) continue;
      const [start, end] = span;
      if (r.accept && !r.accept(text.slice(start, end))) continue;
      found.push({ rule: r.ruleFor ? r.ruleFor(m) : r.rule, start, end });
    }
  }
}

/**
 * Builds a redactor for one context (an upstream server's credentials, one call's PII choice).
 * Rules are compiled once here; `redact` runs each in a single linear pass, then keeps the
 * earliest, longest of any overlapping matches and replaces each with `[REDACTED:rule]`.
 */
export function createRedactor(options: RedactorOptions = {}, internal = { prefilter: true }): Redactor {
  const secretRe = compileSecrets(options.secrets ?? []);
  const rules: PatternRule[] = options.patterns === false ? [] : [...SECRET_RULES];
  if (secretRe) rules.unshift({ rule: 'known-secret', re: secretRe, need: secretRe.source });
  for (const key of Object.keys(PII_RULES) as (keyof PiiOptions)[]) {
    if (options.pii?.[key]) rules.push(PII_RULES[key]);
  }
  // One scan for every rule's literals; case-insensitive, so it is never stricter than a rule.
  // (`internal.prefilter: false` exists only for the test that shows it changes no result.)
  const prefilter =
    internal.prefilter && rules.length > 0 ? new RegExp(rules.map((r) => r.need).join('|'), 'i') : undefined;

  function redact(text: string): { text: string; findings: RedactionFinding[] } {
    const found: RedactionFinding[] = [];
    if (rules.length === 0) return { text, findings: [] };
    collect(text, rules, prefilter, found);
    if (secretRe) wrappedSecrets(text, secretRe, found);
    if (found.length === 0) return { text, findings: [] };
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: RedactionFinding[] = [];
    let out = '';
    let cursor = 0;
    for (const f of found) {
      if (f.start < cursor) continue;
      out += text.slice(cursor, f.start) + `[REDACTED:${f.rule}]`;
      cursor = f.end;
      kept.push(f);
    }
    return { text: out + text.slice(cursor), findings: kept };
  }

  /**
   * Every string of a JSON value, and also what a secret can hide in besides strings: object keys
   * (`{"<token>": …}`) and numbers (an all-digit credential written as a JSON number). A redacted
   * number becomes the redacted string; a redacted key that collides with a key already there is
   * numbered (`[REDACTED:known-secret]#2`) so no entry is lost.
   */
  function redactDeep<T>(value: T): { value: T; findings: DeepFinding[] } {
    const findings: DeepFinding[] = [];
    // The path to where the walk is, as segments (an array index or an object key); the JSON
    // path string is built only for a finding, which is rare.
    const segments: (string | number)[] = [];
    const pathNow = (): string => {
      let p = '$';
      for (const s of segments) p += typeof s === 'number' ? `[${s}]` : jsonPathKey(s);
      return p;
    };
    const note = (r: { findings: RedactionFinding[] }, suffix = ''): void => {
      if (r.findings.length === 0) return;
      const path = pathNow() + suffix;
      for (const f of r.findings) findings.push({ ...f, path });
    };
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        const r = redact(v);
        note(r);
        return r.text;
      }
      if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') {
        const r = redact(String(v));
        if (r.findings.length === 0) return v;
        note(r);
        return r.text;
      }
      if (Array.isArray(v)) {
        return v.map((item, i) => {
          segments.push(i);
          const out = walk(item);
          segments.pop();
          return out;
        });
      }
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(v)) {
          const r = redact(k);
          let key = r.text;
          for (let n = 2; r.findings.length > 0 && Object.hasOwn(out, key); n++) key = `${r.text}#${n}`;
          segments.push(key);
          note(r, '{key}');
          const walked = walk(item);
          segments.pop();
          setOwnKey(out, key, walked);
        }
        return out;
      }
      return v;
    };
    return { value: walk(value) as T, findings };
  }

  return { redact, redactDeep };
}

/** `.key` for identifier-like keys, `["odd key"]` otherwise. */
export function jsonPathKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
