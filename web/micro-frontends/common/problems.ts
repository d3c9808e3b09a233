import { h } from './dom.js';
import { currentShellRoute } from './luigi.js';

/** Wording of the problem messages for one view. */
export interface ProblemSubject {
  /** Sentence for a 404, such as "Entity x was not found, or you are not allowed to see it." */
  notFound?: string;
  /** Denied action for a 403, such as "read catalog entities". */
  action: string;
}

/**
 * Renders the message for a failed API call: 401 (session ended, with a link
 * to sign in again), 403 (no permission), 404 (not found or not visible) and
 * anything else.
 */
export function renderProblem(
  status: number,
  message: string,
  subject: ProblemSubject,
): HTMLElement {
  if (status === 401) {
    const returnTo = encodeURIComponent(currentShellRoute());
    return h(
      'div',
      { class: 'problem', role: 'alert', 'data-problem': 'unauthenticated' },
      h('h2', null, 'Your session has ended'),
      h(
        'p',
        null,
        'Sign in again to continue. ',
        h('a', { href: `/api/auth/login?returnTo=${returnTo}`, target: '_top' }, 'Sign in again'),
      ),
    );
  }
  if (status === 403) {
    return h(
      'div',
      { class: 'problem', role: 'alert', 'data-problem': 'forbidden' },
      h('h2', null, 'No permission'),
      h(
        'p',
        null,
        `You are not allowed to ${subject.action}. Ask a portal administrator for a role that grants it.`,
      ),
      h('p', { class: 'problem-detail' }, message),
    );
  }
  if (status === 404) {
    return h(
      'div',
      { class: 'problem', role: 'alert', 'data-problem': 'not-found' },
      h('h2', null, 'Not found'),
      h('p', null, subject.notFound ?? 'Nothing was found here, or you are not allowed to see it.'),
    );
  }
  return h(
    'div',
    { class: 'problem', role: 'alert', 'data-problem': 'failed' },
    h('h2', null, 'Something went wrong'),
    h(
      'p',
      null,
      status === 0
        ? `The request failed: ${message}. Reload the page to try again.`
        : `The portal answered ${status}: ${message}. Reload the page to try again.`,
    ),
  );
}
