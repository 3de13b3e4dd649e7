import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { ModelSignature } from './common/signature';
import { AppConfig } from './config/config';
import { ModelPoolService } from './inference/model-pool.service';

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const ERROR_BODY: Schema = {
  type: 'object',
  required: ['code', 'message', 'requestId'],
  properties: {
    code: { type: 'string', description: 'Stable error code (see src/common/errors.ts)' },
    message: { type: 'string' },
    details: {
      type: 'array',
      description: 'INVALID_INPUT: every bad field',
      items: {
        type: 'object',
        properties: { field: { type: 'string', example: 'instances[0].age' }, problem: { type: 'string' } },
      },
    },
    requestId: { type: 'string' },
  },
};

const errorResponse = (description: string, examples: Record<string, Schema>): Schema => ({
  description,
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/ErrorBody' },
      examples: Object.fromEntries(Object.entries(examples).map(([key, value]) => [key, { value }])),
    },
  },
});

const PREDICTION_ERRORS = (name: string): Record<string, Schema> => ({
  '400': errorResponse(
    'Invalid input: every bad field is listed (missing, unknown, wrong type, null, bounds, …)',
    {
      invalid: {
        code: 'INVALID_INPUT',
        message: 'Invalid input: 2 problem(s)',
        details: [
          { field: 'instances[0].x', problem: 'must be a number' },
          { field: 'instances[1].y', problem: 'is required' },
        ],
        requestId: 'b1946ac9-2f3c-4b8e-9a55-6f0f1c1d2e3f',
      },
      badJson: { code: 'INVALID_INPUT', message: 'Body is not valid JSON', requestId: 'r-1' },
    },
  ),
  '404': errorResponse('Unknown model or version', {
    model: { code: 'MODEL_NOT_FOUND', message: `Model "${name}x" is not registered`, requestId: 'r-2' },
    version: { code: 'VERSION_NOT_FOUND', message: `Model "${name}" has no version 99`, requestId: 'r-3' },
  }),
  '413': errorResponse('Too many instances, or body over the size limit', {
    instances: {
      code: 'PAYLOAD_TOO_LARGE',
      message: '2000 instances exceed the limit of 1000 per request',
      requestId: 'r-4',
    },
  }),
  '415': errorResponse('Content type other than application/json', {
    type: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported content type', requestId: 'r-5' },
  }),
  '503': errorResponse('Not loaded yet, overloaded (see Retry-After), or shutting down', {
    notReady: { code: 'MODEL_NOT_READY', message: `Model "${name}" is loading`, requestId: 'r-6' },
    overloaded: {
      code: 'OVERLOADED',
      message: 'The inference queue is at capacity; retry shortly',
      requestId: 'r-7',
    },
    shuttingDown: { code: 'SHUTTING_DOWN', message: 'The service is shutting down', requestId: 'r-8' },
  }),
});

function schemaName(model: string, suffix: string): string {
  const base = model.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) =>
    (next ?? '').toUpperCase(),
  );
  return `${base.charAt(0).toUpperCase()}${base.slice(1)}${suffix}`;
}

function instanceSchema(signature: ModelSignature): Schema {
  const properties: Record<string, Schema> = {};
  for (const feature of signature.features) {
    if (feature.type === 'numeric') {
      properties[feature.name] = {
        type: feature.integer ? 'integer' : 'number',
        ...(feature.min !== undefined && { minimum: feature.min }),
        ...(feature.max !== undefined && { maximum: feature.max }),
        description: [
          feature.description,
          `Seen in training: [${feature.trainingMin}, ${feature.trainingMax}] (outside: accepted, flagged).`,
        ]
          .filter(Boolean)
          .join(' '),
        example: feature.example,
      };
    } else {
      properties[feature.name] = {
        type: 'string',
        enum: feature.categories,
        ...(feature.description !== undefined && { description: feature.description }),
        example: feature.example,
      };
    }
  }
  return {
    type: 'object',
    required: signature.features.map((feature) => feature.name),
    additionalProperties: false,
    properties,
  };
}

function example(signature: ModelSignature): Record<string, number | string> {
  return Object.fromEntries(signature.features.map((feature) => [feature.name, feature.example]));
}

