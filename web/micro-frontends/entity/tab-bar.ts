import { h } from '../common/dom.js';
import type { EntityName } from '../common/entity-ref.js';
import { loadRunbooks } from './runbooks.js';

/**
 * Adds the entity's one tab bar under its header: the Overview and Runbooks
 * tabs, which switch views inside this page, then `links` to the tabs of
 * registered micro frontends, which open their own shell routes. The runbooks
 * load when their tab opens first. `main[data-tab]` names the open tab, and
 * the stylesheet hides the overview sections while it is `runbooks`.
 */
export function mountEntityTabBar(
  main: HTMLElement,
  target: EntityName,
  options: { openRunbooks: boolean; links: readonly HTMLAnchorElement[] },
): void {
  const panel = h('section', {
    id: 'runbooks-panel',
    role: 'tabpanel',
    'aria-labelledby': 'runbooks-tab',
    'data-state': 'idle',
    hidden: true,
  });
  const overviewTab = h(
    'button',
    { type: 'button', role: 'tab', id: 'overview-tab', 'aria-selected': 'true' },
    'Overview',
  );
  const runbooksTab = h(
    'button',
    {
      type: 'button',
      role: 'tab',
      id: 'runbooks-tab',
      'aria-selected': 'false',
      'aria-controls': 'runbooks-panel',
    },
    'Runbooks',
  );
  // The in-page views are ARIA tabs. A registered tab changes the shell route,
  // so it is a link in the same bar rather than a tab without a panel.
  const views = h('div', { class: 'view-tab-list', role: 'tablist', 'aria-label': 'Entity views' });
  views.append(overviewTab, runbooksTab);
  const bar = h('nav', { class: 'view-tabs', 'aria-label': 'Entity tabs' }, views);
  if (options.links.length > 0) {
    const list = h('ul', { class: 'view-tab-links' });
    for (const link of options.links) {
      list.append(h('li', null, link));
    }
    bar.append(list);
  }

  const select = (tab: 'overview' | 'runbooks'): void => {
    main.dataset.tab = tab;
    overviewTab.setAttribute('aria-selected', String(tab === 'overview'));
    runbooksTab.setAttribute('aria-selected', String(tab === 'runbooks'));
    panel.hidden = tab !== 'runbooks';
    if (tab === 'runbooks' && panel.dataset.state === 'idle') {
      void loadRunbooks(panel, target);
    }
  };
  overviewTab.addEventListener('click', () => select('overview'));
  runbooksTab.addEventListener('click', () => select('runbooks'));

  const header = main.querySelector(':scope > header');
  if (header) {
    header.after(bar, panel);
  } else {
    main.prepend(bar, panel);
  }
  select(options.openRunbooks ? 'runbooks' : 'overview');
}
