import MarkdownIt, { type Token } from 'markdown-it';
import { isSafeImageUrl, isSafeLinkUrl } from './safe-url.js';

/** A runbook rendered to HTML, with its first level-1 heading as the title. */
export interface RenderedMarkdown {
  html: string;
  /** Text of the first `# heading`; undefined when there is none. */
  title: string | undefined;
}

/**
 * The renderer. `html: false` escapes every HTML tag written in the markdown,
 * so the output holds only the elements markdown-it itself creates. Linkify
 * and typographer stay off: plain text stays plain text.
 */
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

// markdown-it calls validateLink once per link, image and autolink, and a
// URL that fails stays as text. The link and image checks differ, so the core rule below
// checks each kind again with its own list.
markdown.validateLink = (url) => isSafeLinkUrl(url) || isSafeImageUrl(url);
markdown.core.ruler.push('runbook_safety', (state) => {
  for (const token of state.tokens) {
    if (token.type === 'th_open' || token.type === 'td_open') {
      moveAlignmentToClass(token);
    }
    if (token.children) {
      token.children = token.children.flatMap((child) => secureInlineToken(child, state.Token));
    }
  }
});

/** Renders runbook markdown to HTML that carries no script, event handler or inline style. */
export function renderRunbookMarkdown(text: string): RenderedMarkdown {
  const tokens = markdown.parse(text, {});
  const html = markdown.renderer.render(tokens, markdown.options, {});
  return { html, title: firstHeading(tokens) };
}

/**
 * Checks a link or image token again with the rule of its kind. A link gets
 * `rel="noopener noreferrer"`, and one with a scheme opens in a new tab,
 * because the runbook sits in a micro frontend's frame. An image whose
 * source fails is replaced by its alternative text.
 */
function secureInlineToken(token: Token, TokenClass: typeof Token): Token[] {
  if (token.type === 'link_open') {
    const href = token.attrGet('href') ?? '';
    if (!isSafeLinkUrl(href)) {
      token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'href');
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
      token.attrSet('target', '_blank');
    }
    token.attrSet('rel', 'noopener noreferrer');
    return [token];
  }

  if (token.type === 'image' && !isSafeImageUrl(token.attrGet('src') ?? '')) {
    const text = new TokenClass('text', '', 0);
    text.content = token.content;
    return [text];
  }
  return [token];
}

/** Replaces markdown-it's `style="text-align:…"` on table cells with a class, because the CSP forbids inline styles. */
function moveAlignmentToClass(token: Token): void {
  const style = token.attrGet('style');
  if (style === null) {
    return;
  }
  token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
  const alignment = /^text-align:(left|right|center)$/.exec(style)?.[1];
  if (alignment) {
    token.attrSet('class', `align-${alignment}`);
  }
}

function firstHeading(tokens: readonly Token[]): string | undefined {
  const open = tokens.findIndex((token) => token.type === 'heading_open' && token.tag === 'h1');
  if (open === -1) {
    return undefined;
  }
  const inline = tokens[open + 1];
  const text = inline?.children
    ?.filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('')
    .trim();
  return text === undefined || text === '' ? undefined : text;
}
