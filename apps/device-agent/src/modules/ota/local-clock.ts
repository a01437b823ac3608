/** The box's local time of day, which maintenance windows are written in. */
export abstract class LocalClock {
  /** Minutes since local midnight. */
  abstract minuteOfDay(): number;
}

export class SystemLocalClock extends LocalClock {
  minuteOfDay(): number {
    const date = new Date();
    return date.getHours() * 60 + date.getMinutes();
  }
}
