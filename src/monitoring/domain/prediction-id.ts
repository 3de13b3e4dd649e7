/**
 * The prediction store keeps one SQL row per request (a "prediction batch"), not one per prediction.
 * A prediction id names row `r` of batch `b` when it is `b-r` (`r` a canonical non-negative integer
 * below the batch's row count); a batch of one is also named by its own batch id, which is how rows
 * stored one by one (migrated rows, records that are not part of a request's run) are found.
 */

/** Where a prediction id may point: a batch and the row inside it. */
export interface BatchRowRef {
  batchId: string;
  row: number;
}

const ROW_SUFFIX = /-(0|[1-9][0-9]{0,8})$/;

/**
 * The batches a prediction id may point to, in order of preference: first the batch of one named by
 * the id itself, then row `r` of batch `b` when the id reads `b-r`.
 */
export function predictionIdCandidates(predictionId: string): BatchRowRef[] {
  const candidates: BatchRowRef[] = [{ batchId: predictionId, row: 0 }];
  const match = ROW_SUFFIX.exec(predictionId);
  if (match !== null && match.index > 0)
    candidates.push({ batchId: predictionId.slice(0, match.index), row: Number(match[1]) });
  return candidates;
}

/**
 * The row an id names, given the row counts of the batches found for its candidates (`undefined`:
 * no such batch). A batch of one answers to its own id only when it really holds one row.
 */
export function resolvePredictionId(
  predictionId: string,
  rowCountOf: (batchId: string) => number | undefined,
): BatchRowRef | undefined {
  const [self, parsed] = predictionIdCandidates(predictionId);
  if (rowCountOf(self!.batchId) === 1) return self;
  if (parsed === undefined) return undefined;
  const rowCount = rowCountOf(parsed.batchId);
  return rowCount !== undefined && parsed.row < rowCount ? parsed : undefined;
}

/** The id of row `row` of a batch: a batch of one is named by its batch id, others `b-r`. */
export function predictionIdOf(batchId: string, rowCount: number, row: number): string {
  return rowCount === 1 ? batchId : `${batchId}-${row}`;
}

/** What every prediction of one request shares: the request, the model that answered, when and how fast. */
export interface PredictionRequestFields {
  requestId: string;
  traceId?: string;
  /** Epoch milliseconds. */
  timestamp: number;
  model: string;
  version: number;
  /** Request latency up to the answer, in milliseconds. */
  latencyMs: number;
}

/** The fields every row of one batch shares (one request's records share them all). */
export interface BatchableRecord extends PredictionRequestFields {
  predictionId: string;
}

/**
 * The number of records, from `start`, that form one batch: the records of one request, `p-0, p-1, …
 * p-(n-1)` in a row, sharing their request id, model, version, time, trace and latency, form batch `p`
 * (n ≥ 2). Anything else is a batch of one (returns 1), stored under its full prediction id, so that
 * every batch of one is named by its batch id and a row's id never has to be guessed on the way out.
 *
 * Inside a run only the ids' lengths are compared, then the last id in full (falling back to every id
 * when it differs): reading a string's characters makes V8 flatten the id the service built by
 * concatenation, ~0.3 µs a row, a third of the store's cost. One request's records all carry the
 * prefix the prediction service drew for it, so the shortcut cannot group two requests.
 */
export function batchLength(records: readonly BatchableRecord[], start: number): number {
  const first = records[start]!;
  const id = first.predictionId;
  if (id.length < 3 || !id.endsWith('-0')) return 1;
  const base = id.slice(0, -1);
  let end = start + 1;
  while (end < records.length && sameRequest(records[end]!, first, base.length + digits(end - start)))
    end += 1;
  if (end - start === 1 || records[end - 1]!.predictionId === base + String(end - start - 1))
    return end - start;
  let checked = start + 1;
  while (checked < end && records[checked]!.predictionId === base + String(checked - start)) checked += 1;
  return checked - start;
}

function sameRequest(record: BatchableRecord, first: BatchableRecord, idLength: number): boolean {
  return (
    record.predictionId.length === idLength &&
    record.requestId === first.requestId &&
    record.timestamp === first.timestamp &&
    record.model === first.model &&
    record.version === first.version &&
    record.traceId === first.traceId &&
    record.latencyMs === first.latencyMs
  );
}

function digits(row: number): number {
  return row < 10 ? 1 : row < 100 ? 2 : row < 1000 ? 3 : String(row).length;
}
