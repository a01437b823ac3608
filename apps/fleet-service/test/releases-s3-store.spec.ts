import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore, S3_MIN_PART_BYTES } from '../src/modules/releases/s3-artifact-store.js';
import { startFakeS3, type FakeS3 } from './releases-s3-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const expectedOf = (bytes: Buffer) => ({ size: bytes.length, sha256: sha256(bytes) });

/** A body sent in 64 KiB chunks, as an HTTP request arrives. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 65_536)
    chunks.push(bytes.subarray(offset, offset + 65_536));
  return Readable.from(chunks);
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3 artifact store against an S3-compatible server', () => {
  let s3: FakeS3;
  let store: S3ArtifactStore;
  const small = randomBytes(200_003);
  // Three parts of the smallest size S3 allows: two full ones and a short last one.
  const large = randomBytes(2 * S3_MIN_PART_BYTES + 777_777);
  const operations = () =>
    s3.requests.map(({ method, url }) => {
      const query = new URL(url, 'http://s3').searchParams;
      if (query.has('uploads')) return 'create-multipart';
      if (query.has('partNumber')) return `part-${query.get('partNumber')}`;
      if (query.has('uploadId')) return method === 'DELETE' ? 'abort-multipart' : 'complete-multipart';
      return method;
    });

  beforeAll(async () => {
    s3 = await startFakeS3();
    store = new S3ArtifactStore(s3.storage('releases/'), { partBytes: S3_MIN_PART_BYTES });
  });

  afterAll(async () => {
    store?.destroy();
    await s3?.close();
  });

  beforeEach(() => {
    s3.requests.length = 0;
  });

  it('stores a one-part bundle with a single PutObject after checking it', async () => {
    expect(await store.put(chunked(small), expectedOf(small))).toEqual({ ok: true });
    expect(operations()).toEqual(['PUT']);
    expect(await s3.keys()).toEqual([`releases/${sha256(small)}.tar.gz`]);
    expect(await store.exists(sha256(small))).toBe(true);
    const opened = await store.open(sha256(small));
    expect(opened?.size).toBe(small.length);
    expect((await bytesOf(opened!.body)).equals(small)).toBe(true);
  });

  it('stores a larger bundle as a multipart upload completed after the check', async () => {
    expect(await store.put(chunked(large), expectedOf(large))).toEqual({ ok: true });
    expect(operations()).toEqual(['create-multipart', 'part-1', 'part-2', 'part-3', 'complete-multipart']);
    expect(s3.pendingUploads()).toEqual([]);
    expect(await s3.keys()).toContain(`releases/${sha256(large)}.tar.gz`);
    const opened = await store.open(sha256(large));
    expect(opened?.size).toBe(large.length);
    expect((await bytesOf(opened!.body)).equals(large)).toBe(true);
  });

  it('reads byte ranges with ranged GetObjects, across part boundaries too', async () => {
    const cases = [
      { start: 0, end: 1 },
      { start: 1_000, end: 1_999 },
      { start: S3_MIN_PART_BYTES - 10, end: S3_MIN_PART_BYTES + 10 },
      { start: large.length - 5, end: large.length - 1 },
    ];
    for (const range of cases) {
      const opened = await store.open(sha256(large), range);
      expect(opened?.size).toBe(large.length);
      expect((await bytesOf(opened!.body)).equals(large.subarray(range.start, range.end + 1))).toBe(true);
    }
    expect(s3.requests.map((request) => request.range)).toEqual(
      cases.map((range) => `bytes=${range.start}-${range.end}`),
    );
  });

  it('refuses to pass off a whole object as a range when the server ignored the Range header', async () => {
    s3.ignoreRanges = true;
    try {
      await expect(store.open(sha256(large), { start: 10, end: 19 })).rejects.toThrow(
        /asked for bytes 10-19, got Content-Range none/,
      );
    } finally {
      s3.ignoreRanges = false;
    }
  });

  it('refuses a bundle of the wrong hash and leaves no object and no upload behind', async () => {
    const flipped = Buffer.from(large);
    flipped[S3_MIN_PART_BYTES + 3] = (flipped[S3_MIN_PART_BYTES + 3] ?? 0) ^ 0xff;
    const before = await s3.keys();
    s3.requests.length = 0;
    const checked = await store.put(chunked(flipped), expectedOf(large));
    expect(checked).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    // The short last part is held back until the check, which fails: it is never sent.
    expect(operations()).toEqual(['create-multipart', 'part-1', 'part-2', 'abort-multipart']);
    expect(s3.pendingUploads()).toEqual([]);
    expect(await s3.keys()).toEqual(before);

    // A one-part bundle is refused before anything is sent.
    s3.requests.length = 0;
    const other = randomBytes(1_000);
    const refused = await store.put(chunked(other), { size: other.length, sha256: sha256(small) });
    expect(refused).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(s3.requests).toEqual([]);
  });

  it('refuses a bundle of the wrong size, short or long, leaving nothing behind', async () => {
    const bundle = randomBytes(S3_MIN_PART_BYTES + 4_096);
    const expected = expectedOf(bundle);
    const short = await store.put(chunked(bundle.subarray(0, bundle.length - 1)), expected);
    expect(short).toMatchObject({ ok: false, reason: 'size-mismatch' });
    expect(short.ok || short.detail).toContain(`received ${bundle.length - 1} bytes`);

    const long = await store.put(chunked(Buffer.concat([bundle, Buffer.from('extra')])), expected);
    expect(long).toMatchObject({ ok: false, reason: 'size-mismatch' });

    // Far more than announced: cut off instead of read to the end.
    const flood = await store.put(chunked(Buffer.concat([bundle, randomBytes(2 * 1024 * 1024)])), expected);
    expect(flood).toMatchObject({ ok: false, reason: 'size-mismatch' });

    expect(operations().filter((operation) => operation === 'abort-multipart')).toHaveLength(3);
    expect(operations()).not.toContain('complete-multipart');
    expect(s3.pendingUploads()).toEqual([]);
    expect(await store.exists(expected.sha256)).toBe(false);
  });

  it('aborts the multipart upload of an interrupted upload and passes the error on', async () => {
    const bundle = randomBytes(2 * S3_MIN_PART_BYTES);
    const body = new Readable({ read() {} });
    body.push(bundle.subarray(0, S3_MIN_PART_BYTES + 1_000));
    setTimeout(() => body.destroy(new Error('client went away')), 200);
    await expect(store.put(body, expectedOf(bundle))).rejects.toThrow('client went away');
    expect(operations()).toEqual(['create-multipart', 'part-1', 'abort-multipart']);
    expect(s3.pendingUploads()).toEqual([]);
    expect(await store.exists(sha256(bundle))).toBe(false);
  });

  it('deletes a bundle, and deleting a missing one is no error', async () => {
    expect(await store.exists(sha256(small))).toBe(true);
    await store.remove(sha256(small));
    expect(await store.exists(sha256(small))).toBe(false);
    expect(await store.open(sha256(small))).toBeNull();
    expect(await store.open(sha256(small), { start: 0, end: 9 })).toBeNull();
    await store.remove(sha256(small));
    expect(await s3.keys()).toEqual([`releases/${sha256(large)}.tar.gz`]);
  });

  it('fails loudly with credentials the server does not know', async () => {
    const stranger = new S3ArtifactStore({
      ...s3.storage('releases/'),
      credentials: { accessKeyId: 'UNKNOWN', secretAccessKey: 'nope' },
    });
    try {
      await expect(stranger.exists(sha256(large))).rejects.toThrow();
      await expect(stranger.put(chunked(small), expectedOf(small))).rejects.toMatchObject({
        name: 'InvalidAccessKeyId',
      });
    } finally {
      stranger.destroy();
    }
  });
});
