import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppError } from '../common/errors';
import { type FeedbackResponse, FeedbackService } from './feedback.service';
import { renderReportHtml } from './domain/report';
import { ReportService } from './report.service';

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
  ) {}

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
