import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXAMPLE_CONFIG } from '../../../test/support/portal.js';
import { loadConfig } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { createDeploymentExecutor, type DeploymentExecutorConfig } from './deployment-executor.js';

const SECRET = 'whsec-config-0123456789abcdef0123456789ab';
const TOKEN = 'ghp_config0123456789abcdefghijklmnopqrs';

/** Loads the example config with `workflows.deployment` replaced, or returns the ConfigError. */
function loadDeployment(deployment: unknown): DeploymentExecutorConfig | ConfigError {
  try {
    const { config } = loadConfig([EXAMPLE_CONFIG], { overrides: { workflows: { deployment } } });
    const loaded = config.workflows.deployment;
    assert.ok(loaded, 'workflows.deployment must be loaded');
    return loaded;
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
}

function faultText(error: ConfigError): string {
  return error.details.map((detail) => `${detail.path}: ${detail.message}`).join('\n');
}

const readEntity = async () => undefined;

describe('deployment executor config', () => {
  test('webhook gets default timeout', () => {
    const loaded = loadDeployment({
      webhook: { url: 'http://127.0.0.1:9/deploy', secret: SECRET },
    });

    assert.ok(!(loaded instanceof ConfigError));
    assert.equal(loaded.webhook?.timeoutSeconds, 10);
    const executor = createDeploymentExecutor(loaded, { readEntity });
    assert.equal(executor.type, 'deployment');
  });

  test('githubActions gets defaults', () => {
    const loaded = loadDeployment({ githubActions: { token: TOKEN } });

    assert.ok(!(loaded instanceof ConfigError));
    assert.equal(loaded.githubActions?.apiUrl, 'https://api.github.com');
    assert.equal(loaded.githubActions?.ref, 'main');
    assert.equal(loaded.githubActions?.timeoutSeconds, 10);
    assert.equal(createDeploymentExecutor(loaded, { readEntity }).trigger, 'automatic');
  });

  test('neither executor is rejected', () => {
    const loaded = loadDeployment({});

    assert.ok(loaded instanceof ConfigError);
    assert.match(
      faultText(loaded),
      /workflows\.deployment.*set exactly one of webhook or githubActions/,
    );
  });

  test('short secret hides value', () => {
    const shortSecret = 'tooshort-secret';
    const loaded = loadDeployment({
      webhook: { url: 'http://127.0.0.1:9/deploy', secret: shortSecret },
    });

    assert.ok(loaded instanceof ConfigError);
    const text = faultText(loaded);
    assert.match(text, /workflows\.deployment\.webhook\.secret.*at least 32 characters/);
    assert.doesNotMatch(text, new RegExp(shortSecret));
    assert.doesNotMatch(JSON.stringify(loaded.details), new RegExp(shortSecret));
  });

  test('invalid repository is rejected', () => {
    const loaded = loadDeployment({
      githubActions: { token: TOKEN, repository: 'acme', workflow: 'deploy.yml' },
    });

    assert.ok(loaded instanceof ConfigError);
    assert.match(faultText(loaded), /githubActions\.repository.*must be owner\/repo/);
  });

  test('both executors are rejected', () => {
    const loaded = loadDeployment({
      webhook: { url: 'http://127.0.0.1:9/deploy', secret: SECRET },
      githubActions: { token: TOKEN },
    });
    assert.ok(!(loaded instanceof ConfigError));

    assert.throws(
      () => createDeploymentExecutor(loaded, { readEntity }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        const text = faultText(error);
        assert.match(text, /both webhook and githubActions are set: keep exactly one/);
        assert.doesNotMatch(text, new RegExp(SECRET));
        assert.doesNotMatch(text, new RegExp(TOKEN));
        return true;
      },
    );
  });

  test('repository without workflow is rejected', () => {
    const loaded = loadDeployment({ githubActions: { token: TOKEN, repository: 'acme/deploys' } });
    assert.ok(!(loaded instanceof ConfigError));

    assert.throws(
      () => createDeploymentExecutor(loaded, { readEntity }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          faultText(error),
          /githubActions\.workflow: is required when repository is set/,
        );
        return true;
      },
    );
  });

  test('invalid default workflow is rejected', () => {
    const loaded = loadDeployment({
      githubActions: { token: TOKEN, repository: 'acme/deploys', workflow: 'deploy.sh' },
    });
    assert.ok(!(loaded instanceof ConfigError));

    assert.throws(
      () => createDeploymentExecutor(loaded, { readEntity }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(faultText(error), /workflow 'deploy\.sh' .* is invalid/);
        return true;
      },
    );
  });

  test('notifications need a webhook URL', () => {
    assert.throws(
      () =>
        loadConfig([EXAMPLE_CONFIG], {
          overrides: { workflows: { notifications: { webhook: { url: 'hooks.example.com' } } } },
        }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(faultText(error), /workflows\.notifications\.webhook\.url.*absolute URL/);
        return true;
      },
    );
  });
});
