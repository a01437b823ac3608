// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createI18n } from 'vue-i18n';
import en from '@/locales/en';
import zhCN from '@/locales/zh-CN';

const messages = { en, 'zh-CN': zhCN };
import { FleetServer } from '@/testing/fleet-server';
import { configureAuth, createApiClient, type ApiClient } from './client';
import {
  ApiRequestError,
  describeError,
  NETWORK_ERROR_CODE,
  toApiRequestError,
  unwrap,
  type Translator,
} from './errors';

function translator(locale: 'en' | 'zh-CN'): Translator {
  const i18n = createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages,
    missingWarn: false,
    fallbackWarn: false,
  });
  return { t: (key, named) => i18n.global.t(key, named ?? {}), te: (key) => i18n.global.te(key, locale) };
}

describe('API error mapping', () => {
  it('reads the documented {statusCode, code, message} body', () => {
    const sut = toApiRequestError(
      { statusCode: 404, code: 'DEVICE_NOT_FOUND', message: 'device x not found' },
      { status: 404, statusText: 'Not Found' },
    );
    expect(sut).toBeInstanceOf(ApiRequestError);
    expect(sut).toMatchObject({ statusCode: 404, code: 'DEVICE_NOT_FOUND', message: 'device x not found' });
  });

  it('falls back to the HTTP status for bodies of another shape', () => {
    expect(
      toApiRequestError('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    ).toMatchObject({
      statusCode: 502,
      code: 'HTTP_502',
      message: '<html>Bad Gateway</html>',
    });
    expect(toApiRequestError(undefined, { status: 500, statusText: '' })).toMatchObject({
      code: 'HTTP_500',
      message: 'HTTP 500',
    });
  });

  it('translates known codes and shows the server message for unknown ones', () => {
    const known = new ApiRequestError(401, 'INVALID_CREDENTIALS', 'bad credentials');
    expect(describeError(known, translator('en'))).toBe('Wrong username or password.');
    expect(describeError(known, translator('zh-CN'))).toBe('用户名或密码错误。');

    const unknown = new ApiRequestError(409, 'SOMETHING_NEW', 'the box is busy updating');
    expect(describeError(unknown, translator('zh-CN'))).toBe('the box is busy updating');

    const withDetail = new ApiRequestError(400, 'VALIDATION_FAILED', 'tags.0: invalid');
    expect(describeError(withDetail, translator('en'))).toBe('The request was refused: tags.0: invalid');

    expect(describeError(new ApiRequestError(500, 'X', ''), translator('en'))).toBe('Something went wrong.');
    expect(describeError('weird', translator('en'))).toBe('Something went wrong.');
  });

  describe('through the real client', () => {
    let server: FleetServer;
    let client: ApiClient;
    let unauthorized: number;

    beforeEach(async () => {
      server = new FleetServer();
      unauthorized = 0;
      configureAuth({ getToken: () => 'tok-123', onUnauthorized: () => (unauthorized += 1) });
      client = createApiClient({ baseUrl: await server.start() });
    });

    afterEach(async () => {
      configureAuth({ getToken: () => null, onUnauthorized: () => undefined });
      await server.stop();
    });

    it('sends the bearer token and returns the data', async () => {
      server.route('GET', '/api/v1/auth/me', () => ({
        status: 200,
        body: { username: 'admin', role: 'admin' },
      }));
      await expect(unwrap(client.GET('/api/v1/auth/me'))).resolves.toEqual({
        username: 'admin',
        role: 'admin',
      });
      expect(server.requests[0]?.authorization).toBe('Bearer tok-123');
    });

    it('turns a 401 into the unauthorized hook, except on the login call itself', async () => {
      const body = { statusCode: 401, code: 'UNAUTHENTICATED', message: 'token expired' };
      server.route('GET', '/api/v1/auth/me', () => ({ status: 401, body }));
      server.route('POST', '/api/v1/auth/login', () => ({
        status: 401,
        body: { ...body, code: 'INVALID_CREDENTIALS' },
      }));

      await expect(unwrap(client.GET('/api/v1/auth/me'))).rejects.toMatchObject({
        statusCode: 401,
        code: 'UNAUTHENTICATED',
      });
      expect(unauthorized).toBe(1);

      await expect(
        unwrap(client.POST('/api/v1/auth/login', { body: { username: 'a', password: 'b' } })),
      ).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      expect(unauthorized).toBe(1);
    });

    it('maps a non-JSON error page', async () => {
      server.route('GET', '/api/v1/enrollment', () => ({ status: 502, raw: 'Bad Gateway' }));
      await expect(unwrap(client.GET('/api/v1/enrollment'))).rejects.toMatchObject({
        statusCode: 502,
        code: 'HTTP_502',
      });
    });

    it('maps an unreachable server to NETWORK_ERROR with a translated line', async () => {
      await server.stop();
      const error = await unwrap(client.GET('/api/v1/enrollment')).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ statusCode: 0, code: NETWORK_ERROR_CODE });
      expect(describeError(error, translator('en'))).toBe(
        'Cannot reach the fleet service. Check your connection.',
      );
    });
  });
});
