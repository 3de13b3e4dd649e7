import type { FieldProblem } from '../../common/errors';

/** One ground-truth label, for a prediction id or for the request id of a one-instance request. */
export type FeedbackItem =
  | { predictionId: string; requestId?: undefined; label: string }
  | { predictionId?: undefined; requestId: string; label: string };

const ID = /^[\w.:-]{1,128}$/;

/**
 * Reads `POST /v1/feedback` bodies: one item `{ predictionId | requestId, label }`, or a batch
 * `{ feedback: [ … ] }`. Every problem is reported at once, with its field path.
 */
export function parseFeedbackBody(
  body: unknown,
  maxItems: number,
): { items: FeedbackItem[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      items: [],
      problems: [
        { field: 'body', problem: 'must be an object: { predictionId, label } or { feedback: [...] }' },
      ],
    };
  }
  const record = body as Record<string, unknown>;
  const batch = 'feedback' in record;
  const raw: unknown[] = batch ? (Array.isArray(record.feedback) ? record.feedback : []) : [record];
  if (batch && !Array.isArray(record.feedback))
    problems.push({ field: 'feedback', problem: 'must be an array of { predictionId | requestId, label }' });
  if (batch && raw.length === 0 && Array.isArray(record.feedback))
    problems.push({ field: 'feedback', problem: 'must not be empty' });
  if (raw.length > maxItems)
    problems.push({ field: 'feedback', problem: `must have at most ${maxItems} items, got ${raw.length}` });
  const items: FeedbackItem[] = [];
  raw.slice(0, maxItems).forEach((entry, index) => {
    const path = batch ? `feedback[${index}]` : '';
    const field = (name: string): string => (path ? `${path}.${name}` : name);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push({ field: path || 'body', problem: 'must be an object' });
      return;
    }
    const item = entry as Record<string, unknown>;
    const unknownKeys = Object.keys(item).filter(
      (key) => !['predictionId', 'requestId', 'label'].includes(key),
    );
    for (const key of unknownKeys) problems.push({ field: field(key), problem: 'is not a known field' });
    const label = typeof item.label === 'number' ? String(item.label) : item.label;
    if (typeof label !== 'string' || label === '')
      problems.push({
        field: field('label'),
        problem: 'is required: the true label (one of the model classes)',
      });
    const hasPrediction = item.predictionId !== undefined;
    const hasRequest = item.requestId !== undefined;
    if (hasPrediction === hasRequest) {
      problems.push({
        field: field('predictionId'),
        problem: 'give exactly one of predictionId or requestId',
      });
      return;
    }
    const idField = hasPrediction ? 'predictionId' : 'requestId';
    const id = item[idField];
    if (typeof id !== 'string' || !ID.test(id)) {
      problems.push({ field: field(idField), problem: 'must be an id of 1-128 letters, digits, . _ : -' });
      return;
    }
    if (typeof label !== 'string' || label === '') return;
    items.push(hasPrediction ? { predictionId: id, label } : { requestId: id, label });
  });
  return { items, problems };
}
