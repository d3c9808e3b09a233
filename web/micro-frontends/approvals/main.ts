import '../common/workflows.css';
import { postJson } from '../common/api.js';
import { byId, h } from '../common/dom.js';
import { onViewContext } from '../common/luigi.js';
import { loadRequestCards, renderDecisionForm } from '../common/request-cards.js';
import {
  describeFailure,
  type InboxItem,
  renderFacts,
  type WorkflowRequest,
} from '../common/workflow-api.js';

const main = byId<HTMLElement>('approvals');
const refreshButton = byId<HTMLButtonElement>('refresh');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');

let started = false;

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
    renderFacts(item),
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

    const request = result.data;
    card.dataset.decided = decision;
    comment.disabled = true;
    outcome.className = 'decision-outcome notice';
    outcome.dataset.status = String(result.status);
    outcome.textContent =
      decision === 'deny'
        ? 'You denied this request.'
        : request.state === 'submitted'
          ? `Your approval is recorded: ${request.approvalsReceived} of ${request.approvalsRequired}. The request waits for more approvals.`
          : 'You approved this request. The portal runs it now.';
  };
  approveButton.addEventListener('click', () => void decide('approve'));
  denyButton.addEventListener('click', () => void decide('deny'));
  return card;
}
