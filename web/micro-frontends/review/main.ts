import '../common/workflows.css';
import { postJson } from '../common/api.js';
import { byId, h } from '../common/dom.js';
import { onViewContext, setNodeParams } from '../common/luigi.js';
import { loadRequestCards, renderDecisionForm } from '../common/request-cards.js';
import {
  describeFailure,
  type ReviewItem,
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

function loadQueue(): Promise<void> {
  return loadRequestCards<ReviewItem>(
    { main, statusLine, results },
    {
      url: showReviewed.checked ? '/api/workflows/review?all=true' : '/api/workflows/review',
      loadingText: 'Loading the review queue…',
      action: 'review break-glass requests',
      listId: 'review-queue',
      describe: (items) =>
        items.length === 0
          ? showReviewed.checked
            ? 'No request was approved under a break-glass rule yet.'
            : 'No break-glass request waits for review.'
          : `${items.length} break-glass ${items.length === 1 ? 'request' : 'requests'}, oldest first.`,
      renderCard,
    },
  );
}

function renderCard(request: ReviewItem): HTMLElement {
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

  if (request.ownRequest) {
    card.append(
      h(
        'p',
        { class: 'decision-outcome muted', 'data-own-request': 'true' },
        'You requested this, so another member with the review permission must mark it reviewed.',
      ),
    );
    return card;
  }

  const button = h('button', { type: 'button', class: 'mark-reviewed' }, 'Mark as reviewed');
  const { form, comment, outcome } = renderDecisionForm(request.id, ' (optional)', [button]);
  card.append(form);

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
