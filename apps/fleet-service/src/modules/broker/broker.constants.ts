/** Username of the fleet service's own MQTT connection; contains ':' so no box can ever claim it. */
export const SERVICE_USERNAME = 'fleet:service';

/** Client ids of the fleet service's own connections start with this (never a valid device id). */
export const SERVICE_CLIENT_ID_PREFIX = 'fleet:service:';

/** Why the broker refused a connection, a publish or a subscription; stable metric labels. */
export const MQTT_REJECTION_REASONS = [
  'missing_credentials',
  'invalid_username',
  'client_id_mismatch',
  'bad_credentials',
  'registry_unavailable',
  'not_ready',
  'publish_denied',
  'unknown_channel',
  'retain_denied',
  'subscribe_denied',
  'packet_too_large',
  'server_busy',
] as const;
export type MqttRejectionReason = (typeof MQTT_REJECTION_REASONS)[number];

/** MQTT 5 reason codes used by the broker (MQTT 5.0 section 2.4). */
export const ReasonCode = {
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  PACKET_TOO_LARGE: 0x95,
} as const;
export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** The largest retained payload a box may leave (its `up/status`, a few hundred bytes in practice). */
export const RETAINED_MAX_BYTES = 4 * 1024;

/** Room for the fixed header, topic and properties on top of the payload cap. */
export const PACKET_OVERHEAD_BYTES = 8 * 1024;

/** How long an external broker keeps a replica's session (and queues its QoS 1 messages) while it is away. */
export const SERVICE_SESSION_EXPIRY_SEC = 24 * 60 * 60;
