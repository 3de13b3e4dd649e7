import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type INestApplicationContext, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { AppError } from '../common/errors';
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import { type AppConfig, loadConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { TelemetryModule } from '../telemetry/telemetry.module';
import {
  type AuditEntry,
  isStage,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
} from './domain/model-version';
import type { Run, RunWithHistory } from './domain/run';
import { RegistryModule } from './registry.module';
import { RegistryService } from './registry.service';
import { TrackingService } from './tracking.service';

/** What the CLI needs from the registry; a local store or a running server provides it. */
interface RegistryClient {
  listModels(): Promise<RegisteredModel[]>;
  getModel(name: string): Promise<RegisteredModel & { versions: ModelVersion[] }>;
  getVersion(name: string, reference: string): Promise<ModelVersion>;
  register(bundle: ModelBundle, options: RegisterOptions): Promise<ModelVersion>;
  transition(name: string, version: number, stage: Stage, options: ChangeFlags): Promise<ModelVersion>;
  rollback(name: string, options: ChangeFlags & { toVersion?: number }): Promise<ModelVersion>;
  audit(name: string | undefined, limit: number): Promise<AuditEntry[]>;
  listRuns(experiment: string | undefined, limit: number): Promise<Run[]>;
  compareRuns(
    metric: string,
    experiment: string | undefined,
    order: 'asc' | 'desc',
    limit: number,
  ): Promise<Run[]>;
  getRun(runId: string): Promise<RunWithHistory>;
  close(): Promise<void>;
}

interface ModelBundle {
  onnx: Buffer;
  signature: ModelSignature;
  metrics: Record<string, unknown>;
  reference: ReferenceProfile | null;
}
interface RegisterOptions {
  name: string;
  stage?: Stage;
  description?: string;
  reason?: string;
  force?: boolean;
  parentVersion?: number;
}
interface ChangeFlags {
  reason?: string;
  force?: boolean;
}

@Module({})
class RegistryCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RegistryCliModule,
      imports: [ConfigModule.forRoot(config), TelemetryModule, DatabaseModule, RegistryModule],
    };
  }
}

/** The same services as the server, on the local store (DATA_DIR / DATABASE_URL), without HTTP. */
class LocalRegistryClient implements RegistryClient {
  private readonly actor = `cli:${userInfo().username}`;
  private constructor(
    private readonly context: INestApplicationContext,
    private readonly registry: RegistryService,
    private readonly tracking: TrackingService,
  ) {}

  static async open(): Promise<LocalRegistryClient> {
    const context = await NestFactory.createApplicationContext(RegistryCliModule.forRoot(loadConfig()), {
      logger: ['error'],
    });
    return new LocalRegistryClient(context, context.get(RegistryService), context.get(TrackingService));
  }

  listModels(): Promise<RegisteredModel[]> {
    return this.registry.listModels();
  }
  async getModel(name: string): Promise<RegisteredModel & { versions: ModelVersion[] }> {
    return { ...(await this.registry.getModel(name)), versions: await this.registry.listVersions(name) };
  }
  getVersion(name: string, reference: string): Promise<ModelVersion> {
    return this.registry.resolveVersion(name, reference);
  }
  register(bundle: ModelBundle, options: RegisterOptions): Promise<ModelVersion> {
    return this.registry.registerVersion({ ...bundle, ...options }, this.actor);
  }
  transition(name: string, version: number, stage: Stage, options: ChangeFlags): Promise<ModelVersion> {
    return this.registry.transitionStage(name, version, stage, { ...options, actor: this.actor });
  }
  rollback(name: string, options: ChangeFlags & { toVersion?: number }): Promise<ModelVersion> {
    return this.registry.rollback(name, { ...options, actor: this.actor });
  }
  audit(name: string | undefined, limit: number): Promise<AuditEntry[]> {
    return this.registry.listAudit({ model: name, limit });
  }
  listRuns(experiment: string | undefined, limit: number): Promise<Run[]> {
    return this.tracking.listRuns({ experiment, limit });
  }
  compareRuns(
    metric: string,
    experiment: string | undefined,
    order: 'asc' | 'desc',
    limit: number,
  ): Promise<Run[]> {
    return this.tracking.compareRuns({ metric, experiment, order, limit });
  }
  getRun(runId: string): Promise<RunWithHistory> {
    return this.tracking.getRunWithHistory(runId);
  }
  async close(): Promise<void> {
    await this.context.close();
  }
}

