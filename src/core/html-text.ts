/**
 * HTML to plain text for the text part of an email: tags stripped, links kept as `text (url)`,
 * paragraphs and line breaks as newlines, list items as `- item`, common entities decoded.
 * Good enough for the mail a template author writes; it is not a general HTML parser.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  euro: '€', pound: '£', yen: '¥', cent: '¢', mdash: '—', ndash: '–', hellip: '…', middot: '·', bull: '•',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', times: '×', deg: '°',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  // Left encoded: the whole text is decoded once at the end.
  return m ? m[1] ?? m[2] ?? m[3] ?? '' : undefined;
}

/** Paragraph-like blocks end with a blank line; other blocks with a line break. */
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'ul', 'ol', 'blockquote', 'pre']);
const LINE = new Set(['div', 'tr', 'li', 'section', 'article', 'header', 'footer', 'address', 'dd', 'dt']);

// Markers survive whitespace collapsing and are turned into newlines at the end. A soft break (block
// edges) merges with its neighbours: `</div><div>` is one line break, not a blank line.
const NL = '\u0001';
const SOFT = '\u0002';

export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!doctype[^>]*>/gi, '');
  // HTML whitespace is not significant: runs of it are one space.
  s = s.replace(/\s+/g, ' ');

  // Links: the href is only worth printing when it says something the link text does not.
  s = s.replace(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi, (_whole, attrs: string, inner: string) => {
    const href = attribute(' ' + attrs, 'href')?.trim();
    const text = inner.replace(/<[^>]*>/g, '').trim();
    if (!href || href.startsWith('#') || /^javascript:/i.test(href)) return inner;
    const shown = decodeEntities(text);
    const url = decodeEntities(href);
    const bare = url.replace(/^mailto:|^tel:/i, '');
    if (!shown) return href;
    if (shown === url || shown === bare) return inner;
    return `${inner} (${href})`;
  });

  s = s.replace(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi, (tag: string, rawName: string) => {
    const name = rawName.toLowerCase();
    const closing = tag[1] === '/';
    if (name === 'br') return NL;
    if (name === 'hr') return NL + NL + '---' + NL + NL;
    if (name === 'img') return attribute(tag, 'alt') ?? '';
    // Each item starts its own line; the list's end closes the last one.
    if (name === 'li') return closing ? SOFT : SOFT + '- ';
    if (name === 'td' || name === 'th') return closing ? ' ' : '';
    if (PARAGRAPH.has(name)) return NL + NL;
    if (LINE.has(name)) return SOFT;
    return '';
  });
  s = decodeEntities(s.replace(/<[^>]*>/g, ''));

  s = s.replace(/[\s\u0001\u0002]*[\u0001\u0002][\s\u0001\u0002]*/g, (run) => NL.repeat(Math.max(1, run.split(NL).length - 1)));
  return s
    .split(NL)
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Liquid `{{ ... }}` and `{% ... %}` blocks, protected from HTML processing. */
const LIQUID_RE = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/**
 * The text part for an HTML template: the HTML converted to text with its Liquid left as it is,
 * so `<a href="{{ data.url }}">Open</a>` becomes `Open ({{ data.url }})`.
 */
export function deriveText(htmlTemplate: string): string {
  const saved: string[] = [];
  const protectedHtml = htmlTemplate.replace(LIQUID_RE, (m) => `\uE000${saved.push(m) - 1}\uE001`);
  return htmlToText(protectedHtml).replace(/\uE000(\d+)\uE001/g, (_m, i: string) => saved[Number(i)]!);
}
