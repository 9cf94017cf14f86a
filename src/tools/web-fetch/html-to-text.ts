// Elements whose content is never readable text (or, for <head>, not the page body).
const DROPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'head',
  'iframe',
  'object',
  'math',
]);
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'br',
  'dd',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'thead',
  'tfoot',
  'tr',
  'ul',
  'details',
  'summary',
  'caption',
  'body',
  'html',
  'title',
]);
const CELLS = new Set(['td', 'th']);

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  shy: '',
  copy: '©',
  reg: '®',
  trade: '™',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  middot: '·',
  bull: '•',
  deg: '°',
  times: '×',
  divide: '÷',
  sect: '§',
  para: '¶',
  eacute: 'é',
  egrave: 'è',
  agrave: 'à',
  ccedil: 'ç',
  uuml: 'ü',
  ouml: 'ö',
  auml: 'ä',
  szlig: 'ß',
  ntilde: 'ñ',
  zwj: '',
  zwnj: '',
  thinsp: ' ',
  ensp: ' ',
  emsp: ' ',
};

const TAG = /<(\/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^>]*)?\/?>/y;
const DECLARATION = /<[!?][^>]*>/y;
const closers = new Map<string, RegExp>();

function closer(name: string): RegExp {
  let re = closers.get(name);
  if (!re) {
    re = new RegExp(`</${name}\\s*>`, 'gi');
    closers.set(name, re);
  }
  return re;
}

function decodeEntities(text: string): string {
  return text.replace(
    /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z]{2,8}));?/g,
    (m, dec?: string, hex?: string, name?: string) => {
      if (name !== undefined) return NAMED[name.toLowerCase()] ?? m;
      const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
      // NUL, surrogates and out-of-range values become the replacement character (HTML §13.2.5.80).
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    },
  );
}

/**
 * Reduces HTML to the text a reader would see, with a forgiving single-pass scanner rather than
 * a parser: comments and non-content elements are dropped, block elements become line breaks,
 * entities are decoded, whitespace is collapsed (one line break between blocks). Malformed markup degrades to text, never to an
 * error. Text hidden with CSS is kept: it is exactly where injected instructions hide, and the
 * detector downstream should see it.
 */
export function htmlToText(html: string): string {
  let out = '';
  let i = 0;
  // Position of the next ">" at or after the current "<", found once and reused: without it,
  // every "<" in a document with no ">" after it would rescan to the end (quadratic time).
  let gt = -1;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (gt < lt) gt = html.indexOf('>', lt);
    if (gt === -1) {
      // No tag can close anywhere after here: the rest is text.
      out += html.slice(lt);
      break;
    }
    DECLARATION.lastIndex = lt;
    const decl = DECLARATION.exec(html);
    if (decl) {
      i = lt + decl[0].length;
      continue;
    }
    TAG.lastIndex = lt;
    const tag = TAG.exec(html);
    if (!tag) {
      // A bare "<" in text ("a < b"): keep it.
      out += '<';
      i = lt + 1;
      continue;
    }
    i = lt + tag[0].length;
    const closing = tag[1] === '/';
    const name = (tag[2] ?? '').toLowerCase();
    if (!closing && DROPPED.has(name) && !tag[0].endsWith('/>')) {
      const re = closer(name);
      re.lastIndex = i;
      const end = re.exec(html);
      i = end ? end.index + end[0].length : html.length;
      out += '\n';
    } else if (BLOCKS.has(name)) {
      out += '\n';
    } else if (CELLS.has(name)) {
      out += ' ';
    }
  }
  return decodeEntities(out)
    .replace(/[ \t\f\v\r\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}
