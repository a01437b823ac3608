import { sign, verify } from 'node:crypto';
import { canonicalJson } from '@agentbox/schemas';
import { keyIdOf, privateKeyObject, publicKeyObject, publicKeyOfPrivate } from './keys.js';

export interface Signature {
  keyid: string;
  sig: string;
}

export interface Envelope<T> {
  signed: T;
  signatures: Signature[];
}

/** The keys a root lists and one of its roles: which key ids may sign, and how many must. */
export type PublicKeys = Record<string, { type: 'ed25519'; public: string }>;
export interface Role {
  keyids: readonly string[];
  threshold: number;
}

/** Per signature, what verification found. `valid` counts distinct keys. */
export interface SignatureCheck {
  /** Distinct role key ids whose signature verified. */
  valid: string[];
  /** Key ids of the role whose signature did not verify (tampered content or a forged signature). */
  bad: string[];
  /** Key ids that are not in the role (or whose listed public key does not hash to the id). */
  unknown: string[];
  threshold: number;
  ok: boolean;
}

/** Signs canonicalJson(signed) with each key; the result is the `{signed, signatures}` envelope. */
export function signEnvelope<T>(signed: T, privateKeysPem: readonly string[]): Envelope<T> {
  const bytes = Buffer.from(canonicalJson(signed), 'utf8');
  const seen = new Set<string>();
  const signatures: Signature[] = [];
  for (const pem of privateKeysPem) {
    const { keyid } = publicKeyOfPrivate(pem);
    if (seen.has(keyid)) continue;
    seen.add(keyid);
    signatures.push({ keyid, sig: sign(null, bytes, privateKeyObject(pem)).toString('base64') });
  }
  return { signed, signatures };
}

/**
 * Checks an envelope's signatures against a role. A key counts once however many signatures carry its
 * id, so one compromised key cannot meet a threshold of two by signing twice.
 */
export function verifySignatures(
  envelope: { signed: unknown; signatures: readonly Signature[] },
  keys: PublicKeys,
  role: Role,
): SignatureCheck {
  const bytes = Buffer.from(canonicalJson(envelope.signed), 'utf8');
  const allowed = new Set(role.keyids);
  const valid = new Set<string>();
  const bad = new Set<string>();
  const unknown = new Set<string>();
  for (const { keyid, sig } of envelope.signatures) {
    const key = keys[keyid];
    if (!allowed.has(keyid) || !key || key.type !== 'ed25519' || !keyMatchesId(key.public, keyid)) {
      unknown.add(keyid);
      continue;
    }
    if (verifyOne(bytes, key.public, sig)) valid.add(keyid);
    else bad.add(keyid);
  }
  for (const keyid of valid) bad.delete(keyid);
  return {
    valid: [...valid],
    bad: [...bad],
    unknown: [...unknown],
    threshold: role.threshold,
    ok: role.threshold >= 1 && valid.size >= role.threshold,
  };
}

/** Whether `sig` is a valid signature of canonicalJson(signed) by this base64 raw public key. */
export function verifySignature(signed: unknown, publicKeyBase64: string, sig: string): boolean {
  return verifyOne(Buffer.from(canonicalJson(signed), 'utf8'), publicKeyBase64, sig);
}

function verifyOne(bytes: Buffer, publicKeyBase64: string, sig: string): boolean {
  try {
    const signature = Buffer.from(sig, 'base64');
    if (signature.length !== 64) return false;
    return verify(null, bytes, publicKeyObject(publicKeyBase64), signature);
  } catch {
    return false;
  }
}

function keyMatchesId(publicKeyBase64: string, keyid: string): boolean {
  try {
    return keyIdOf(publicKeyBase64) === keyid;
  } catch {
    return false;
  }
}

export type RawEnvelope = { signed: unknown; signatures: readonly Signature[] };

/**
 * The envelope as received, with the parsed signatures: schema parsing fills defaults and drops unknown
 * fields, and signatures must be checked over what the signer signed, not over that.
 */
export function rawEnvelope(candidate: unknown, parsed: { signatures: readonly Signature[] }): RawEnvelope {
  return { signed: (candidate as { signed: unknown }).signed, signatures: parsed.signatures };
}
