import { api, ApiError } from './api.js';
import { errorBox, loading, notice, probabilityBars } from './components.js';
import { h, replaceChildren } from './dom.js';
import { formatNumber, formatPercent, humanize, isFieldProblems } from './format.js';
import type { PageContext } from './state.js';
import type { FeatureSpec, ModelVersion, Prediction, PredictResponse } from './types.js';
import { checkInstance, featureOfServerField, numericHint } from './validation.js';

interface Field {
  feature: FeatureSpec;
  control: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  warning: HTMLElement;
}

const fieldId = (name: string): string => `feature-${name}`;

/** Predict: a form generated from the Production version's signature, the answer, then feedback. */
export async function renderPredict(context: PageContext): Promise<void> {
  const { root, state } = context;
  const model = state.model;
  replaceChildren(
    root,
    h('h1', { tabindex: -1 }, 'Predict'),
    h(
      'p',
      { class: 'lead' },
      'Fill in a case, get the model’s answer, then tell the model what really happened.',
    ),
    loading(`the Production version of ${model}`),
  );
  let version: ModelVersion;
  try {
    version = await api.getVersion(model, 'production');
  } catch (error) {
    if (!context.current()) return;
    root.lastElementChild?.remove();
    root.append(errorBox(error, `No Production version of ${model} to predict with`));
    return;
  }
  if (!context.current()) return;
  root.lastElementChild?.remove();

  const signature = version.signature;
  const fields = signature.features.map((feature) => buildField(feature));
  const summary = h('div', { class: 'notice notice-error', role: 'alert', tabindex: -1, hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Predict');
  // The result holds a whole form (feedback): a live region that size would be read out in full, so a
  // short sentence is announced instead.
  const result = h('section', { id: 'prediction-result', 'aria-label': 'Prediction result' });
  const announcement = h('p', {
    id: 'prediction-announcement',
    class: 'sr-only',
    role: 'status',
    'aria-live': 'polite',
  });

  const fillExample = (): void => {
    for (const field of fields) {
      field.control.value = String(field.feature.example);
      setFieldState(field, undefined, undefined);
    }
  };

  const form = h(
    'form',
    {
      id: 'predict-form',
      novalidate: true,
      'aria-describedby': 'predict-form-help',
      on: {
        submit: (event) => {
          event.preventDefault();
          void onSubmit();
        },
      },
    },
    summary,
    h(
      'p',
      { id: 'predict-form-help', class: 'muted' },
      `${model} v${version.version} (Production) · ${signature.task === 'binary' ? 'binary' : 'multiclass'} classification of `,
      h('code', {}, signature.target),
      ` · ${fields.length} features. Values outside the training range are accepted and flagged; values outside the allowed range are refused.`,
    ),
    h(
      'fieldset',
      { class: 'features' },
      h('legend', {}, 'Features'),
      fields.map((field) => field.wrapper),
    ),
    h(
      'div',
      { class: 'actions' },
      submit,
      h('button', { type: 'button', on: { click: fillExample } }, 'Fill with example values'),
      h(
        'button',
        {
          type: 'button',
          on: {
            click: () => {
              for (const field of fields) {
                field.control.value = '';
                setFieldState(field, undefined, undefined);
              }
              summary.hidden = true;
              fields[0]?.control.focus();
            },
          },
        },
        'Clear',
      ),
    ),
  );
  fillExample();
  root.append(form, announcement, result);

  async function onSubmit(): Promise<void> {
    const checked = checkInstance(signature.features, (feature) => {
      const field = fields.find((item) => item.feature === feature)!;
      return {
        raw: field.control.value,
        unparsable: field.control instanceof HTMLInputElement && field.control.validity.badInput,
      };
    });
    for (const field of fields) {
      const problem = checked.problems.find((item) => item.field === field.feature.name)?.problem;
      const warning = checked.warnings.find((item) => item.field === field.feature.name)?.problem;
      setFieldState(field, problem, warning);
    }
    if (checked.problems.length > 0) {
      showSummary(checked.problems.map((item) => ({ name: item.field, problem: item.problem })));
      return;
    }
    summary.hidden = true;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    announcement.textContent = '';
    replaceChildren(result, loading('the prediction'));
    try {
      const response = await api.predict(model, checked.instance);
      if (!context.current()) return;
      showResult(response);
    } catch (error) {
      if (!context.current()) return;
      if (error instanceof ApiError && error.code === 'INVALID_INPUT' && isFieldProblems(error.details)) {
        const names = signature.features.map((feature) => feature.name);
        for (const item of error.details) {
          const name = featureOfServerField(item.field, names);
          const field = fields.find((candidate) => candidate.feature.name === name);
          if (field) setFieldState(field, item.problem, undefined);
        }
      }
      replaceChildren(result, errorBox(error, 'The prediction failed'));
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  function showSummary(problems: { name: string; problem: string }[]): void {
    replaceChildren(
      summary,
      h(
        'p',
        {},
        h('strong', {}, `Please correct ${problems.length} field${problems.length > 1 ? 's' : ''}:`),
      ),
      h(
        'ul',
        {},
        problems.map((item) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                href: `#${fieldId(item.name)}`,
                on: {
                  click: (event) => {
                    event.preventDefault();
                    document.getElementById(fieldId(item.name))?.focus();
                  },
                },
              },
              humanize(item.name),
            ),
            ` ${item.problem}`,
          ),
        ),
      ),
    );
    summary.hidden = false;
    summary.focus();
  }

  function showResult(response: PredictResponse): void {
    const prediction = response.predictions[0];
    if (!prediction) {
      replaceChildren(result, notice('warning', 'The server answered without a prediction.'));
      return;
    }
    const probability = prediction.probabilities[prediction.label];
    const warnings = prediction.warnings?.length ?? 0;
    announcement.textContent =
      `Predicted ${signature.target}: ${prediction.label}` +
      (probability === undefined ? '.' : `, probability ${formatPercent(probability)}.`) +
      (warnings > 0 ? ` ${warnings} warning${warnings > 1 ? 's' : ''} from the server.` : '');
    replaceChildren(
      result,
      h('h2', {}, 'Prediction'),
      h(
        'p',
        { class: 'verdict' },
        `Predicted ${signature.target}: `,
        h('strong', { id: 'predicted-label' }, prediction.label),
        prediction.score !== undefined
          ? ` (score ${formatNumber(prediction.score)}, the probability of ${signature.positiveClass ?? signature.classes[1] ?? 'the positive class'})`
          : '',
      ),
      probabilityBars(prediction.probabilities, signature.classes, prediction.label, 'Class probabilities'),
      warningsOf(prediction),
      h(
        'dl',
        { class: 'ids' },
        h('dt', {}, 'Model'),
        h('dd', {}, `${response.model} v${response.version}`),
        h('dt', {}, 'Request id'),
        h('dd', {}, h('code', { id: 'request-id' }, response.requestId)),
        h('dt', {}, 'Prediction id'),
        h('dd', {}, h('code', {}, prediction.predictionId)),
      ),
      feedbackForm(context, response, prediction, signature.classes, signature.target),
    );
  }
}

function buildField(feature: FeatureSpec): Field & { wrapper: HTMLElement } {
  const id = fieldId(feature.name);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const warningId = `${id}-warning`;
  const describedBy = `${hintId} ${errorId} ${warningId}`;
  let control: HTMLInputElement | HTMLSelectElement;
  let hint: string;
  if (feature.type === 'numeric') {
    control = h('input', {
      id,
      name: feature.name,
      type: 'number',
      inputmode: feature.integer ? 'numeric' : 'decimal',
      step: feature.integer ? 1 : 'any',
      min: feature.min,
      max: feature.max,
      required: true,
      autocomplete: 'off',
      'aria-describedby': describedBy,
    });
    hint = numericHint(feature);
  } else {
    control = h(
      'select',
      { id, name: feature.name, required: true, 'aria-describedby': describedBy },
      h('option', { value: '' }, 'Choose…'),
      feature.categories.map((category) => h('option', { value: category }, humanize(category))),
    );
    hint = `${feature.categories.length} categories`;
  }
  const error = h('p', { id: errorId, class: 'field-error' });
  const warning = h('p', { id: warningId, class: 'field-warning' });
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, humanize(feature.name), ' ', h('code', { class: 'field-name' }, feature.name)),
    h(
      'p',
      { id: hintId, class: 'hint' },
      feature.description ? `${sentence(feature.description)} ` : '',
      hint,
    ),
    control,
    error,
    warning,
  );
  const field: Field = { feature, control, error, warning };
  // While typing: the training-range note at once, and an error already shown is updated or cleared
  // ("reward early, punish late"). New errors wait for submit: an error appearing on blur would move
  // the button under the pointer between mousedown and mouseup, and the click would be lost.
  control.addEventListener('input', () => {
    const checked = checkInstance([feature], () => ({
      raw: control.value,
      unparsable: control instanceof HTMLInputElement && control.validity.badInput,
    }));
    const shown = control.getAttribute('aria-invalid') === 'true';
    setFieldState(field, shown ? checked.problems[0]?.problem : undefined, checked.warnings[0]?.problem);
  });
  return { ...field, wrapper };
}

