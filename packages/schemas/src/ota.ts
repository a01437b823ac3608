import { z } from 'zod';

/**
 * Over-the-air updates of the device agent: signed releases (TUF-inspired metadata), the update a box is
 * offered in its desired state (`spec.update`), and the status it reports on `up/update`.
 *
 * Signing: every signed document is an envelope `{signed, signatures}`; a signature is Ed25519 over the
 * canonical JSON of `signed` (see canonicalJson). Keys are identified by the hex SHA-256 of their raw
 * 32-byte public key.
 */

const EpochMs = z.number().int().nonnegative().describe('milliseconds since the Unix epoch');

/** Semantic version without build metadata, e.g. 1.4.2 or 1.5.0-rc.1. */
export const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
export const SemverSchema = z.string().max(64).regex(SEMVER_PATTERN, 'version must be semantic, e.g. 1.4.2');

export const KeyIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'key id: hex SHA-256 of the raw public key');
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 in lower-case hex');

export const SignatureSchema = z.object({
  keyid: KeyIdSchema,
  /** Base64 Ed25519 signature of canonicalJson(signed). */
  sig: z.string().min(1).max(200),
});

export const PublicKeySchema = z.object({
  type: z.literal('ed25519'),
  /** Base64 of the raw 32-byte public key. */
  public: z.string().min(40).max(64),
});

export const RoleSchema = z.object({
  keyids: z.array(KeyIdSchema).min(1).max(20),
  threshold: z.number().int().min(1).max(20),
});

/**
 * The root of trust: which keys may sign root metadata and which may sign releases. Boxes pin the first
 * root at install; a new root version must be signed by a threshold of the previous root's root keys
 * AND its own, so signing keys rotate without reflashing boxes.
 */
export const RootMetadataSchema = z.object({
  type: z.literal('root'),
  version: z.number().int().positive(),
  /** Freeze protection: metadata past this instant (minus clock slack) is refused. */
  expires: z.iso.datetime({ offset: true }),
  keys: z.record(KeyIdSchema, PublicKeySchema),
  roles: z.object({ root: RoleSchema, release: RoleSchema }),
});
export type RootMetadata = z.infer<typeof RootMetadataSchema>;

export const ARCHITECTURES = ['x64', 'arm64'] as const;
export const RELEASE_CHANNELS = ['stable', 'beta', 'dev'] as const;

/** What a release of the device agent is, signed by release keys. */
export const ReleaseManifestSchema = z.object({
  type: z.literal('release'),
  /** The device agent's version in this bundle. */
  version: SemverSchema,
  channel: z.enum(RELEASE_CHANNELS),
  createdAt: z.iso.datetime({ offset: true }),
  /** Freeze protection for the release itself. */
  expires: z.iso.datetime({ offset: true }),
  artifact: z.object({
    /** The bundle's file name, e.g. agentbox-device-agent-1.4.2.tar.gz */
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._-]+$/),
    size: z.number().int().positive(),
    sha256: Sha256Schema,
  }),
  compatibility: z.object({
    arch: z.array(z.enum(ARCHITECTURES)).min(1),
    /** Boxes on an older version must first take an intermediate release. */
    minCurrentVersion: SemverSchema.optional(),
  }),
  notes: z.string().max(20_000).default(''),
  /** Only a release signed as a rollback target may carry a version lower than the box's. */
  rollbackTarget: z.boolean().default(false),
});
export type ReleaseManifest = z.infer<typeof ReleaseManifestSchema>;

export function signedEnvelopeSchema<S extends z.ZodType>(signed: S) {
  return z.object({ signed, signatures: z.array(SignatureSchema).min(1).max(20) });
}
export const SignedRootSchema = signedEnvelopeSchema(RootMetadataSchema);
export type SignedRoot = z.infer<typeof SignedRootSchema>;
export const SignedReleaseSchema = signedEnvelopeSchema(ReleaseManifestSchema);
export type SignedRelease = z.infer<typeof SignedReleaseSchema>;

/**
 * JSON with object keys sorted (recursively) and no whitespace: the bytes signatures cover. Only plain
 * JSON values (no undefined, functions, NaN or Infinity) are meaningful here.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

// ---------------------------------------------------------------- the offer (desired state) and status

/** `spec.update` in a box's desired state: take this release, under this policy. */
export const UpdateOfferSchema = z.object({
  rolloutId: z.string().min(1).max(64),
  release: SignedReleaseSchema,
  /** The newest root metadata chain the box may not have yet, oldest first (each signed by its predecessor). */
  roots: z.array(SignedRootSchema).max(20).default([]),
  /** HTTP(S) URL of the bundle on the fleet service; Range requests are honoured. */
  url: z.string().url(),
  /** Bearer token for that URL, valid for this box and release only. */
  downloadToken: z.string().min(16).max(2_000),
  policy: z
    .object({
      /** Install (restart) only inside this daily window, box local time; download at once. */
      maintenanceWindow: z
        .object({
          start: z.string().regex(/^\d{2}:\d{2}$/),
          end: z.string().regex(/^\d{2}:\d{2}$/),
        })
        .optional(),
      /** Restart even while an agent run is in progress, after waiting at most maxWaitSec for it. */
      force: z.boolean().default(false),
      maxWaitSec: z.number().int().min(0).max(86_400).default(600),
      /** How long the new version has to prove healthy before the box rolls back. */
      healthDeadlineSec: z.number().int().min(10).max(3_600).default(120),
    })
    .default({ force: false, maxWaitSec: 600, healthDeadlineSec: 120 }),
});
export type UpdateOffer = z.infer<typeof UpdateOfferSchema>;

/** hawkBit-style feedback, one value per step of the box's update flow. */
export const UPDATE_STATUSES = [
  'scheduled',
  'downloading',
  'downloaded',
  'installing',
  'rebooting',
  'healthy',
  'rolled-back',
  'failed',
  'rejected',
  'canceled',
] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];
export const FINAL_UPDATE_STATUSES: readonly UpdateStatus[] = [
  'healthy',
  'rolled-back',
  'failed',
  'rejected',
  'canceled',
];

/**
 * Why a box went back to its previous version: `last.reason` in the boot state (boot.json) that the launcher
 * (apps/launcher) and the device agent write, reported as the reason of a `rolled-back` update.
 */
export const ROLLBACK_REASONS = [
  'unpack-failed',
  'health-check-failed',
  'crashed',
  'watchdog',
  'timeout',
] as const;
export type RollbackReason = (typeof ROLLBACK_REASONS)[number];

/** Why a box refused or failed an update: stable codes for metrics and the console. */
export const UPDATE_REASONS = [
  'bad-signature',
  'unknown-key',
  'key-revoked',
  'metadata-expired',
  'hash-mismatch',
  'size-mismatch',
  'downgrade',
  'incompatible-arch',
  'version-too-old',
  'insufficient-disk',
  'download-failed',
  ...ROLLBACK_REASONS,
  'canceled',
] as const;

export const UpdateStatusReportSchema = z.object({
  rolloutId: z.string().min(1).max(64),
  version: SemverSchema,
  status: z.enum(UPDATE_STATUSES),
  reason: z.enum(UPDATE_REASONS).optional(),
  detail: z.string().max(2_000).optional(),
  progress: z
    .object({ bytes: z.number().int().nonnegative(), total: z.number().int().nonnegative() })
    .optional(),
  /** The version the box runs when it reports (after a rollback: the old one). */
  runningVersion: SemverSchema,
  ts: EpochMs,
});
export type UpdateStatusReport = z.infer<typeof UpdateStatusReportSchema>;