/**
 * `vigil train --track`: records a finished training folder as a run in the local store (params, metric
 * history, artifacts, git commit) and, with `register`, registers it as a new version from that run.
 */
export async function trackTrainingRun(
  folder: string,
  options: { experiment: string; register?: Stage; reason?: string },
  config: AppConfig = loadConfig(),
): Promise<{ runId: string; version?: ModelVersion }> {
  const context = await NestFactory.createApplicationContext(RegistryCliModule.forRoot(config), {
    logger: ['error'],
  });
  try {
    const tags: Record<string, string> = { source: 'vigil train' };
    const commit = gitCommit();
    if (commit) tags['git.commit'] = commit;
    const runId = await context.get(TrackingService).recordRunFromFolder(options.experiment, folder, tags);
    const version = options.register
      ? await context.get(RegistryService).registerVersionFromRun(runId, {
          stage: options.register,
          reason: options.reason,
          actor: `cli:${userInfo().username}`,
        })
      : undefined;
    return { runId, version };
  } finally {
    await context.close();
  }
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The registry API of a running server; writes send the admin token. */
class HttpRegistryClient implements RegistryClient {
  constructor(
    private readonly server: string,
    private readonly token: string | undefined,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'x-actor': userInfo().username.replace(/[^\w.@:-]/g, '_') };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(new URL(path, this.server), { method, headers, body: payload });
    } catch (error) {
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `Cannot reach ${this.server}: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      const envelope = parsed as { code?: string; message?: string; details?: unknown } | undefined;
      const error = new Error(envelope?.message ?? `HTTP ${response.status}`) as Error & {
        code?: string;
        details?: unknown;
      };
      error.code = envelope?.code ?? `HTTP_${response.status}`;
      error.details = envelope?.details;
      throw error;
    }
    return parsed as T;
  }

  listModels(): Promise<RegisteredModel[]> {
    return this.call('GET', '/v1/models');
  }
  getModel(name: string): Promise<RegisteredModel & { versions: ModelVersion[] }> {
    return this.call('GET', `/v1/models/${encodeURIComponent(name)}`);
  }
  getVersion(name: string, reference: string): Promise<ModelVersion> {
    return this.call(
      'GET',
      `/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(reference)}`,
    );
  }
  register(bundle: ModelBundle, options: RegisterOptions): Promise<ModelVersion> {
    const form = new FormData();
    form.append('model', new Blob([bundle.onnx]), 'model.onnx');
    form.append('signature', new Blob([JSON.stringify(bundle.signature)]), 'signature.json');
    form.append('metrics', new Blob([JSON.stringify(bundle.metrics)]), 'metrics.json');
    if (bundle.reference)
      form.append('reference', new Blob([JSON.stringify(bundle.reference)]), 'reference.json');
    for (const [key, value] of Object.entries(options))
      if (value !== undefined && key !== 'name') form.append(key, String(value));
    return this.call('POST', `/v1/models/${encodeURIComponent(options.name)}/versions`, form);
  }
  transition(name: string, version: number, stage: Stage, options: ChangeFlags): Promise<ModelVersion> {
    return this.call('POST', `/v1/models/${encodeURIComponent(name)}/versions/${version}/stage`, {
      stage,
      ...options,
    });
  }
  rollback(name: string, options: ChangeFlags & { toVersion?: number }): Promise<ModelVersion> {
    return this.call('POST', `/v1/models/${encodeURIComponent(name)}/rollback`, {
      reason: options.reason,
      toVersion: options.toVersion,
    });
  }
  audit(name: string | undefined, limit: number): Promise<AuditEntry[]> {
    const query = new URLSearchParams({ limit: String(limit), ...(name ? { model: name } : {}) });
    return this.call('GET', `/v1/audit?${query.toString()}`);
  }
  listRuns(experiment: string | undefined, limit: number): Promise<Run[]> {
    const query = new URLSearchParams({ limit: String(limit), ...(experiment ? { experiment } : {}) });
    return this.call('GET', `/v1/runs?${query.toString()}`);
  }
  compareRuns(
    metric: string,
    experiment: string | undefined,
    order: 'asc' | 'desc',
    limit: number,
  ): Promise<Run[]> {
    const query = new URLSearchParams({
      metric,
      order,
      limit: String(limit),
      ...(experiment ? { experiment } : {}),
    });
    return this.call('GET', `/v1/runs/compare?${query.toString()}`);
  }
  getRun(runId: string): Promise<RunWithHistory> {
    return this.call('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  }
  async close(): Promise<void> {}
}

// --- Output -----------------------------------------------------------------------------------------

type Cell = string | number | null | undefined;

/** A plain text table (no colours: it must survive pipes and CI logs). */
export function formatTable(columns: string[], rows: Cell[][]): string {
  const text = rows.map((row) =>
    row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))),
  );
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...text.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

const round = (value: number | undefined): string | undefined =>
  value === undefined ? undefined : String(Number(value.toFixed(4)));

function printVersion(version: ModelVersion): void {
  console.log(
    formatTable(
      ['field', 'value'],
      [
        ['model', version.name],
        ['version', version.version],
        ['stage', version.stage],
        ['aliases', version.aliases.join(', ') || '-'],
        ['sha256', version.sha256],
        ['size', `${version.sizeBytes} bytes`],
        [
          'primary metric',
          `${version.signature.primaryMetric} = ${round(version.metrics[version.signature.primaryMetric]) ?? '-'}`,
        ],
        [
          'metrics',
          Object.entries(version.metrics)
            .map(([key, value]) => `${key}=${round(value)}`)
            .join(' '),
        ],
        ['run', version.runId],
        ['parent version', version.parentVersion],
        ['dataset', version.datasetFingerprint.slice(0, 16)],
        ['git commit', version.gitCommit],
        ['created', `${version.createdAt} by ${version.createdBy}`],
        ['description', version.description],
      ],
    ),
  );
}

function runsTable(runs: Run[], metric?: string): string {
  const metricNames = metric
    ? [metric]
    : [...new Set(runs.flatMap((run) => Object.keys(run.metrics)))].sort().slice(0, 4);
  return formatTable(
    ['run', 'experiment', 'status', 'started', ...metricNames, 'params'],
    runs.map((run) => [
      run.runId.slice(0, 8),
      run.experiment,
      run.status,
      run.startedAt.replace('T', ' ').slice(0, 19),
      ...metricNames.map((name) => round(run.metrics[name])),
      Object.entries(run.params)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ')
        .slice(0, 60),
    ]),
  );
}

async function readBundle(directory: string): Promise<ModelBundle> {
  const json = async (file: string, required: boolean): Promise<unknown> => {
    try {
      return JSON.parse(await readFile(join(directory, file), 'utf8')) as unknown;
    } catch (error) {
      if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new AppError('INVALID_INPUT', `${join(directory, file)}: ${(error as Error).message}`);
    }
  };
  const onnx = await readFile(join(directory, 'model.onnx')).catch(() => {
    throw new AppError('INVALID_INPUT', `${join(directory, 'model.onnx')} does not exist`);
  });
  return {
    onnx,
    signature: (await json('signature.json', true)) as ModelSignature,
    metrics: ((await json('metrics.json', false)) ?? {}) as Record<string, unknown>,
    reference: (await json('reference.json', false)) as ReferenceProfile | null,
  };
}

// --- Commands ---------------------------------------------------------------------------------------

interface ClientFlags {
  server?: string;
  token?: string;
  json?: boolean;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}
function stage(value: string): Stage {
  const match = ['None', 'Staging', 'Production', 'Archived'].find(
    (candidate) => candidate.toLowerCase() === value.toLowerCase(),
  );
  if (!match || !isStage(match))
    throw new InvalidArgumentError('expected None, Staging, Production or Archived');
  return match;
}

function withClientOptions(command: Command): Command {
  return command
    .option(
      '--server <url>',
      'talk to a running Vigil server instead of the local store (e.g. http://localhost:8080)',
    )
    .option('--token <token>', 'admin token for --server writes (default: ADMIN_TOKEN)')
    .option('--json', 'print JSON instead of a table');
}

async function withClient(
  flags: ClientFlags,
  run: (client: RegistryClient) => Promise<unknown>,
): Promise<void> {
  const client = flags.server
    ? new HttpRegistryClient(flags.server, flags.token ?? loadConfig().ADMIN_TOKEN)
    : await LocalRegistryClient.open();
  try {
    const result = await run(client);
    if (flags.json && result !== undefined) console.log(JSON.stringify(result, null, 2));
  } finally {
    await client.close();
  }
}

/** `vigil models …` and `vigil runs …`: the registry from the command line. */
export function registerRegistryCommands(program: Command): void {
  const models = program
    .command('models')
    .description('Model registry: list, show, register, promote, rollback, archive, audit');

  withClientOptions(
    models.command('list').description('Registered models with their Production version'),
  ).action((flags: ClientFlags) =>
    withClient(flags, async (client) => {
      const list = await client.listModels();
      if (flags.json) return list;
      console.log(
        formatTable(
          ['model', 'production', 'latest', 'versions', 'aliases', 'description'],
          list.map((model) => [
            model.name,
            model.productionVersion,
            model.latestVersion,
            model.versionCount,
            Object.entries(model.aliases)
              .map(([alias, version]) => `${alias}→v${version}`)
              .join(' '),
            model.description,
          ]),
        ),
      );
      return undefined;
    }),
  );

  withClientOptions(
    models
      .command('show <name> [version]')
      .description('A model and its versions, or one version (number, alias, "production")'),
  ).action((name: string, version: string | undefined, flags: ClientFlags) =>
    withClient(flags, async (client) => {
      if (version !== undefined) {
        const found = await client.getVersion(name, version);
        if (flags.json) return found;
        printVersion(found);
        return undefined;
      }
      const model = await client.getModel(name);
      if (flags.json) return model;
      console.log(`${model.name}${model.description ? `: ${model.description}` : ''}\n`);
      console.log(
        formatTable(
          ['version', 'stage', 'aliases', 'primary metric', 'created', 'by', 'sha256'],
          model.versions.map((entry) => [
            entry.version,
            entry.stage,
            entry.aliases.join(', '),
            `${entry.signature.primaryMetric}=${round(entry.metrics[entry.signature.primaryMetric]) ?? '-'}`,
            entry.createdAt.replace('T', ' ').slice(0, 19),
            entry.createdBy,
            entry.sha256.slice(0, 12),
          ]),
        ),
      );
      return undefined;
    }),
  );

  withClientOptions(
    models
      .command('register <dir>')
      .description('Register model.onnx + signature.json + metrics.json [+ reference.json] from a folder')
      .option('--name <name>', "model name (default: the signature's name)")
      .addOption(new Option('--stage <stage>', 'stage to put the new version in').argParser(stage))
      .option('--description <text>', 'description')
      .option('--parent-version <n>', 'the version this one was retrained from', positiveInteger)
      .option('--reason <text>', 'reason (audit log)')
      .option('--force', 'with --stage Production: bypass the promotion gate (needs --reason)'),
  ).action(
    (
      directory: string,
      flags: ClientFlags & {
        name?: string;
        stage?: Stage;
        description?: string;
        parentVersion?: number;
        reason?: string;
        force?: boolean;
      },
    ) =>
      withClient(flags, async (client) => {
        const bundle = await readBundle(directory);
        const version = await client.register(bundle, {
          name: flags.name ?? bundle.signature.name,
          stage: flags.stage,
          description: flags.description,
          parentVersion: flags.parentVersion,
          reason: flags.reason,
          force: flags.force,
        });
        if (flags.json) return version;
        console.log(
          `Registered ${version.name} v${version.version} (${version.stage}), sha256 ${version.sha256}`,
        );
        return undefined;
      }),
  );

  withClientOptions(
    models
      .command('promote <name> <version>')
      .description('Move a version to a stage (default Production, through the promotion gate)')
      .addOption(new Option('--stage <stage>', 'target stage').argParser(stage).default('Production'))
      .option('--reason <text>', 'reason (audit log)')
      .option('--force', 'bypass the promotion gate (needs --reason)'),
  ).action(
    (
      name: string,
      version: string,
      flags: ClientFlags & { stage: Stage; reason?: string; force?: boolean },
    ) =>
      withClient(flags, async (client) => {
        const moved = await client.transition(name, positiveInteger(version), flags.stage, {
          reason: flags.reason,
          force: flags.force,
        });
        if (flags.json) return moved;
        console.log(`${moved.name} v${moved.version} is now ${moved.stage}`);
        return undefined;
      }),
  );

  withClientOptions(
    models
      .command('rollback <name>')
      .description('Put the previous Production version back in Production (the current one is archived)')
      .option('--to-version <n>', 'restore this version instead', positiveInteger)
      .option('--reason <text>', 'reason (audit log)'),
  ).action((name: string, flags: ClientFlags & { toVersion?: number; reason?: string }) =>
    withClient(flags, async (client) => {
      const restored = await client.rollback(name, { toVersion: flags.toVersion, reason: flags.reason });
      if (flags.json) return restored;
      console.log(`${restored.name} v${restored.version} is Production again`);
      return undefined;
    }),
  );

  withClientOptions(
    models
      .command('archive <name> <version>')
      .description('Archive a version')
      .option('--reason <text>', 'reason (audit log)'),
  ).action((name: string, version: string, flags: ClientFlags & { reason?: string }) =>
    withClient(flags, async (client) => {
      const archived = await client.transition(name, positiveInteger(version), 'Archived', {
        reason: flags.reason,
      });
      if (flags.json) return archived;
      console.log(`${archived.name} v${archived.version} is now Archived`);
      return undefined;
    }),
  );

  withClientOptions(
    models
      .command('audit [name]')
      .description('The audit log, newest first: who, when, what, from → to, why')
      .option('--limit <n>', 'entries', positiveInteger, 20),
  ).action((name: string | undefined, flags: ClientFlags & { limit: number }) =>
    withClient(flags, async (client) => {
      const entries = await client.audit(name, flags.limit);
      if (flags.json) return entries;
      console.log(
        formatTable(
          ['when', 'who', 'action', 'model', 'version', 'from → to', 'reason'],
          entries.map((entry) => [
            entry.at.replace('T', ' ').slice(0, 19),
            entry.actor,
            entry.action,
            entry.model,
            entry.version,
            entry.fromStage || entry.toStage ? `${entry.fromStage ?? '-'} → ${entry.toStage ?? '-'}` : '',
            entry.reason,
          ]),
        ),
      );
      return undefined;
    }),
  );

  const runs = program.command('runs').description('Experiment tracking: list, compare and show runs');

  withClientOptions(
    runs
      .command('list')
      .description('Runs, newest first')
      .option('--experiment <name>', 'only this experiment')
      .option('--limit <n>', 'runs', positiveInteger, 20),
  ).action((flags: ClientFlags & { experiment?: string; limit: number }) =>
    withClient(flags, async (client) => {
      const list = await client.listRuns(flags.experiment, flags.limit);
      if (flags.json) return list;
      console.log(runsTable(list));
      return undefined;
    }),
  );

  withClientOptions(
    runs
      .command('compare')
      .description('Runs sorted by a metric, best first')
      .requiredOption('--metric <name>', 'metric to sort by, e.g. roc_auc')
      .option('--experiment <name>', 'only this experiment')
      .addOption(
        new Option('--order <order>', 'desc (higher is better) or asc (losses)')
          .choices(['desc', 'asc'])
          .default('desc'),
      )
      .option('--limit <n>', 'runs', positiveInteger, 20),
  ).action(
    (flags: ClientFlags & { metric: string; experiment?: string; order: 'asc' | 'desc'; limit: number }) =>
      withClient(flags, async (client) => {
        const list = await client.compareRuns(flags.metric, flags.experiment, flags.order, flags.limit);
        if (flags.json) return list;
        console.log(runsTable(list, flags.metric));
        return undefined;
      }),
  );

  withClientOptions(runs.command('show <runId>').description('One run with its metric history')).action(
    (runId: string, flags: ClientFlags) =>
      withClient(flags, async (client) => {
        const run = await client.getRun(runId);
        if (flags.json) return run;
        console.log(runsTable([run]));
        for (const [key, points] of Object.entries(run.history))
          console.log(`\n${key}: ${points.map((point) => `${point.step}:${round(point.value)}`).join(' ')}`);
        return undefined;
      }),
  );
}
