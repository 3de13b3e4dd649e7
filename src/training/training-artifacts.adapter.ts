import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TrainingResult } from './training.service';

/** The files of a trained model folder; names are part of the contract with the registry. */
export const ARTIFACT_FILES = {
  model: 'model.onnx',
  signature: 'signature.json',
  metrics: 'metrics.json',
  reference: 'reference.json',
  history: 'history.json',
} as const;

/** Stable JSON: two-space indent and a final newline (no timestamps anywhere). */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes the artifacts; returns file name → sha256. */
export function writeArtifacts(result: TrainingResult, outDir: string): Record<string, string> {
  mkdirSync(outDir, { recursive: true });
  const contents: Record<string, Uint8Array | string> = {
    [ARTIFACT_FILES.model]: result.onnx,
    [ARTIFACT_FILES.signature]: stableJson(result.signature),
    [ARTIFACT_FILES.metrics]: stableJson(result.metrics),
    // Compact: the reference carries a sample of up to 5000 rows.
    [ARTIFACT_FILES.reference]: `${JSON.stringify(result.reference)}\n`,
    [ARTIFACT_FILES.history]: stableJson(result.history),
  };
  const digests: Record<string, string> = {};
  for (const [name, content] of Object.entries(contents)) {
    writeFileSync(join(outDir, name), content);
    digests[name] = sha256(content);
  }
  return digests;
}
