/** Default cap on one MQTT payload, in bytes (256 KiB; docs/protocol.md section 7). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/** Version of the message schemas in this package; carried as `v` in every message. */
export const SCHEMA_VERSION = 1 as const;

/** Ranges of spool record ids one `down/stored` confirmation holds at most. */
export const STORED_MAX_RANGES = 1_000;
