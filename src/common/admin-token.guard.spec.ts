import type { ExecutionContext } from '@nestjs/common';
import { makeConfig } from '../config/config';
import { AdminTokenGuard, actorOf, type RequestWithActor, tokensMatch } from './admin-token.guard';
import { AppError } from './errors';

const TOKEN = 'a-very-secret-admin-token';

function contextFor(headers: Record<string, string>): {
  context: ExecutionContext;
  request: RequestWithActor;
} {
  const request = { headers } as unknown as RequestWithActor;
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { context, request };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

describe('AdminTokenGuard', () => {
  const guard = new AdminTokenGuard(makeConfig({ ADMIN_TOKEN: TOKEN }));

  it.each([
    ['no header', {}, 'UNAUTHENTICATED'],
    ['a non-bearer scheme', { authorization: `Basic ${TOKEN}` }, 'UNAUTHENTICATED'],
    ['an empty bearer', { authorization: 'Bearer ' }, 'UNAUTHENTICATED'],
    ['a wrong token', { authorization: 'Bearer wrong-token-of-some-length' }, 'FORBIDDEN'],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }, 'FORBIDDEN'],
  ])('refuses %s', (_, headers, code) => {
    expect(codeOf(() => guard.canActivate(contextFor(headers).context))).toBe(code);
  });

  it('accepts the right token and records the actor', () => {
    const { context, request } = contextFor({ authorization: `Bearer ${TOKEN}`, 'x-actor': 'alice' });
    expect(guard.canActivate(context)).toBe(true);
    expect(actorOf(request)).toBe('admin:alice');
  });

  it('ignores an x-actor header that is not a plain name', () => {
    const { context, request } = contextFor({ authorization: `bearer ${TOKEN}`, 'x-actor': 'bob\nadmin' });
    expect(guard.canActivate(context)).toBe(true);
    expect(actorOf(request)).toBe('admin');
  });

  it('refuses everything with a message naming ADMIN_TOKEN when no token is configured', () => {
    const open = new AdminTokenGuard(makeConfig({}));
    let thrown: unknown;
    try {
      open.canActivate(contextFor({ authorization: `Bearer ${TOKEN}` }).context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('UNAUTHENTICATED');
    expect((thrown as AppError).message).toContain('ADMIN_TOKEN is unset');
  });

  it('compares tokens of different lengths without throwing', () => {
    expect(tokensMatch('short', TOKEN)).toBe(false);
    expect(tokensMatch(TOKEN, TOKEN)).toBe(true);
  });
});
