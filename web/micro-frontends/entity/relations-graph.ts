import { h } from '../common/dom.js';
import { type EntityName, entityPagePath, parseEntityRef } from '../common/entity-ref.js';
import { navigate } from '../common/luigi.js';
import type { Entity } from './model.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_WIDTH = 200;
const BOX_HEIGHT = 32;
const ROW_GAP = 12;
const COLUMN_GAP = 90;
const HEADING_HEIGHT = 22;
/** Maximum label length drawn in a box, in characters. The box's title shows the full reference. */
const MAX_LABEL_LENGTH = 26;

/** The relations the graph draws, where each group sits and how its edges read. */
const GROUPS = [
  { type: 'partOf', title: 'System', column: 1, above: true },
  { type: 'consumesApi', title: 'Consumes API', column: 0, above: false },
  { type: 'dependsOn', title: 'Depends on', column: 0, above: false },
  { type: 'providesApi', title: 'Provides API', column: 2, above: false },
  { type: 'ownedBy', title: 'Owner', column: 1, above: false },
] as const;

interface PlacedNode {
  ref: string;
  target: EntityName | undefined;
  x: number;
  y: number;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
  ...children: Array<Node | string>
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  for (const child of children) {
    element.append(child);
  }
  return element;
}

/** Lists the targets of one relation type, sorted. For `partOf` it keeps systems only. */
function targetsOf(entity: Entity, type: string): string[] {
  const refs = (entity.relations ?? [])
    .filter((relation) => relation.type === type)
    .map((relation) => relation.targetRef)
    .filter((ref) => type !== 'partOf' || ref.toLowerCase().startsWith('system:'));
  return [...new Set(refs)].sort();
}

function shorten(text: string): string {
  return text.length > MAX_LABEL_LENGTH ? `${text.slice(0, MAX_LABEL_LENGTH - 1)}…` : text;
}

/** Draws one box; a box with a parsable reference is a link to that entity's page. */
function renderBox(
  node: PlacedNode,
  catalogPath: string,
  options: { current?: boolean } = {},
): SVGElement {
  const label = node.target ? node.target.name : node.ref;
  const box = svg(
    'g',
    { class: options.current ? 'graph-node current' : 'graph-node' },
    svg('title', {}, node.ref),
    svg('rect', {
      x: node.x,
      y: node.y,
      width: BOX_WIDTH,
      height: BOX_HEIGHT,
      rx: 6,
      fill: options.current ? '#dbe8f7' : '#ffffff',
      stroke: '#1c4e80',
      'stroke-width': options.current ? 2 : 1,
    }),
    svg(
      'text',
      {
        x: node.x + BOX_WIDTH / 2,
        y: node.y + BOX_HEIGHT / 2 + 5,
        'text-anchor': 'middle',
        'font-size': 13,
        fill: '#1d2d3e',
      },
      shorten(label),
    ),
  );
  if (options.current || !node.target) {
    return box;
  }

  const route = entityPagePath(catalogPath, node.target);
  const link = svg('a', { href: route, target: '_top', 'aria-label': node.ref }, box);
  link.addEventListener('click', (event) => {
    const mouse = event as MouseEvent;
    if (mouse.button !== 0 || mouse.metaKey || mouse.ctrlKey || mouse.shiftKey || mouse.altKey) {
      return;
    }
    event.preventDefault();
    navigate(route);
  });
  return link;
}

/**
 * Renders the entity's neighbourhood as an SVG graph: its system above, its
 * owner below, the APIs it consumes and what it depends on to the left, and
 * the APIs it provides to the right. Every box but the entity's own links to
 * that entity's page. Returns null when the entity has none of these relations.
 */
export function renderRelationsGraph(
  entity: Entity,
  ref: string,
  catalogPath: string,
): HTMLElement | null {
  const groups = GROUPS.map((group) => ({ ...group, refs: targetsOf(entity, group.type) })).filter(
    (group) => group.refs.length > 0,
  );
  if (groups.length === 0) {
    return null;
  }

  const columnX = (column: number) => column * (BOX_WIDTH + COLUMN_GAP);
  const stackHeight = (count: number) => HEADING_HEIGHT + count * (BOX_HEIGHT + ROW_GAP);
  const above = groups.filter((group) => group.above);
  const aboveHeight = above.reduce((sum, group) => sum + stackHeight(group.refs.length), 0);
  const center = { x: columnX(1), y: aboveHeight + HEADING_HEIGHT };

  const drawn: SVGElement[] = [];
  const edges: SVGElement[] = [];
  const nextY = [center.y, center.y + BOX_HEIGHT + ROW_GAP, center.y];
  let aboveY = 0;
  let height = center.y + BOX_HEIGHT;

  for (const group of groups) {
    const x = columnX(group.column);
    let y: number;
    if (group.above) {
      y = aboveY;
      aboveY += stackHeight(group.refs.length);
    } else {
      y = nextY[group.column] ?? center.y;
      nextY[group.column] = y + stackHeight(group.refs.length);
    }
    drawn.push(
      svg(
        'text',
        { x, y: y + HEADING_HEIGHT - 8, 'font-size': 12, 'font-weight': 'bold', fill: '#556b82' },
        group.title,
      ),
    );
    group.refs.forEach((targetRef, index) => {
      const node: PlacedNode = {
        ref: targetRef,
        target: parseEntityRef(targetRef),
        x,
        y: y + HEADING_HEIGHT + index * (BOX_HEIGHT + ROW_GAP),
      };
      height = Math.max(height, node.y + BOX_HEIGHT);
      edges.push(edgeBetween(center, node));
      drawn.push(renderBox(node, catalogPath));
    });
  }

  const own: PlacedNode = { ref, target: undefined, x: center.x, y: center.y };
  const label = entity.metadata.title ?? entity.metadata.name;
  const graph = svg(
    'svg',
    {
      class: 'relations-graph',
      role: 'img',
      'aria-labelledby': 'relations-graph-title',
      viewBox: `-2 -2 ${columnX(2) + BOX_WIDTH + 4} ${height + 4}`,
      width: columnX(2) + BOX_WIDTH + 4,
      height: height + 4,
    },
    svg('title', { id: 'relations-graph-title' }, `Relations of ${ref}`),
    ...edges,
    ...drawn,
    renderBox({ ...own, ref: label }, catalogPath, { current: true }),
  );
  return h(
    'section',
    { id: 'relations-graph', 'aria-labelledby': 'relations-graph-heading' },
    h('h2', { id: 'relations-graph-heading' }, 'Relations graph'),
    h('div', { class: 'graph-scroll' }, graph),
  );
}

/** Draws a line from the side of the entity's box that faces the node to the node's nearest side. */
function edgeBetween(center: { x: number; y: number }, node: PlacedNode): SVGElement {
  const sameColumn = node.x === center.x;
  const from = sameColumn
    ? { x: center.x + BOX_WIDTH / 2, y: node.y < center.y ? center.y : center.y + BOX_HEIGHT }
    : { x: node.x < center.x ? center.x : center.x + BOX_WIDTH, y: center.y + BOX_HEIGHT / 2 };
  const to = sameColumn
    ? { x: node.x + BOX_WIDTH / 2, y: node.y < center.y ? node.y + BOX_HEIGHT : node.y }
    : { x: node.x < center.x ? node.x + BOX_WIDTH : node.x, y: node.y + BOX_HEIGHT / 2 };
  return svg('line', {
    x1: from.x,
    y1: from.y,
    x2: to.x,
    y2: to.y,
    stroke: '#8396a8',
    'stroke-width': 1,
  });
}
