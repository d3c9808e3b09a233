import '../common/workflows.css';
import { getJson, postJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { onViewContext, showLoading, type ViewContext } from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  describeFailure,
  describeTarget,
  type RequestType,
  renderDecisions,
  renderResult,
  renderRule,
  renderState,
  renderTime,
  type WorkflowRequest,
} from '../common/workflow-api.js';
import {
  type FormField,
  fieldOfErrorPath,
  fieldsOf,
  initialType,
  readParameters,
} from './form-model.js';

const main = byId<HTMLElement>('requests');
const form = byId<HTMLFormElement>('request-form');
const typeSelect = byId<HTMLSelectElement>('request-type');
const typeDescription = byId<HTMLParagraphElement>('type-description');
const parameterFields = byId<HTMLDivElement>('parameter-fields');
const reasonInput = byId<HTMLTextAreaElement>('request-reason');
const reasonRequired = byId<HTMLSpanElement>('reason-required');
const submitButton = byId<HTMLButtonElement>('submit-request');
const formStatus = byId<HTMLDivElement>('form-status');
const collected = byId<HTMLElement>('collected');
const collectedSecret = byId<HTMLPreElement>('collected-secret');
const hideSecretButton = byId<HTMLButtonElement>('hide-secret');
const refreshButton = byId<HTMLButtonElement>('refresh');
const statusLine = byId<HTMLParagraphElement>('status');
const results = byId<HTMLDivElement>('results');

const state = {
  types: [] as RequestType[],
  fields: [] as FormField[],
  /** Entity reference from the route, such as component:default/booking-api. */
  entity: undefined as string | undefined,
  /** Id of the request to highlight, from the `~request` node parameter that notifications link to. */
  highlighted: undefined as string | undefined,
  started: false,
};

onViewContext((view) => {
  const entity = entityOf(view);
  const requestedType = view.nodeParams.type;
  const changed = entity !== state.entity;
  state.entity = entity;
  const highlighted = view.nodeParams.request || undefined;
  const highlightChanged = highlighted !== state.highlighted;
  state.highlighted = highlighted;
  if (!state.started) {
    state.started = true;
    void start(requestedType);
    return;
  }
  if (highlightChanged) {
    void loadRequests();
  }
  if (changed) {
    selectType(initialType(state.types, requestedType, entity));
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void submit();
});
typeSelect.addEventListener('change', () => {
  selectType(state.types.find((type) => type.name === typeSelect.value));
});
refreshButton.addEventListener('click', () => void loadRequests());
hideSecretButton.addEventListener('click', hideSecret);

/** Reads the entity to prefill: the `~entity` node parameter, else an `entityRef` in the context. */
function entityOf(view: ViewContext): string | undefined {
  const fromParams = view.nodeParams.entity;
  if (fromParams) {
    return fromParams;
  }
  const fromContext = view.context.entityRef;
  return typeof fromContext === 'string' && fromContext ? fromContext : undefined;
}

async function start(requestedType: string | undefined): Promise<void> {
  showLoading(true);
  const types = await getJson<{ items: RequestType[] }>('/api/workflows/types');
  showLoading(false);
  if (!types.ok) {
    form.hidden = true;
    replaceChildren(
      formStatus,
      renderProblem(types.status, types.message, {
        action: 'create requests',
        notFound:
          'Requests are turned off on this portal: an administrator sets workflows.rulesFile to turn them on.',
      }),
    );
    statusLine.textContent = '';
    main.dataset.state = 'ready';
    return;
  }

  state.types = types.data.items;
  replaceChildren(
    typeSelect,
    ...state.types.map((type) => h('option', { value: type.name }, type.name)),
  );
  selectType(initialType(state.types, requestedType, state.entity));
  await loadRequests();
}

/** Rebuilds the parameter fields for a type, keeping the prefilled entity. */
function selectType(type: RequestType | undefined): void {
  clearErrors();
  if (!type) {
    state.fields = [];
    replaceChildren(parameterFields);
    typeDescription.textContent = 'No request type is registered.';
    submitButton.disabled = true;
    return;
  }

  typeSelect.value = type.name;
  submitButton.disabled = false;
  typeDescription.textContent =
    type.executor === 'requester'
      ? `${type.description}. Once approved, you collect the result here, once.`
      : type.description;
  reasonRequired.hidden = !type.reasonRequired;
  state.fields = fieldsOf(type);
  replaceChildren(parameterFields, ...state.fields.map(renderField));

  const entityInput = parameterFields.querySelector<HTMLInputElement>('#field-entity');
  if (entityInput && state.entity) {
    entityInput.value = state.entity;
  }
}

function renderField(field: FormField): HTMLElement {
  const id = `field-${field.name}`;
  const errorId = `error-${field.name}`;
  const label = h(
    'label',
    { for: id },
    field.label,
    field.required ? h('span', { class: 'muted' }, ' (required)') : null,
  );
  let input: HTMLElement;
  if (field.kind === 'select') {
    input = h(
      'select',
      { id, name: field.name, 'aria-describedby': errorId },
      field.required ? null : h('option', { value: '' }, '–'),
      ...field.options.map((option) => h('option', { value: option }, option)),
    );
  } else if (field.kind === 'checkbox') {
    input = h('input', { id, name: field.name, type: 'checkbox', 'aria-describedby': errorId });
  } else {
    input = h('input', {
      id,
      name: field.name,
      type: field.kind === 'text' ? 'text' : 'number',
      step: field.kind === 'integer' ? '1' : undefined,
      autocomplete: 'off',
      placeholder: field.name === 'entity' ? 'component:default/booking-api' : undefined,
      'aria-describedby': errorId,
    });
  }
  return h(
    'div',
    { class: 'form-field', 'data-field': field.name },
    label,
    input,
    field.hint ? h('span', { class: 'muted field-hint' }, field.hint) : null,
    h('p', { id: errorId, class: 'field-error', hidden: true }),
  );
}

function readValues(): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const field of state.fields) {
    const input = parameterFields.querySelector<HTMLInputElement | HTMLSelectElement>(
      `#field-${CSS.escape(field.name)}`,
    );
    if (!input) continue;
    values[field.name] =
      input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
  }
  return values;
}

