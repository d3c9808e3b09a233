import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { awsCredentialsExecutorSchema } from '../../src/config/schema.js';
import { createAwsCredentialsExecutor } from '../../src/workflows/executors/aws-credentials.js';
import {
  createDeploymentWebhookExecutor,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../src/workflows/executors/deployment-webhook.js';
import {
  assertNoViolationsOrErrors,
  createFindings,
  launchChromium,
  ORGANISATION_LOCATION,
  pollUntil,
  prepareWebBundles,
  saveScreenshot,
  signIn,
  TALL_WINDOW,
  topLevelPaths,
  viewFrame,
  whenChromiumInstalled,
} from '../support/browser.js';
import { describeEachDialect } from '../support/databases.js';
import { startTestPortal, type TestPortal } from '../support/portal.js';

/**
 * The Requests, Approvals, Review and Audit micro frontends in a real
 * browser, against the example organisation and approval rules: amara and
 * jonas are both in the Booking team, which owns component:default/booking-api.
 * The deployment executor posts to a webhook receiver on loopback that checks
 * the HMAC-SHA256 signature of every call.
 */

const AMARA = 'user:default/amara.okafor';
const JONAS = 'user:default/jonas.weber';
const SERVICE = 'component:default/booking-api';
const WEBHOOK_SECRET = 'browser-test-webhook-secret-0123456789abcdef';
/** A production service of the SRE team, which ines is in. */
const SRE_SERVICE = 'component:default/log-shipper';
/** The access key id that the local STS endpoint issues. */
const ISSUED_ACCESS_KEY_ID = 'ASIAPORTALBROWSERTEST';

/** One call that the webhook receiver got, with the outcome of its signature check. */
interface Delivery {
  signatureValid: boolean;
  timestamp: string;
  payload: {
    requestId: string;
    entityRef: string;
    environment: string;
    version: string | null;
    requester: string;
    approvers: string[];
    idempotencyKey: string;
  };
}

/** Starts a deployment webhook receiver on loopback that checks each call's signature as a real one would. */
async function startWebhookReceiver(): Promise<{
  server: Server;
  url: string;
  deliveries: Delivery[];
}> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(request.headers[TIMESTAMP_HEADER.toLowerCase()] ?? '');
      const signature = String(request.headers[SIGNATURE_HEADER.toLowerCase()] ?? '');
      const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      const signatureValid =
        signature.length === expected.length &&
        timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      deliveries.push({ signatureValid, timestamp, payload: JSON.parse(body) });
      response.writeHead(signatureValid ? 200 : 401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accepted: signatureValid }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/deploy`, deliveries };
}

/**
 * Starts a local STS endpoint that returns AssumeRole responses in the STS
 * query protocol, so the real AWS SDK client of the aws-credentials executor
 * runs against it.
 */
async function startStsEndpoint(): Promise<{
  server: Server;
  url: string;
  calls: URLSearchParams[];
}> {
  const calls: URLSearchParams[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      calls.push(params);
      const session = params.get('RoleSessionName') ?? '';
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROABROWSERTEST:${session}</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/deployer/${session}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${ISSUED_ACCESS_KEY_ID}</AccessKeyId>
      <SecretAccessKey>browser-test-secret-access-key</SecretAccessKey>
      <SessionToken>browser-test-session-token</SessionToken>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>5d4f1a2b-0000-4000-8000-000000000001</RequestId></ResponseMetadata>
</AssumeRoleResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, calls };
}

async function waitReady(frame: FrameLocator, id: string): Promise<void> {
  await frame.locator(`main#${id}[data-state="ready"]`).waitFor();
}

