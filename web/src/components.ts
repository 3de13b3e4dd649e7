import { ApiError } from './api.js';
import { h } from './dom.js';
import { formatPercent, isFieldProblems } from './format.js';

/** An API error as the API states it: code, message, every detail, and the request id to quote. */
export function errorBox(error: unknown, title = 'The request failed', showDetails = true): HTMLElement {
  const box = h('div', { class: 'notice notice-error', role: 'alert' });
  if (!(error instanceof ApiError)) {
    box.append(
      h('p', {}, h('strong', {}, `${title}: `), error instanceof Error ? error.message : String(error)),
    );
    return box;
  }
  box.append(
    h(
      'p',
      {},
      h('strong', {}, `${title}: `),
      h('code', { class: 'error-code' }, error.code),
      error.status > 0 ? ` (HTTP ${error.status})` : '',
      ' — ',
      error.message,
    ),
  );
  if (isFieldProblems(error.details)) {
    box.append(
      h(
        'ul',
        { class: 'problems' },
        error.details.map((item) => h('li', {}, h('code', {}, item.field), ' ', item.problem)),
      ),
    );
  } else if (showDetails && typeof error.details === 'object' && error.details !== null) {
    box.append(
      h(
        'dl',
        { class: 'details' },
        Object.entries(error.details as Record<string, unknown>).flatMap(([key, value]) => [
          h('dt', {}, key),
          h('dd', {}, typeof value === 'string' ? value : JSON.stringify(value)),
        ]),
      ),
    );
  }
  if (error.requestId) box.append(h('p', { class: 'muted' }, 'Request id: ', h('code', {}, error.requestId)));
  return box;
}

export function notice(kind: 'success' | 'info' | 'warning', ...children: (Node | string)[]): HTMLElement {
  return h('div', { class: `notice notice-${kind}` }, ...children);
}

/**
 * Class probabilities as horizontal bars. Each row says its value in text; the bars are decoration
 * (`aria-hidden`), so a screen reader reads a plain list. Widths are set through the CSSOM, which the
 * Content-Security-Policy allows without inline styles.
 */
export function probabilityBars(
  probabilities: Record<string, number>,
  classes: readonly string[],
  predicted: string,
  caption: string,
): HTMLElement {
  const order =
    classes.length > 0 ? classes.filter((name) => name in probabilities) : Object.keys(probabilities);
  const list = h('ul', { class: 'bars', 'aria-label': caption });
  for (const name of order) {
    const value = probabilities[name] ?? 0;
    const fill = h('span', { class: name === predicted ? 'bar-fill bar-predicted' : 'bar-fill' });
    fill.style.setProperty('width', `${Math.max(0, Math.min(1, value)) * 100}%`);
    list.append(
      h(
        'li',
        { class: 'bar-row', 'data-class': name },
        h(
          'span',
          { class: 'bar-label' },
          name,
          name === predicted ? h('span', { class: 'sr-only' }, ' (predicted)') : null,
        ),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'bar-value' }, formatPercent(value)),
      ),
    );
  }
  return h('figure', { class: 'chart' }, h('figcaption', {}, caption), list);
}

export function loading(what: string): HTMLElement {
  return h('p', { class: 'muted', role: 'status' }, `Loading ${what}…`);
}

/** A table from headers and rows; the first column is the row header. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
  className = 'data',
  captionVisible = true,
): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: 0 },
    h(
      'table',
      { class: className },
      h('caption', { class: captionVisible ? undefined : 'sr-only' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((header) => h('th', { scope: 'col' }, header)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell, index) => (index === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell))),
          ),
        ),
      ),
    ),
  );
}
