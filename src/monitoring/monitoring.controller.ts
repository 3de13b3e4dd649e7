import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminTokenGuard, actorOf, type RequestWithActor } from '../common/admin-token.guard';
import { AppError } from '../common/errors';
import { type FeedbackResponse, FeedbackService } from './feedback.service';
import { renderReportHtml } from './domain/report';
import { ReportService } from './report.service';
import { type RetrainStatusResponse, RetrainService } from './retrain.service';
import type { RetrainJob } from './retrain.store';

function parseVersion(version: string | undefined): number | undefined {
  if (version === undefined || version === '') return undefined;
  if (!/^\d{1,9}$/.test(version))
    throw new AppError('INVALID_INPUT', `version must be a positive integer, got "${version}"`);
  return Number(version);
}

@ApiTags('monitoring')
@Controller('v1')
export class MonitoringController {
  constructor(
    private readonly feedback: FeedbackService,
    private readonly reports: ReportService,
    private readonly retraining: RetrainService,
  ) {}

  @Post('models/:name/retrain')
  @HttpCode(202)
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Retrain a model on its training data plus the labelled production data (admin)',
    description:
      'Starts a run in a child process and answers 202 with the job at once. The new version is registered in Staging (parentVersion = the current Production) and promoted only if it passes the data, quality and promotion gates and does not lose to Production on a holdout. 409 while another run is in progress.',
  })
  @ApiParam({ name: 'name', example: 'credit' })
  @ApiBody({
    required: false,
    schema: { example: { reason: 'income distribution shifted after the campaign' } },
  })
  async retrain(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: RequestWithActor,
  ): Promise<RetrainJob> {
    const reason =
      typeof body === 'object' && body !== null && typeof (body as { reason?: unknown }).reason === 'string'
        ? (body as { reason: string }).reason.slice(0, 500)
        : undefined;
    return this.retraining.start(name, 'manual', `${actorOf(request)}${reason ? `: ${reason}` : ''}`);
  }

  @Get('models/:name/retrain')
  @ApiOperation({ summary: 'Retraining status: the run in progress and the last runs of a model' })
  @ApiParam({ name: 'name', example: 'credit' })
  async retrainStatus(@Param('name') name: string): Promise<RetrainStatusResponse> {
    return this.retraining.status(name);
  }

  @Post('feedback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send ground-truth labels for stored predictions',
    description:
      'One item `{ predictionId | requestId, label }` or a batch `{ feedback: [...] }`. A requestId works for a one-instance request. ' +
      'Unknown id → 404 PREDICTION_NOT_FOUND; a label that is not a class of the model → 400; the same feedback twice changes nothing.',
  })
  @ApiBody({
    schema: {
      example: {
        feedback: [
          { predictionId: '0f8c…', label: '1' },
          { requestId: 'req-42', label: '0' },
        ],
      },
    },
  })
  @ApiOkResponse({ description: 'Per item: created, updated (label corrected) or unchanged' })
  async submitFeedback(@Body() body: unknown): Promise<FeedbackResponse> {
    return this.feedback.submit(body);
  }

  @Get('models/:name/report')
  @ApiOperation({
    summary: 'Monitoring report of the current window',
    description:
      'Evaluates the current window now against the version reference: data drift per feature (Evidently defaults), prediction drift, live quality, history. HTML (self-contained) or JSON.',
  })
  @ApiParam({ name: 'name', example: 'credit' })
  @ApiQuery({ name: 'format', required: false, enum: ['html', 'json'] })
  @ApiQuery({ name: 'version', required: false, description: 'Default: the Production version' })
  @ApiProduces('text/html', 'application/json')
  @Header('cache-control', 'no-store')
  async report(
    @Param('name') name: string,
    @Query('format') format: string | undefined,
    @Query('version') version: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    if (format !== undefined && format !== 'html' && format !== 'json')
      throw new AppError('INVALID_INPUT', `format must be html or json, got "${format}"`);
    const report = await this.reports.build(name, parseVersion(version));
    if (format === 'json') return report;
    void reply.header('content-type', 'text/html; charset=utf-8');
    return renderReportHtml(report);
  }
}
