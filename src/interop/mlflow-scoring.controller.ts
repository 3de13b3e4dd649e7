import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/errors';
import { traceContextOf } from '../common/request-context';
import { ScoringRequestError } from './domain/mlflow-scoring';
import { type MlflowErrorBody, mlflowError, unsupportedContentTypeMessage } from './domain/protocol-errors';
import { MlflowScoringService } from './mlflow-scoring.service';

/**
 * MLflow scoring server protocol (`mlflow models serve`) for `DEFAULT_MODEL`. Errors are answered as
 * MLflow's `{"error_code", "message"}`; those raised before a handler runs (bad JSON, unsupported
 * content type, body limit) are rewritten the same way by `installProtocolErrorBodies`.
 */
@ApiTags('mlflow scoring')
@Controller()
export class MlflowScoringController {
  constructor(private readonly service: MlflowScoringService) {}

  @Post('invocations')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Score rows with DEFAULT_MODEL (JSON: dataframe_split | dataframe_records | instances | inputs; or text/csv)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      example: {
        dataframe_split: {
          columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
          data: [[5.1, 3.5, 1.4, 0.2]],
        },
      },
    },
  })
  async invocations(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ predictions: unknown[] } | MlflowErrorBody> {
    const contentType = request.headers['content-type'];
    const mediaType = contentType?.split(';', 1)[0]!.trim().toLowerCase();
    try {
      // Fastify also reads text/plain (and Nest form bodies); MLflow takes JSON and CSV only.
      if (mediaType !== 'application/json' && mediaType !== 'text/csv') {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', unsupportedContentTypeMessage(contentType));
      }
      return await this.service.invocations(
        body,
        mediaType === 'text/csv',
        request.id,
        traceContextOf(request),
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      void reply.status(error.status);
      if (error.retryAfterSeconds !== undefined)
        void reply.header('retry-after', String(error.retryAfterSeconds));
      return mlflowError(error, error.status, error instanceof ScoringRequestError);
    }
  }

  @Get('ping')
  @ApiOperation({ summary: 'MLflow health check: 200 once DEFAULT_MODEL is loaded, 503 before' })
  ping(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.health(reply);
  }

  @Get('health')
  @ApiOperation({ summary: 'Same as /ping' })
  healthCheck(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.health(reply);
  }

  @Get('version')
  @ApiOperation({ summary: 'The server version (Vigil’s, where MLflow answers its own)' })
  version(@Res({ passthrough: true }) reply: FastifyReply): string {
    void reply.header('content-type', 'text/plain; charset=utf-8');
    return this.service.version();
  }

  private health(reply: FastifyReply): string {
    void reply.status(this.service.healthy() ? 200 : 503).header('content-type', 'application/json');
    return '\n';
  }
}
