import '../common/workflows.css';
import { getJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { onViewContext, setNodeParams, showLoading } from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  describeFailure,
  postJson,
  renderFacts,
  renderTime,
  type WorkflowRequest,
} from '../common/workflow-api.js';

const main = byId<HTMLElement>('review');
const showReviewed = byId<HTMLInputElement>('show-reviewed');
const refreshButton = byId<HTMLButtonElement>('refresh');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');

let started = false;

onViewContext((view) => {
  const all = view.nodeParams.all === 'true';
  if (!started || all !== showReviewed.checked) {
    started = true;
    showReviewed.checked = all;
    void loadQueue();
  }
});
showReviewed.addEventListener('change', () => {
  setNodeParams({ all: showReviewed.checked ? 'true' : undefined });
  void loadQueue();
});
refreshButton.addEventListener('click', () => void loadQueue());

async function loadQueue(): Promise<void> {
  main.dataset.state = 'loading';
  statusLine.textContent = 'Loading the review queue…';
  showLoading(true);
  const url = showReviewed.checked ? '/api/workflows/review?all=true' : '/api/workflows/review';
  const queue = await getJson<{ items: WorkflowRequest[] }>(url);
  showLoading(false);

  if (!queue.ok) {
    statusLine.textContent = '';
    replaceChildren(
      results,
      renderProblem(queue.status, queue.message, {
        action: 'review break-glass requests',
        notFound:
          'Requests are turned off on this portal: an administrator sets workflows.rulesFile to turn them on.',
      }),
    );
    main.dataset.state = 'ready';
    return;
  }

  const items = queue.data.items;
  statusLine.textContent =
    items.length === 0
      ? showReviewed.checked
        ? 'No request was approved under a break-glass rule yet.'
        : 'No break-glass request waits for review.'
      : `${items.length} break-glass ${items.length === 1 ? 'request' : 'requests'}, oldest first.`;
  replaceChildren(
    results,
    items.length > 0
      ? h('ol', { id: 'review-queue', class: 'request-cards' }, ...items.map(renderCard))
      : null,
  );
  main.dataset.state = 'ready';
}

function renderCard(request: WorkflowRequest): HTMLElement {
  const card = h(
    'li',
    { class: 'request-card', 'data-request-id': request.id },
    h('h3', null, `${request.type} by ${request.requester}`),
    renderFacts(request),
  );

  const review = request.review;
  if (review && !review.pending) {
    card.append(
      h(
        'p',
        { class: 'decision-outcome muted', 'data-reviewed': 'true' },
        `Reviewed by ${review.reviewedBy ?? 'unknown'} at `,
        renderTime(review.reviewedAt),
        review.comment ? `: “${review.comment}”` : '.',
      ),
    );
    return card;
  }

  const commentId = `comment-${request.id}`;
  const comment = h('textarea', { id: commentId, name: 'comment', rows: '2' });
  const button = h('button', { type: 'button', class: 'mark-reviewed' }, 'Mark as reviewed');
  const outcome = h('p', { class: 'decision-outcome', role: 'status', 'aria-live': 'polite' });
  card.append(
    h(
      'div',
      { class: 'decision-form' },
      h('label', { for: commentId }, 'Comment', h('span', { class: 'muted' }, ' (optional)')),
      comment,
      h('div', { class: 'form-actions' }, button),
      outcome,
    ),
  );

  button.addEventListener('click', async () => {
    button.disabled = true;
    const text = comment.value.trim();
    const result = await postJson<WorkflowRequest>(
      `/api/workflows/requests/${request.id}/review`,
      text ? { comment: text } : {},
    );
    if (!result.ok) {
      button.disabled = false;
      outcome.className = 'decision-outcome field-error';
      outcome.textContent = describeFailure(result, 'mark this request reviewed');
      return;
    }
    card.dataset.reviewed = 'true';
    comment.disabled = true;
    outcome.className = 'decision-outcome notice';
    outcome.textContent = 'Marked as reviewed.';
  });
  return card;
}
