import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ASCII_GLYPHS, lookOf, paintFor, terminalStyle, UNICODE_GLYPHS } from './terminal.js';

const style = (env: Record<string, string>, isTTY = true, noColorFlag = false) =>
  terminalStyle({ env, isTTY, noColorFlag });

test('colour: only on a terminal; never with NO_COLOR, --no-color or TERM=dumb; FORCE_COLOR forces it', () => {
  const utf8 = { LANG: 'en_US.UTF-8', TERM: 'xterm-256color' };
  assert.equal(style(utf8).color, true);
  assert.equal(style(utf8, false).color, false, 'a pipe or a file');
  assert.equal(style({ ...utf8, NO_COLOR: '1' }).color, false);
  assert.equal(style({ ...utf8, NO_COLOR: '' }).color, true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(style(utf8, true, true).color, false, '--no-color');
  assert.equal(style({ ...utf8, TERM: 'dumb' }).color, false);
  assert.equal(style({ ...utf8, FORCE_COLOR: '1' }, false).color, true);
  assert.equal(style({ ...utf8, FORCE_COLOR: '0' }).color, false);
  assert.equal(style({ ...utf8, FORCE_COLOR: '1', NO_COLOR: '1' }).color, false, 'NO_COLOR wins');
});

test('ASCII: where the locale is not UTF-8, or PILOTAGE_ASCII says so', () => {
  assert.equal(style({ LANG: 'en_US.UTF-8' }).ascii, false);
  assert.equal(style({ LANG: 'de_DE.utf8' }).ascii, false);
  assert.equal(style({}).ascii, true, 'no locale is the C locale');
  assert.equal(style({ LANG: 'C' }).ascii, true);
  assert.equal(style({ LANG: 'en_US.UTF-8', LC_ALL: 'C' }).ascii, true, 'LC_ALL wins over LANG');
  assert.equal(style({ LANG: 'C', LC_CTYPE: 'C.UTF-8' }).ascii, false, 'LC_CTYPE over LANG');
  assert.equal(style({ LANG: 'en_US.ISO-8859-1' }).ascii, true);
  assert.equal(style({ LANG: 'en_US.UTF-8', PILOTAGE_ASCII: '1' }).ascii, true);
  assert.equal(style({ LANG: 'C', PILOTAGE_ASCII: '0' }).ascii, false);
});

test('redraw: a terminal that is not dumb', () => {
  assert.equal(style({ TERM: 'xterm' }).redraw, true);
  assert.equal(style({ TERM: 'dumb' }).redraw, false);
  assert.equal(style({ TERM: 'xterm' }, false).redraw, false);
});

test('the ASCII glyphs are ASCII, for every state the Unicode ones draw', () => {
  assert.deepEqual(Object.keys(ASCII_GLYPHS.state).sort(), Object.keys(UNICODE_GLYPHS.state).sort());
  assert.match(JSON.stringify(ASCII_GLYPHS), /^[\x20-\x7e]*$/);
  assert.equal(lookOf({ color: false, ascii: true, redraw: true }).glyphs, ASCII_GLYPHS);
});

test('paint: SGR colours by state with colour on, the text as is without', () => {
  assert.equal(paintFor(true).state('failed', 'failed'), '\u001b[31mfailed\u001b[0m');
  assert.equal(paintFor(true).state('succeeded', 'ok'), '\u001b[32mok\u001b[0m');
  assert.equal(paintFor(true).state('unknown', 'x'), 'x');
  assert.equal(paintFor(false).state('failed', 'failed'), 'failed');
  assert.equal(paintFor(false).bold('b'), 'b');
});
