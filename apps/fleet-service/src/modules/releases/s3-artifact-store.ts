import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3ArtifactStorage } from '../../config/artifact-storage.js';
import {
  ArtifactMeter,
  ArtifactOverrun,
  ArtifactStore,
  artifactFileName,
  type ArtifactCheck,
  type OpenedArtifact,
} from './artifact-store.js';
import type { ByteRange } from './http-range.js';

/** S3's smallest part (every part but the last of a multipart upload). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export interface S3ArtifactStoreOptions {
  /** Bundles up to this size go up in one PutObject, larger ones in parts of this size. */
  partBytes?: number;
  /** Concurrent connections to the object store (downloads hold one each while they stream). */
  maxSockets?: number;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404)
  );
}

/**
 * Release bundles in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Cloudflare R2…), under
 * `<prefix><sha256>.tar.gz`, so several fleet-service replicas share them. An upload is counted and
 * hashed on its way through; nothing reaches the bundle's key before it matches its manifest:
 * - a bundle of at most one part is held in memory and written with one PutObject after the check;
 * - a larger one goes up as a multipart upload (invisible until completed), completed only when the
 *   check passes and aborted otherwise.
 * Downloads are ranged GetObjects streamed through this service: boxes authenticate to the fleet
 * service, never to the bucket.
 */
export class S3ArtifactStore extends ArtifactStore {
  private readonly logger = new Logger('ArtifactStore');
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBytes: number;
  readonly description: string;

  constructor(storage: S3ArtifactStorage, options: S3ArtifactStoreOptions = {}) {
    super();
    this.bucket = storage.bucket;
    this.prefix = storage.prefix;
    this.partBytes = Math.max(options.partBytes ?? DEFAULT_PART_BYTES, S3_MIN_PART_BYTES);
    const maxSockets = options.maxSockets ?? 256;
    this.client = new S3Client({
      region: storage.region,
      ...(storage.endpoint === undefined ? {} : { endpoint: storage.endpoint }),
      forcePathStyle: storage.forcePathStyle,
      // Unset: the SDK's chain (AWS_* variables, web identity, container or instance role, profile).
      ...(storage.credentials === undefined ? {} : { credentials: storage.credentials }),
      // The sha256 check is ours; extra checksum headers and trailers trip some S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: { keepAlive: true, maxSockets },
        httpsAgent: { keepAlive: true, maxSockets },
        connectionTimeout: 10_000,
      },
    });
    const where = storage.endpoint === undefined ? `region ${storage.region}` : storage.endpoint;
    this.description = `S3 bucket ${storage.bucket} at ${where}${storage.prefix === '' ? '' : `, prefix ${storage.prefix}`}`;
  }

  keyOf(sha256: string): string {
    return `${this.prefix}${artifactFileName(sha256)}`;
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async put(body: Readable, expected: { size: number; sha256: string }): Promise<ArtifactCheck> {
    const key = this.keyOf(expected.sha256);
    const meter = new ArtifactMeter(expected);
    const upload = new PartUploader(this.client, this.bucket, key, this.partBytes, this.logger);
    let sending: Promise<void> | undefined;
    try {
      await pipeline(body, meter, (source: AsyncIterable<Buffer>) => {
        sending = (async () => {
          for await (const chunk of source) await upload.write(chunk);
        })();
        return sending;
      });
    } catch (error) {
      // The pipeline fails as soon as a stream does, maybe while a part is still on its way: let it land
      // first, or the abort could miss it.
      await sending?.catch(() => undefined);
      await upload.abort();
      if (error instanceof ArtifactOverrun) return ArtifactMeter.overrun(expected);
      throw error;
    }
    const verdict = meter.verdict();
    try {
      if (verdict.ok) await upload.complete();
      else await upload.abort();
    } catch (error) {
      await upload.abort();
      throw error;
    }
    return verdict;
  }

  async open(sha256: string, range?: ByteRange): Promise<OpenedArtifact | null> {
    let response;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(sha256),
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const body = response.Body;
    if (!(body instanceof Readable)) throw new Error('The S3 client returned no readable body');
    const size = S3ArtifactStore.sizeOf(response, range);
    if (typeof size === 'string') {
      body.destroy();
      throw new Error(`The object store answered GET ${this.keyOf(sha256)} wrongly: ${size}`);
    }
    return { body, size };
  }

  /**
   * The object's size from a GetObject answer, or what is wrong with it: a store (or a proxy before it)
   * that ignores Range would otherwise have whole bundles sent as partial content.
   */
  private static sizeOf(
    response: { ContentLength?: number | undefined; ContentRange?: string | undefined },
    range: ByteRange | undefined,
  ): number | string {
    if (range === undefined) return response.ContentLength ?? 'no Content-Length';
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.ContentRange ?? '');
    const length = range.end - range.start + 1;
    if (
      !match ||
      Number(match[1]) !== range.start ||
      Number(match[2]) !== range.end ||
      response.ContentLength !== length
    ) {
      return `asked for bytes ${range.start}-${range.end}, got Content-Range ${response.ContentRange ?? 'none'} and ${response.ContentLength ?? 'no'} bytes`;
    }
    return Number(match[3]);
  }

  async remove(sha256: string): Promise<void> {
    // Deleting a missing key succeeds on S3.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }
}

/**
 * Buffers an upload into parts. Within the first part nothing is sent; past it a multipart upload is
 * created and each full part sent as it fills (one part in memory at a time, the source waits).
 */
class PartUploader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  private aborted = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly partBytes: number,
    private readonly logger: Logger,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.aborted) throw new Error('The upload was aborted');
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= this.partBytes) {
      const buffered = Buffer.concat(this.pending, this.pendingBytes);
      const rest = buffered.subarray(this.partBytes);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      await this.sendPart(buffered.subarray(0, this.partBytes));
    }
  }

  /** Makes the object visible under its key. */
  async complete(): Promise<void> {
    const rest = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.uploadId === undefined) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: rest,
          ContentLength: rest.length,
          ContentType: 'application/gzip',
        }),
      );
      return;
    }
    if (rest.length > 0) await this.sendPart(rest);
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.parts },
      }),
    );
    this.uploadId = undefined;
  }

  /** Drops the parts sent so far; a failure is logged, not raised (the parts are invisible anyway). */
  async abort(): Promise<void> {
    this.aborted = true;
    this.pending = [];
    this.pendingBytes = 0;
    const uploadId = this.uploadId;
    if (uploadId === undefined) return;
    this.uploadId = undefined;
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId }),
      );
    } catch (error) {
      this.logger.warn(
        `Could not abort the multipart upload ${uploadId} of ${this.key} (${(error as Error).name}: ${(error as Error).message}); ` +
          'a bucket lifecycle rule for incomplete multipart uploads reclaims its parts',
      );
    }
  }

  private async sendPart(bytes: Buffer): Promise<void> {
    if (this.uploadId === undefined) {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          ContentType: 'application/gzip',
        }),
      );
      if (created.UploadId === undefined) throw new Error('The object store returned no upload id');
      this.uploadId = created.UploadId;
    }
    const PartNumber = this.parts.length + 1;
    const sent = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
    this.parts.push({ ETag: sent.ETag, PartNumber });
  }
}
