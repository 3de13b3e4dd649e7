import { Injectable } from '@nestjs/common';
import { AppError, ModelNotFoundError, ModelNotReadyError, VersionNotFoundError } from '../common/errors';
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import { AppConfig } from '../config/config';
import type { SqlExecutor } from '../database/sql-database';
import { AppLogger } from '../telemetry/logger';
import { ArtifactStore } from './artifact.store';
import { flattenMetrics } from './domain/metrics';
import type {
  AuditAction,
  AuditEntry,
  ModelVersion,
  ParamValue,
  RegisteredModel,
  Stage,
  StageChange,
} from './domain/model-version';
import { evaluatePromotionGate } from './domain/promotion-gate';
import { graphProblems, signatureProblems } from './domain/signature-check';
import { aliasProblem, modelNameProblem, transitionProblem } from './domain/stages';
import { OnnxInspector } from './onnx-inspector.adapter';
import { RegistryStore } from './registry.store';
import { TrackingService } from './tracking.service';

export interface RegisterVersionInput {
  name: string;
  /** The ONNX model bytes. */
  onnx: Buffer;
  signature: ModelSignature;
  /** Flat metrics, or `metrics.json` as training writes it (`{ test: {…} }`). */
  metrics: Record<string, unknown>;
  params?: Record<string, ParamValue>;
  reference?: ReferenceProfile | null;
  runId?: string | null;
  parentVersion?: number | null;
  description?: string | null;
  gitCommit?: string | null;
  /** Move the new version to this stage at once (Production goes through the promotion gate). */
  stage?: Stage;
  reason?: string;
  force?: boolean;
}

export interface ChangeOptions {
  actor: string;
  reason?: string;
  force?: boolean;
}

type Listener = (event: StageChange) => void;

/**
 * The model registry: registered models, versions, stages (exactly one Production per model),
 * aliases, the promotion gate, rollback and the audit log. Every write runs in one transaction that
 * first locks the model's row, so concurrent writers (other processes included) queue up.
 */
@Injectable()
export class RegistryService {
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly store: RegistryStore,
    private readonly artifacts: ArtifactStore,
    private readonly inspector: OnnxInspector,
    private readonly tracking: TrackingService,
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  // --- Reads ----------------------------------------------------------------------------------------

  async listModels(): Promise<RegisteredModel[]> {
    return this.store.listModels();
  }

  async getModel(name: string): Promise<RegisteredModel> {
    const model = (await this.store.listModels()).find((candidate) => candidate.name === name);
    if (!model) throw new ModelNotFoundError(name);
    return model;
  }

  async listVersions(name: string, stage?: Stage): Promise<ModelVersion[]> {
    await this.assertModel(this.store.database, name);
    return this.store.listVersions(name, stage);
  }

  async listProductionVersions(): Promise<ModelVersion[]> {
    return this.store.listProductionVersions();
  }

  async getProductionVersion(name: string): Promise<ModelVersion> {
    const version = await this.store.productionVersion(this.store.database, name);
    if (version) return version;
    await this.assertModel(this.store.database, name);
    throw new ModelNotReadyError(name, 'has no Production version');
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    const found = await this.store.getVersion(this.store.database, name, version);
    if (found) return found;
    await this.assertModel(this.store.database, name);
    throw new VersionNotFoundError(name, version);
  }

  /** A version by number, alias (`champion`) or stage name (`production`, `staging`: the latest). */
  async resolveVersion(name: string, reference: string): Promise<ModelVersion> {
    if (/^\d+$/.test(reference)) return this.getVersion(name, Number(reference));
    if (reference.toLowerCase() === 'production') return this.getProductionVersion(name);
    const alias = await this.store.aliasVersion(this.store.database, name, reference);
    if (alias !== null) return this.getVersion(name, alias);
    const stage = (['None', 'Staging', 'Archived'] as const).find(
      (candidate) => candidate.toLowerCase() === reference.toLowerCase(),
    );
    if (stage) {
      const versions = await this.listVersions(name, stage);
      const latest = versions.at(-1);
      if (latest) return latest;
    }
    await this.assertModel(this.store.database, name);
    throw new VersionNotFoundError(name, reference);
  }

