import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Interaction, Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { requestContext } from '../audit/index.js';
import type { DevelopmentUserConfig } from '../config/index.js';
import type { IdentityAudit } from './audit-events.js';
import { escapeHtml, pageHtml, sendFailurePage, sendPage } from './pages.js';

export interface DevelopmentLoginOptions {
  provider: Provider;
  users: readonly DevelopmentUserConfig[];
  logger: Logger;
  /** Records rejected passwords; an accepted one is recorded when the portal's callback creates the session. */
  audit?: IdentityAudit;
}

/**
 * Registers the development provider's interaction pages: a login form for
 * the `login` prompt, and an automatic consent for any other prompt, since the
 * portal is the provider's only client and needs no consent screen.
 */
export async function registerDevelopmentLogin(
  app: FastifyInstance,
  options: DevelopmentLoginOptions,
): Promise<void> {
  const { provider, users, logger: log } = options;
  const route = '/dev-idp/interaction/:uid';

  app.get(route, { config: { access: { public: true } } }, async (request, reply) => {
    const { uid } = request.params as { uid: string };
    const interaction = await findInteraction(provider, request.raw, reply.raw, uid);
    if (!interaction) {
      return sendExpired(reply);
    }
    if (interaction.prompt.name !== 'login') {
      return reply.redirect(await grantPortal(provider, request.raw, reply.raw, interaction), 303);
    }
    return sendLoginForm(reply, 200, interaction.uid, users);
  });

  app.post(route, { config: { access: { public: true } } }, async (request, reply) => {
    const { uid } = request.params as { uid: string };
    const interaction = await findInteraction(provider, request.raw, reply.raw, uid);
    if (!interaction) {
      return sendExpired(reply);
    }
    if (interaction.prompt.name !== 'login') {
      return reply.redirect(await grantPortal(provider, request.raw, reply.raw, interaction), 303);
    }

    const body = (request.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const user = users.find((candidate) => candidate.username === username);
    if (!user || !samePassword(password, user.password)) {
      log.info({ username }, 'development sign-in rejected: wrong username or password');
      await options.audit?.record({
        action: 'auth.sign-in',
        outcome: 'failed',
        reason: 'wrong username or password at the development identity provider',
        request: requestContext(request),
        details: { provider: 'development', username },
      });
      return sendLoginForm(reply, 401, interaction.uid, users, {
        username,
        error: 'Wrong username or password.',
      });
    }

    log.info({ username }, 'development sign-in accepted');
    const next = await provider.interactionResult(
      request.raw,
      reply.raw,
      { login: { accountId: user.username } },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(next, 303);
  });
}

/** Returns the interaction of the browser's interaction cookie when it matches `uid`. */
async function findInteraction(
  provider: Provider,
  req: Parameters<Provider['interactionDetails']>[0],
  res: Parameters<Provider['interactionDetails']>[1],
  uid: string,
): Promise<Interaction | undefined> {
  try {
    const interaction = await provider.interactionDetails(req, res);
    return interaction.uid === uid ? interaction : undefined;
  } catch {
    // oidc-provider throws when the cookie is missing or the interaction has expired.
    return undefined;
  }
}

// NOTE: no test reaches this: the provider's loadExistingGrant already grants the
// portal every scope it requests, so only a prompt outside scopes would land here.
async function grantPortal(
  provider: Provider,
  req: Parameters<Provider['interactionDetails']>[0],
  res: Parameters<Provider['interactionDetails']>[1],
  interaction: Interaction,
): Promise<string> {
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant =
    existing ??
    new provider.Grant({
      accountId: interaction.session?.accountId,
      clientId: String(interaction.params.client_id),
    });
  if (typeof interaction.params.scope === 'string') {
    grant.addOIDCScope(interaction.params.scope);
  }
  await grant.save();
  return await provider.interactionResult(
    req,
    res,
    { consent: { grantId: grant.jti } },
    { mergeWithLastSubmission: true },
  );
}

function samePassword(submitted: string, expected: string): boolean {
  // Hashing first gives both sides one length, which timingSafeEqual requires.
  const a = createHash('sha256').update(submitted).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function sendExpired(reply: FastifyReply): FastifyReply {
  return sendFailurePage(
    reply,
    400,
    'Sign-in expired',
    'This sign-in attempt is unknown or has expired (attempts last 10 minutes). Start again from the portal.',
  );
}

function sendLoginForm(
  reply: FastifyReply,
  status: number,
  uid: string,
  users: readonly DevelopmentUserConfig[],
  state: { username?: string; error?: string } = {},
): FastifyReply {
  const demoUsers = users
    .map(
      (user) =>
        `<li><code>${escapeHtml(user.username)}</code> (${escapeHtml(user.name)}${
          user.groups.length > 0 ? `, groups ${escapeHtml(user.groups.join(', '))}` : ''
        })</li>`,
    )
    .join('\n');
  const error = state.error ? `<p class="error" role="alert">${escapeHtml(state.error)}</p>` : '';
  const body = `<h1>Development sign-in</h1>
<p>This identity provider is for development only. Its users come from <code>auth.development.users</code>.</p>
${error}
<form method="post" action="/dev-idp/interaction/${escapeHtml(uid)}" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" value="${escapeHtml(state.username ?? '')}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<h2>Demo users</h2>
<ul>
${demoUsers || '<li>none: add users to auth.development.users</li>'}
</ul>`;
  return sendPage(reply, status, pageHtml('Development sign-in', body));
}
