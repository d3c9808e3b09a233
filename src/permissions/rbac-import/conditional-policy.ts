import { type Document, isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { formatFieldPath, lineOfPath, type YamlFile, yamlToJs } from '../../config/index.js';
import { criteriaSchema } from '../conditions.js';
import type { ConditionCriteria } from '../types.js';
import { checkCriteriaShape } from './criteria-shape.js';
import { RBAC_ACTIONS, type RbacAction } from './csv-policy.js';
import type { ImportIssue } from './import-issue.js';

/** One document of the RBAC plugin's conditional-policy file, with the shape checked. */
export interface ConditionalPolicyDocument {
  /** Index of the YAML document in the file, from 0. */
  index: number;
  /** Line where the document's content starts. */
  line: number;
  roleEntityRef: string;
  pluginId: string;
  resourceType: string;
  permissionMapping: RbacAction[];
  conditions: ConditionCriteria;
  /** The line of a field of the document, or of its nearest parent that exists. */
  lineOf(path: readonly PropertyKey[]): number;
}

export interface ConditionalPolicies {
  file: string;
  /** The documents whose shape is right, in file order. */
  documents: ConditionalPolicyDocument[];
  /** Documents that are not empty, whether their shape is right or not. */
  documentCount: number;
  /** One error per fault; a document with any fault is not in `documents`. */
  issues: ImportIssue[];
}

const TOP_LEVEL_KEYS = [
  'result',
  'roleEntityRef',
  'pluginId',
  'resourceType',
  'permissionMapping',
  'conditions',
] as const;

/** Keys of Backstage's criteria shape, which belong under `conditions`. */
const CRITERIA_KEYS = new Set(['rule', 'params', 'allOf', 'anyOf', 'not']);

/**
 * Parses the RBAC plugin's conditional-policy YAML: one conditional decision
 * per document, `---` between them. Empty documents (a leading or trailing
 * bare `---`) are skipped. Each document is checked on its own and reports
 * every fault it has, so one malformed document fails loudly without
 * stopping the others.
 */
export function parseConditionalPolicies(file: string, text: string): ConditionalPolicies {
  const result: ConditionalPolicies = { file, documents: [], documentCount: 0, issues: [] };
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });

  Array.from(documents).forEach((document: Document.Parsed, index) => {
    if (isEmptyDocument(document)) {
      return;
    }
    result.documentCount += 1;

    const yaml: YamlFile = { file, document, lineCounter };
    const lineOf = (path: readonly PropertyKey[]) => lineNear(yaml, path, lineCounter);
    const issueAt = (path: readonly PropertyKey[], message: string, line = lineOf(path)) => {
      const issue: ImportIssue = { severity: 'error', file, line, document: index, message };
      if (path.length > 0) {
        issue.field = formatFieldPath(path);
      }
      return issue;
    };

    const checked = checkDocument(yaml, issueAt);
    if ('issues' in checked) {
      result.issues.push(...checked.issues);
      return;
    }
    result.documents.push({ ...checked.value, index, line: lineOf([]), lineOf });
  });
  return result;
}

type IssueAt = (path: readonly PropertyKey[], message: string, line?: number) => ImportIssue;

type CheckedDocument = Omit<ConditionalPolicyDocument, 'index' | 'line' | 'lineOf'>;

function checkDocument(
  yaml: YamlFile,
  issueAt: IssueAt,
): { value: CheckedDocument } | { issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  let readable = true;
  for (const error of yaml.document.errors) {
    const line = yaml.lineCounter.linePos(error.pos[0]).line;
    if (error.code === 'DUPLICATE_KEY') {
      const key = keyAt(yaml.document, error.pos[0]);
      issues.push(
        issueAt(
          key === undefined ? [] : [key],
          'appears twice in this document: keep one of the two',
          line,
        ),
      );
      continue;
    }
    readable = false;
    issues.push(
      issueAt([], `the document is not valid YAML: ${error.message.split('\n')[0]}`, line),
    );
  }
  if (!readable) {
    return { issues };
  }

  const converted = yamlToJs(yaml);
  if ('fault' in converted) {
    return { issues: [...issues, issueAt([], `the document ${converted.fault.message}`)] };
  }
  const input = converted.value;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      issues: [
        ...issues,
        issueAt(
          [],
          'the document is not a mapping: write a conditional policy with result, roleEntityRef, pluginId, resourceType, permissionMapping and conditions',
        ),
      ],
    };
  }

  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      issues.push(issueAt([key], unknownKeyMessage(key)));
    }
  }

  if (record.result !== 'CONDITIONAL') {
    issues.push(
      issueAt(
        ['result'],
        record.result === undefined
          ? 'is required: set result: CONDITIONAL'
          : `${quote(record.result)} is invalid: a conditional policy has result: CONDITIONAL`,
      ),
    );
  }
  for (const key of ['roleEntityRef', 'pluginId', 'resourceType'] as const) {
    const value = record[key];
    if (typeof value !== 'string' || value.trim() === '') {
      issues.push(issueAt([key], requiredStringMessage(key, value)));
    }
  }
  issues.push(...checkPermissionMapping(record.permissionMapping, issueAt));

  let conditions: ConditionCriteria | undefined;
  if (record.conditions === undefined || record.conditions === null) {
    issues.push(
      issueAt(
        ['conditions'],
        record.conditions === null
          ? 'is empty: indent the criteria under conditions, such as a rule with its params, or allOf, anyOf or not around more criteria'
          : 'is required: give the criteria, such as { rule: IS_ENTITY_OWNER, params: { claims: [$ownerRefs] } }',
      ),
    );
  } else {
    const faults = checkCriteriaShape(record.conditions, ['conditions']);
    issues.push(...faults.map((fault) => issueAt(fault.path, fault.message)));
    const parsed = criteriaSchema.safeParse(record.conditions);
    if (faults.length === 0 && parsed.success) {
      conditions = parsed.data;
    }
  }

  if (issues.length > 0 || conditions === undefined) {
    return { issues };
  }
  return {
    value: {
      roleEntityRef: record.roleEntityRef as string,
      pluginId: record.pluginId as string,
      resourceType: record.resourceType as string,
      permissionMapping: record.permissionMapping as RbacAction[],
      conditions,
    },
  };
}

