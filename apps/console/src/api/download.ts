import { unwrap, type ApiResult } from '@/api/errors';

/** A file the fleet service sent (an export), with the name it gave it. */
export interface FileDownload {
  blob: Blob;
  filename: string;
}

/** `attachment; filename="x.csv"` → `x.csv`; `fallback` when the header names none. */
function filenameOf(disposition: string | null, fallback: string): string {
  return /filename="([^"]+)"/.exec(disposition ?? '')?.[1] ?? fallback;
}

/**
 * Awaits an openapi-fetch call made with `parseAs: 'blob'` and returns the file, named as the fleet
 * service's Content-Disposition says, or throws an ApiRequestError as `unwrap` does.
 */
export async function unwrapDownload(
  call: Promise<ApiResult<Blob>>,
  fallbackName: string,
): Promise<FileDownload> {
  let disposition: string | null = null;
  const blob = await unwrap(
    call.then((result) => {
      disposition = result.response.headers.get('content-disposition');
      return result;
    }),
  );
  return { blob, filename: filenameOf(disposition, fallbackName) };
}

/** Hands the file to the browser's downloads, as a click on a link to it would. */
export function saveDownload({ blob, filename }: FileDownload): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has taken the blob by the next tick; keep the URL a little longer for slow browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
