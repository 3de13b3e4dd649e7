import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { traceContextOf } from '../common/request-context';
import { AppConfig } from '../config/config';
import { type PredictResponse, PredictionService } from './prediction.service';

/**
 * Thin on purpose: no pipes, no DTO classes, no interceptors on this path (each costs measurable
 * throughput, see docs/serving.md). Input checks are the per-model compiled validator's job, and the
 * OpenAPI description of these routes is generated per model from its signature (`prediction.swagger.ts`).
 */
@ApiExcludeController()
@Controller()
export class PredictionController {
  private readonly defaultModel: string;

  constructor(
    private readonly predictions: PredictionService,
    config: AppConfig,
  ) {
    this.defaultModel = config.DEFAULT_MODEL;
  }

  @Post('v1/models/:name/predict')
  @HttpCode(200)
  predict(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<PredictResponse> {
    return this.predictions.predict(name, body, request.id, traceContextOf(request));
  }

  @Post('v1/models/:name/versions/:version/predict')
  @HttpCode(200)
  predictVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<PredictResponse> {
    return this.predictions.predictVersion(name, version, body, request.id, traceContextOf(request));
  }

  @Post('predict')
  @HttpCode(200)
  predictDefault(@Body() body: unknown, @Req() request: FastifyRequest): Promise<PredictResponse> {
    return this.predictions.predictDefault(this.defaultModel, body, request.id, traceContextOf(request));
  }
}
