import { timingSafeEqual } from 'node:crypto';
import {
  TOPIC_ROOT,
  deviceDownPrefix,
  deviceUpPrefix,
  hasWildcard,
  isUnder,
  isValidDeviceId,
  parseTopic,
} from '@agentbox/schemas';
import type { DeviceRegistryPort } from '../../common/ports.js';
import {
  ReasonCode,
  SERVICE_CLIENT_ID_PREFIX,
  SERVICE_USERNAME,
  RETAINED_MAX_BYTES,
  type MqttRejectionReason,
} from './broker.constants.js';

/** Who is on the other end of an MQTT connection, once authenticated. */
export type MqttPrincipal = { kind: 'device'; deviceId: string } | { kind: 'service' };

export type ConnectDecision =
  { ok: true; principal: MqttPrincipal } | { ok: false; reason: MqttRejectionReason; reasonCode: ReasonCode };

export type TopicDecision = { ok: true } | { ok: false; reason: MqttRejectionReason; detail: string };

/** What of a PUBLISH (or a Will) besides its topic the rules look at. */
export interface PublishFacts {
  retain?: boolean;
  payloadBytes?: number;
}

export interface ConnectRequest {
  clientId: string;
  username: string | undefined;
  password: Buffer | string | undefined;
}

const ALLOWED: TopicDecision = { ok: true };

function sameSecret(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The per-box rules of the wire contract (docs/protocol.md section 8), independent of the broker engine:
 * a box connects as itself, publishes only under its own `up/`, subscribes only under its own `down/`;
 * the fleet service's account reaches every box.
 */
export class MqttAuthorizer {
  /**
   * False until the fleet service's own subscription is in place: a box let in before that could publish
   * into no subscription and lose its message, which Aedes acknowledges all the same.
   */
  acceptingDevices = true;

  constructor(
    private readonly registry: Pick<DeviceRegistryPort, 'verifyCredentials'>,
    private readonly servicePassword: string,
  ) {}

  async authorizeConnect(request: ConnectRequest): Promise<ConnectDecision> {
    const { clientId, username } = request;
    if (username === undefined || username === '' || request.password === undefined) {
      return { ok: false, reason: 'missing_credentials', reasonCode: ReasonCode.BAD_USER_NAME_OR_PASSWORD };
    }
    const password = Buffer.isBuffer(request.password)
      ? request.password
      : Buffer.from(request.password, 'utf8');
    if (username === SERVICE_USERNAME) {
      if (!sameSecret(password, Buffer.from(this.servicePassword, 'utf8'))) {
        return { ok: false, reason: 'bad_credentials', reasonCode: ReasonCode.BAD_USER_NAME_OR_PASSWORD };
      }
      if (!clientId.startsWith(SERVICE_CLIENT_ID_PREFIX)) {
        return {
          ok: false,
          reason: 'client_id_mismatch',
          reasonCode: ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
        };
      }
      return { ok: true, principal: { kind: 'service' } };
    }
    if (!this.acceptingDevices) {
      return { ok: false, reason: 'not_ready', reasonCode: ReasonCode.SERVER_UNAVAILABLE };
    }
    // Device ids become topic levels: '+', '#', '/' or a leading '$' would reach other subtrees (MQTT-4.7.1, MQTT-4.7.2).
    if (!isValidDeviceId(username)) {
      return { ok: false, reason: 'invalid_username', reasonCode: ReasonCode.BAD_USER_NAME_OR_PASSWORD };
    }
    // A box's session is its identity: a different client id could take over another box's session (MQTT-3.1.4-3).
    if (clientId !== username) {
      return { ok: false, reason: 'client_id_mismatch', reasonCode: ReasonCode.CLIENT_IDENTIFIER_NOT_VALID };
    }
    let valid: boolean;
    try {
      valid = await this.registry.verifyCredentials(username, password.toString('utf8'));
    } catch {
      return { ok: false, reason: 'registry_unavailable', reasonCode: ReasonCode.SERVER_UNAVAILABLE };
    }
    if (!valid)
      return { ok: false, reason: 'bad_credentials', reasonCode: ReasonCode.BAD_USER_NAME_OR_PASSWORD };
    return { ok: true, principal: { kind: 'device', deviceId: username } };
  }

  authorizePublish(principal: MqttPrincipal, topic: string, facts: PublishFacts = {}): TopicDecision {
    // MQTT-3.3.2-2: the topic name in a PUBLISH must not contain wildcard characters.
    if (hasWildcard(topic)) return { ok: false, reason: 'publish_denied', detail: 'wildcard in topic name' };
    // MQTT-4.7.2-1: '$' topics belong to the server.
    if (topic.startsWith('$')) return { ok: false, reason: 'publish_denied', detail: 'reserved $ topic' };
    if (principal.kind === 'service') {
      return topic.startsWith(`${TOPIC_ROOT}/`) && topic.split('/')[4] === 'down'
        ? ALLOWED
        : { ok: false, reason: 'publish_denied', detail: 'the service publishes only to down/ topics' };
    }
    if (!isUnder(topic, deviceUpPrefix(principal.deviceId))) {
      return {
        ok: false,
        reason: 'publish_denied',
        detail: `outside ${deviceUpPrefix(principal.deviceId)}/`,
      };
    }
    return this.authorizeUpChannel(topic, facts);
  }

  /**
   * Only the channels of docs/protocol.md section 1, and `retain` only where the protocol uses it
   * (`up/status`, small): whatever the broker would keep for a box is bounded, so a stolen box secret
   * cannot grow the broker's memory (a retained message lives until replaced, MQTT-3.3.1-5).
   */
  private authorizeUpChannel(
    topic: string,
    { retain = false, payloadBytes = 0 }: PublishFacts,
  ): TopicDecision {
    const parsed = parseTopic(topic);
    if (parsed?.direction !== 'up') {
      return { ok: false, reason: 'unknown_channel', detail: 'not a channel of docs/protocol.md section 1' };
    }
    if (!retain) return ALLOWED;
    if (parsed.channel !== 'status') {
      return { ok: false, reason: 'retain_denied', detail: 'retained messages only on up/status' };
    }
    return payloadBytes <= RETAINED_MAX_BYTES
      ? ALLOWED
      : { ok: false, reason: 'retain_denied', detail: `retained payload over ${RETAINED_MAX_BYTES} bytes` };
  }

  authorizeSubscribe(principal: MqttPrincipal, filter: string): TopicDecision {
    if (principal.kind === 'service') {
      const shared = /^\$share\/[^/+#]+\/(.+)$/.exec(filter);
      const plain = shared?.[1] ?? filter;
      return plain.startsWith(`${TOPIC_ROOT}/`)
        ? ALLOWED
        : {
            ok: false,
            reason: 'subscribe_denied',
            detail: `the service subscribes only under ${TOPIC_ROOT}/`,
          };
    }
    // '$SYS/#' and '$share/...' (MQTT-4.7.2, MQTT-4.8.2) are out of a box's reach.
    if (filter.startsWith('$')) return { ok: false, reason: 'subscribe_denied', detail: 'reserved $ filter' };
    // A literal prefix test: '+' or '#' before the box's own `down/` level never matches it, so
    // filters that would reach other boxes are refused.
    return isUnder(filter, deviceDownPrefix(principal.deviceId))
      ? ALLOWED
      : { ok: false, reason: 'subscribe_denied', detail: `outside ${deviceDownPrefix(principal.deviceId)}/` };
  }
}
