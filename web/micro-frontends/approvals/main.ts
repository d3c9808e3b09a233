import '../common/workflows.css';
import { getJson, postJson } from '../common/api.js';
import { byId, h } from '../common/dom.js';
import { onViewContext } from '../common/luigi.js';
import { loadRequestCards, renderDecisionForm } from '../common/request-cards.js';
import {
  describeFailure,
  type InboxItem,
  type RequestType,
  renderFacts,
  type WorkflowRequest,
} from '../common/workflow-api.js';
import { describeDecisionOutcome, type ExecutorTrigger } from './model.js';

const main = byId<HTMLElement>('approvals');
const refreshButton = byId<HTMLButtonElement>('refresh');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');

let started = false;
/** The executor trigger of each request type; empty when the types could not be loaded. */
const triggers = new Map<string, ExecutorTrigger>();

async function loadTriggers(): Promise<void> {
  const listed = await getJson<{ items: RequestType[] }>('/api/workflows/types');
  if (listed.ok) {
    for (const type of listed.data.items) {
      triggers.set(type.name, type.executor);
    }
  }
}
const triggersLoaded = loadTriggers();

onViewContext(() => {
  if (!started) {
    started = true;
    void loadInbox();
  }
});
refreshButton.addEventListener('click', () => void loadInbox());

function loadInbox(): Promise<void> {
  return loadRequestCards<InboxItem>(
    { main, statusLine, results },
    {
      url: '/api/workflows/inbox',
      loadingText: 'Loading your inbox…',
      action: 'read the approval inbox',
      listId: 'inbox',
      describe: (items) =>
        items.length === 0
          ? 'Nothing waits for your approval.'
          : `${items.length} ${items.length === 1 ? 'request waits' : 'requests wait'} for your decision, oldest first.`,
      renderCard,
    },
  );
}

function renderCard(item: InboxItem): HTMLElement {
  const approveButton = h(
    'button',
    { type: 'button', class: 'approve' },
    item.selfApproval ? 'Approve my own request (break-glass)' : 'Approve',
  );
  const denyButton = h('button', { type: 'button', class: 'deny' }, 'Deny');
  const { form, comment, outcome } = renderDecisionForm(
    item.id,
    item.selfApproval ? ' (required)' : ' (optional)',
    [approveButton, denyButton],
  );
  let facts = renderFacts(item);
  const card = h(
    'li',
    { class: 'request-card', 'data-request-id': item.id },
    h('h3', null, `${item.type} requested by ${item.requester}`),
    item.selfApproval
      ? h(
          'p',
          { class: 'notice' },
          `Break-glass: rule ${item.ruleId ?? ''} lets you approve your own request. Explain why in the comment; the request then goes to the review queue.`,
        )
      : null,
    facts,
    form,
  );

  const decide = async (decision: 'approve' | 'deny'): Promise<void> => {
    approveButton.disabled = true;
    denyButton.disabled = true;
    const text = comment.value.trim();
    const result = await postJson<WorkflowRequest>(
      `/api/workflows/requests/${item.id}/${decision}`,
      text ? { comment: text } : {},
    );
    if (!result.ok) {
      approveButton.disabled = false;
      denyButton.disabled = false;
      outcome.className = 'decision-outcome field-error';
      outcome.dataset.status = String(result.status);
      const field = result.details.find((detail) => detail.path === 'comment');
      outcome.textContent = field
        ? `Comment: ${field.message}`
        : describeFailure(result, `${decision} this request`);
      return;
    }

    // The card shows the request as the API returned it, not as it was listed.
    const request = result.data;
    const redrawn = renderFacts(request);
    facts.replaceWith(redrawn);
    facts = redrawn;
    card.dataset.decided = decision;
    card.dataset.state = request.state;
    comment.disabled = true;
    await triggersLoaded;
    outcome.className = 'decision-outcome notice';
    outcome.dataset.status = String(result.status);
    outcome.textContent = describeDecisionOutcome(
      decision,
      request,
      triggers.has(request.type) ? triggers.get(request.type) : undefined,
    );
  };
  approveButton.addEventListener('click', () => void decide('approve'));
  denyButton.addEventListener('click', () => void decide('deny'));
  return card;
}