function responseSchema(signature: ModelSignature): Schema {
  const prediction: Schema = {
    type: 'object',
    required: ['predictionId', 'label', 'probabilities'],
    properties: {
      predictionId: { type: 'string', description: 'Unique per instance; feedback refers to it' },
      label: { type: 'string', enum: signature.classes },
      probabilities: {
        type: 'object',
        properties: Object.fromEntries(signature.classes.map((label) => [label, { type: 'number' }])),
      },
      ...(signature.task === 'binary' && {
        score: { type: 'number', description: `P(${signature.positiveClass ?? signature.classes[1]})` },
      }),
      warnings: {
        type: 'array',
        description: 'Values outside the training range (accepted)',
        items: {
          type: 'object',
          properties: {
            field: { type: 'string' },
            problem: { type: 'string', example: 'outside training range [1, 6.9]' },
          },
        },
      },
    },
  };
  return {
    type: 'object',
    required: ['model', 'version', 'requestId', 'predictions'],
    properties: {
      model: { type: 'string', example: signature.name },
      version: { type: 'integer' },
      requestId: { type: 'string' },
      predictions: { type: 'array', items: prediction },
    },
  };
}

function predictOperation(
  name: string,
  version: number,
  summary: string,
  request: Schema,
  body: unknown,
): Operation {
  return {
    tags: ['prediction'],
    summary,
    requestBody: { required: true, content: { 'application/json': { schema: request, example: body } } },
    responses: {
      '200': {
        description: 'One prediction per instance, in order',
        content: {
          'application/json': {
            schema: { $ref: `#/components/schemas/${schemaName(name, 'PredictResponse')}` },
          },
        },
      },
      ...PREDICTION_ERRORS(name),
    },
    description: `Served version: ${version}. Inputs are checked against the model signature.`,
  };
}

/** Adds one request/response schema and the prediction routes per served model, from its signature. */
export function addModelPaths(
  document: OpenAPIObject,
  models: readonly { version: number; signature: ModelSignature }[],
  defaultModel: string,
  maxInstances: number,
): OpenAPIObject {
  const schemas: Record<string, Schema> = { ErrorBody: ERROR_BODY };
  const paths: Record<string, Record<string, Operation>> = {};
  for (const { version, signature } of models) {
    const name = signature.name;
    const instance = schemaName(name, 'Instance');
    schemas[instance] = instanceSchema(signature);
    schemas[schemaName(name, 'PredictRequest')] = {
      type: 'object',
      required: ['instances'],
      additionalProperties: false,
      properties: {
        instances: {
          type: 'array',
          minItems: 1,
          maxItems: maxInstances,
          items: { $ref: `#/components/schemas/${instance}` },
        },
      },
    };
    schemas[schemaName(name, 'PredictResponse')] = responseSchema(signature);
    const request = { $ref: `#/components/schemas/${schemaName(name, 'PredictRequest')}` };
    const body = { instances: [example(signature)] };
    paths[`/v1/models/${name}/predict`] = {
      post: predictOperation(name, version, `Predict with ${name} (its Production version)`, request, body),
    };
    paths[`/v1/models/${name}/versions/{version}/predict`] = {
      post: {
        ...predictOperation(
          name,
          version,
          `Predict with a given version of ${name} (loaded on demand)`,
          request,
          body,
        ),
        parameters: [
          {
            name: 'version',
            in: 'path',
            required: true,
            schema: { type: 'integer', minimum: 1 },
            example: version,
          },
        ],
      },
    };
    if (name === defaultModel) {
      paths['/predict'] = {
        post: predictOperation(
          name,
          version,
          `Predict with the default model (${name}): one flat instance`,
          { $ref: `#/components/schemas/${instance}` },
          example(signature),
        ),
      };
    }
  }
  return {
    ...document,
    paths: { ...document.paths, ...paths },
    components: { ...document.components, schemas: { ...document.components?.schemas, ...schemas } },
  };
}

/**
 * Swagger UI at `/docs` (JSON at `/docs-json`). The controllers' decorators describe the static routes;
 * the prediction routes are generated on each request from the signatures of the models served now.
 */
export function setupSwagger(app: INestApplication): void {
  const config = app.get(AppConfig);
  const pool = app.get(ModelPoolService);
  const base = new DocumentBuilder()
    .setTitle('Vigil')
    .setDescription(
      'Observability-first serving, registry and monitoring for tabular ONNX models. ' +
        'Every error answers `{code, message, details?, requestId}`; every response carries `x-request-id`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, base), {
    patchDocumentOnRequest: (_request, _reply, document) =>
      addModelPaths(
        document,
        pool.served().map((model) => ({ version: model.version, signature: model.signature })),
        config.DEFAULT_MODEL,
        config.MAX_INSTANCES_PER_REQUEST,
      ),
  });
}
