import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { OtaError } from './ota-error.js';

/** An Ed25519 key pair as the release tooling stores it. */
export interface KeyPair {
  /** Hex SHA-256 of the raw 32-byte public key. */
  keyid: string;
  /** Base64 of the raw 32-byte public key. */
  publicKey: string;
  /** PKCS#8 PEM; stays with the release manager. */
  privateKeyPem: string;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo: the raw key is the 32 bytes that follow.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return {
    keyid: keyIdOfRaw(raw),
    publicKey: raw.toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The key id of a base64 raw Ed25519 public key: hex SHA-256 of the 32 raw bytes. */
export function keyIdOf(publicKeyBase64: string): string {
  return keyIdOfRaw(decodeRawPublicKey(publicKeyBase64));
}

/** The public half (base64 raw) and key id of a PEM private key. */
export function publicKeyOfPrivate(privateKeyPem: string): { keyid: string; publicKey: string } {
  const raw = rawPublicKey(createPublicKey(privateKeyObject(privateKeyPem)));
  return { keyid: keyIdOfRaw(raw), publicKey: raw.toString('base64') };
}

export function privateKeyObject(privateKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new OtaError(
      'INVALID_KEY',
      'the private key is not a PEM key',
      'pass the .pem file written by `agentbox-release keygen`',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new OtaError(
      'INVALID_KEY',
      `the private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519`,
      'generate an Ed25519 key with `agentbox-release keygen`',
    );
  }
  return key;
}

export function publicKeyObject(publicKeyBase64: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, decodeRawPublicKey(publicKeyBase64)]),
    format: 'der',
    type: 'spki',
  });
}

function decodeRawPublicKey(publicKeyBase64: string): Buffer {
  const raw = Buffer.from(publicKeyBase64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== publicKeyBase64) {
    throw new OtaError(
      'INVALID_KEY',
      'a public key is not the base64 of 32 raw Ed25519 bytes',
      'copy the "public" value from the .pub.json file written by `agentbox-release keygen`',
    );
  }
  return raw;
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(ED25519_SPKI_PREFIX.length);
}

function keyIdOfRaw(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
