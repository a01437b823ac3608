import { ApiRequestError, NETWORK_ERROR_CODE, toApiRequestError } from './errors';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** Same-origin path, e.g. /api/v1/releases/{id}/artifact. */
  path: string;
  body: Blob;
  token: string | null;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/**
 * PUTs a large raw body. XMLHttpRequest rather than fetch: only it reports how much of the request body
 * has been sent, which is what a bundle upload's progress bar shows.
 */
export function putWithProgress<T>({ path, body, token, onProgress, signal }: UploadOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const total = body.size;
    xhr.open('PUT', path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : total });
    };
    xhr.onerror = () => reject(new ApiRequestError(0, NETWORK_ERROR_CODE, 'The upload was interrupted'));
    xhr.onabort = () => reject(new ApiRequestError(0, NETWORK_ERROR_CODE, 'The upload was canceled'));
    xhr.onload = () => {
      let parsed: unknown = xhr.responseText;
      try {
        parsed = xhr.responseText === '' ? undefined : JSON.parse(xhr.responseText);
      } catch {
        // Not JSON (a proxy's error page): kept as text for the error line.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.({ loaded: total, total });
        resolve(parsed as T);
        return;
      }
      reject(toApiRequestError(parsed, { status: xhr.status, statusText: xhr.statusText }));
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
