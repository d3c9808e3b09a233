import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { seedCatalogFiles } from '../../test/support/catalog-seed.js';
import { describeEachDialect } from '../../test/support/databases.js';
import { PROJECT_ROOT } from '../../test/support/portal.js';
import { readOrganisation } from './organisation.js';

const ORG_FILE = path.join(PROJECT_ROOT, 'examples', 'catalog', 'org.yaml');

describeEachDialect('readOrganisation', (context) => {
  test('reads users, groups and links', async () => {
    await seedCatalogFiles(context.handle(), [ORG_FILE]);

    const organisation = await readOrganisation(context.handle());

    assert.equal(organisation.users.length, 16);
    assert.equal(organisation.groups.length, 14);
    const engineering = organisation.groups.find(
      (group) => group.ref === 'group:default/engineering',
    );
    assert.deepEqual(engineering?.parentRefs, ['group:default/kestrel']);
    const amara = organisation.users.find((user) => user.ref === 'user:default/amara.okafor');
    assert.deepEqual(amara?.groupRefs, ['group:default/booking-team']);
  });
});
