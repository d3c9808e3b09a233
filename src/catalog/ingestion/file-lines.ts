import { parseWithYamlPackage, type YamlDocument } from './yaml-documents.js';

/**
 * Finds lines in the text of a catalog file for faults found after it was
 * read, such as a conflict or a dangling reference. The text is parsed with
 * the `yaml` package on the first lookup only, because most refreshes need
 * none.
 */
export class FileLines {
  readonly #text: string;
  #documents: Map<number, YamlDocument> | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  /** Returns the line where document `docIndex` starts, from 1. */
  documentLine(docIndex: number): number {
    return this.#document(docIndex)?.line ?? 1;
  }

  /** Returns the line of the node at `path` in document `docIndex`, or of its nearest ancestor. */
  lineOf(docIndex: number, path: readonly PropertyKey[]): number {
    return this.#document(docIndex)?.lineOf(path) ?? 1;
  }

  #document(docIndex: number): YamlDocument | undefined {
    if (!this.#documents) {
      const parsed = parseWithYamlPackage(this.#text);
      // NOTE: the text was read without a fault, so the `yaml` package finds
      // the document. Line 1 is a fallback should the two parsers disagree.
      this.#documents = new Map(
        parsed.ok ? parsed.documents.map((document) => [document.index, document]) : [],
      );
    }
    return this.#documents.get(docIndex);
  }
}
