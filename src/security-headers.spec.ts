import { apiSecurityHeaders, securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('computes helmet headers once, with a CSP that lets Swagger UI run', () => {
    const headers = securityHeaders();
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['strict-transport-security']).toContain('max-age=');
    expect(headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers).not.toHaveProperty('x-powered-by');
  });

  it('gives JSON answers the REST set: no caching, no framing, no sniffing', () => {
    expect(apiSecurityHeaders()).toEqual({
      'cache-control': 'no-store',
      'content-security-policy': "frame-ancestors 'none'",
      'strict-transport-security': securityHeaders()['strict-transport-security'],
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  });
});
