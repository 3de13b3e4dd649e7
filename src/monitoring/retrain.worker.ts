/**
 * Child-process entry of a retraining run (started by `TrainingProcess`): receives the extra rows and
 * then the training options over IPC, runs `trainModel` (CPU-bound, for seconds) away from the
 * server's event loop, sends back what the registry and the holdout comparison need, and exits.
 */
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import type { LabelledRow } from '../training/domain/dataset-spec';
import { type Algorithm, trainModel } from '../training/training.service';

export interface TrainingJobRequest {
  dataset: string;
  algorithm: Algorithm;
  seed: number;
  hyperParameters: Record<string, number>;
  extraRows: LabelledRow[];
}

export interface TrainingJobOutput {
  onnx: Uint8Array;
  signature: ModelSignature;
  metrics: Record<string, unknown>;
  reference: ReferenceProfile;
  params: Record<string, number>;
  /** The base data's test split (holdout rows the run did not train on). */
  test: { rows: Record<string, number | string>[]; actual: string[] };
}

/** What the parent sends: the extra rows in parts, then the rest of the request. */
export type TrainingJobInput =
  { type: 'rows'; rows: LabelledRow[] } | { type: 'train'; options: Omit<TrainingJobRequest, 'extraRows'> };

export type TrainingJobMessage =
  | { type: 'result'; output: TrainingJobOutput }
  | { type: 'error'; code?: string; message: string; details?: unknown };

function send(message: TrainingJobMessage): void {
  process.send?.(message, () => process.exit(0));
}

const extraRows: LabelledRow[] = [];

function onMessage(message: TrainingJobInput): void {
  if (message.type === 'rows') {
    for (const row of message.rows) extraRows.push(row);
    return;
  }
  process.off('message', onMessage);
  train({ ...message.options, extraRows });
}

process.on('message', onMessage);

function train(request: TrainingJobRequest): void {
  trainModel({
    dataset: request.dataset,
    algorithm: request.algorithm,
    seed: request.seed,
    hyperParameters: request.hyperParameters,
    extraRows: request.extraRows,
  })
    .then((result) =>
      send({
        type: 'result',
        output: {
          onnx: result.onnx,
          signature: result.signature,
          metrics: result.metrics as unknown as Record<string, unknown>,
          reference: result.reference,
          params: result.params,
          test: { rows: result.test.rows, actual: result.test.actual },
        },
      }),
    )
    .catch((error: unknown) => {
      const { code, details } = error as { code?: unknown; details?: unknown };
      send({
        type: 'error',
        code: typeof code === 'string' ? code : undefined,
        message: error instanceof Error ? error.message : String(error),
        details,
      });
    });
}