function checkPermissionMapping(value: unknown, issueAt: IssueAt): ImportIssue[] {
  if (!Array.isArray(value) || value.length === 0) {
    return [
      issueAt(
        ['permissionMapping'],
        `${value === undefined ? 'is required' : `${quote(value)} is invalid`}: list the actions the conditions apply to, such as [read, update], from ${RBAC_ACTIONS.join(', ')}`,
      ),
    ];
  }
  const issues: ImportIssue[] = [];
  value.forEach((action, index) => {
    if (typeof action !== 'string' || !(RBAC_ACTIONS as readonly string[]).includes(action)) {
      issues.push(
        issueAt(
          ['permissionMapping', index],
          `${quote(action)} is not an action: use one of ${RBAC_ACTIONS.join(', ')} (lowercase)`,
        ),
      );
    }
  });
  return issues;
}

function unknownKeyMessage(key: string): string {
  if (CRITERIA_KEYS.has(key)) {
    return `'${key}' is not a top-level key: it belongs to the criteria, so indent it under conditions`;
  }
  return `'${key}' is not a top-level key: a conditional policy has only ${TOP_LEVEL_KEYS.join(', ')}; check the spelling and the indentation`;
}

function requiredStringMessage(key: string, value: unknown): string {
  const example: Record<string, string> = {
    roleEntityRef: "'role:default/team-a'",
    pluginId: 'catalog',
    resourceType: 'catalog-entity',
  };
  const found = value === undefined ? 'is required' : `${quote(value)} is invalid`;
  return `${found}: write a text value such as ${key}: ${example[key] ?? '...'}`;
}

function quote(value: unknown): string {
  if (value === null) {
    return 'an empty value';
  }
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** Returns true for a document with no content, such as the one after a trailing bare `---`. */
function isEmptyDocument(document: Document.Parsed): boolean {
  if (document.errors.length > 0) {
    return false;
  }
  const contents = document.contents;
  return contents === null || (isScalar(contents) && contents.value === null);
}

/** Finds the line of the node at `path`, of its nearest parent that exists, or of the document. */
function lineNear(yaml: YamlFile, path: readonly PropertyKey[], lineCounter: LineCounter): number {
  for (let length = path.length; length > 0; length--) {
    const prefix = path.slice(0, length);
    if (!yaml.document.hasIn(prefix)) {
      continue;
    }
    const line = lineOfKey(yaml.document, prefix, lineCounter) ?? lineOfPath(yaml, prefix);
    if (line !== undefined) {
      return line;
    }
  }
  const start = yaml.document.contents?.range?.[0] ?? yaml.document.range?.[0] ?? 0;
  return lineCounter.linePos(start).line;
}

/**
 * Finds the line of a mapping key. A key's line beats its value's, which for
 * a block value is the next line and for an empty value may be missing.
 */
function lineOfKey(
  document: Document,
  path: readonly PropertyKey[],
  lineCounter: LineCounter,
): number | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) {
    return undefined;
  }
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1));
  const start = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
  return start === undefined ? undefined : lineCounter.linePos(start).line;
}

/** Finds the top-level key that starts at `offset`, to name a duplicated key. */
function keyAt(document: Document, offset: number): string | undefined {
  if (!isMap(document.contents)) {
    return undefined;
  }
  for (const pair of document.contents.items) {
    if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
      return String(pair.key.value);
    }
  }
  return undefined;
}
