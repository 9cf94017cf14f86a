import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlToText } from './html-to-text.js';

describe('htmlToText', () => {
  it('keeps body text, drops head, scripts, styles, comments and svg, and breaks lines at blocks', () => {
    const html = `<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head>
      <body><h1>Title</h1><!-- secret comment --><p>First <b>bold</b> para.</p>
      <script>alert("x")</script><noscript>enable js</noscript><svg><text>vector</text></svg>
      <ul><li>one</li><li>two</li></ul><template><p>tpl</p></template></body></html>`;
    assert.equal(htmlToText(html), 'Title\nFirst bold para.\none\ntwo');
  });

  it('decodes named and numeric entities after removing tags, so escaped markup stays text', () => {
    assert.equal(
      htmlToText('<p>&lt;script&gt; &amp; &#169; &#x1F600; &eacute; &unknown; &#0;</p>'),
      '<script> & © 😀 é &unknown; \ufffd',
    );
  });

  it('tolerates malformed markup: stray brackets, unclosed tags and unterminated comments', () => {
    assert.equal(htmlToText('a < b and <p>c<div'), 'a < b and\nc<div');
    assert.equal(htmlToText('x<script>never closed'), 'x');
    assert.equal(htmlToText('y<!-- never closed'), 'y');
  });

  it('keeps text hidden with CSS so the injection detector can see it', () => {
    assert.equal(htmlToText('<p style="display:none">hidden</p>'), 'hidden');
  });

  it('puts table cells on one line separated by spaces', () => {
    assert.equal(htmlToText('<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>'), 'a b\nc');
  });

  it('handles a megabyte of unclosed tags', () => {
    assert.equal(typeof htmlToText('<a '.repeat(300_000)), 'string');
  });
});
