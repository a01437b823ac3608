import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** Conversations with an agent on a box, and their messages (docs/architecture.md, "Conversations"). */
export const Conversations1765610000000 = tablesMigration('Conversations1765610000000', (c) => [
  table('conversations', {
    columns: {
      id: c.varchar(36, PRIMARY),
      agent_id: c.varchar(63),
      device_id: c.varchar(64),
      title: c.varchar(200),
      created_by: c.varchar(200, NULLABLE),
      created_at: c.timestamp(),
      last_message_at: c.timestamp(NULLABLE),
    },
    indices: [
      { name: 'idx_conversations_agent_device', columnNames: ['agent_id', 'device_id'] },
      { name: 'idx_conversations_device', columnNames: ['device_id'] },
    ],
  }),
  table('conversation_messages', {
    columns: {
      id: c.varchar(36, PRIMARY),
      conversation_id: c.varchar(36),
      role: c.varchar(10),
      text: c.text(),
      run_id: c.varchar(64),
      error: c.text(NULLABLE),
      created_at: c.bigint(),
    },
    indices: [
      { name: 'idx_conversation_messages_conversation', columnNames: ['conversation_id', 'created_at'] },
      // One question and one answer per run: the answer is added once however often the run is reported.
      { name: 'uq_conversation_messages_run_role', columnNames: ['run_id', 'role'], isUnique: true },
    ],
  }),
]);
