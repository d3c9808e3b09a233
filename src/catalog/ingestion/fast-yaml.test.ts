import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CORPUS_ROOT } from '../../../test/support/portal.js';
import { loadDocumentsFast } from './fast-yaml.js';

/**
 * Parses a text with the `yaml` package, as the ingestion did before js-yaml,
 * and returns the documents by index, or undefined when any has an error.
 */
function parseWithYaml(text: string): unknown[] | undefined {
  const documents = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [];
  if (list.some((document) => document.errors.length > 0)) {
    return undefined;
  }
  try {
    return list.map((document) => document.toJS({ maxAliasCount: 100 }) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * Encodes the documents that the ingestion reads, those that are not null,
 * with their indexes, as JSON that keeps -0, NaN and the infinities distinct.
 */
function exact(documents: readonly unknown[]): string {
  const read = documents.flatMap((document, index) =>
    document === null ? [] : [[index, document]],
  );
  return JSON.stringify(read, (_key, value: unknown) =>
    typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))
      ? `number ${Object.is(value, -0) ? '-0' : String(value)}`
      : value,
  );
}

/** Asserts that js-yaml read `text` as the `yaml` package does, or left it to it. */
function assertAgrees(text: string, label: string): 'fast' | 'fallback' {
  const fast = loadDocumentsFast(text);
  if (fast === undefined) {
    return 'fallback';
  }
  const expected = parseWithYaml(text);
  assert.ok(expected, `${label}: js-yaml read a text that the yaml package rejects`);
  assert.equal(exact(fast), exact(expected), `${label}: the two parsers read different values`);
  return 'fast';
}

describe('loadDocumentsFast values', () => {
  const scalars: ReadonlyArray<[string, unknown]> = [
    ['1', 1],
    ['-1', -1],
    ['+1', 1],
    ['012', 12],
    ['0o17', 15],
    ['0x1F', 31],
    ['-0x1F', '-0x1F'],
    ['0b101', '0b101'],
    ['1_000', '1_000'],
    ['1.5', 1.5],
    ['1.', 1],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['+.5', 0.5],
    ['1e3', 1000],
    ['1.5e-3', 0.0015],
    ['.inf', Number.POSITIVE_INFINITY],
    ['-.Inf', Number.NEGATIVE_INFINITY],
    ['.NaN', Number.NaN],
    ['-0', -0],
    ['true', true],
    ['False', false],
    ['TRUE', true],
    ['tRUE', 'tRUE'],
    ['yes', 'yes'],
    ['on', 'on'],
    ['null', null],
    ['NULL', null],
    ['~', null],
    ['', null],
    ['2024-01-02', '2024-01-02'],
    ['1:20', '1:20'],
    ['12345678901234567890', Number.parseInt('12345678901234567890', 10)],
  ];
  for (const [source, expected] of scalars) {
    test(`plain scalar ${JSON.stringify(source)}`, () => {
      const documents = loadDocumentsFast(`value: ${source}\n`);
      assert.ok(documents);
      assert.ok(Object.is((documents[0] as { value: unknown }).value, expected));
      assertAgrees(`value: ${source}\n`, source);
    });
  }

  test('empty documents keep their index', () => {
    const documents = loadDocumentsFast('---\n---\na: 1\n---\n\n');
    assert.deepEqual(documents, [null, { a: 1 }, null]);
    assertAgrees('---\n---\na: 1\n---\n\n', 'empty documents');
  });

  test('quoted scalars stay strings', () => {
    assert.deepEqual(loadDocumentsFast('a: "1"\nb: \'true\'\n'), [{ a: '1', b: 'true' }]);
  });
});

describe('loadDocumentsFast leaves to the yaml package', () => {
  const cases: ReadonlyArray<[string, string]> = [
    ['a syntax error', 'a: "unterminated\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a custom tag', 'a: !Ref b\n'],
    ['an anchor and alias', 'a: &x 1\nb: *x\n'],
    ['a directive', '%YAML 1.1\n---\na: yes\n'],
    ['a directive after a byte order mark', '\uFEFF%YAML 1.1\n---\na: yes\n'],
    ['an explicit key', '? a\n: b\n'],
    ['an explicit key that ends the text', '?'],
    ['a null key', '~: a\n'],
    ['an empty key', ': a\n'],
    ['a flow collection as key', '[a, b]: c\n'],
    ['a flow collection over two lines', 'a: [b,\n  c]\n'],
    ['a quoted scalar over two lines', 'a: "b\n  c"\n'],
    ['a block scalar with indentation indicator', 'a: |2\n    b\n'],
    ['text after a document end marker', 'a: 1\n... b: 2\n'],
    ['text right after a document marker', '---a: b\n'],
    ['a carriage return alone', 'a: b\r0\n'],
    ['a comment right after a flow collection', 'a: {b: 1}#c\n'],
    ['a comment right after a quoted scalar', 'a: "b"#c\n'],
    ['a key beyond 1024 characters', `${'k'.repeat(1030)}: v\n`],
  ];
  for (const [name, text] of cases) {
    test(name, () => {
      assert.equal(loadDocumentsFast(text), undefined);
    });
  }
});

describe('loadDocumentsFast against the yaml package', () => {
  const folders = [path.join(CORPUS_ROOT, 'catalog'), path.resolve('examples')];
  const files = folders.flatMap((folder) => yamlFilesUnder(folder));
  const texts = files.map((file) => readFileSync(file, 'utf8'));

  test('corpus and example files read alike', () => {
    let fast = 0;
    texts.forEach((text, index) => {
      if (assertAgrees(text, files[index] as string) === 'fast') {
        fast += 1;
      }
    });
    // Most catalog files are plain YAML, which the fast path is for.
    assert.ok(
      fast >= files.length * 0.8,
      `only ${fast} of ${files.length} files took the fast path`,
    );
  });

  test('mutated files read alike or are left to the yaml package', () => {
    // A fixed seed, so a failure names a mutation that can be replayed.
    let seed = 20_240_601;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pieces = [
      ':',
      '-',
      ' ',
      '\n',
      '\n  ',
      '\t',
      '"',
      "'",
      '#',
      '[',
      ']',
      '{',
      '}',
      ',',
      '|',
      '>',
      '?',
      '&',
      '*',
      '!',
      '%',
      '~',
      '---',
      '...',
      '\\',
      '\r\n',
      'é',
      '- |\n',
      ': |\n  ',
      '1e3',
      '0x1',
      'true',
    ];
    const small = texts.filter((text) => text.length < 8_000);
    for (let round = 0; round < 1_500; round++) {
      let text = small[Math.floor(random() * small.length)] as string;
      const edits = 1 + Math.floor(random() * 3);
      for (let edit = 0; edit < edits; edit++) {
        const at = Math.floor(random() * text.length);
        const piece = pieces[Math.floor(random() * pieces.length)] as string;
        const kind = random();
        if (kind < 0.4) {
          text = text.slice(0, at) + piece + text.slice(at);
        } else if (kind < 0.7) {
          text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 3));
        } else {
          text = text.slice(0, at) + piece + text.slice(at + 1);
        }
      }
      assertAgrees(text, `mutation ${round}`);
    }
  });
});

function yamlFilesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      found.push(...yamlFilesUnder(full));
    } else if (/\.ya?ml$/.test(entry.name)) {
      found.push(full);
    }
  }
  return found;
}
