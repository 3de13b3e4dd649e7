import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/errors';
import { traceContextOf } from '../common/request-context';
import type { InferResponse, ModelMetadataResponse } from './domain/open-inference';
import { type OpenInferenceErrorBody, openInferenceError } from './domain/protocol-errors';
import { type Readiness, OpenInferenceService, type ServerMetadataResponse } from './open-inference.service';

const INFER_EXAMPLE = {
  id: 'req-1',
  inputs: [
    { name: 'sepal_length', shape: [2, 1], datatype: 'FP32', data: [5.1, 6.7] },
    { name: 'sepal_width', shape: [2, 1], datatype: 'FP32', data: [3.5, 3.0] },
    { name: 'petal_length', shape: [2, 1], datatype: 'FP32', data: [1.4, 5.2] },
    { name: 'petal_width', shape: [2, 1], datatype: 'FP32', data: [0.2, 2.3] },
  ],
  outputs: [{ name: 'label' }, { name: 'probabilities' }],
};

/**
 * Open Inference Protocol (KServe V2 / Triton / MLServer), REST. Errors are answered in the spec's
 * `{"error": "..."}` body, not Vigil's envelope; errors raised before a handler runs (bad JSON, body
 * limit, drain) are rewritten the same way by `installProtocolErrorBodies`.
 */
@ApiTags('open-inference (KServe V2)')
@Controller('v2')
export class OpenInferenceController {
  constructor(private readonly service: OpenInferenceService) {}

  @Get()
  @ApiOperation({ summary: 'Server metadata' })
  serverMetadata(): ServerMetadataResponse {
    return this.service.serverMetadata();
  }

  @Get('health/live')
  @ApiOperation({ summary: 'Server live' })
  live(): { live: boolean } {
    return { live: true };
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'Server ready: every Production model is loaded (503 otherwise)' })
  ready(@Res({ passthrough: true }) reply: FastifyReply): { live: boolean; ready: boolean } {
    return withStatus(reply, this.service.serverReady());
  }

  @Get('models/:name')
  @ApiOperation({ summary: 'Model metadata (the Production version)' })
  modelMetadata(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelMetadataResponse | OpenInferenceErrorBody> {
    return answer(reply, () => this.service.modelMetadata(name));
  }

  @Get('models/:name/versions/:version')
  @ApiOperation({ summary: 'Model metadata of a version (number, alias or stage)' })
  versionMetadata(
    @Param('name') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ModelMetadataResponse | OpenInferenceErrorBody> {
    return answer(reply, () => this.service.modelMetadata(name, version));
  }

  @Get('models/:name/ready')
  @ApiOperation({ summary: 'Model ready (503 while loading)' })
  modelReady(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ name: string; ready: boolean } | OpenInferenceErrorBody> {
    return answer(reply, async () => withStatus(reply, await this.service.modelReady(name)));
  }

  @Get('models/:name/versions/:version/ready')
  @ApiOperation({ summary: 'Model version ready (loads the version on demand)' })
  versionReady(
    @Param('name') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ name: string; ready: boolean } | OpenInferenceErrorBody> {
    return answer(reply, async () => withStatus(reply, await this.service.modelReady(name, version)));
  }

  @Post('models/:name/infer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference with the Production version: one input tensor per feature' })
  @ApiBody({ schema: { type: 'object', example: INFER_EXAMPLE } })
  infer(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InferResponse | OpenInferenceErrorBody> {
    return answer(reply, () =>
      this.service.infer(name, undefined, body, request.id, traceContextOf(request)),
    );
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference with a given version (loaded on demand)' })
  @ApiBody({ schema: { type: 'object', example: INFER_EXAMPLE } })
  inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InferResponse | OpenInferenceErrorBody> {
    return answer(reply, () => this.service.infer(name, version, body, request.id, traceContextOf(request)));
  }
}

function withStatus<T>(reply: FastifyReply, readiness: Readiness<T>): T {
  if (!readiness.ready) void reply.status(503);
  return readiness.body;
}

/** `AppError`s become the spec's error body; anything else goes to the global filter (500, logged). */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | OpenInferenceErrorBody> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    void reply.status(error.status);
    if (error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds));
    return openInferenceError(error);
  }
}
