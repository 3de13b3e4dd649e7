import type {
  AuditEntry,
  FeedbackResponse,
  ModelVersion,
  MonitoringReport,
  PredictResponse,
  RegisteredModel,
  Stage,
  UiConfig,
} from './types.js';

/** An error as the API states it: `{ code, message, details?, requestId }` plus the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Admin credentials for this tab: in memory only (never localStorage, never a cookie). */
export interface AdminCredentials {
  token: string;
  actor?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function request<T>(
  method: string,
  url: string,
  options: { body?: unknown; admin?: AdminCredentials } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.admin) {
    if (options.admin.token !== '') headers.authorization = `Bearer ${options.admin.token}`;
    if (options.admin.actor) headers['x-actor'] = options.admin.actor;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(
      0,
      'NETWORK_ERROR',
      `The server did not answer (${String(error)})`,
      undefined,
      undefined,
    );
  }
  const text = await response.text();
  let payload: unknown = undefined;
  if (text !== '') {
    try {
      payload = JSON.parse(text) as unknown;
    } catch {
      payload = text;
    }
  }
  if (!response.ok) {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (isRecord(payload) && typeof payload.code === 'string' && typeof payload.message === 'string')
      throw new ApiError(
        response.status,
        payload.code,
        payload.message,
        payload.details,
        typeof payload.requestId === 'string' ? payload.requestId : requestId,
      );
    throw new ApiError(
      response.status,
      `HTTP_${response.status}`,
      typeof payload === 'string' && payload !== '' ? payload.slice(0, 300) : response.statusText,
      undefined,
      requestId,
    );
  }
  return payload as T;
}

const model = (name: string): string => `/v1/models/${encodeURIComponent(name)}`;

export const api = {
  uiConfig: () => request<UiConfig>('GET', '/v1/ui/config'),
  listModels: () => request<RegisteredModel[]>('GET', '/v1/models'),
  getModel: (name: string) => request<RegisteredModel & { versions: ModelVersion[] }>('GET', model(name)),
  getVersion: (name: string, ref: string | number) =>
    request<ModelVersion>('GET', `${model(name)}/versions/${encodeURIComponent(String(ref))}`),
  audit: (name: string, limit = 50) => request<AuditEntry[]>('GET', `${model(name)}/audit?limit=${limit}`),
  predict: (name: string, instance: Record<string, number | string>) =>
    request<PredictResponse>('POST', `${model(name)}/predict`, { body: { instances: [instance] } }),
  feedback: (predictionId: string, label: string) =>
    request<FeedbackResponse>('POST', '/v1/feedback', { body: { predictionId, label } }),
  report: (name: string) => request<MonitoringReport>('GET', `${model(name)}/report?format=json`),
  reportHtmlUrl: (name: string) => `${model(name)}/report`,
  transition: (
    name: string,
    version: number,
    body: { stage: Stage; reason?: string; force?: boolean },
    admin: AdminCredentials,
  ) => request<ModelVersion>('POST', `${model(name)}/versions/${version}/stage`, { body, admin }),
  archive: (name: string, version: number, reason: string | undefined, admin: AdminCredentials) =>
    request<ModelVersion>('POST', `${model(name)}/versions/${version}/archive`, {
      body: reason ? { reason } : {},
      admin,
    }),
  rollback: (name: string, body: { reason?: string; toVersion?: number }, admin: AdminCredentials) =>
    request<ModelVersion>('POST', `${model(name)}/rollback`, { body, admin }),
};
