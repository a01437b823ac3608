/** Default cap on one MQTT payload, in bytes (brief: 256 KiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/** Version of the message schemas in this package; carried as `v` in every message. */
export const SCHEMA_VERSION = 1 as const;