  /** The ONNX bytes, verified against the version's sha256 (INVALID_ARTIFACT on mismatch). */
  async readArtifact(version: ModelVersion): Promise<Buffer> {
    return this.artifacts.read(version.sha256);
  }

  async getReference(name: string, version: number): Promise<ReferenceProfile | null> {
    const reference = await this.store.reference(name, version);
    if (reference === undefined) await this.getVersion(name, version);
    return reference ?? null;
  }

  async listAudit(filter: { model?: string; limit?: number; beforeId?: number } = {}): Promise<AuditEntry[]> {
    return this.store.listAudit({ ...filter, limit: Math.min(Math.max(filter.limit ?? 100, 1), 1000) });
  }

  /** In-process notification of every stage change; returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- Writes ---------------------------------------------------------------------------------------

  async registerVersion(input: RegisterVersionInput, actor: string): Promise<ModelVersion> {
    const { signature, metrics, reference } = await this.validateUpload(input);
    if (input.stage !== undefined) this.checkForce(input);
    const { sha256, sizeBytes, created } = await this.artifacts.put(input.onnx);
    const changes: StageChange[] = [];
    const registered = await this.store.database
      .transaction(async (tx) => {
        const at = new Date().toISOString();
        await this.store.ensureModel(tx, input.name, at);
        await this.store.lockModel(tx, input.name, at);
        if (
          input.parentVersion !== undefined &&
          input.parentVersion !== null &&
          !(await this.store.getVersion(tx, input.name, input.parentVersion))
        )
          throw new AppError(
            'INVALID_INPUT',
            `parentVersion ${input.parentVersion} does not exist for "${input.name}"`,
          );
        const version = await this.store.allocateVersion(tx, input.name);
        await this.store.insertVersion(tx, {
          name: input.name,
          version,
          stage: 'None',
          sha256,
          sizeBytes,
          signature,
          metrics,
          params: input.params ?? signature.hyperParameters ?? {},
          reference,
          runId: input.runId ?? null,
          parentVersion: input.parentVersion ?? null,
          datasetFingerprint: signature.datasetFingerprint,
          gitCommit: input.gitCommit ?? null,
          description: input.description ?? null,
          createdBy: actor,
          at,
        });
        await this.store.insertAudit(tx, {
          at,
          actor,
          action: 'register',
          model: input.name,
          version,
          fromStage: null,
          toStage: 'None',
          reason: input.reason ?? null,
          details: {
            sha256,
            sizeBytes,
            runId: input.runId ?? null,
            parentVersion: input.parentVersion ?? null,
          },
        });
        if (input.stage !== undefined && input.stage !== 'None') {
          changes.push(
            ...(await this.applyTransition(tx, input.name, version, input.stage, {
              actor,
              reason: input.reason,
              force: input.force,
            })),
          );
        }
        return version;
      })
      .catch(async (error: unknown) => {
        // Only a file this call created: an identical one may belong to a version being registered now.
        if (created) await this.collectArtifact(sha256);
        throw error;
      });
    this.logger.info(`Registered ${input.name} v${registered}`, {
      'event.action': 'model-register',
      'vigil.model': input.name,
      'vigil.version': registered,
      'vigil.sha256': sha256,
      'user.name': actor,
    });
    this.logChanges(changes, actor);
    this.emit(changes);
    return this.getVersion(input.name, registered);
  }

  /** Registers the model a finished run produced (its `model.onnx`, `signature.json`, … artifacts). */
  async registerVersionFromRun(
    runId: string,
    options: {
      name?: string;
      description?: string;
      stage?: Stage;
      reason?: string;
      force?: boolean;
      actor: string;
    },
  ): Promise<ModelVersion> {
    const run = await this.tracking.getRun(runId);
    if (run.status !== 'FINISHED')
      throw new AppError('CONFLICT', `Run ${runId} is ${run.status}; only FINISHED runs can be registered`);
    const read = async (artifact: string): Promise<Buffer | null> =>
      this.tracking.readRunArtifact(run, artifact);
    const onnx = await read('model.onnx');
    const signatureBytes = await read('signature.json');
    if (!onnx || !signatureBytes)
      throw new AppError(
        'INVALID_INPUT',
        `Run ${runId} has no model.onnx and signature.json artifacts to register`,
      );
    const signature = parseJson(signatureBytes, 'signature.json') as ModelSignature;
    const metricsBytes = await read('metrics.json');
    const referenceBytes = await read('reference.json');
    return this.registerVersion(
      {
        name: options.name ?? signature.name,
        onnx,
        signature,
        metrics: metricsBytes
          ? (parseJson(metricsBytes, 'metrics.json') as Record<string, unknown>)
          : run.metrics,
        params: run.params,
        reference: referenceBytes ? (parseJson(referenceBytes, 'reference.json') as ReferenceProfile) : null,
        runId,
        description: options.description,
        gitCommit: run.tags['git.commit'] ?? null,
        stage: options.stage,
        reason: options.reason,
        force: options.force,
      },
      options.actor,
    );
  }

