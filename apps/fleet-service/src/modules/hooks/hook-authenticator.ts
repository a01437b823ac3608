import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { HOOK_SIGNATURE_WINDOW_SEC } from '@agentbox/schemas';
import { HookSignatureRow } from './hook.entity.js';
import { SIGNATURE_PREFIX, secretMatches, signatureMatches } from './hook-signature.js';
import { HookException } from './hooks.exception.js';

/** What a caller presents to prove it holds a hook's secret. */
export interface HookCredentials {
  /** The raw body as received (the signature covers these bytes). */
  body: Buffer;
  authorization: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Checks an invocation against the hook's secret: a bearer token, or an HMAC signature of the body that
 * is recent and used once (docs/protocol.md, "Hooks").
 */
@Injectable()
export class HookAuthenticator {
  constructor(
    @InjectRepository(HookSignatureRow) private readonly signatures: Repository<HookSignatureRow>,
  ) {}

  async authenticate(hookId: string, secret: string, credentials: HookCredentials): Promise<void> {
    if (credentials.signature !== undefined) {
      const timestamp = credentials.timestamp ?? '';
      const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
      if (!Number.isFinite(seconds) || Math.abs(Date.now() / 1000 - seconds) > HOOK_SIGNATURE_WINDOW_SEC) {
        throw new HookException(
          'HOOK_SIGNATURE_STALE',
          `X-AgentBox-Timestamp must be unix seconds within ${HOOK_SIGNATURE_WINDOW_SEC} s of the service's clock`,
        );
      }
      if (!signatureMatches(secret, timestamp, credentials.body, credentials.signature)) {
        throw new HookException('HOOK_UNAUTHORIZED', 'The signature does not match the hook secret');
      }
      await this.rememberSignature(
        hookId,
        credentials.signature.slice(SIGNATURE_PREFIX.length).toLowerCase(),
      );
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization ?? '');
    if (!match?.[1] || !secretMatches(secret, match[1])) {
      throw new HookException(
        'HOOK_UNAUTHORIZED',
        'Send the hook secret as "Authorization: Bearer <secret>" or sign the body (X-AgentBox-Signature)',
      );
    }
  }

  /** Forgets the signatures too old to pass the timestamp check anyway. */
  async forgetOld(now: number): Promise<void> {
    await this.signatures.delete({
      seenAt: LessThan(new Date(now - 2 * HOOK_SIGNATURE_WINDOW_SEC * 1000)),
    });
  }

  /** Refuses a signature seen before within the window, on any replica (the table is shared). */
  private async rememberSignature(hookId: string, signature: string): Promise<void> {
    const key = `${hookId}:${signature}`;
    const replayed = () =>
      new HookException('HOOK_SIGNATURE_REPLAYED', 'This signature was already used; sign each call anew');
    if (await this.signatures.existsBy({ key })) throw replayed();
    try {
      await this.signatures.insert({ key, seenAt: new Date() });
    } catch (error) {
      // Two replicas took the same signature at once: the primary key lets one of them win.
      if (await this.signatures.existsBy({ key })) throw replayed();
      throw error;
    }
  }
}
