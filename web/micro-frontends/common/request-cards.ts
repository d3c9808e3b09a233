import { getJson } from './api.js';
import { h, replaceChildren } from './dom.js';
import { showLoading } from './luigi.js';
import { renderProblem } from './problems.js';

/** The elements of a view that lists requests as cards, from the view's static markup. */
export interface CardListElements {
  /** Carries `data-state`: `loading`, then `ready` once the list or its problem shows. */
  main: HTMLElement;
  statusLine: HTMLElement;
  results: HTMLElement;
}

/** Options of one card list load: the URL, the texts, and the functions that describe and render the items. */
export interface CardListLoad<T> {
  /** API URL that returns `{ items }`. */
  url: string;
  /** Status line while the list loads, such as "Loading your inbox…". */
  loadingText: string;
  /** Action that the problem message names, such as "read the approval inbox". */
  action: string;
  /** Id of the `ol` element that contains the cards. */
  listId: string;
  describe(items: readonly T[]): string;
  renderCard(item: T): HTMLElement;
}

/**
 * Loads the items of `load.url` and shows them as an ordered list of cards
 * under a status line. A failed load shows the problem in place of the list,
 * and a 404 explains that requests are turned off on the portal.
 */
export async function loadRequestCards<T>(
  view: CardListElements,
  load: CardListLoad<T>,
): Promise<void> {
  view.main.dataset.state = 'loading';
  view.statusLine.textContent = load.loadingText;
  showLoading(true);
  const listed = await getJson<{ items: T[] }>(load.url);
  showLoading(false);

  if (!listed.ok) {
    view.statusLine.textContent = '';
    replaceChildren(
      view.results,
      renderProblem(listed.status, listed.message, {
        action: load.action,
        notFound:
          'Requests are turned off on this portal: an administrator sets workflows.rulesFile to turn them on.',
      }),
    );
    view.main.dataset.state = 'ready';
    return;
  }

  const items = listed.data.items;
  view.statusLine.textContent = load.describe(items);
  replaceChildren(
    view.results,
    items.length > 0
      ? h('ol', { id: load.listId, class: 'request-cards' }, ...items.map(load.renderCard))
      : null,
  );
  view.main.dataset.state = 'ready';
}

/** The comment field, the action buttons and the outcome line of a card's decision form. */
export interface DecisionForm {
  form: HTMLDivElement;
  comment: HTMLTextAreaElement;
  outcome: HTMLParagraphElement;
}

/**
 * Renders the decision form of the card for request `requestId`. `hint`
 * follows the Comment label, such as " (optional)".
 */
export function renderDecisionForm(
  requestId: string,
  hint: string,
  buttons: readonly HTMLButtonElement[],
): DecisionForm {
  const commentId = `comment-${requestId}`;
  const comment = h('textarea', { id: commentId, name: 'comment', rows: '2' });
  const outcome = h('p', { class: 'decision-outcome', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'div',
    { class: 'decision-form' },
    h('label', { for: commentId }, 'Comment', h('span', { class: 'muted' }, hint)),
    comment,
    h('div', { class: 'form-actions' }, ...buttons),
    outcome,
  );
  return { form, comment, outcome };
}