  async transitionStage(
    name: string,
    version: number,
    stage: Stage,
    options: ChangeOptions,
  ): Promise<ModelVersion> {
    this.checkForce(options);
    const changes = await this.store.database.transaction(async (tx) => {
      await this.lockExisting(tx, name);
      return this.applyTransition(tx, name, version, stage, options);
    });
    this.logChanges(changes, options.actor);
    this.emit(changes);
    return this.getVersion(name, version);
  }

  async archive(name: string, version: number, options: ChangeOptions): Promise<ModelVersion> {
    return this.transitionStage(name, version, 'Archived', options);
  }

  /**
   * Production goes back to the version that was Production before the current one (or to
   * `toVersion`); the current one is archived. No gate: it restores a version that already served.
   * Like `kubectl rollout undo`, a second rollback returns to where the first started.
   */
  async rollback(name: string, options: ChangeOptions & { toVersion?: number }): Promise<ModelVersion> {
    const { changes, target } = await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      const current = await this.store.productionVersion(tx, name);
      const target =
        options.toVersion ?? (await this.store.previousProductionVersion(tx, name, current?.version ?? -1));
      if (target === null)
        throw new AppError('CONFLICT', `Model "${name}" has no previous Production version to roll back to`);
      const targetVersion = await this.store.getVersion(tx, name, target);
      if (!targetVersion) throw new VersionNotFoundError(name, target);
      if (current?.version === target)
        throw new AppError('CONFLICT', `Model "${name}" v${target} is already the Production version`);
      const changes: StageChange[] = [];
      if (current) {
        await this.store.setStage(tx, name, current.version, 'Archived', at);
        await this.audit(tx, 'rollback', options, current, 'Archived', at, { rolledBackTo: target });
        changes.push({ name, version: current.version, stage: 'Archived' });
      }
      await this.store.setStage(tx, name, target, 'Production', at);
      await this.audit(tx, 'rollback', options, targetVersion, 'Production', at, {
        rolledBackFrom: current?.version ?? null,
      });
      changes.push({ name, version: target, stage: 'Production' });
      return { changes, target };
    });
    this.logChanges(changes, options.actor);
    this.emit(changes);
    return this.getVersion(name, target);
  }

  async deleteVersion(name: string, version: number, options: ChangeOptions): Promise<void> {
    const existing = await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      const existing = await this.store.getVersion(tx, name, version);
      if (!existing) throw new VersionNotFoundError(name, version);
      if (existing.stage === 'Production')
        throw new AppError(
          'CONFLICT',
          `${name} v${version} is in Production; archive it or promote another version before deleting it`,
        );
      await this.store.deleteVersion(tx, name, version);
      await this.audit(tx, 'delete_version', options, existing, null, at, { sha256: existing.sha256 });
      return existing;
    });
    await this.collectArtifact(existing.sha256);
  }

  async deleteModel(name: string, options: ChangeOptions): Promise<void> {
    const versions = await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      const production = await this.store.productionVersion(tx, name);
      if (production)
        throw new AppError(
          'CONFLICT',
          `Model "${name}" has a Production version (v${production.version}); archive it first`,
        );
      const versions = await this.store.listVersions(name, undefined, tx);
      await this.store.deleteModel(tx, name);
      await this.store.insertAudit(tx, {
        at,
        actor: options.actor,
        action: 'delete_model',
        model: name,
        version: null,
        fromStage: null,
        toStage: null,
        reason: options.reason ?? null,
        details: { versions: versions.map((version) => version.version) },
      });
      return versions;
    });
    for (const version of versions) await this.collectArtifact(version.sha256);
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    options: ChangeOptions,
  ): Promise<ModelVersion> {
    const problem = aliasProblem(alias);
    if (problem) throw new AppError('INVALID_INPUT', problem);
    await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      const target = await this.store.getVersion(tx, name, version);
      if (!target) throw new VersionNotFoundError(name, version);
      const previous = await this.store.setAlias(tx, name, alias, version, at);
      await this.audit(tx, 'set_alias', options, target, null, at, { alias, previousVersion: previous });
    });
    return this.getVersion(name, version);
  }

  async removeAlias(name: string, alias: string, options: ChangeOptions): Promise<void> {
    await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      const previous = await this.store.removeAlias(tx, name, alias);
      if (previous === null) throw new AppError('NOT_FOUND', `Model "${name}" has no alias "${alias}"`);
      await this.store.insertAudit(tx, {
        at,
        actor: options.actor,
        action: 'remove_alias',
        model: name,
        version: previous,
        fromStage: null,
        toStage: null,
        reason: options.reason ?? null,
        details: { alias },
      });
    });
  }

  async updateModel(
    name: string,
    changes: { description?: string | null; tags?: Record<string, string> },
    options: ChangeOptions,
  ): Promise<RegisteredModel> {
    await this.store.database.transaction(async (tx) => {
      const at = await this.lockExisting(tx, name);
      await this.store.updateModel(tx, name, changes, at);
      await this.store.insertAudit(tx, {
        at,
        actor: options.actor,
        action: 'update_model',
        model: name,
        version: null,
        fromStage: null,
        toStage: null,
        reason: options.reason ?? null,
        details: { ...changes },
      });
    });
    return this.getModel(name);
  }

  // --- Internals ------------------------------------------------------------------------------------

  /** Checks the upload before anything is stored: size, ONNX, ONNX Runtime, signature vs graph. */
  private async validateUpload(input: RegisterVersionInput): Promise<{
    signature: ModelSignature;
    metrics: Record<string, number>;
    reference: ReferenceProfile | null;
  }> {
    const nameProblem = modelNameProblem(input.name);
    if (nameProblem) throw new AppError('INVALID_INPUT', nameProblem);
    if (input.onnx.length > this.config.MAX_UPLOAD_BYTES)
      throw new AppError(
        'INVALID_ARTIFACT',
        `The model file is ${input.onnx.length} bytes, over the ${this.config.MAX_UPLOAD_BYTES}-byte limit (MAX_UPLOAD_BYTES)`,
      );
    if (input.onnx.length === 0) throw new AppError('INVALID_ARTIFACT', 'The model file is empty');
    const problems = signatureProblems(input.signature);
    if (problems.length > 0)
      throw new AppError('INVALID_ARTIFACT', `The signature is invalid: ${problems.join('; ')}`, problems);
    const { metrics, problems: metricProblems } = flattenMetrics(input.metrics);
    if (metricProblems.length > 0)
      throw new AppError('INVALID_ARTIFACT', metricProblems.join('; '), metricProblems);
    const reference = input.reference ?? null;
    if (reference !== null && (typeof reference !== 'object' || Array.isArray(reference)))
      throw new AppError('INVALID_ARTIFACT', 'The reference profile must be a JSON object');
    const graph = await this.inspector.inspect(input.onnx);
    const mismatches = graphProblems(input.signature, graph);
    if (mismatches.length > 0)
      throw new AppError(
        'INVALID_ARTIFACT',
        `The signature does not match the ONNX graph: ${mismatches.join('; ')}`,
        mismatches,
      );
    return { signature: input.signature, metrics, reference };
  }

  private checkForce(options: { force?: boolean; reason?: string }): void {
    if (options.force && !options.reason?.trim())
      throw new AppError(
        'INVALID_INPUT',
        'A forced promotion needs a reason (it is written to the audit log)',
      );
  }

  /** Moves one version inside an open transaction; archives the previous Production version first. */
  private async applyTransition(
    tx: SqlExecutor,
    name: string,
    version: number,
    stage: Stage,
    options: ChangeOptions,
  ): Promise<StageChange[]> {
    const at = new Date().toISOString();
    const candidate = await this.store.getVersion(tx, name, version);
    if (!candidate) throw new VersionNotFoundError(name, version);
    const problem = transitionProblem(candidate.stage, stage);
    if (problem) throw new AppError('CONFLICT', `${name} v${version} ${problem}`);
    const changes: StageChange[] = [];
    let gateDetails: Record<string, unknown> = {};
    if (stage === 'Production') {
      const production = await this.store.productionVersion(tx, name);
      const gate = evaluatePromotionGate({
        primaryMetric: candidate.signature.primaryMetric,
        candidateVersion: version,
        candidateMetrics: candidate.metrics,
        production: production && { version: production.version, metrics: production.metrics },
        tolerance: this.config.PROMOTION_TOLERANCE,
      });
      if (!gate.allowed && !options.force)
        throw new AppError(
          'PROMOTION_REFUSED',
          `Promotion of ${name} v${version} to Production refused: ${gate.reason}. Pass force with a reason to override.`,
          gate.details,
        );
      gateDetails = { gate: gate.reason, forced: !gate.allowed };
      if (production) {
        await this.store.setStage(tx, name, production.version, 'Archived', at);
        await this.audit(
          tx,
          'transition',
          { ...options, reason: `superseded by v${version}` },
          production,
          'Archived',
          at,
          {},
        );
        changes.push({ name, version: production.version, stage: 'Archived' });
      }
    }
    await this.store.setStage(tx, name, version, stage, at);
    await this.audit(tx, 'transition', options, candidate, stage, at, gateDetails);
    changes.push({ name, version, stage });
    return changes;
  }

  private async audit(
    tx: SqlExecutor,
    action: AuditAction,
    options: ChangeOptions,
    version: ModelVersion,
    toStage: Stage | null,
    at: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.store.insertAudit(tx, {
      at,
      actor: options.actor,
      action,
      model: version.name,
      version: version.version,
      fromStage: version.stage,
      toStage,
      reason: options.reason ?? null,
      details: Object.keys(details).length > 0 ? details : null,
    });
  }

  /** Locks the model's row for this transaction; ModelNotFoundError when there is none. */
  private async lockExisting(tx: SqlExecutor, name: string): Promise<string> {
    const at = new Date().toISOString();
    if (!(await this.store.lockModel(tx, name, at))) throw new ModelNotFoundError(name);
    return at;
  }

  private async assertModel(tx: SqlExecutor, name: string): Promise<void> {
    if (!(await this.store.modelExists(tx, name))) throw new ModelNotFoundError(name);
  }

  /** Artifacts are shared by content: a file goes only when no version and no run uses it. */
  private async collectArtifact(sha256: string): Promise<void> {
    try {
      if ((await this.store.countBySha(this.store.database, sha256)) > 0) return;
      if (await this.tracking.artifactInUse(sha256)) return;
      await this.artifacts.remove(sha256);
    } catch (error) {
      this.logger.warn('Could not remove an unused artifact', {
        'event.action': 'artifact-gc',
        'vigil.sha256': sha256,
        'error.message': (error as Error).message,
      });
    }
  }

  private logChanges(changes: StageChange[], actor: string): void {
    for (const change of changes)
      this.logger.info(`${change.name} v${change.version} → ${change.stage}`, {
        'event.action': 'model-stage-change',
        'vigil.model': change.name,
        'vigil.version': change.version,
        'vigil.stage': change.stage,
        'user.name': actor,
      });
  }

  private emit(changes: StageChange[]): void {
    for (const change of changes)
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (error) {
          this.logger.warn('A registry change listener failed', {
            'event.action': 'registry-listener',
            'error.message': (error as Error).message,
          });
        }
      }
  }
}

function parseJson(content: Buffer, what: string): unknown {
  try {
    return JSON.parse(content.toString('utf8')) as unknown;
  } catch (error) {
    throw new AppError('INVALID_ARTIFACT', `${what} is not valid JSON: ${(error as Error).message}`);
  }
}