function setFieldState(field: Field, problem: string | undefined, warning: string | undefined): void {
  field.error.textContent = problem === undefined ? '' : `${humanize(field.feature.name)} ${problem}`;
  field.warning.textContent =
    warning === undefined ? '' : `Note: ${warning} (accepted, flagged by the server)`;
  if (problem === undefined) field.control.removeAttribute('aria-invalid');
  else field.control.setAttribute('aria-invalid', 'true');
}

function warningsOf(prediction: Prediction): HTMLElement | null {
  if (!prediction.warnings || prediction.warnings.length === 0) return null;
  return notice(
    'warning',
    h('p', {}, h('strong', {}, 'Warnings from the server:')),
    h(
      'ul',
      { class: 'problems' },
      prediction.warnings.map((item) => h('li', {}, h('code', {}, item.field), ' ', item.problem)),
    ),
  );
}

/** The true label for this prediction, sent to /v1/feedback; then the labelled count, read again. */
function feedbackForm(
  context: PageContext,
  response: PredictResponse,
  prediction: Prediction,
  classes: readonly string[],
  target: string,
): HTMLElement {
  const status = h('div', { id: 'feedback-status', role: 'status', 'aria-live': 'polite' });
  const count = h('p', { id: 'feedback-count', class: 'muted' });
  const send = h('button', { type: 'submit' }, 'Send feedback');
  const radios = classes.map((name) =>
    h(
      'label',
      { class: 'choice' },
      h('input', { type: 'radio', name: 'true-label', value: name }),
      ` ${name}`,
    ),
  );
  const form = h(
    'form',
    {
      id: 'feedback-form',
      class: 'feedback',
      novalidate: true,
      on: {
        submit: (event) => {
          event.preventDefault();
          void submitFeedback();
        },
      },
    },
    h('h2', {}, 'Feedback'),
    h(
      'fieldset',
      {},
      h('legend', {}, `What was the true ${target}?`),
      h('div', { class: 'choices' }, radios),
    ),
    h('div', { class: 'actions' }, send),
    status,
    count,
  );

  const showCount = async (before?: number): Promise<number | undefined> => {
    try {
      const report = await api.report(response.model);
      if (!context.current()) return undefined;
      const labelled = report.evaluation.window.labelled;
      count.textContent =
        `Predictions of ${report.model} v${report.version} with feedback in the monitoring window: ${labelled}` +
        (before !== undefined ? ` (was ${before})` : '') +
        ` of ${report.evaluation.window.size}.`;
      return labelled;
    } catch (error) {
      if (context.current())
        count.textContent = `The feedback count is unavailable: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  };
  let countBefore: number | undefined;
  void showCount().then((value) => {
    countBefore = value;
  });

  async function submitFeedback(): Promise<void> {
    const chosen = form.querySelector<HTMLInputElement>('input[name="true-label"]:checked');
    if (!chosen) {
      replaceChildren(status, h('p', { class: 'field-error' }, `Choose the true ${target} first.`));
      form.querySelector<HTMLInputElement>('input[name="true-label"]')?.focus();
      return;
    }
    send.disabled = true;
    replaceChildren(status, loading('the feedback'));
    try {
      const answer = await api.feedback(prediction.predictionId, chosen.value);
      if (!context.current()) return;
      const outcome = answer.results[0]?.status ?? (answer.created > 0 ? 'created' : 'unchanged');
      const words =
        outcome === 'created'
          ? 'recorded'
          : outcome === 'updated'
            ? 'corrected (it replaces the label sent before)'
            : 'already recorded: nothing changed';
      replaceChildren(
        status,
        notice(
          'success',
          `Thank you. Feedback ${words}: the true ${target} of this case is ${chosen.value}.`,
        ),
      );
      countBefore = await showCount(countBefore);
    } catch (error) {
      if (context.current()) replaceChildren(status, errorBox(error, 'The feedback was not recorded'));
    } finally {
      send.disabled = false;
    }
  }
  return form;
}

/** "sepal length in cm" → "Sepal length in cm." */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
