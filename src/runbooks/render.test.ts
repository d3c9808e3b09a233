import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderRunbookMarkdown } from './render.js';
import { isSafeImageUrl, isSafeLinkUrl } from './safe-url.js';

/** Elements markdown-it creates with html: false; any other element in the output is a fault. */
const ALLOWED_TAGS = new Set([
  'a',
  'blockquote',
  'br',
  'code',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'img',
  'li',
  'ol',
  'p',
  'pre',
  's',
  'strong',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
]);
const ALLOWED_ATTRIBUTES = new Set([
  'href',
  'src',
  'alt',
  'title',
  'rel',
  'target',
  'class',
  'start',
]);

/** Decodes the character references that may appear in an attribute value of the output. */
function decodeAttribute(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);?/g, (_, digits: string) => String.fromCodePoint(Number(digits)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Returns the scheme a browser would see: percent-decoded, without whitespace and control characters. */
function browserScheme(url: string): string | undefined {
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // A malformed escape stays as written.
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers drop these characters.
  const compact = decoded.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  return /^([a-z][a-z0-9+.-]*):/.exec(compact)?.[1];
}

/** Lists every way the HTML could run script when inserted into a page. */
function findExecutableVectors(html: string): string[] {
  const found: string[] = [];
  if (/<!--/.test(html)) found.push('an HTML comment');

  for (const match of html.matchAll(/<\s*\/?\s*([a-z][a-z0-9-]*)([^>]*)>/gi)) {
    const tag = match[1]!.toLowerCase();
    if (!ALLOWED_TAGS.has(tag)) {
      found.push(`element <${tag}>`);
      continue;
    }
    for (const attribute of (match[2] ?? '').matchAll(/([^\s="'/]+)(?:="([^"]*)")?/g)) {
      const name = attribute[1]!.toLowerCase();
      const value = decodeAttribute(attribute[2] ?? '');
      if (!ALLOWED_ATTRIBUTES.has(name)) {
        found.push(`attribute ${name} on <${tag}>`);
      }
      if (name === 'href' || name === 'src') {
        const scheme = browserScheme(value);
        const dataImage = tag === 'img' && /^data:image\/(png|gif|jpeg|webp);base64,/i.test(value);
        if (scheme !== undefined && !['http', 'https', 'mailto'].includes(scheme) && !dataImage) {
          found.push(`${name}="${value}" on <${tag}>`);
        }
      }
    }
  }
  return found;
}

interface PayloadCase {
  name: string;
  markdown: string;
}

const PAYLOADS: PayloadCase[] = [
  { name: 'script tag', markdown: '<script>window.pwned = 1</script>' },
  { name: 'script tag inside a paragraph', markdown: 'text <script>alert(1)</script> text' },
  { name: 'img onerror', markdown: '<img src=x onerror="alert(1)">' },
  { name: 'uppercase IMG with javascript src', markdown: `<IMG SRC="javascript:alert('XSS')">` },
  { name: 'javascript link', markdown: '[click](javascript:alert(1))' },
  { name: 'uppercase javascript link', markdown: '[click](JaVaScRiPt:alert(1))' },
  { name: 'javascript link with spaces', markdown: '[click](   javascript:alert(1))' },
  { name: 'javascript reference link', markdown: '[click][evil]\n\n[evil]: javascript:alert(1)' },
  { name: 'javascript autolink', markdown: '<javascript:alert(1)>' },
  { name: 'entity-encoded javascript', markdown: '[x](&#106;&#97;vascript:alert(1))' },
  { name: 'hex-encoded javascript', markdown: '[x](&#x6A;avascript:alert(1))' },
  { name: 'named colon entity', markdown: '[x](javascript&colon;alert(1))' },
  { name: 'tab entity inside the scheme', markdown: '[x](jav&#x09;ascript:alert(1))' },
  { name: 'newline escape inside the scheme', markdown: '[x](java%0ascript:alert(1))' },
  { name: 'tab escape inside the scheme', markdown: '[x](jav%09ascript:alert(1))' },
  { name: 'raw anchor with tab entity', markdown: '<a href="jav&#x09;ascript:alert(1)">x</a>' },
  { name: 'vbscript link', markdown: '[x](VBScript:msgbox(1))' },
  { name: 'svg onload', markdown: '<svg onload=alert(1)><circle r="4"/></svg>' },
  { name: 'iframe', markdown: '<iframe src="javascript:alert(1)"></iframe>' },
  {
    name: 'style element',
    markdown: '<style>body { background: url(javascript:alert(1)) }</style>',
  },
  { name: 'html comment', markdown: '<!-- <script>alert(1)</script> -->' },
  { name: 'details ontoggle', markdown: '<details open ontoggle=alert(1)>x</details>' },
  { name: 'object and embed', markdown: '<object data="x.swf"></object><embed src="x.swf">' },
  {
    name: 'form action',
    markdown: '<form action="javascript:alert(1)"><button>go</button></form>',
  },
  {
    name: 'meta refresh',
    markdown: '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  },
  { name: 'base href', markdown: '<base href="javascript:alert(1)//">' },
  {
    name: 'data html link',
    markdown: '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  },
  { name: 'data html autolink', markdown: '<data:text/html,<script>alert(1)</script>>' },
  {
    name: 'data svg image',
    markdown: '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  },
  { name: 'data png link', markdown: '[x](data:image/png;base64,iVBORw0KGgo=)' },
  { name: 'javascript image', markdown: '![x](javascript:alert(1))' },
  { name: 'javascript image reference', markdown: '![x][img]\n\n[img]: javascript:alert(1)' },
  { name: 'quote breaking out of href', markdown: '[a](https://ok.test/"onmouseover="alert(1))' },
  {
    name: 'quote breaking out of title',
    markdown: '[a](https://ok.test "x\\" onmouseover=\\"alert(1)")',
  },
  { name: 'quote breaking out of src', markdown: '![a](https://ok.test/a.png"onerror="alert(1))' },
  { name: 'quote breaking out of alt', markdown: '![a" onerror="alert(1)](https://ok.test/a.png)' },
  { name: 'html in a table cell', markdown: '| a |\n|---|\n| <img src=x onerror=alert(1)> |' },
  { name: 'html in a heading', markdown: '# <script>alert(1)</script>' },
  { name: 'html in fenced code', markdown: '```html\n<script>alert(1)</script>\n```' },
  { name: 'html in a code span', markdown: '`<img src=x onerror=alert(1)>`' },
  { name: 'file link', markdown: '[x](file:///etc/passwd)' },
  { name: 'NUL inside the scheme', markdown: '[x](java\u0000script:alert(1))' },
];

describe('findExecutableVectors', () => {
  test('finds the vectors it looks for', () => {
    const html =
      '<p><img src="x" onerror="alert(1)"><a href="jav&#x09;ascript:alert(1)">x</a><svg></svg><!-- x --></p>';
    assert.deepEqual(findExecutableVectors(html), [
      'an HTML comment',
      'attribute onerror on <img>',
      'href="jav\tascript:alert(1)" on <a>',
      'element <svg>',
      'element <svg>',
    ]);
  });
});

describe('renderRunbookMarkdown', () => {
  for (const payload of PAYLOADS) {
    test(`neutralises ${payload.name}`, () => {
      const { html } = renderRunbookMarkdown(payload.markdown);
      assert.deepEqual(findExecutableVectors(html), [], `output: ${html}`);
    });
  }

  test('escapes raw HTML as text', () => {
    const { html } = renderRunbookMarkdown('<script>alert(1)</script>');
    assert.equal(html, '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n');
  });

  test('keeps https links with rel and target', () => {
    const { html } = renderRunbookMarkdown('[dashboard](https://grafana.example/d/1)');
    assert.equal(
      html,
      '<p><a href="https://grafana.example/d/1" target="_blank" rel="noopener noreferrer">dashboard</a></p>\n',
    );
  });

  test('keeps relative links in the frame', () => {
    const { html } = renderRunbookMarkdown('[step 2](#step-2)');
    assert.equal(html, '<p><a href="#step-2" rel="noopener noreferrer">step 2</a></p>\n');
  });

  test('keeps raster data images', () => {
    const { html } = renderRunbookMarkdown('![dot](data:image/png;base64,iVBORw0KGgo=)');
    assert.match(html, /<img src="data:image\/png;base64,iVBORw0KGgo=" alt="dot">/);
  });

  test('turns a rejected image into its text', () => {
    const { html } = renderRunbookMarkdown('![diagram](data:image/svg+xml;base64,PHN2Zz4=)');
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /diagram/);
  });

  test('moves table alignment into a class', () => {
    const { html } = renderRunbookMarkdown('| a | b |\n|:-:|--:|\n| 1 | 2 |');
    assert.doesNotMatch(html, /style=/);
    assert.match(html, /<th class="align-center">a<\/th>/);
    assert.match(html, /<td class="align-right">2<\/td>/);
  });

  test('takes the title from the first level-1 heading', () => {
    const rendered = renderRunbookMarkdown('intro\n\n## Later\n\n# Payment `gateway` outage\n');
    assert.equal(rendered.title, 'Payment gateway outage');
  });

  test('has no title without a level-1 heading', () => {
    assert.equal(renderRunbookMarkdown('## Only a subheading').title, undefined);
  });
});

describe('runbook URL checks', () => {
  const links: Array<[string, boolean]> = [
    ['https://example.test/a', true],
    ['http://example.test/a', true],
    ['mailto:oncall@example.test', true],
    ['#section', true],
    ['./other.md', true],
    ['path/with:colon', true],
    ['?q=a:b', true],
    ['javascript:alert(1)', false],
    [' javascript:alert(1)', false],
    ['jav%09ascript:alert(1)', false],
    ['java%0Ascript:alert(1)', false],
    ['vbscript:msgbox(1)', false],
    ['data:image/png;base64,AAAA', false],
    ['file:///etc/passwd', false],
    ['%zz:alert(1)', false],
  ];
  for (const [url, safe] of links) {
    test(`link ${JSON.stringify(url)} is ${safe ? 'allowed' : 'rejected'}`, () => {
      assert.equal(isSafeLinkUrl(url), safe);
    });
  }

  const images: Array<[string, boolean]> = [
    ['https://example.test/a.png', true],
    ['diagrams/flow.png', true],
    ['data:image/png;base64,AAAA', true],
    ['data:image/webp;base64,AAAA', true],
    ['data:image/svg+xml;base64,AAAA', false],
    ['data:text/html;base64,AAAA', false],
    ['javascript:alert(1)', false],
  ];
  for (const [url, safe] of images) {
    test(`image ${JSON.stringify(url)} is ${safe ? 'allowed' : 'rejected'}`, () => {
      assert.equal(isSafeImageUrl(url), safe);
    });
  }
});
