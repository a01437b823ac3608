/**
 * What became of a message a box published, for its acknowledgement (docs/protocol.md, "Acknowledged means
 * stored"): `stored`, committed (or stored before); `refused`, bad for good (invalid, or refused by a
 * database that is up), so the box must not send it again; `busy`, not taken now (ingest is full while the
 * database is away), so the box keeps it and sends it again later.
 */
export type Settlement = 'stored' | 'refused' | 'busy';

/** Called once per message, when its fate is known. */
export type Settle = (settlement: Settlement) => void;

export const settleNothing: Settle = () => undefined;
