import { Entity } from 'typeorm';
import { Int64, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

/**
 * How far ingest has followed a box's spool (docs/protocol.md section 2, "Spool positions"): the highest
 * spool record id seen in the box's current spool epoch, the ids found missing, and the box's own count of
 * records its full spool dropped.
 */
@Entity('device_spool_marks')
export class DeviceSpoolMarkRow {
  @PrimaryVarchar(64) deviceId!: string;
  @Varchar(64) epoch!: string;
  /** Highest spool record id that arrived in this epoch. */
  @Int64() high!: number;
  /** Spool record ids that never arrived (or arrived and could not be stored), since the box was first followed. */
  @Int64() gaps!: number;
  /** Records the box reports its full spool dropped in this epoch. */
  @Int64() dropped!: number;
  @Timestamp() updatedAt!: Date;
}