function clearErrors(): void {
  for (const element of form.querySelectorAll<HTMLElement>('.field-error')) {
    element.hidden = true;
    element.textContent = '';
  }
  for (const element of form.querySelectorAll<HTMLElement>('[aria-invalid]')) {
    element.removeAttribute('aria-invalid');
  }
}

function showFieldError(name: string, message: string): void {
  const error = form.querySelector<HTMLElement>(`#error-${CSS.escape(name)}`);
  const input =
    name === 'reason' ? reasonInput : form.querySelector<HTMLElement>(`#field-${CSS.escape(name)}`);
  if (!error) return;
  error.hidden = false;
  error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  input?.setAttribute('aria-invalid', 'true');
}

async function submit(): Promise<void> {
  clearErrors();
  replaceChildren(formStatus);
  const reason = reasonInput.value.trim();
  const body = {
    type: typeSelect.value,
    parameters: readParameters(state.fields, readValues()),
    ...(reason ? { reason } : {}),
  };

  submitButton.disabled = true;
  const result = await postJson<WorkflowRequest>('/api/workflows/requests', body);
  submitButton.disabled = false;

  if (result.ok) {
    const request = result.data;
    replaceChildren(
      formStatus,
      h(
        'p',
        { class: 'notice', 'data-created': request.id, 'data-created-state': request.state },
        request.state === 'submitted'
          ? `Request submitted: it waits for approval under rule ${request.ruleId ?? 'none'}.`
          : `Request ${request.state === 'approved' ? 'approved automatically' : request.state} under rule ${request.ruleId ?? 'none'}.`,
      ),
    );
    reasonInput.value = '';
    await loadRequests();
    return;
  }

  const unplaced: string[] = [];
  for (const detail of result.details) {
    const field = fieldOfErrorPath(detail.path, state.fields);
    if (field) {
      showFieldError(field, detail.message);
    } else {
      unplaced.push(`${detail.path}: ${detail.message}`);
    }
  }
  replaceChildren(
    formStatus,
    h(
      'div',
      { class: 'problem', role: 'alert', 'data-problem': String(result.status) },
      h('p', null, describeFailure(result, 'create this request')),
      unplaced.length > 0 ? h('ul', null, ...unplaced.map((line) => h('li', null, line))) : null,
    ),
  );
}

