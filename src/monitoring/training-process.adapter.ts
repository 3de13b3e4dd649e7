import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { extname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { AppError, type ErrorCode, ERROR_CODES } from '../common/errors';
import type {
  TrainingJobInput,
  TrainingJobMessage,
  TrainingJobOutput,
  TrainingJobRequest,
} from './retrain.worker';

/** A retraining run longer than this is killed (the job fails, serving is untouched). */
export const TRAINING_TIMEOUT_MS = 20 * 60_000;
/** Niceness of the training child: the serving process keeps the CPU when both want it. */
const CHILD_PRIORITY = 10;
/**
 * Extra rows per IPC message. Serialising a message is one block on the event loop: 40,000 credit
 * rows in one took 60–73 ms; 2,000 take ~3, and the loop turns while each is written.
 */
export const ROWS_PER_MESSAGE = 2000;

/**
 * When Vigil runs from TypeScript sources (tests, `ts` tooling), the child compiles the worker with
 * swc on the fly, like Jest does; from `dist/` it is plain JavaScript.
 */
const TYPESCRIPT_BOOTSTRAP = `
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(process.argv[1]);
`;

/**
 * Runs one training job in a child process (off the request path, its own heap, lower CPU priority)
 * and returns its output. The adapter between the monitoring service and `trainModel`.
 */
@Injectable()
export class TrainingProcess {
  async run(request: TrainingJobRequest, timeoutMs = TRAINING_TIMEOUT_MS): Promise<TrainingJobOutput> {
    const extension = extname(__filename);
    const worker = join(__dirname, `retrain.worker${extension}`);
    const args = extension === '.ts' ? ['-e', TYPESCRIPT_BOOTSTRAP, worker] : [worker];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, CHILD_PRIORITY);
      } catch {
        // Not permitted in some containers: training then competes at equal priority.
      }
    }
    return new Promise<TrainingJobOutput>((resolve, reject) => {
      let stderr = '';
      let settled = false;
      const finish = (error: Error | undefined, output?: TrainingJobOutput): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          kill(child);
          reject(error);
        } else resolve(output!);
      };
      const timer = setTimeout(
        () =>
          finish(
            new AppError('INTERNAL', `Training did not finish within ${Math.round(timeoutMs / 1000)} s`),
          ),
        timeoutMs,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.length < 8192) stderr += chunk.toString('utf8');
      });
      child.on('message', (message: TrainingJobMessage) => {
        if (message.type === 'result') finish(undefined, message.output);
        else {
          const code: ErrorCode =
            message.code !== undefined && message.code in ERROR_CODES
              ? (message.code as ErrorCode)
              : 'INTERNAL';
          finish(new AppError(code, message.message, message.details));
        }
      });
      child.on('error', (error) => finish(error));
      // 'close' comes after the IPC channel has delivered everything ('exit' may come first).
      child.on('close', (exitCode, signal) =>
        finish(
          new AppError(
            'INTERNAL',
            `Training process exited (${signal ?? `code ${String(exitCode)}`}) without a result${stderr ? `: ${stderr.trim().slice(-500)}` : ''}`,
          ),
        ),
      );
      sendRequest(child, request).catch((error: Error) => finish(error));
    });
  }
}

/** The request as messages: its extra rows `ROWS_PER_MESSAGE` at a time, then the options. */
async function sendRequest(child: ChildProcess, request: TrainingJobRequest): Promise<void> {
  const { extraRows, ...options } = request;
  for (let start = 0; start < extraRows.length; start += ROWS_PER_MESSAGE)
    await send(child, { type: 'rows', rows: extraRows.slice(start, start + ROWS_PER_MESSAGE) });
  await send(child, { type: 'train', options });
}

/** Resolves once the message is written to the channel (a turn of the event loop later). */
function send(child: ChildProcess, message: TrainingJobInput): Promise<void> {
  return new Promise((resolve, reject) =>
    child.send(message, (error) => (error ? reject(error) : resolve())),
  );
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
