import { type Command, InvalidArgumentError, Option } from 'commander';
import { isAppError } from '../common/errors';
import { STAGES, type Stage } from '../registry/domain/model-version';
import { trackTrainingRun } from '../registry/registry.command';
import { BUILT_IN_DATASETS, loadDatasetSource } from './datasets/dataset.loader';
import { DataQualityError, checkDataQuality, formatQualityReport } from './domain/data-quality';
import { type StepRecord } from './domain/logistic-regression';
import { writeArtifacts } from './training-artifacts.adapter';
import {
  ALGORITHMS,
  type Algorithm,
  DEFAULT_SEED,
  type TrainingPhase,
  defaultHyperParameters,
  trainModel,
} from './training.service';

/** A one-line progress bar on stderr (redrawn in place on a terminal, every 25 % otherwise). */
class ProgressBar {
  private lastQuarter = -1;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  phase(phase: TrainingPhase): void {
    if (!this.enabled) return;
    if (phase !== 'fitting') this.end();
    this.stream.write(`${phase}…\n`);
  }

  step(record: StepRecord, maxSteps: number): void {
    if (!this.enabled) return;
    const fraction = Math.min(1, record.step / maxSteps);
    const loss = `train loss ${record.trainLoss.toFixed(4)}${
      record.validationLoss === undefined ? '' : `, validation loss ${record.validationLoss.toFixed(4)}`
    }`;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${record.step}/${maxSteps} ${loss}  `,
      );
      this.lastQuarter = 0;
    } else {
      const quarter = Math.floor(fraction * 4);
      if (quarter > this.lastQuarter) {
        this.lastQuarter = quarter;
        this.stream.write(`  step ${record.step}/${maxSteps}: ${loss}\n`);
      }
    }
  }

  end(): void {
    if (this.enabled && this.stream.isTTY && this.lastQuarter >= 0) this.stream.write('\n');
    this.lastQuarter = -1;
  }
}

function collectParam(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const match = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return { ...(previous ?? {}), [match[1] as string]: match[2] as string };
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0) throw new InvalidArgumentError('a non-negative integer');
  return seed;
}

const paramsHelp = (): string =>
  ALGORITHMS.map(
    (algorithm) =>
      `  ${algorithm}: ${Object.entries(defaultHyperParameters(algorithm))
        .map(([key, value]) => `${key}=${Number.isNaN(value) ? 'auto' : value}`)
        .join(' ')}`,
  ).join('\n');

interface TrainFlags {
  dataset: string;
  csv?: string;
  algorithm: Algorithm;
  seed: number;
  out?: string;
  param?: Record<string, string>;
  json?: boolean;
  progress: boolean;
  track?: boolean;
  experiment?: string;
  register?: string;
}

interface ValidateFlags {
  dataset: string;
  csv?: string;
  json?: boolean;
}

export function registerTrainingCommands(program: Command): void {
  program
    .command('train')
    .description(
      'Train a classifier and write model.onnx, signature.json, metrics.json, reference.json and history.json',
    )
    .requiredOption(
      '-d, --dataset <name|spec.json>',
      `a built-in data set (${BUILT_IN_DATASETS.join(', ')}) or a dataset spec file`,
    )
    .option('--csv <file>', 'the CSV to train on (for a spec without a "csv" field)')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'logistic regression or gradient-boosted trees')
        .choices(ALGORITHMS)
        .makeOptionMandatory(),
    )
    .option('-s, --seed <n>', 'seed of the split and the reference sample', parseSeed, DEFAULT_SEED)
    .option('-o, --out <dir>', 'output folder (default: models/<dataset name>)')
    .option('-p, --param <key=value>', 'a hyper-parameter override (repeatable)', collectParam)
    .option('--json', 'print a JSON summary on stdout (errors too)')
    .option('--no-progress', 'no progress output on stderr')
    .option('--track', 'record the training as a run in the registry (DATA_DIR / DATABASE_URL)')
    .option('--experiment <name>', 'experiment of the tracked run (default: the data set name)')
    .addOption(
      new Option(
        '--register <stage>',
        'with --track: register the run as a new version in this stage',
      ).choices(STAGES.filter((stage) => stage !== 'Archived')),
    )
    .addHelpText(
      'after',
      `
Hyper-parameters (defaults):
${paramsHelp()}
  decisionThreshold=auto picks the best positive-class F1 on the validation split (binary only).

Exit status: 0 on success; 1 when the data-quality gate or a metric gate of the spec fails
(the message names the column, rows and problem, or the metric and its minimum), or on bad arguments.

Examples:
  vigil train --dataset iris --algorithm logreg --out models/iris
  vigil train --dataset credit --algorithm gbdt --param rounds=500 --param learningRate=0.05
  vigil train --dataset ./loans.spec.json --csv ./loans.csv --algorithm gbdt --json
  vigil train --dataset credit --algorithm gbdt --out /tmp/credit-v2 --track --register Staging`,
    )
    .action(async (flags: TrainFlags) => {
      const progress = new ProgressBar(process.stderr, flags.progress);
      try {
        const result = await trainModel({
          dataset: flags.dataset,
          csvPath: flags.csv,
          algorithm: flags.algorithm,
          seed: flags.seed,
          hyperParameters: flags.param,
          onPhase: (phase) => progress.phase(phase),
          onStep: (record, maxSteps) => progress.step(record, maxSteps),
        });
        progress.end();
        const outDir = flags.out ?? `models/${result.spec.name}`;
        const files = writeArtifacts(result, outDir);
        const tracked =
          flags.track || flags.register
            ? await trackTrainingRun(outDir, {
                experiment: flags.experiment ?? result.spec.name,
                register: flags.register as Stage | undefined,
                reason: 'vigil train --register',
              })
            : undefined;
        const warnings = result.quality.findings.filter((f) => f.severity === 'warning');
        if (flags.json) {
          console.log(
            JSON.stringify(
              {
                outDir,
                files,
                name: result.signature.name,
                family: result.signature.family,
                seed: result.signature.seed,
                test: result.metrics.test,
                decisionThreshold: result.metrics.decisionThreshold,
                iterations: result.metrics.iterations,
                bestIteration: result.metrics.bestIteration,
                trainingSeconds: result.trainingSeconds,
                qualityWarnings: warnings.map((w) => w.message),
                runId: tracked?.runId,
                registeredVersion: tracked?.version?.version,
              },
              null,
              2,
            ),
          );
          return;
        }
        for (const warning of warnings) console.error(`data quality warning: ${warning.message}`);
        const t = result.metrics.test;
        const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(4));
        console.log(
          `${result.signature.name} ${result.signature.family}: test accuracy ${fmt(t.accuracy)}, macro F1 ${fmt(t.macro_f1)}, ` +
            `ROC AUC ${fmt(t.roc_auc)}, log loss ${fmt(t.log_loss)} (${t.rows} rows)` +
            (result.metrics.decisionThreshold === undefined
              ? ''
              : `, threshold ${result.metrics.decisionThreshold}`),
        );
        console.log(
          `fitted in ${result.trainingSeconds.toFixed(2)} s (${result.metrics.bestIteration}/${result.metrics.iterations} iterations kept); wrote ${outDir}/`,
        );
        for (const [file, digest] of Object.entries(files)) console.log(`  ${file}  sha256 ${digest}`);
        if (tracked) console.log(`recorded run ${tracked.runId}`);
        if (tracked?.version)
          console.log(
            `registered ${tracked.version.name} version ${tracked.version.version} (${tracked.version.stage})`,
          );
      } catch (error) {
        progress.end();
        if (error instanceof DataQualityError && !flags.json)
          console.error(formatQualityReport(error.report));
        if (flags.json && isAppError(error)) {
          console.log(
            JSON.stringify(
              { error: { code: error.code, message: error.message, details: error.details } },
              null,
              2,
            ),
          );
        }
        throw error;
      }
    });

  program
    .command('validate-data')
    .description('Run the data-quality gate on a data set without training')
    .requiredOption(
      '-d, --dataset <name|spec.json>',
      `a built-in data set (${BUILT_IN_DATASETS.join(', ')}) or a dataset spec file`,
    )
    .option(
      '--csv <file>',
      'the CSV to check (for a spec without a "csv" field, or to check a file against a built-in spec)',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Checks: schema and types, missing values, values outside declared bounds, unknown categories,
label set, duplicate rows, class imbalance, minimum rows (thresholds from the spec's "quality").
Exit status: 0 when no finding is blocking, 1 otherwise.

Example:
  vigil validate-data --dataset ./loans.spec.json --csv ./loans.csv`,
    )
    .action((flags: ValidateFlags) => {
      const source = loadDatasetSource(flags.dataset, flags.csv);
      const { report } = checkDataQuality(source.spec, source.table);
      console.log(flags.json ? JSON.stringify(report, null, 2) : formatQualityReport(report));
      if (!report.passed) process.exitCode = 1;
    });
}
