import {
  TEST_POSTGRES_URL,
  dropSchema,
  randomSchemaName,
  startMosquitto,
  type PrivateMosquitto,
} from '@agentbox/test-support';

/** The replica id the external-broker stack gives its fleet service (its MQTT session is named after it). */
export const REPLICA_ID = 'e2e-replica';

/**
 * The fleet service's settings for production engines: PostgreSQL (in `schema` of the machine's test
 * database) and a private Mosquitto with dynamic security (docs/operations.md, "Running on PostgreSQL and
 * Mosquitto").
 */
export function productionEnv(broker: PrivateMosquitto, schema: string): Record<string, string> {
  return {
    DATABASE_URL: TEST_POSTGRES_URL,
    AGENTBOX_DB_SCHEMA: schema,
    AGENTBOX_MQTT_URL: broker.url,
    AGENTBOX_MQTT_USERNAME: broker.username,
    AGENTBOX_MQTT_PASSWORD: broker.password,
    AGENTBOX_MQTT_DYNSEC: 'true',
    AGENTBOX_PUBLIC_MQTT_URL: broker.url,
  };
}

/** The two ways the platform runs: its embedded defaults, and production engines. */
export interface Stack {
  name: string;
  embedded: boolean;
  setup(): Promise<{
    env: Record<string, string>;
    broker?: PrivateMosquitto;
    restartBroker?: (downtimeMs: number) => Promise<void>;
    teardown(): Promise<void>;
  }>;
}

export const stacks: Stack[] = [
  {
    name: 'embedded broker + SQLite',
    embedded: true,
    setup: () => Promise.resolve({ env: {}, teardown: () => Promise.resolve() }),
  },
  {
    name: 'Mosquitto (dynamic security) + PostgreSQL',
    embedded: false,
    async setup() {
      const broker = await startMosquitto();
      const schema = randomSchemaName('agentbox_e2e');
      return {
        env: { ...productionEnv(broker, schema), AGENTBOX_REPLICA_ID: REPLICA_ID },
        broker,
        restartBroker: (downtimeMs) => broker.restart(downtimeMs),
        async teardown() {
          await broker.stop();
          await dropSchema(schema);
        },
      };
    },
  },
];
