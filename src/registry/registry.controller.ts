import {
  type ArgumentMetadata,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  Param,
  ParseIntPipe,
  Patch,
  PayloadTooLargeException,
  Post,
  Put,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { FileFieldsInterceptor, type UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import { UploadedFiles } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { catchError, type Observable, throwError } from 'rxjs';
import { AdminTokenGuard, actorOf, type RequestWithActor } from '../common/admin-token.guard';
import { AppError } from '../common/errors';
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import { AppConfig } from '../config/config';
import {
  type AuditEntry,
  isStage,
  type ModelVersion,
  type ParamValue,
  type RegisteredModel,
} from './domain/model-version';
import {
  AUDIT_EXAMPLE,
  MODEL_VERSION_EXAMPLE,
  PROMOTION_REFUSED_EXAMPLE,
  ReasonRequestDto,
  RollbackRequestDto,
  SetAliasRequestDto,
  TransitionStageRequestDto,
  UpdateModelRequestDto,
} from './registry.dto';
import { RegistryService } from './registry.service';

/** Registry bodies are flat; class-transformer recurses once per level and overflows the stack on deep JSON. */
const MAX_BODY_DEPTH = 32;

function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const item of Object.values(value)) if (nestedDeeperThan(item, limit - 1)) return true;
  return false;
}

