import { api } from './api.js';
import { errorBox } from './components.js';
import { h, replaceChildren } from './dom.js';
import { renderHealth } from './health.js';
import { renderModels } from './models.js';
import { renderPredict } from './predict.js';
import type { AppState, Page, PageContext } from './state.js';
import type { UiConfig } from './types.js';

const PAGES: Record<Page, { title: string; render: (context: PageContext) => Promise<void> }> = {
  predict: { title: 'Predict', render: renderPredict },
  models: { title: 'Models', render: renderModels },
  health: { title: 'Health', render: renderHealth },
};

const FALLBACK_CONFIG: UiConfig = {
  grafanaUrl: 'http://localhost:3000',
  kibanaUrl: 'http://localhost:5601',
  jaegerUrl: 'http://localhost:16686',
  serviceName: 'vigil',
  defaultModel: 'iris',
};

/** `#/predict/credit` → page and model; anything else (e.g. the skip link's `#main`) is not a route. */
function parseRoute(hash: string): { page: Page; model?: string } | undefined {
  const match = /^#\/(predict|models|health)(?:\/([^/?#]+))?$/.exec(hash);
  if (!match) return undefined;
  return { page: match[1] as Page, model: match[2] === undefined ? undefined : decodeURIComponent(match[2]) };
}

const routeOf = (page: Page, model: string): string => `#/${page}/${encodeURIComponent(model)}`;

async function start(): Promise<void> {
  const main = document.getElementById('main')!;
  const picker = document.getElementById('model-select') as HTMLSelectElement;
  const [config, models] = await Promise.allSettled([api.uiConfig(), api.listModels()]);
  if (models.status === 'rejected') {
    replaceChildren(
      main,
      h('h1', {}, 'Vigil'),
      errorBox(models.reason, 'Could not list the registered models'),
    );
    return;
  }
  const uiConfig = config.status === 'fulfilled' ? config.value : FALLBACK_CONFIG;
  const registered = models.value;
  const preferred =
    registered.find((model) => model.name === uiConfig.defaultModel && model.productionVersion !== null) ??
    registered.find((model) => model.productionVersion !== null) ??
    registered[0];
  const state: AppState = {
    config: uiConfig,
    models: registered,
    model: preferred?.name ?? uiConfig.defaultModel,
    admin: { token: '' },
  };

  const fillPicker = (): void => {
    replaceChildren(
      picker,
      state.models.map((model) =>
        h(
          'option',
          { value: model.name },
          model.productionVersion === null
            ? `${model.name} (no Production version)`
            : `${model.name} v${model.productionVersion}`,
        ),
      ),
    );
    picker.value = state.model;
  };
  fillPicker();

  let page: Page = 'predict';
  let generation = 0;
  let first = true;

  const render = (): void => {
    generation += 1;
    const mine = generation;
    const route = parseRoute(location.hash);
    if (route) {
      page = route.page;
      if (route.model !== undefined && state.models.some((model) => model.name === route.model))
        state.model = route.model;
    }
    picker.value = state.model;
    document.title = `${PAGES[page].title} · ${state.model} · Vigil`;
    for (const link of document.querySelectorAll<HTMLAnchorElement>('nav.pages a')) {
      link.href = routeOf(link.dataset.page as Page, state.model);
      if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const context: PageContext = {
      state,
      root: main,
      current: () => mine === generation,
      refreshModels: async () => {
        state.models = await api.listModels();
        fillPicker();
      },
    };
    const focusHeading = !first;
    first = false;
    void PAGES[page].render(context).catch((error: unknown) => {
      if (context.current()) main.append(errorBox(error, 'This page failed'));
    });
    // Move focus to the new page's heading so that keyboard and screen-reader users start there.
    if (focusHeading) main.querySelector<HTMLElement>('h1')?.focus();
  };

  const go = (nextPage: Page, model: string): void => {
    const next = routeOf(nextPage, model);
    if (location.hash === next) render();
    else location.hash = next;
  };

  picker.addEventListener('change', () => {
    state.model = picker.value;
    go(page, picker.value);
  });
  document.addEventListener('vigil:model-changed', () => go(page, state.model));
  window.addEventListener('hashchange', () => {
    if (parseRoute(location.hash)) render();
  });
  if (!parseRoute(location.hash)) history.replaceState(null, '', routeOf(page, state.model));
  render();
}

void start();
