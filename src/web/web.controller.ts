import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '../config/config';

/** What the web app needs to know about its surroundings: where the observability tools live. */
export interface UiConfigResponse {
  grafanaUrl: string;
  kibanaUrl: string;
  jaegerUrl: string;
  /** The service name traces carry (Jaeger's search by service). */
  serviceName: string;
  defaultModel: string;
}

@ApiTags('web')
@Controller('v1/ui')
export class WebController {
  private readonly uiConfig: UiConfigResponse;

  constructor(config: AppConfig) {
    this.uiConfig = Object.freeze({
      grafanaUrl: config.GRAFANA_URL,
      kibanaUrl: config.KIBANA_URL,
      jaegerUrl: config.JAEGER_URL,
      serviceName: config.OTEL_SERVICE_NAME,
      defaultModel: config.DEFAULT_MODEL,
    });
  }

  @Get('config')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Links the web app shows (GRAFANA_URL, KIBANA_URL, JAEGER_URL) and the default model',
  })
  @ApiOkResponse({
    schema: {
      example: {
        grafanaUrl: 'http://localhost:3000',
        kibanaUrl: 'http://localhost:5601',
        jaegerUrl: 'http://localhost:16686',
        serviceName: 'vigil',
        defaultModel: 'iris',
      },
    },
  })
  config(): UiConfigResponse {
    return this.uiConfig;
  }
}
