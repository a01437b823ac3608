import { describe, expect, it } from 'vitest';
import { topics } from '@agentbox/schemas';
import { ReasonCode, SERVICE_USERNAME } from './broker.constants.js';
import { MqttAuthorizer, type MqttPrincipal } from './mqtt-authorizer.js';

const secrets = new Map([
  ['box-a', 'secret-a-0123456789'],
  ['box-b', 'secret-b-0123456789'],
]);
const registry = {
  verifyCredentials: (id: string, secret: string) => Promise.resolve(secrets.get(id) === secret),
};
const SERVICE_PASSWORD = 'service-password-0123456789';
const boxA: MqttPrincipal = { kind: 'device', deviceId: 'box-a' };
const service: MqttPrincipal = { kind: 'service' };

describe('MqttAuthorizer', () => {
  const sut = new MqttAuthorizer(registry, SERVICE_PASSWORD);

  describe('CONNECT', () => {
    it('accepts a box whose client id equals its username and whose secret matches', async () => {
      await expect(
        sut.authorizeConnect({
          clientId: 'box-a',
          username: 'box-a',
          password: Buffer.from('secret-a-0123456789'),
        }),
      ).resolves.toEqual({ ok: true, principal: boxA });
    });

    it('refuses a client id that differs from the username with 0x85', async () => {
      await expect(
        sut.authorizeConnect({ clientId: 'box-b', username: 'box-a', password: 'secret-a-0123456789' }),
      ).resolves.toEqual({
        ok: false,
        reason: 'client_id_mismatch',
        reasonCode: ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
      });
    });

    it.each(['box+a', 'box#', 'a/b', '$SYS', '+', '#', '', ' box', 'x'.repeat(65)])(
      'refuses the device id %j with 0x86 (or missing credentials)',
      async (id) => {
        const decision = await sut.authorizeConnect({
          clientId: id,
          username: id,
          password: 'whatever-secret',
        });
        expect(decision.ok).toBe(false);
        if (!decision.ok) {
          expect(decision.reasonCode).toBe(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
          expect(['invalid_username', 'missing_credentials']).toContain(decision.reason);
        }
      },
    );

    it('refuses a wrong secret, a missing password and an unknown box with 0x86', async () => {
      for (const request of [
        { clientId: 'box-a', username: 'box-a', password: 'secret-b-0123456789' },
        { clientId: 'box-a', username: 'box-a', password: undefined },
        { clientId: 'box-z', username: 'box-z', password: 'secret-a-0123456789' },
      ]) {
        const decision = await sut.authorizeConnect(request);
        expect(decision).toMatchObject({ ok: false, reasonCode: ReasonCode.BAD_USER_NAME_OR_PASSWORD });
      }
    });

    it('keeps boxes out with 0x88 until ingest is subscribed, but lets the service account in', async () => {
      const starting = new MqttAuthorizer(registry, SERVICE_PASSWORD);
      starting.acceptingDevices = false;
      await expect(
        starting.authorizeConnect({ clientId: 'box-a', username: 'box-a', password: 'secret-a-0123456789' }),
      ).resolves.toEqual({ ok: false, reason: 'not_ready', reasonCode: ReasonCode.SERVER_UNAVAILABLE });
      await expect(
        starting.authorizeConnect({
          clientId: 'fleet:service:1',
          username: 'fleet:service',
          password: SERVICE_PASSWORD,
        }),
      ).resolves.toEqual({ ok: true, principal: service });
      starting.acceptingDevices = true;
      await expect(
        starting.authorizeConnect({ clientId: 'box-a', username: 'box-a', password: 'secret-a-0123456789' }),
      ).resolves.toEqual({ ok: true, principal: boxA });
    });

    it('answers 0x88 when the registry fails', async () => {
      const failing = new MqttAuthorizer(
        { verifyCredentials: () => Promise.reject(new Error('db down')) },
        'x',
      );
      await expect(
        failing.authorizeConnect({ clientId: 'box-a', username: 'box-a', password: 'p' }),
      ).resolves.toEqual({
        ok: false,
        reason: 'registry_unavailable',
        reasonCode: ReasonCode.SERVER_UNAVAILABLE,
      });
    });

    it('accepts the service account only with its password and a service client id', async () => {
      await expect(
        sut.authorizeConnect({
          clientId: 'fleet:service:1',
          username: SERVICE_USERNAME,
          password: SERVICE_PASSWORD,
        }),
      ).resolves.toEqual({ ok: true, principal: service });
      await expect(
        sut.authorizeConnect({ clientId: 'fleet:service:1', username: SERVICE_USERNAME, password: 'nope' }),
      ).resolves.toMatchObject({ ok: false, reason: 'bad_credentials' });
      await expect(
        sut.authorizeConnect({ clientId: 'box-a', username: SERVICE_USERNAME, password: SERVICE_PASSWORD }),
      ).resolves.toMatchObject({ ok: false, reason: 'client_id_mismatch' });
    });
  });

  describe('PUBLISH', () => {
    it('lets a box publish under its own up/', () => {
      expect(sut.authorizePublish(boxA, topics.telemetry('box-a'))).toEqual({ ok: true });
      expect(sut.authorizePublish(boxA, topics.result('box-a', 'cmd-1'))).toEqual({ ok: true });
    });

    it.each([
      ['another box', topics.telemetry('box-b')],
      ['its own down/', topics.desired('box-a')],
      ['a + wildcard', 'agentbox/v1/devices/box-a/up/+'],
      ['a # wildcard', 'agentbox/v1/devices/box-a/up/#'],
      ['$SYS', '$SYS/broker/load'],
      ['a $ topic', '$CONTROL/dynamic-security/v1'],
      ['the bare up level', 'agentbox/v1/devices/box-a/up'],
      ['a prefix look-alike', 'agentbox/v1/devices/box-a-evil/up/telemetry'],
      ['outside the root', 'other/topic'],
    ])('refuses %s', (_label, topic) => {
      expect(sut.authorizePublish(boxA, topic)).toMatchObject({ ok: false, reason: 'publish_denied' });
    });

    it.each([
      ['an unknown channel', 'agentbox/v1/devices/box-a/up/junk'],
      ['a level past a channel', 'agentbox/v1/devices/box-a/up/telemetry/extra'],
      ['results without a command id', 'agentbox/v1/devices/box-a/up/results'],
    ])('refuses %s under its own up/ as unknown_channel', (_label, topic) => {
      expect(sut.authorizePublish(boxA, topic)).toMatchObject({ ok: false, reason: 'unknown_channel' });
    });

    it('lets a box retain only a small up/status', () => {
      expect(sut.authorizePublish(boxA, topics.status('box-a'), { retain: true, payloadBytes: 200 })).toEqual(
        {
          ok: true,
        },
      );
      expect(
        sut.authorizePublish(boxA, topics.status('box-a'), { retain: true, payloadBytes: 64 * 1024 }),
      ).toMatchObject({ ok: false, reason: 'retain_denied' });
      for (const topic of [topics.telemetry('box-a'), topics.result('box-a', 'cmd-1')]) {
        expect(sut.authorizePublish(boxA, topic, { retain: true, payloadBytes: 10 })).toMatchObject({
          ok: false,
          reason: 'retain_denied',
        });
        expect(sut.authorizePublish(boxA, topic, { retain: false, payloadBytes: 200_000 })).toEqual({
          ok: true,
        });
      }
    });

    it('lets the service publish to any box down/ but not to up/', () => {
      expect(sut.authorizePublish(service, topics.desired('box-b'))).toEqual({ ok: true });
      expect(sut.authorizePublish(service, topics.status('box-b'))).toMatchObject({ ok: false });
    });
  });

  describe('SUBSCRIBE', () => {
    it('lets a box subscribe under its own down/', () => {
      expect(sut.authorizeSubscribe(boxA, topics.deviceDownFilter('box-a'))).toEqual({ ok: true });
      expect(sut.authorizeSubscribe(boxA, topics.desired('box-a'))).toEqual({ ok: true });
    });

    it.each([
      ['another box down/', topics.deviceDownFilter('box-b')],
      ['+ across boxes', 'agentbox/v1/devices/+/down/#'],
      ['# across boxes', 'agentbox/v1/devices/#'],
      ['everything', '#'],
      ['its own up/', topics.deviceUpFilter('box-a')],
      ['its whole subtree', 'agentbox/v1/devices/box-a/#'],
      ['$SYS', '$SYS/#'],
      ['a shared subscription', '$share/g/agentbox/v1/devices/box-a/down/#'],
      ['a prefix look-alike', 'agentbox/v1/devices/box-a-evil/down/#'],
    ])('refuses %s', (_label, filter) => {
      expect(sut.authorizeSubscribe(boxA, filter)).toMatchObject({ ok: false, reason: 'subscribe_denied' });
    });

    it('lets the service subscribe to every box up/, shared or not, but not to $SYS', () => {
      expect(sut.authorizeSubscribe(service, topics.allUpFilter())).toEqual({ ok: true });
      expect(sut.authorizeSubscribe(service, topics.sharedAllUpFilter())).toEqual({ ok: true });
      expect(sut.authorizeSubscribe(service, '$SYS/#')).toMatchObject({ ok: false });
    });
  });
});