async function loadRequests(): Promise<void> {
  main.dataset.state = 'loading';
  statusLine.textContent = 'Loading your requests…';
  const listed = await getJson<{ items: WorkflowRequest[] }>('/api/workflows/requests');
  if (!listed.ok) {
    statusLine.textContent = '';
    replaceChildren(
      results,
      renderProblem(listed.status, listed.message, { action: 'list your requests' }),
    );
    main.dataset.state = 'ready';
    return;
  }

  const requests = listed.data.items;
  statusLine.textContent =
    requests.length === 0
      ? 'You have made no requests yet.'
      : `${requests.length} ${requests.length === 1 ? 'request' : 'requests'}, newest first.`;
  replaceChildren(results, requests.length > 0 ? renderTable(requests) : null);
  const highlighted = state.highlighted;
  if (highlighted) {
    const row = requests.some((request) => request.id === highlighted)
      ? results.querySelector<HTMLElement>(`tr[data-request-id="${highlighted}"]`)
      : null;
    if (row) {
      row.scrollIntoView({ block: 'center' });
    } else {
      statusLine.textContent += ` Request ${highlighted} is not among your latest requests.`;
    }
  }
  main.dataset.state = 'ready';
}

function renderTable(requests: readonly WorkflowRequest[]): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { id: 'my-requests', class: 'request-table' },
      h('caption', { class: 'visually-hidden' }, 'My requests'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...[
            'Submitted',
            'Type',
            'Target',
            'Reason',
            'State',
            'Rule',
            'Approvals',
            'Result',
            '',
          ].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h('tbody', null, ...requests.map(renderRow)),
    ),
  );
}

function renderRow(request: WorkflowRequest): HTMLElement {
  const type = state.types.find((candidate) => candidate.name === request.type);
  const actions = h('td', { class: 'row-actions' });
  if (type?.executor === 'requester' && request.state === 'approved') {
    const button = h('button', { type: 'button', class: 'collect' }, 'Collect');
    button.addEventListener('click', () => void collect(request, button));
    actions.append(button);
  }
  if (request.state === 'submitted' || request.state === 'approved') {
    const button = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
    button.addEventListener('click', () => void cancel(request, button));
    actions.append(button);
  }
  actions.append(h('p', { class: 'field-error row-error', role: 'alert', hidden: true }));

  const highlighted = request.id === state.highlighted;
  return h(
    'tr',
    {
      'data-request-id': request.id,
      'data-state': request.state,
      class: highlighted ? 'highlighted' : undefined,
      'aria-current': highlighted ? 'true' : undefined,
    },
    h('td', { class: 'nowrap' }, renderTime(request.createdAt)),
    h('td', null, request.type),
    h('td', { class: 'ref' }, describeTarget(request)),
    h('td', null, request.reason ?? '–'),
    h('td', null, renderState(request.state), renderReview(request)),
    h('td', null, renderRule(request.rule)),
    h('td', null, renderDecisions(request)),
    h('td', null, renderResult(request)),
    actions,
  );
}

/** Renders the review status of a break-glass request; nothing for any other request. */
function renderReview(request: WorkflowRequest): HTMLElement | null {
  const review = request.review;
  if (!review) {
    return null;
  }
  return h(
    'div',
    { class: 'muted', 'data-review': review.pending ? 'pending' : 'reviewed' },
    review.pending
      ? 'Break-glass: waits for review'
      : `Break-glass: reviewed by ${review.reviewedBy ?? 'unknown'}`,
  );
}

async function collect(request: WorkflowRequest, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  const result = await postJson<{ request: WorkflowRequest; secret?: Record<string, unknown> }>(
    `/api/workflows/requests/${request.id}/collect`,
    {},
  );
  if (!result.ok) {
    button.disabled = false;
    showRowError(button, describeFailure(result, 'collect this request'));
    return;
  }

  if (result.data.secret) {
    collectedSecret.textContent = JSON.stringify(result.data.secret, null, 2);
    collected.hidden = false;
    collected.scrollIntoView();
  }
  await loadRequests();
}

async function cancel(request: WorkflowRequest, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  const result = await postJson<WorkflowRequest>(
    `/api/workflows/requests/${request.id}/cancel`,
    {},
  );
  if (!result.ok) {
    button.disabled = false;
    showRowError(button, describeFailure(result, 'cancel this request'));
    return;
  }
  await loadRequests();
}

function showRowError(button: HTMLButtonElement, message: string): void {
  const error = button.parentElement?.querySelector<HTMLElement>('.row-error');
  if (!error) return;
  error.textContent = message;
  error.hidden = false;
}

/** Removes the collected secret from the page; it cannot be fetched again. */
function hideSecret(): void {
  collectedSecret.textContent = '';
  collected.hidden = true;
}