/** ValidationPipe that first refuses bodies nested deeper than MAX_BODY_DEPTH (400, not a 500). */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (nestedDeeperThan(value, MAX_BODY_DEPTH))
      throw new AppError('INVALID_INPUT', `The body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

export const validate = new BoundedValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
});

/** Turns the multipart layer's 413 into the registry's 400 INVALID_ARTIFACT with the limit in it. */
@Injectable()
export class UploadLimitInterceptor implements NestInterceptor {
  constructor(private readonly config: AppConfig) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() =>
            error instanceof PayloadTooLargeException
              ? new AppError(
                  'INVALID_ARTIFACT',
                  `The uploaded file is larger than the ${this.config.MAX_UPLOAD_BYTES}-byte limit (MAX_UPLOAD_BYTES); nothing was stored`,
                )
              : error,
          ),
        ),
      );
  }
}

type UploadFields = 'model' | 'signature' | 'metrics' | 'reference';
type UploadedParts = Partial<Record<UploadFields, UploadedMultipartFile[]>>;

/** A JSON part sent either as a file (`-F signature=@signature.json`) or as a text field. */
function jsonPart(
  files: UploadedParts,
  body: Record<string, unknown>,
  field: UploadFields,
  required: boolean,
): unknown {
  const file = files[field]?.[0]?.buffer;
  const raw = file ? file.toString('utf8') : body[field];
  if (raw === undefined || raw === '') {
    if (required)
      throw new AppError('INVALID_INPUT', `The multipart field "${field}" (${field}.json) is required`);
    return undefined;
  }
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new AppError('INVALID_ARTIFACT', `${field}.json is not valid JSON: ${(error as Error).message}`);
  }
}

function textField(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

const ADMIN_ERRORS = [
  ApiBearerAuth(),
  ApiUnauthorizedResponse({ description: 'No bearer token (or ADMIN_TOKEN unset on the server)' }),
  ApiForbiddenResponse({ description: 'Wrong bearer token' }),
];
function AdminOnly(): MethodDecorator {
  return (target, key, descriptor) => {
    UseGuards(AdminTokenGuard)(target, key, descriptor);
    for (const decorate of ADMIN_ERRORS) decorate(target, key, descriptor);
  };
}

const NAME_PARAM = ApiParam({ name: 'name', example: 'credit' });
const VERSION_PARAM = ApiParam({ name: 'version', example: 2 });

@ApiTags('registry')
@Controller('v1')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  // --- Models ---------------------------------------------------------------------------------------

  @Get('models')
  @ApiOperation({ summary: 'List registered models with their Production version and aliases' })
  @ApiOkResponse({
    schema: {
      example: [
        {
          name: 'credit',
          description: 'Credit default risk',
          tags: { team: 'risk' },
          productionVersion: 2,
          latestVersion: 3,
          versionCount: 3,
          aliases: { champion: 2 },
          createdAt: '2026-11-23T07:30:00.000Z',
          updatedAt: '2026-11-23T07:41:02.001Z',
        },
      ],
    },
  })
  async listModels(): Promise<RegisteredModel[]> {
    return this.registry.listModels();
  }

  @Get('models/:name')
  @ApiOperation({ summary: 'One registered model and all its versions' })
  @NAME_PARAM
  async getModel(@Param('name') name: string): Promise<RegisteredModel & { versions: ModelVersion[] }> {
    const model = await this.registry.getModel(name);
    return { ...model, versions: await this.registry.listVersions(name) };
  }

  @Patch('models/:name')
  @AdminOnly()
  @ApiOperation({ summary: "Update a model's description or tags" })
  @NAME_PARAM
  async updateModel(
    @Param('name') name: string,
    @Body(validate) body: UpdateModelRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<RegisteredModel> {
    return this.registry.updateModel(name, body, { actor: actorOf(request) });
  }

  @Delete('models/:name')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a model and all its versions (refused while it has a Production version)',
  })
  @NAME_PARAM
  @ApiQuery({ name: 'reason', required: false })
  @ApiConflictResponse({ description: 'The model has a Production version' })
  async deleteModel(
    @Param('name') name: string,
    @Query('reason') reason: string | undefined,
    @Req() request: RequestWithActor,
  ): Promise<void> {
    await this.registry.deleteModel(name, { actor: actorOf(request), reason });
  }

  // --- Versions -------------------------------------------------------------------------------------

  @Get('models/:name/versions')
  @ApiOperation({ summary: 'List the versions of a model, optionally of one stage' })
  @NAME_PARAM
  @ApiQuery({ name: 'stage', required: false, enum: ['None', 'Staging', 'Production', 'Archived'] })
  @ApiOkResponse({ schema: { example: [MODEL_VERSION_EXAMPLE] } })
  async listVersions(@Param('name') name: string, @Query('stage') stage?: string): Promise<ModelVersion[]> {
    if (stage !== undefined && !isStage(stage))
      throw new AppError('INVALID_INPUT', `stage must be one of None, Staging, Production, Archived`);
    return this.registry.listVersions(name, stage);
  }

  @Post('models/:name/versions')
  @AdminOnly()
  @UseInterceptors(
    UploadLimitInterceptor,
    FileFieldsInterceptor([
      { name: 'model', maxCount: 1 },
      { name: 'signature', maxCount: 1 },
      { name: 'metrics', maxCount: 1 },
      { name: 'reference', maxCount: 1 },
    ]),
  )
  @ApiOperation({
    summary: 'Register a new version (multipart upload)',
    description:
      'Validated before anything is stored: an ONNX file that ONNX Runtime loads, a signature consistent ' +
      'with the graph inputs/outputs, at most MAX_UPLOAD_BYTES. JSON parts may be files or text fields.',
  })
  @NAME_PARAM
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'signature', 'metrics'],
      properties: {
        model: { type: 'string', format: 'binary', description: 'model.onnx' },
        signature: { type: 'string', format: 'binary', description: 'signature.json' },
        metrics: { type: 'string', format: 'binary', description: 'metrics.json ({"test": {...}} or flat)' },
        reference: { type: 'string', format: 'binary', description: 'reference.json (optional)' },
        description: { type: 'string', example: 'Retrained on November feedback' },
        stage: { type: 'string', enum: ['None', 'Staging', 'Production'], example: 'Staging' },
        runId: { type: 'string' },
        parentVersion: { type: 'integer', example: 1 },
        gitCommit: { type: 'string', example: '54d628a' },
        reason: { type: 'string' },
        force: { type: 'boolean' },
      },
    },
  })
  @ApiOkResponse({ schema: { example: { ...MODEL_VERSION_EXAMPLE, stage: 'Staging', aliases: [] } } })
  async register(
    @Param('name') name: string,
    @UploadedFiles() files: UploadedParts | undefined,
    @Body() rawBody: unknown,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    if (!String(request.headers['content-type'] ?? '').startsWith('multipart/form-data'))
      throw new AppError(
        'INVALID_INPUT',
        'Upload the model as multipart/form-data (fields: model, signature, metrics)',
      );
    const parts = files ?? {};
    const body = (typeof rawBody === 'object' && rawBody !== null ? rawBody : {}) as Record<string, unknown>;
    const model = parts.model?.[0]?.buffer;
    if (!model)
      throw new AppError('INVALID_INPUT', 'The multipart file field "model" (model.onnx) is required');
    const stage = textField(body, 'stage');
    if (stage !== undefined && !isStage(stage))
      throw new AppError('INVALID_INPUT', 'stage must be one of None, Staging, Production, Archived');
    const parentVersion = textField(body, 'parentVersion');
    if (parentVersion !== undefined && !/^\d+$/.test(parentVersion))
      throw new AppError('INVALID_INPUT', 'parentVersion must be a version number');
    return this.registry.registerVersion(
      {
        name,
        onnx: model,
        signature: jsonPart(parts, body, 'signature', true) as ModelSignature,
        metrics: jsonPart(parts, body, 'metrics', true) as Record<string, unknown>,
        reference: (jsonPart(parts, body, 'reference', false) as ReferenceProfile | undefined) ?? null,
        params: jsonPart({}, body, 'params' as UploadFields, false) as Record<string, ParamValue> | undefined,
        description: textField(body, 'description'),
        runId: textField(body, 'runId'),
        parentVersion: parentVersion === undefined ? undefined : Number(parentVersion),
        gitCommit: textField(body, 'gitCommit'),
        stage,
        reason: textField(body, 'reason'),
        force: textField(body, 'force') === 'true',
      },
      actorOf(request),
    );
  }

  @Get('models/:name/versions/:version')
  @ApiOperation({ summary: 'One version, by number, alias (champion) or stage (production, staging)' })
  @NAME_PARAM
  @ApiParam({ name: 'version', example: 'champion' })
  @ApiOkResponse({ schema: { example: MODEL_VERSION_EXAMPLE } })
  async getVersion(@Param('name') name: string, @Param('version') version: string): Promise<ModelVersion> {
    return this.registry.resolveVersion(name, version);
  }

  @Get('models/:name/versions/:version/artifact')
  @Header('content-type', 'application/octet-stream')
  @ApiOperation({ summary: 'Download the ONNX file (sha256-verified)' })
  @NAME_PARAM
  @VERSION_PARAM
  async artifact(@Param('name') name: string, @Param('version') version: string): Promise<Buffer> {
    return this.registry.readArtifact(await this.registry.resolveVersion(name, version));
  }

  @Get('models/:name/versions/:version/reference')
  @ApiOperation({ summary: 'The reference profile monitoring compares traffic with' })
  @NAME_PARAM
  @VERSION_PARAM
  async reference(
    @Param('name') name: string,
    @Param('version', ParseIntPipe) version: number,
  ): Promise<ReferenceProfile> {
    const reference = await this.registry.getReference(name, version);
    if (!reference) throw new AppError('NOT_FOUND', `${name} v${version} has no reference profile`);
    return reference;
  }

  @Post('models/:name/versions/:version/stage')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Move a version to another stage',
    description:
      'Promoting to Production archives the current Production version, after the promotion gate: the ' +
      "candidate's primary metric may not be worse than Production's by more than PROMOTION_TOLERANCE, " +
      'unless force is set with a reason.',
  })
  @NAME_PARAM
  @VERSION_PARAM
  @ApiBody({
    type: TransitionStageRequestDto,
    examples: {
      promote: { value: { stage: 'Production', reason: 'Better ROC AUC on the March holdout' } },
      force: { value: { stage: 'Production', force: true, reason: 'Hotfix: v2 mislabels a segment' } },
      stage: { value: { stage: 'Staging' } },
    },
  })
  @ApiOkResponse({ schema: { example: MODEL_VERSION_EXAMPLE } })
  @ApiConflictResponse({
    description: 'Promotion gate refused, or transition not allowed',
    schema: { example: PROMOTION_REFUSED_EXAMPLE },
  })
  async transition(
    @Param('name') name: string,
    @Param('version', ParseIntPipe) version: number,
    @Body(validate) body: TransitionStageRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    return this.registry.transitionStage(name, version, body.stage, {
      actor: actorOf(request),
      reason: body.reason,
      force: body.force,
    });
  }

  @Post('models/:name/versions/:version/archive')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Archive a version (a Production one leaves the model without Production)' })
  @NAME_PARAM
  @VERSION_PARAM
  async archive(
    @Param('name') name: string,
    @Param('version', ParseIntPipe) version: number,
    @Body(validate) body: ReasonRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    return this.registry.archive(name, version, { actor: actorOf(request), reason: body.reason });
  }

  @Delete('models/:name/versions/:version')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a version (refused for the Production one); the audit log keeps it' })
  @NAME_PARAM
  @VERSION_PARAM
  @ApiQuery({ name: 'reason', required: false })
  async deleteVersion(
    @Param('name') name: string,
    @Param('version', ParseIntPipe) version: number,
    @Query('reason') reason: string | undefined,
    @Req() request: RequestWithActor,
  ): Promise<void> {
    await this.registry.deleteVersion(name, version, { actor: actorOf(request), reason });
  }

  @Post('models/:name/rollback')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Put the previous Production version back in Production',
    description: 'The current Production version is archived. No gate: the target already served.',
  })
  @NAME_PARAM
  @ApiBody({
    type: RollbackRequestDto,
    examples: { previous: { value: { reason: 'p99 regression after v3' } } },
  })
  @ApiOkResponse({ schema: { example: { ...MODEL_VERSION_EXAMPLE, version: 1 } } })
  async rollback(
    @Param('name') name: string,
    @Body(validate) body: RollbackRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    return this.registry.rollback(name, {
      actor: actorOf(request),
      reason: body.reason,
      toVersion: body.toVersion,
    });
  }

  // --- Aliases --------------------------------------------------------------------------------------

  @Put('models/:name/aliases/:alias')
  @AdminOnly()
  @ApiOperation({ summary: 'Point an alias (e.g. champion) at a version' })
  @NAME_PARAM
  @ApiParam({ name: 'alias', example: 'champion' })
  async setAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body(validate) body: SetAliasRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    return this.registry.setAlias(name, alias, body.version, { actor: actorOf(request) });
  }

  @Delete('models/:name/aliases/:alias')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an alias' })
  @NAME_PARAM
  @ApiParam({ name: 'alias', example: 'champion' })
  async removeAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Req() request: RequestWithActor,
  ): Promise<void> {
    await this.registry.removeAlias(name, alias, { actor: actorOf(request) });
  }

  // --- Audit ----------------------------------------------------------------------------------------

  @Get('audit')
  @ApiOperation({ summary: 'The registry audit log, newest first' })
  @ApiQuery({ name: 'model', required: false })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @ApiQuery({ name: 'before', required: false, description: 'Page: entries with a smaller id' })
  @ApiOkResponse({ schema: { example: [AUDIT_EXAMPLE] } })
  async audit(
    @Query('model') model?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ): Promise<AuditEntry[]> {
    return this.registry.listAudit({
      model,
      limit: integerQuery(limit, 'limit'),
      beforeId: integerQuery(before, 'before'),
    });
  }

  @Get('models/:name/audit')
  @ApiOperation({ summary: "One model's audit log, newest first" })
  @NAME_PARAM
  @ApiOkResponse({ schema: { example: [AUDIT_EXAMPLE] } })
  async modelAudit(@Param('name') name: string, @Query('limit') limit?: string): Promise<AuditEntry[]> {
    await this.registry.getModel(name);
    return this.registry.listAudit({ model: name, limit: integerQuery(limit, 'limit') });
  }
}

export function integerQuery(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new AppError('INVALID_INPUT', `${name} must be a positive integer`);
  return Number(value);
}
