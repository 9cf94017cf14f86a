import { createHash } from 'node:crypto';

/**
 * The one stylesheet of every page, served from our own origin so the CSP can forbid inline
 * styles. System fonts only: no request leaves for a font CDN.
 */
export const STYLESHEET = `
:root {
  --ink: #14171f; --muted: #5b6373; --line: #e3e6ec; --paper: #ffffff; --wash: #f4f6f9;
  --brand: #2747d6; --brand-ink: #ffffff; --danger: #b3261e; --ok: #1e7b43; --radius: 12px;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --ink: #e8eaf0; --muted: #a0a7b6; --line: #2b303b; --paper: #171a21; --wash: #0f1116; --brand: #6f8cff; --brand-ink: #0b0d12; }
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); min-height: 100vh; display: flex; flex-direction: column;
}
header.top { display: flex; align-items: center; gap: .6rem; padding: 1rem 1.5rem; }
header.top .mark { width: 28px; height: 28px; border-radius: 7px; background: var(--brand); display: grid; place-items: center; color: var(--brand-ink); font-weight: 700; }
header.top .name { font-weight: 650; letter-spacing: .01em; }
header.top nav { margin-left: auto; display: flex; gap: 1rem; align-items: center; }
header.top nav a { color: var(--muted); text-decoration: none; font-size: .95rem; }
main { flex: 1; display: flex; justify-content: center; align-items: flex-start; padding: 2rem 1rem 3rem; }
.card { width: 100%; max-width: 440px; background: var(--paper); border: 1px solid var(--line); border-radius: var(--radius); padding: 2rem; box-shadow: 0 1px 2px rgba(0,0,0,.04), 0 8px 24px rgba(0,0,0,.06); }
.card.wide { max-width: 720px; }
h1 { font-size: 1.4rem; line-height: 1.25; margin: 0 0 .5rem; }
p.lead { color: var(--muted); margin: 0 0 1.5rem; }
label { display: block; font-weight: 600; font-size: .9rem; margin: 1rem 0 .35rem; }
input[type=text], input[type=password] {
  width: 100%; padding: .65rem .75rem; border: 1px solid var(--line); border-radius: 8px; font: inherit; color: inherit; background: var(--paper);
}
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid color-mix(in srgb, var(--brand) 45%, transparent); outline-offset: 2px; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; flex-wrap: wrap; }
button, .button {
  appearance: none; border: 1px solid transparent; border-radius: 8px; padding: .65rem 1.1rem; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; display: inline-block; text-align: center;
}
.primary { background: var(--brand); color: var(--brand-ink); }
.secondary { background: transparent; color: var(--ink); border-color: var(--line); }
.danger { background: transparent; color: var(--danger); border-color: color-mix(in srgb, var(--danger) 40%, transparent); }
.grow { flex: 1; }
.divider { display: flex; align-items: center; gap: .75rem; color: var(--muted); font-size: .85rem; margin: 1.5rem 0 0; }
.divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--line); }
.notice { border-radius: 8px; padding: .75rem 1rem; margin: 0 0 1rem; font-size: .95rem; }
.notice.error { background: color-mix(in srgb, var(--danger) 10%, transparent); color: var(--danger); }
.notice.ok { background: color-mix(in srgb, var(--ok) 12%, transparent); color: var(--ok); }
.notice.held { background: var(--wash); color: var(--muted); margin-top: 1rem; }
.client { display: flex; gap: .9rem; align-items: center; padding: 1rem; border: 1px solid var(--line); border-radius: 10px; margin-bottom: 1.25rem; }
.client .avatar { width: 40px; height: 40px; border-radius: 10px; background: var(--wash); display: grid; place-items: center; font-weight: 700; color: var(--muted); flex: none; }
.client .meta { min-width: 0; }
.client .title { font-weight: 650; overflow-wrap: anywhere; }
.client .sub { color: var(--muted); font-size: .88rem; overflow-wrap: anywhere; }
ul.scopes { list-style: none; padding: 0; margin: 0; border: 1px solid var(--line); border-radius: 10px; }
ul.scopes li { padding: .75rem 1rem; border-top: 1px solid var(--line); }
ul.scopes li:first-child { border-top: 0; }
ul.scopes .what { font-weight: 600; }
pre.call { font: .82rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; direction: ltr; unicode-bidi: bidi-override; margin: .25rem 0 0; }
.hidden-char { color: var(--danger); border: 1px solid currentColor; border-radius: 4px; padding: 0 .2em; margin: 0 .1em; font-size: .72rem; }
ul.scopes.withheld { margin-bottom: 1rem; }
ul.scopes.withheld .what { font-weight: 400; color: var(--muted); }
ul.scopes code, .mono { font: .82rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); }
.fine { color: var(--muted); font-size: .85rem; margin-top: 1.25rem; }
table.apps { width: 100%; border-collapse: collapse; }
table.apps th { text-align: left; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; padding: .5rem; border-bottom: 1px solid var(--line); }
table.apps td { padding: .85rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.apps form { margin: 0; }
table.apps td .mono { word-break: break-all; font-size: .75rem; }
table.apps td:nth-child(2) { width: 42%; }
table.apps td:nth-child(3) { white-space: nowrap; }
header.top nav form { margin: 0; }
.empty { text-align: center; color: var(--muted); padding: 2rem 0; }
/* The operator console (/admin): a wider card, tabs, stat tiles, tables, charts, diffs. */
.card.console { max-width: 1160px; padding: 1.5rem 1.75rem; }
nav.tabs { display: flex; gap: .25rem; flex-wrap: wrap; border-bottom: 1px solid var(--line); margin: -.25rem 0 1.25rem; }
nav.tabs a { padding: .5rem .8rem; color: var(--muted); text-decoration: none; border-bottom: 2px solid transparent; font-size: .95rem; }
nav.tabs a.on { color: var(--ink); border-bottom-color: var(--brand); font-weight: 600; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .75rem; margin: 0 0 1.25rem; }
.tile { border: 1px solid var(--line); border-radius: 10px; padding: .75rem .9rem; }
.tile .n { font-size: 1.6rem; font-weight: 700; line-height: 1.2; }
.tile .l { color: var(--muted); font-size: .82rem; }
.tile.alert .n { color: var(--danger); }
.tile a { color: inherit; text-decoration: none; }
svg.spark { width: 100%; height: 28px; display: block; margin-top: .35rem; }
figure.chart { margin: 0 0 1.25rem; }
svg.timeline { width: 100%; height: auto; display: block; }
svg .calls, .key.calls { fill: color-mix(in srgb, var(--brand) 70%, transparent); background: color-mix(in srgb, var(--brand) 70%, transparent); }
svg .denials, .key.denials { fill: var(--danger); background: var(--danger); }
svg .axis { stroke: var(--line); }
svg .tick { fill: var(--muted); font-size: 10px; font-family: ui-monospace, monospace; }
figcaption { color: var(--muted); font-size: .82rem; margin-top: .25rem; }
.key { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; vertical-align: -1px; margin-left: .5rem; }
table.grid { width: 100%; border-collapse: collapse; font-size: .9rem; }
table.grid th { text-align: left; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; padding: .45rem .4rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.grid td { padding: .5rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
table.grid td code { overflow-wrap: normal; word-break: normal; }
table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.grid form { margin: 0; display: flex; gap: .35rem; flex-wrap: wrap; }
table.grid button, .small { padding: .3rem .6rem; font-size: .82rem; }
.badge { display: inline-block; border-radius: 999px; padding: 0 .5rem; font-size: .75rem; font-weight: 600; border: 1px solid var(--line); white-space: nowrap; }
.badge.allow, .badge.up, .badge.approved, .badge.released { color: var(--ok); border-color: color-mix(in srgb, var(--ok) 40%, transparent); }
.badge.deny, .badge.error, .badge.down, .badge.broken, .badge.denied, .badge.blocked, .badge.discarded { color: var(--danger); border-color: color-mix(in srgb, var(--danger) 40%, transparent); }
.badge.malicious { color: var(--danger); border-color: color-mix(in srgb, var(--danger) 40%, transparent); }
.badge.clean { color: var(--ok); }
.badge.confirm, .badge.suspicious, .badge.pending, .badge.starting, .badge.changed, .badge.new { color: #9a6700; border-color: #d4a72c; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .5rem .75rem; align-items: end; margin: 0 0 1rem; }
form.filters label { margin: 0 0 .2rem; font-size: .78rem; }
form.filters input, form.filters select, form.inline input, form.inline select, textarea {
  width: 100%; padding: .45rem .55rem; border: 1px solid var(--line); border-radius: 8px; font: inherit; font-size: .9rem; color: inherit; background: var(--paper);
}
form.inline { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin: .5rem 0 1rem; }
form.inline > div { flex: 1; min-width: 140px; }
form.inline label { margin: 0 0 .2rem; font-size: .78rem; }
.bar { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin: 0 0 1rem; }
.bar .grow { flex: 1; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .6rem; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0 0 1rem; font-size: .92rem; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
pre.block { font: .8rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--wash); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 1rem; }
.diff { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.diff h3 { font-size: .85rem; color: var(--muted); margin: 0 0 .3rem; }
mark { background: color-mix(in srgb, var(--danger) 22%, transparent); color: inherit; border-radius: 3px; padding: 0 .1em; }
ins { background: color-mix(in srgb, var(--ok) 18%, transparent); text-decoration: none; }
del { background: color-mix(in srgb, var(--danger) 18%, transparent); }
p.change { margin: .25rem 0 0; }
blockquote { margin: .35rem 0 0; padding: .5rem .75rem; border-left: 3px solid var(--line); overflow-wrap: anywhere; }
footer { text-align: center; color: var(--muted); font-size: .8rem; padding: 1rem; }
`;

/** Content-addressed path, so the stylesheet can be cached for a year and still change. */
export const STYLESHEET_PATH = `/ui/portcullis.${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12)}.css`;
