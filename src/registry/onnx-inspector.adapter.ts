import { Injectable } from '@nestjs/common';
import { InferenceSession } from 'onnxruntime-node';
import { AppError } from '../common/errors';
import { type OnnxOutline, onnxOutline } from './domain/onnx-outline';
import type { GraphIO, GraphValue } from './domain/signature-check';

function describe(metadata: readonly InferenceSession.ValueMetadata[]): GraphValue[] {
  return metadata.map((value) =>
    value.isTensor
      ? { name: value.name, isTensor: true, type: value.type, shape: [...value.shape] }
      : { name: value.name, isTensor: false },
  );
}

/** Checks that bytes are an ONNX model that ONNX Runtime can load, and reports its inputs and outputs. */
@Injectable()
export class OnnxInspector {
  async inspect(content: Buffer): Promise<GraphIO> {
    let outline: OnnxOutline;
    try {
      outline = onnxOutline(content);
    } catch (error) {
      throw new AppError(
        'INVALID_ARTIFACT',
        `The uploaded file is not an ONNX model (${(error as Error).message})`,
      );
    }
    if (!outline.graph || outline.nodes === 0 || outline.opsets === 0)
      throw new AppError(
        'INVALID_ARTIFACT',
        'The uploaded file is not an ONNX model (no graph or opset found)',
      );

    let session: InferenceSession;
    try {
      session = await InferenceSession.create(content, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'basic',
      });
    } catch (error) {
      throw new AppError(
        'INVALID_ARTIFACT',
        `ONNX Runtime cannot load the model: ${(error as Error).message.split('\n')[0] ?? 'unknown error'}`,
      );
    }
    try {
      return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
    } finally {
      await session.release();
    }
  }
}
