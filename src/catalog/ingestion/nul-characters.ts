/**
 * Escapes in YAML double-quoted strings that produce U+0000: `\0`, `\x00`,
 * `\u0000` and `\U00000000`. A text with neither one of these nor a raw NUL
 * cannot yield a NUL character.
 */
const NUL_ESCAPE = /\\(?:0|x00|u0000|U00000000)/;

/** Returns whether parsing `text` could yield a string with U+0000. */
export function mayContainNul(text: string): boolean {
  return text.includes('\u0000') || NUL_ESCAPE.test(text);
}

/**
 * Returns the path of the first key or string value that contains U+0000,
 * which PostgreSQL's text columns reject, or undefined when there is none.
 * A key with the character ends the path, so the path names its parent.
 */
export function findNulCharacter(value: unknown): Array<string | number> | undefined {
  const path: Array<string | number> = [];
  const visit = (node: unknown): boolean => {
    if (typeof node === 'string') {
      return node.includes('\u0000');
    }
    if (node === null || typeof node !== 'object') {
      return false;
    }
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        path.push(index);
        if (visit(item)) {
          return true;
        }
        path.pop();
      }
      return false;
    }
    for (const [key, item] of Object.entries(node)) {
      if (key.includes('\u0000')) {
        return true;
      }
      path.push(key);
      if (visit(item)) {
        return true;
      }
      path.pop();
    }
    return false;
  };
  return visit(value) ? path : undefined;
}
