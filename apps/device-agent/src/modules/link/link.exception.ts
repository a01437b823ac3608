export enum LinkExceptionCode {
  NOT_CONNECTED = 'NOT_CONNECTED',
  /** The broker refused a publish for good: a reason code of 0x80 or more that does not mean "not now" (MQTT-3.4.2.1). */
  PUBLISH_REFUSED = 'PUBLISH_REFUSED',
  /** The broker did not take a publish now (0x80, 0x83, 0x91 or 0x97, see `pubackOutcome`); send it again later. */
  PUBLISH_DEFERRED = 'PUBLISH_DEFERRED',
  /** The broker took a publish with PUBACK 0x10: no subscriber yet (the cloud is not listening); send it again later. */
  NO_SUBSCRIBERS = 'NO_SUBSCRIBERS',
}

export class LinkException extends Error {
  override readonly name = 'LinkException';

  constructor(
    readonly code: LinkExceptionCode,
    message: string,
    /** The MQTT 5 reason code, when the broker gave one. */
    readonly reasonCode?: number,
  ) {
    super(message);
  }
}