whenChromiumInstalled('request views in Chromium', () => {
  before(prepareWebBundles);

  describeEachDialect('request views in Chromium', ({ dialect }) => {
    let portal: TestPortal;
    let browser: Browser;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let sts: Awaited<ReturnType<typeof startStsEndpoint>>;
    const findings = createFindings();
    /** The production deployment that amara requests and jonas approves. */
    let productionId = '';

    before(async () => {
      receiver = await startWebhookReceiver();
      sts = await startStsEndpoint();
      portal = await startTestPortal({
        dialect,
        overrides: {
          catalog: {
            locations: [ORGANISATION_LOCATION],
          },
          workflows: { engine: { retryBaseDelayMs: 100, pollIntervalSeconds: 1 } },
        },
        workflows: {
          executors: [
            createDeploymentWebhookExecutor({
              config: { url: receiver.url, secret: WEBHOOK_SECRET, timeoutSeconds: 5 },
            }),
            createAwsCredentialsExecutor(
              awsCredentialsExecutorSchema.parse({
                region: 'eu-central-1',
                endpoint: sts.url,
                roles: { deployer: { arn: 'arn:aws:iam::123456789012:role/deployer' } },
              }),
              {
                credentials: { accessKeyId: 'AKIDBROWSERTEST', secretAccessKey: 'browser-test' },
                maxAttempts: 1,
              },
            ),
          ],
        },
      });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await portal?.close();
      await new Promise((resolve) => receiver?.server.close(resolve));
      await new Promise((resolve) => sts?.server.close(resolve));
    });

    function signInAs(username: string, startPath: string) {
      return signIn(browser, {
        baseUrl: portal.url,
        username,
        startPath,
        findings,
        viewport: TALL_WINDOW,
      });
    }

    function screenshot(page: Page, name: string): Promise<void> {
      return saveScreenshot(page, `workflows-${name}-${dialect}`);
    }

    test('developer requests a production deployment', async () => {
      const { context, page } = await signInAs('amara', '/catalog/component/default/booking-api');
      try {
        const entity = viewFrame(page, 'entity');
        const requestLink = entity.getByRole('link', { name: 'Request…' });
        await requestLink.waitFor();
        await screenshot(page, 'entity-link');
        await requestLink.click();
        await page.waitForURL((url) => url.pathname === '/requests');

        const frame = viewFrame(page, 'requests');
        await waitReady(frame, 'requests');
        assert.equal(await frame.getByLabel('Type').inputValue(), 'deployment');
        assert.equal(await frame.locator('#field-entity').inputValue(), SERVICE);

        // A 400 names the fields, and the form shows each message under its field.
        await frame.locator('#field-environment').fill('Production!');
        await frame.getByRole('button', { name: 'Submit request' }).click();
        await frame.locator('#form-status [data-problem="400"]').waitFor();
        assert.match(
          (await frame.locator('#error-environment').textContent()) ?? '',
          /lowercase letters and digits/,
        );
        assert.match(
          (await frame.locator('#error-version').textContent()) ?? '',
          /exactly one of version and gitRef/,
        );
        assert.equal(
          await frame.locator('#field-environment').getAttribute('aria-invalid'),
          'true',
        );
        await screenshot(page, 'field-errors');

        await frame.locator('#field-environment').fill('production');
        await frame.locator('#field-version').fill('1.4.2');
        await frame.getByLabel(/^Reason/).fill('release 1.4.2');
        await frame.getByRole('button', { name: 'Submit request' }).click();

        const created = frame.locator('#form-status [data-created]');
        await created.waitFor();
        productionId = (await created.getAttribute('data-created')) ?? '';
        assert.match(productionId, /^[0-9a-f-]{36}$/);
        assert.equal(await created.getAttribute('data-created-state'), 'submitted');
        assert.equal(await frame.locator('#error-environment').isVisible(), false);

        const row = frame.locator(`#my-requests tr[data-request-id="${productionId}"]`);
        await row.waitFor();
        assert.equal(await row.getAttribute('data-state'), 'submitted');
        assert.equal(
          await row.locator('[data-rule]').getAttribute('data-rule'),
          'deploy-production',
        );
        assert.match((await row.textContent()) ?? '', /0 of 1 approvals/);
        assert.match((await row.textContent()) ?? '', /release 1\.4\.2/);
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, 'requested');
      } finally {
        await context.close();
      }
    });

    test('developer cannot approve own request', async () => {
      assert.ok(productionId, 'the first test created the request');
      const { context, page } = await signInAs('amara', '/approvals');
      try {
        const frame = viewFrame(page, 'approvals');
        await waitReady(frame, 'approvals');
        assert.equal(await frame.locator(`[data-request-id="${productionId}"]`).count(), 0);
        assert.equal(await frame.locator('button.approve').count(), 0);
        assert.equal(
          await frame.locator('#status').textContent(),
          'Nothing waits for your approval.',
        );

        const denied = await context.request.post(
          `${portal.url}/api/workflows/requests/${productionId}/approve`,
          { data: {} },
        );
        assert.equal(denied.status(), 403);
        const body = (await denied.json()) as { error: { message: string } };
        assert.match(body.error.message, /requester never counts as an approver/);
        await screenshot(page, 'inbox-requester');
      } finally {
        await context.close();
      }
    });

    test('teammate approves the deployment', async () => {
      assert.ok(productionId, 'the first test created the request');
      const { context, page } = await signInAs('jonas', '/approvals');
      try {
        const frame = viewFrame(page, 'approvals');
        await waitReady(frame, 'approvals');
        const card = frame.locator(`li[data-request-id="${productionId}"]`);
        await card.waitFor();
        const text = (await card.textContent()) ?? '';
        assert.match(text, /release 1\.4\.2/);
        assert.match(text, new RegExp(AMARA.replaceAll('.', '\\.')));
        assert.equal(
          await card.locator('[data-rule]').getAttribute('data-rule'),
          'deploy-production',
        );
        assert.match(text, /1 approval from the owners of the entity/);
        await screenshot(page, 'inbox-teammate');

        await card.getByLabel(/^Comment/).fill('Looks good, ship it');
        await card.getByRole('button', { name: 'Approve' }).click();
        await card.locator('.decision-outcome', { hasText: 'You approved this request' }).waitFor();
        assert.equal(await card.getAttribute('data-decided'), 'approve');
        // The card is redrawn from the request that the API returned.
        assert.notEqual(
          await card.locator('.request-state').getAttribute('data-state'),
          'submitted',
        );
        assert.match((await card.textContent()) ?? '', /1 of 1 approvals/);

        const again = await context.request.post(
          `${portal.url}/api/workflows/requests/${productionId}/approve`,
          { data: {} },
        );
        assert.equal(again.status(), 409);
        await screenshot(page, 'approved');
      } finally {
        await context.close();
      }
    });

    test('webhook receives a signed call', async () => {
      assert.ok(productionId, 'the first test created the request');
      const delivery = await pollUntil('the production deployment webhook call', () =>
        receiver.deliveries.find((candidate) => candidate.payload.requestId === productionId),
      );

      assert.equal(delivery.signatureValid, true);
      assert.match(delivery.timestamp, /^\d+$/);
      assert.equal(delivery.payload.entityRef, SERVICE);
      assert.equal(delivery.payload.environment, 'production');
      assert.equal(delivery.payload.version, '1.4.2');
      assert.equal(delivery.payload.requester, AMARA);
      assert.deepEqual(delivery.payload.approvers, [JONAS]);
      assert.equal(
        receiver.deliveries.filter((candidate) => candidate.payload.requestId === productionId)
          .length,
        1,
      );

      const { context, page } = await signInAs('amara', '/requests');
      try {
        const frame = viewFrame(page, 'requests');
        await waitReady(frame, 'requests');
        const row = frame.locator(`#my-requests tr[data-request-id="${productionId}"]`);
        await pollUntil('the request to succeed', async () => {
          if ((await row.getAttribute('data-state')) === 'succeeded') return true;
          await frame.getByRole('button', { name: 'Refresh' }).click();
          await waitReady(frame, 'requests');
          return undefined;
        });
        const text = (await row.textContent()) ?? '';
        assert.match(text, /Approved by user:default\/jonas\.weber: “Looks good, ship it”/);
        assert.match(text, /status: 200/);
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, 'succeeded');
      } finally {
        await context.close();
      }
    });

    test('audit view shows the whole sequence', async () => {
      assert.ok(productionId, 'the first test created the request');
      const target = `workflow-request:${productionId}`;
      const { context, page } = await signInAs(
        'sofia',
        `/audit?~target=${encodeURIComponent(target)}`,
      );
      try {
        const frame = viewFrame(page, 'audit');
        await frame.locator('main[data-state="ready"][data-view="list"]').waitFor();
        await frame.locator('#status', { hasText: /that match/ }).waitFor();

        const rows = await frame
          .locator('#records tbody tr')
          .evaluateAll((elements) =>
            elements.map((row) =>
              [...row.querySelectorAll('td')].map((cell) => cell.textContent?.trim() ?? ''),
            ),
          );
        // Newest first: read them oldest first, as [actor, action].
        const records = rows
          .reverse()
          .map((cells): [string, string] => [cells[1] ?? '', cells[2] ?? '']);
        const transitions = records.filter(([, action]) => action.startsWith('request.'));
        assert.deepEqual(
          transitions.map(([, action]) => action),
          ['request.submitted', 'request.approved', 'request.executing', 'request.succeeded'],
        );
        assert.deepEqual(transitions[0], [AMARA, 'request.submitted']);
        assert.deepEqual(transitions[1], [JONAS, 'request.approved']);
        assert.ok(
          records.some(([actor, action]) => actor === AMARA && action === 'permission.denied'),
          `amara's self-approval is recorded as denied; records: ${records.join('; ')}`,
        );
        await screenshot(page, 'audit');
      } finally {
        await context.close();
      }
    });

    test('owner outside production is approved automatically', async () => {
      const { context, page } = await signInAs(
        'amara',
        `/requests?~entity=${encodeURIComponent(SERVICE)}&~type=deployment`,
      );
      try {
        const frame = viewFrame(page, 'requests');
        await waitReady(frame, 'requests');
        assert.equal(await frame.locator('#field-entity').inputValue(), SERVICE);
        await frame.locator('#field-environment').fill('staging');
        await frame.locator('#field-gitRef').fill('main');
        await frame.getByRole('button', { name: 'Submit request' }).click();

        const created = frame.locator('#form-status [data-created]');
        await created.waitFor();
        const stagingId = (await created.getAttribute('data-created')) ?? '';
        assert.equal(await created.getAttribute('data-created-state'), 'approved');
        assert.match(
          (await created.textContent()) ?? '',
          /approved automatically under rule deploy-owner-outside-production/,
        );
        const row = frame.locator(`#my-requests tr[data-request-id="${stagingId}"]`);
        await row.waitFor();
        assert.equal(
          await row.locator('[data-rule]').getAttribute('data-rule'),
          'deploy-owner-outside-production',
        );

        const delivery = await pollUntil('the staging deployment webhook call', () =>
          receiver.deliveries.find((candidate) => candidate.payload.requestId === stagingId),
        );
        assert.equal(delivery.signatureValid, true);
        assert.equal(delivery.payload.environment, 'staging');
        assert.deepEqual(delivery.payload.approvers, []);
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, 'auto-approved');
      } finally {
        await context.close();
      }
    });

    test('approval of a cancelled request shows the conflict', async () => {
      const amara = await signInAs('amara', '/requests');
      const created = await amara.context.request.post(`${portal.url}/api/workflows/requests`, {
        data: {
          type: 'deployment',
          parameters: { entity: SERVICE, environment: 'production', version: '1.4.3' },
        },
      });
      assert.equal(created.status(), 201);
      const { id } = (await created.json()) as { id: string };

      const { context, page } = await signInAs('jonas', '/approvals');
      try {
        const frame = viewFrame(page, 'approvals');
        await waitReady(frame, 'approvals');
        const card = frame.locator(`li[data-request-id="${id}"]`);
        await card.waitFor();

        const cancelled = await amara.context.request.post(
          `${portal.url}/api/workflows/requests/${id}/cancel`,
          { data: {} },
        );
        assert.equal(cancelled.status(), 200);

        await card.getByRole('button', { name: 'Approve' }).click();
        const outcome = card.locator('.decision-outcome[data-status="409"]');
        await outcome.waitFor();
        assert.match((await outcome.textContent()) ?? '', /already decided or has changed/);
        assert.equal(await card.getAttribute('data-decided'), null);
        await screenshot(page, 'conflict');
      } finally {
        await context.close();
        await amara.context.close();
      }
    });

    test('break-glass request is collected once and reviewed', async () => {
      const { context, page } = await signInAs(
        'ines',
        `/requests?~entity=${encodeURIComponent(SRE_SERVICE)}&~type=aws-credentials`,
      );
      try {
        const requests = viewFrame(page, 'requests');
        await waitReady(requests, 'requests');
        assert.equal(await requests.getByLabel('Type').inputValue(), 'aws-credentials');
        assert.equal(await requests.locator('#field-entity').inputValue(), SRE_SERVICE);
        await requests.locator('#field-role').fill('deployer');
        await requests.locator('#field-environment').fill('production');
        await requests.locator('#field-durationSeconds').fill('900');
        await requests.getByLabel(/^Reason/).fill('INC-42: payouts stuck');
        await requests.getByRole('button', { name: 'Submit request' }).click();
        const created = requests.locator('#form-status [data-created]');
        await created.waitFor();
        const id = (await created.getAttribute('data-created')) ?? '';
        assert.equal(await created.getAttribute('data-created-state'), 'submitted');

        // Break-glass: ines may approve her own request, with a comment.
        await page.goto(`${portal.url}/approvals`);
        const approvals = viewFrame(page, 'approvals');
        await waitReady(approvals, 'approvals');
        const card = approvals.locator(`li[data-request-id="${id}"]`);
        await card.waitFor();
        assert.match((await card.textContent()) ?? '', /break-glass self-approval allowed/);
        const approve = card.getByRole('button', { name: 'Approve my own request (break-glass)' });
        await approve.click();
        const missingComment = card.locator('.decision-outcome[data-status="400"]');
        await missingComment.waitFor();
        assert.match((await missingComment.textContent()) ?? '', /^Comment: missing/);
        await card.getByLabel(/^Comment/).fill('On call for INC-42, SRE lead unreachable');
        await approve.click();
        await card.locator('.decision-outcome', { hasText: 'You approved this request' }).waitFor();
        await screenshot(page, 'break-glass');

        // The requester collects the credentials once, from the link of a
        // decision notification, which highlights the request.
        await page.goto(`${portal.url}/requests?~request=${id}`);
        await waitReady(requests, 'requests');
        const row = requests.locator(`#my-requests tr[data-request-id="${id}"]`);
        assert.equal(await row.getAttribute('data-state'), 'approved');
        assert.equal(await row.getAttribute('aria-current'), 'true');
        assert.equal(await requests.locator('#my-requests tr[aria-current]').count(), 1);
        await row.getByRole('button', { name: 'Collect' }).click();
        const secret = requests.locator('#collected-secret');
        await secret.waitFor();
        assert.match((await secret.textContent()) ?? '', new RegExp(ISSUED_ACCESS_KEY_ID));
        assert.match(
          (await requests.locator('#collected .notice').textContent()) ?? '',
          /^Shown once\./,
        );
        await requests
          .locator(`#my-requests tr[data-request-id="${id}"][data-state="succeeded"]`)
          .waitFor();
        assert.equal(await row.getByRole('button', { name: 'Collect' }).count(), 0);
        assert.equal(await row.locator('[data-review]').getAttribute('data-review'), 'pending');
        assert.doesNotMatch((await row.textContent()) ?? '', new RegExp(ISSUED_ACCESS_KEY_ID));
        assert.equal(sts.calls.length, 1);
        assert.equal(sts.calls[0]?.get('DurationSeconds'), '900');
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, 'collected');

        await requests.getByRole('button', { name: 'Hide' }).click();
        assert.equal(await requests.locator('#collected').isVisible(), false);
        assert.equal(await secret.textContent(), '');
        const again = await context.request.post(
          `${portal.url}/api/workflows/requests/${id}/collect`,
          { data: {} },
        );
        assert.equal(again.status(), 409);

        // amara's break-glass request, which ines reviews afterwards.
        const amara = await signInAs('amara', '/requests');
        const amaraCreated = await amara.context.request.post(
          `${portal.url}/api/workflows/requests`,
          {
            data: {
              type: 'aws-credentials',
              parameters: {
                entity: SERVICE,
                role: 'deployer',
                environment: 'production',
                durationSeconds: 900,
              },
              reason: 'INC-43: bookings fail',
            },
          },
        );
        assert.equal(amaraCreated.status(), 201, await amaraCreated.text());
        const amaraId = ((await amaraCreated.json()) as { id: string }).id;
        const amaraApproved = await amara.context.request.post(
          `${portal.url}/api/workflows/requests/${amaraId}/approve`,
          { data: { comment: 'On call for INC-43' } },
        );
        assert.equal(amaraApproved.status(), 200, await amaraApproved.text());
        await amara.context.close();

        // ines may not review her own request: the card explains why and has no button.
        await page.goto(`${portal.url}/review`);
        const review = viewFrame(page, 'review');
        await waitReady(review, 'review');
        const own = review.locator(`li[data-request-id="${id}"]`);
        await own.waitFor();
        assert.match((await own.textContent()) ?? '', /INC-42: payouts stuck/);
        assert.match(
          (await own.locator('[data-own-request]').textContent()) ?? '',
          /You requested this, so another member/,
        );
        assert.equal(await own.getByRole('button', { name: 'Mark as reviewed' }).count(), 0);
        const ownReview = await context.request.post(
          `${portal.url}/api/workflows/requests/${id}/review`,
          { data: {} },
        );
        assert.equal(ownReview.status(), 403);

        const queued = review.locator(`li[data-request-id="${amaraId}"]`);
        await queued.getByLabel(/^Comment/).fill('Checked with the incident log');
        await queued.getByRole('button', { name: 'Mark as reviewed' }).click();
        await queued.locator('.decision-outcome', { hasText: 'Marked as reviewed.' }).waitFor();
        await screenshot(page, 'reviewed');

        const pending = await context.request.get(`${portal.url}/api/workflows/review`);
        const body = (await pending.json()) as { items: Array<{ id: string }> };
        const pendingIds = body.items.map((item) => item.id);
        assert.equal(pendingIds.includes(amaraId), false);
        assert.equal(pendingIds.includes(id), true);
      } finally {
        await context.close();
      }
    });

    test('review node is hidden without request.review', async () => {
      const { context } = await signInAs('jonas', '/approvals');
      try {
        const segments = await topLevelPaths(context, portal.url);
        assert.ok(segments.includes('requests'));
        assert.ok(segments.includes('approvals'));
        assert.equal(segments.includes('review'), false);
        const denied = await context.request.get(`${portal.url}/api/workflows/review`);
        assert.equal(denied.status(), 403);
      } finally {
        await context.close();
      }
    });

    test('pages run without policy violations or script errors', () => {
      assertNoViolationsOrErrors(findings);
    });
  });
});
