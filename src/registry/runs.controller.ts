import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminTokenGuard, actorOf, type RequestWithActor } from '../common/admin-token.guard';
import { AppError } from '../common/errors';
import type { ModelVersion } from './domain/model-version';
import type { Run, RunWithHistory } from './domain/run';
import { integerQuery, validate } from './registry.controller';
import { MODEL_VERSION_EXAMPLE, RegisterFromRunRequestDto } from './registry.dto';
import { RegistryService } from './registry.service';
import { TrackingService } from './tracking.service';

const RUN_EXAMPLE = {
  runId: '0b6f3c9e-6a47-4d1e-9a51-3d0f2f1c9b7e',
  experiment: 'credit',
  status: 'FINISHED',
  params: { algorithm: 'gbdt', n_estimators: 100, max_depth: 4 },
  tags: { 'git.commit': '54d628a' },
  metrics: { roc_auc: 0.861, accuracy: 0.83 },
  artifacts: [{ name: 'model.onnx', sha256: '9f2c…', sizeBytes: 48213 }],
  startedAt: '2026-11-23T07:39:00.000Z',
  endedAt: '2026-11-23T07:40:10.000Z',
};

@ApiTags('runs')
@Controller('v1/runs')
export class RunsController {
  constructor(
    private readonly tracking: TrackingService,
    private readonly registry: RegistryService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List runs, newest first' })
  @ApiQuery({ name: 'experiment', required: false, example: 'credit' })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiOkResponse({ schema: { example: [RUN_EXAMPLE] } })
  async list(@Query('experiment') experiment?: string, @Query('limit') limit?: string): Promise<Run[]> {
    return this.tracking.listRuns({ experiment, limit: integerQuery(limit, 'limit') });
  }

  @Get('compare')
  @ApiOperation({ summary: 'Compare runs: sorted by one metric, best first' })
  @ApiQuery({ name: 'metric', required: true, example: 'roc_auc' })
  @ApiQuery({ name: 'experiment', required: false, example: 'credit' })
  @ApiQuery({ name: 'runIds', required: false, description: 'Comma-separated run ids' })
  @ApiQuery({ name: 'order', required: false, enum: ['desc', 'asc'], description: 'asc for losses' })
  @ApiOkResponse({ schema: { example: [RUN_EXAMPLE] } })
  async compare(
    @Query('metric') metric?: string,
    @Query('experiment') experiment?: string,
    @Query('runIds') runIds?: string,
    @Query('order') order?: string,
    @Query('limit') limit?: string,
  ): Promise<Run[]> {
    if (!metric) throw new AppError('INVALID_INPUT', 'metric is required, e.g. ?metric=roc_auc');
    if (order !== undefined && order !== 'asc' && order !== 'desc')
      throw new AppError('INVALID_INPUT', 'order must be asc or desc');
    return this.tracking.compareRuns({
      metric,
      experiment,
      runIds: runIds
        ?.split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
      order,
      limit: integerQuery(limit, 'limit'),
    });
  }

  @Get(':runId')
  @ApiOperation({ summary: 'One run with its per-step metric history' })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({
    schema: {
      example: {
        ...RUN_EXAMPLE,
        history: { loss: [{ step: 0, value: 0.69, at: '2026-11-23T07:39:01.000Z' }] },
      },
    },
  })
  async get(@Param('runId') runId: string): Promise<RunWithHistory> {
    return this.tracking.getRunWithHistory(runId);
  }

  @Post(':runId/register')
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiUnauthorizedResponse({ description: 'No bearer token (or ADMIN_TOKEN unset on the server)' })
  @ApiForbiddenResponse({ description: 'Wrong bearer token' })
  @HttpCode(201)
  @ApiOperation({ summary: 'Register the model a finished run produced as a new version' })
  @ApiParam({ name: 'runId' })
  @ApiOkResponse({ schema: { example: { ...MODEL_VERSION_EXAMPLE, stage: 'Staging' } } })
  async register(
    @Param('runId') runId: string,
    @Body(validate) body: RegisterFromRunRequestDto,
    @Req() request: RequestWithActor,
  ): Promise<ModelVersion> {
    return this.registry.registerVersionFromRun(runId, { ...body, actor: actorOf(request) });
  }
}
