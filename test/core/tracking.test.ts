import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addOpenPixel, isMachineOpen, rewriteLinks, signToken, verifyToken } from '../../src/core/tracking.js';

const KEY = 'k'.repeat(32);

test('tokens verify with their key and nothing else', () => {
  const token = signToken({ k: 'c', d: 42, u: 'https://shop.example.com/sale?a=1&b=2' }, KEY);
  assert.deepEqual(verifyToken(token, KEY), { k: 'c', d: 42, u: 'https://shop.example.com/sale?a=1&b=2' });
  assert.equal(verifyToken(token, 'x'.repeat(32)), undefined, 'another key');
  const [body, mac] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ k: 'c', d: 42, u: 'https://evil.example.com/' })).toString('base64url');
  assert.equal(verifyToken(`${forged}.${mac}`, KEY), undefined, 'a changed link');
  assert.equal(verifyToken(`${body}.${mac!.slice(0, -2)}AA`, KEY), undefined, 'a changed mac');
  assert.equal(verifyToken('garbage', KEY), undefined);
  assert.equal(verifyToken(signToken({ k: 'c', d: 1, u: 'javascript:alert(1)' }, KEY), KEY), undefined, 'only http(s) links redirect');
});

test('links in anchors are rewritten; other URLs and mailto stay', () => {
  const html = '<p><a href="https://a.example.com/x?y=1&amp;z=2">A</a> <a class="b" href=\'http://b.example.com\'>B</a> <a href="mailto:x@example.com">M</a> <img src="https://img.example.com/p.png"></p>';
  const seen: string[] = [];
  const out = rewriteLinks(html, (u) => {
    seen.push(u);
    return `https://t.example.com/${seen.length}`;
  });
  assert.deepEqual(seen, ['https://a.example.com/x?y=1&z=2', 'http://b.example.com']);
  assert.equal(out, '<p><a href="https://t.example.com/1">A</a> <a class="b" href=\'https://t.example.com/2\'>B</a> <a href="mailto:x@example.com">M</a> <img src="https://img.example.com/p.png"></p>');
  assert.match(addOpenPixel('<html><body><p>x</p></body></html>', 'https://t/o.gif'), /<p>x<\/p><img src="https:\/\/t\/o\.gif"[^>]*><\/body>/);
  assert.match(addOpenPixel('<p>x</p>', 'https://t/o.gif'), /^<p>x<\/p><img /);
});

test('machine opens: proxies, scanners and fetches right after delivery', () => {
  const human = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
  assert.equal(isMachineOpen({ at: 100_000, sentAt: 0, userAgent: human }, 10_000), false);
  assert.equal(isMachineOpen({ at: 5000, sentAt: 0, userAgent: human }, 10_000), true, 'within seconds of delivery');
  assert.equal(isMachineOpen({ at: 100_000, sentAt: 0, userAgent: 'Mozilla/5.0' }, 10_000), true, "Apple's privacy proxy");
  assert.equal(isMachineOpen({ at: 100_000, sentAt: 0, userAgent: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' }, 10_000), true);
  assert.equal(isMachineOpen({ at: 100_000, sentAt: 0, userAgent: '' }, 10_000), true);
});
