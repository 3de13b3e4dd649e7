import { api, ApiError } from './api.js';
import { errorBox, loading, notice, table } from './components.js';
import { h, replaceChildren } from './dom.js';
import {
  describeAudit,
  describePromotionRefusal,
  formatNumber,
  formatTime,
  isPromotionRefusal,
  keyMetrics,
  lowerIsBetter,
} from './format.js';
import type { PageContext } from './state.js';
import type { ModelVersion, Stage } from './types.js';

type Action =
  | { kind: 'stage'; version: number; stage: Exclude<Stage, 'Archived'> }
  | { kind: 'archive'; version: number }
  | { kind: 'rollback' };

const STAGE_MOVES: Record<Stage, Stage[]> = {
  None: ['Production', 'Staging', 'Archived'],
  Staging: ['Production', 'Archived'],
  Production: ['Staging', 'Archived'],
  Archived: ['Production', 'Staging'],
};

/** Models: registered models, versions side by side, the audit log, and stage changes with the admin token. */
export async function renderModels(context: PageContext): Promise<void> {
  const { root, state } = context;
  const modelsSection = h('section', { 'aria-labelledby': 'models-heading' });
  const versionsSection = h('section', { 'aria-labelledby': 'versions-heading' });
  const auditSection = h('section', { 'aria-labelledby': 'audit-heading' });
  const actionStatus = h('div', { id: 'action-status', role: 'status', 'aria-live': 'polite', tabindex: -1 });
  const dialog = buildDialog();

  replaceChildren(
    root,
    h('h1', { tabindex: -1 }, 'Models'),
    h(
      'p',
      { class: 'lead' },
      'What is registered, what serves, how the versions compare, and who changed what. Changes need the admin token.',
    ),
    adminForm(context),
    modelsSection,
    actionStatus,
    versionsSection,
    auditSection,
    dialog.element,
  );

  renderModelList();
  await loadModel();

  function renderModelList(): void {
    replaceChildren(
      modelsSection,
      h('h2', { id: 'models-heading' }, 'Registered models'),
      state.models.length === 0
        ? notice('info', 'No model is registered yet.')
        : table(
            'Registered models',
            ['Model', 'Description', 'Production', 'Latest', 'Versions', 'Aliases', 'Action'],
            state.models.map((model) => [
              model.name,
              model.description ?? '',
              model.productionVersion === null ? 'none' : `v${model.productionVersion}`,
              model.latestVersion === null ? '–' : `v${model.latestVersion}`,
              String(model.versionCount),
              Object.entries(model.aliases)
                .map(([alias, version]) => `${alias} → v${version}`)
                .join(', '),
              model.name === state.model
                ? h('span', { class: 'muted' }, 'shown below')
                : h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Show the versions of ${model.name}`,
                      on: {
                        click: () => {
                          state.model = model.name;
                          document.dispatchEvent(new CustomEvent('vigil:model-changed'));
                        },
                      },
                    },
                    'Show versions',
                  ),
            ]),
            'data',
            false,
          ),
    );
  }

  async function loadModel(): Promise<void> {
    const name = state.model;
    replaceChildren(
      versionsSection,
      h('h2', { id: 'versions-heading' }, `Versions of ${name}`),
      loading('versions'),
    );
    replaceChildren(
      auditSection,
      h('h2', { id: 'audit-heading' }, `Audit log of ${name}`),
      loading('the audit log'),
    );
    const [model, audit] = await Promise.allSettled([api.getModel(name), api.audit(name, 50)]);
    if (!context.current()) return;
    if (model.status === 'rejected') {
      replaceChildren(
        versionsSection,
        h('h2', { id: 'versions-heading' }, `Versions of ${name}`),
        errorBox(model.reason, 'Could not read the model'),
      );
    } else {
      renderVersions(model.value.versions);
    }
    replaceChildren(
      auditSection,
      h('h2', { id: 'audit-heading' }, `Audit log of ${name}`),
      audit.status === 'rejected'
        ? errorBox(audit.reason, 'Could not read the audit log')
        : audit.value.length === 0
          ? notice('info', 'No change recorded yet.')
          : table(
              `Audit log of ${name}, newest first`,
              ['When', 'What', 'Reason'],
              audit.value.map((entry) => [formatTime(entry.at), describeAudit(entry), entry.reason ?? '']),
              'data audit',
            ),
    );
  }

  function renderVersions(versions: ModelVersion[]): void {
    const name = state.model;
    const newestFirst = [...versions].sort((a, b) => b.version - a.version);
    const primary = newestFirst[0]?.signature.primaryMetric ?? 'roc_auc';
    const metrics = keyMetrics(
      primary,
      versions.flatMap((version) => Object.keys(version.metrics)),
    );
    const best = new Map<string, number>();
    for (const metric of metrics) {
      const values = versions
        .map((version) => version.metrics[metric])
        .filter((value) => value !== undefined);
      // A "best" mark only where the versions differ.
      if (new Set(values).size > 1)
        best.set(metric, lowerIsBetter(metric) ? Math.min(...values) : Math.max(...values));
    }
    const production = versions.find((version) => version.stage === 'Production');
    replaceChildren(
      versionsSection,
      h('h2', { id: 'versions-heading' }, `Versions of ${name}`),
      h(
        'p',
        { class: 'muted' },
        `The promotion gate compares ${primary} (higher is better) with the Production version. `,
        production ? `Production: v${production.version}.` : 'No version is in Production.',
      ),
      table(
        `Versions of ${name}, newest first, with their test metrics`,
        [
          'Version',
          'Stage',
          'Aliases',
          ...metrics.map((metric) => (metric === primary ? `${metric} (gate)` : metric)),
          'Registered',
          'Actions',
        ],
        newestFirst.map((version) => [
          `v${version.version}`,
          h('span', { class: `stage stage-${version.stage.toLowerCase()}` }, version.stage),
          version.aliases.join(', '),
          ...metrics.map((metric) => {
            const value = version.metrics[metric];
            const isBest = value !== undefined && best.get(metric) === value;
            return h(
              'span',
              { class: isBest ? 'metric best' : 'metric' },
              formatNumber(value),
              isBest ? h('span', { class: 'badge' }, 'best') : null,
            );
          }),
          h(
            'span',
            { class: 'registered' },
            h('time', { datetime: version.createdAt }, formatTime(version.createdAt).slice(0, 16)),
            h('br'),
            h('span', { class: 'muted' }, `by ${version.createdBy}`),
          ),
          h(
            'div',
            { class: 'row-actions' },
            STAGE_MOVES[version.stage].map((stage) =>
              h(
                'button',
                {
                  type: 'button',
                  class: stage === 'Production' ? 'primary' : undefined,
                  'aria-label': `${actionVerb(stage)} v${version.version}${stage === 'Archived' ? '' : ` to ${stage}`}`,
                  on: {
                    click: () =>
                      dialog.open(
                        stage === 'Archived'
                          ? { kind: 'archive', version: version.version }
                          : { kind: 'stage', version: version.version, stage },
                      ),
                  },
                },
                stage === 'Archived' ? 'Archive' : `${actionVerb(stage)} to ${stage}`,
              ),
            ),
          ),
        ]),
        'data versions',
      ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', id: 'rollback-button', on: { click: () => dialog.open({ kind: 'rollback' }) } },
          'Roll back Production…',
        ),
      ),
    );
  }

  function buildDialog(): { element: HTMLDialogElement; open: (action: Action) => void } {
    const title = h('h2', { id: 'action-title' }, '');
    const explanation = h('p', { class: 'muted' });
    const reason = h('input', { id: 'action-reason', type: 'text', maxlength: 500, autocomplete: 'off' });
    const force = h('input', { id: 'action-force', type: 'checkbox' });
    const forceRow = h(
      'div',
      { class: 'field-inline' },
      force,
      h('label', { for: 'action-force' }, 'Override the promotion gate (needs a reason; audited)'),
    );
    const error = h('div', { id: 'action-error' });
    const confirm = h('button', { type: 'submit', class: 'primary' }, 'Confirm');
    let current: Action = { kind: 'rollback' };
    const element = h(
      'dialog',
      { id: 'action-dialog', 'aria-labelledby': 'action-title' },
      h(
        'form',
        {
          method: 'dialog',
          novalidate: true,
          on: {
            submit: (event) => {
              event.preventDefault();
              void run();
            },
          },
        },
        title,
        explanation,
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'action-reason' }, 'Reason (written to the audit log)'),
          reason,
        ),
        forceRow,
        error,
        h(
          'div',
          { class: 'actions' },
          confirm,
          h('button', { type: 'button', on: { click: () => element.close() } }, 'Cancel'),
        ),
      ),
    );

    function open(action: Action): void {
      current = action;
      const name = state.model;
      reason.value = '';
      force.checked = false;
      replaceChildren(error);
      forceRow.hidden = !(action.kind === 'stage' && action.stage === 'Production');
      switch (action.kind) {
        case 'stage':
          title.textContent = `${actionVerb(action.stage)} ${name} v${action.version} to ${action.stage}`;
          explanation.textContent =
            action.stage === 'Production'
              ? 'The current Production version is archived, and serving switches to this one within seconds. The promotion gate may refuse a worse version.'
              : `v${action.version} moves to ${action.stage}.`;
          break;
        case 'archive':
          title.textContent = `Archive ${name} v${action.version}`;
          explanation.textContent = 'An archived version is kept (for rollback) but not served.';
          break;
        case 'rollback':
          title.textContent = `Roll back ${name}`;
          explanation.textContent =
            'The version that was in Production before the current one serves again; the current one is archived.';
          break;
      }
      element.showModal();
      reason.focus();
    }

    async function run(): Promise<void> {
      const name = state.model;
      const admin = state.admin;
      const reasonText = reason.value.trim() || undefined;
      if (force.checked && !forceRow.hidden && reasonText === undefined) {
        replaceChildren(error, notice('warning', 'Overriding the promotion gate needs a reason.'));
        reason.focus();
        return;
      }
      confirm.disabled = true;
      replaceChildren(error, loading('the change'));
      try {
        let done: ModelVersion;
        switch (current.kind) {
          case 'stage':
            done = await api.transition(
              name,
              current.version,
              {
                stage: current.stage,
                reason: reasonText,
                force: !forceRow.hidden && force.checked ? true : undefined,
              },
              admin,
            );
            break;
          case 'archive':
            done = await api.archive(name, current.version, reasonText, admin);
            break;
          case 'rollback':
            done = await api.rollback(name, { reason: reasonText }, admin);
            break;
        }
        element.close();
        replaceChildren(
          actionStatus,
          notice(
            'success',
            `Done: ${done.name} v${done.version} is now ${done.stage}.` +
              (done.stage === 'Production' ? ' Serving switches to it within seconds.' : ''),
          ),
        );
        await context.refreshModels();
        if (!context.current()) return;
        renderModelList();
        await loadModel();
        // The button that opened the dialog is gone with the old table: keep keyboard users on the outcome.
        actionStatus.focus();
      } catch (failure) {
        replaceChildren(error, actionError(failure, name));
        if (failure instanceof ApiError && failure.code === 'PROMOTION_REFUSED') force.focus();
      } finally {
        confirm.disabled = false;
      }
    }

    return { element, open };
  }
}

function actionVerb(stage: Stage): string {
  switch (stage) {
    case 'Production':
      return 'Promote';
    case 'Staging':
      return 'Move';
    case 'None':
      return 'Move';
    case 'Archived':
      return 'Archive';
  }
}

/** Refusals in words: the gate's numbers, and what to do about a missing or wrong token. */
function actionError(error: unknown, model: string): HTMLElement {
  if (error instanceof ApiError && error.code === 'PROMOTION_REFUSED' && isPromotionRefusal(error.details)) {
    // The numbers are in the sentence; the raw `details` would repeat them.
    const box = errorBox(error, 'Refused', false);
    box.prepend(h('p', { class: 'refusal' }, describePromotionRefusal(model, error.details)));
    return box;
  }
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    const box = errorBox(error, error.status === 401 ? 'Not signed in as admin' : 'Wrong admin token');
    box.append(
      h(
        'p',
        {},
        'Enter the admin token (ADMIN_TOKEN of the server) in the “Admin token” field above, then try again.',
      ),
    );
    return box;
  }
  return errorBox(error, 'The change was refused');
}

function adminForm(context: PageContext): HTMLElement {
  const { state } = context;
  const token = h('input', {
    id: 'admin-token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'admin-token-help',
  });
  token.value = state.admin.token;
  token.addEventListener('input', () => {
    state.admin.token = token.value.trim();
  });
  const actor = h('input', {
    id: 'admin-actor',
    type: 'text',
    autocomplete: 'off',
    maxlength: 64,
    pattern: '[\\w.@:-]{1,64}',
    'aria-describedby': 'admin-actor-help',
  });
  actor.value = state.admin.actor ?? '';
  actor.addEventListener('input', () => {
    state.admin.actor = actor.value.trim() || undefined;
  });
  return h(
    'form',
    {
      class: 'admin card',
      'aria-labelledby': 'admin-heading',
      on: { submit: (event) => event.preventDefault() },
    },
    h('h2', { id: 'admin-heading' }, 'Admin access'),
    h(
      'div',
      { class: 'field-row' },
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'admin-token' }, 'Admin token'),
        token,
        h(
          'p',
          { id: 'admin-token-help', class: 'hint' },
          'Kept in this tab’s memory only: reloading the page forgets it.',
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'admin-actor' }, 'Your name (optional)'),
        actor,
        h('p', { id: 'admin-actor-help', class: 'hint' }, 'Shown in the audit log as admin:name.'),
      ),
    ),
  );
}
