import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/config';
import { AppError } from './errors';

/** Set on the request by `AdminTokenGuard`: who the audit log says made the change. */
export const ACTOR = Symbol('vigil.actor');
export type RequestWithActor = FastifyRequest & { [ACTOR]?: string };

const ACTOR_HEADER = /^[\w.@:-]{1,64}$/;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time comparison that does not leak the token's length either (both sides are hashed). */
export function tokensMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Protects mutating endpoints with the bearer token `ADMIN_TOKEN`: 401 without a token, 403 with a
 * wrong one, and 401 for every call when no token is configured. The optional `x-actor` header
 * names the person in the audit log (`admin:alice`).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestWithActor>();
    const expected = this.config.ADMIN_TOKEN;
    if (!expected)
      throw new AppError(
        'UNAUTHENTICATED',
        'Admin endpoints are disabled: ADMIN_TOKEN is unset on the server. Set ADMIN_TOKEN (16+ characters) to enable them.',
      );
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1])
      throw new AppError(
        'UNAUTHENTICATED',
        'This endpoint needs an admin token: "Authorization: Bearer <ADMIN_TOKEN>"',
      );
    if (!tokensMatch(match[1], expected)) throw new AppError('FORBIDDEN', 'The admin token is wrong');
    const actor = request.headers['x-actor'];
    request[ACTOR] = typeof actor === 'string' && ACTOR_HEADER.test(actor) ? `admin:${actor}` : 'admin';
    return true;
  }
}

export function actorOf(request: RequestWithActor): string {
  return request[ACTOR] ?? 'anonymous';
}
