import type { EntityMap } from "./index.js";

// Uploads and downloads: types of `sg.upload`, `sg.uploadSource`, `sg.download` and
// `sg.fileInfo`, added to the `ShotGrid` class of index.d.ts.

/**
 * A stream to upload, with its exact size (required: parts and the single PUT need a
 * Content-Length). In Node, `Readable.toWeb(fs.createReadStream(path))` makes one; a
 * stream below `multipartThreshold` (or any stream on an sg-storage site) is read into
 * memory for its single PUT, so prefer a file Blob (`fs.openAsBlob`) for big files there.
 */
export interface UploadStream {
  stream: ReadableStream<Uint8Array>;
  /** Exact size in bytes; the upload fails if the stream ends before it. */
  size: number;
  /** File name (sent as `filename`; the Content-Type is guessed from it). */
  name?: string;
}

/** What `sg.upload` accepts: a Blob or File, bytes, or a stream with its size. */
export type UploadData = Blob | Uint8Array | ArrayBuffer | ArrayBufferView | UploadStream;

/** A custom source for `sg.uploadSource`. */
export interface UploadSource {
  size: number;
  name?: string;
  /** Bytes `start..end` (end exclusive), called in increasing order of `start`. */
  read(start: number, end: number): Blob | Uint8Array | Promise<Blob | Uint8Array>;
}

/** Progress of an upload: monotonic, ending at `total`. */
export interface UploadProgress {
  /** Bytes sent so far (after each part for multipart; 0 and total for one PUT). */
  sent: number;
  total: number;
}

export interface UploadOptions {
  /**
   * The field to upload to: `"image"` sets the thumbnail; a file/link field (e.g.
   * `"sg_uploaded_movie"`) or a multi-entity field (e.g. `"attachments"`) gets a new
   * Attachment. Without it the Attachment is linked to the record. Multipart uploads
   * need a field.
   */
  field?: string;
  /** File name; defaults to the File's or stream's name (required for bytes). */
  filename?: string;
  /** The Attachment's display name. */
  displayName?: string;
  /** Tags of the Attachment: ids or `{ type: "Tag", id }`. */
  tags?: Array<number | { type: "Tag"; id: number }>;
  /** Content-Type; guessed from the file name when absent. */
  contentType?: string;
  /** Bytes per part (multipart): default 8 MiB, grown to stay within 10000 parts; 5 MiB to 500 MiB. */
  partSize?: number;
  /** Parts in flight, 1–16 (default 4; at most 4 inside Cloudflare Workers). */
  concurrency?: number;
  /** Files of this size or more go in parts (S3 storage): default 500 MB, at least 5 MiB (or `minPartSize`). */
  multipartThreshold?: number;
  /**
   * The smallest part the storage accepts: 5 MiB on S3 (the default and the production
   * rule). Lower it only for an emulator started with a lower `--min-part-size`.
   */
  minPartSize?: number;
  /** Called with the bytes sent and the total; exceptions are ignored. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload: the promise rejects with `kind: "aborted"` and a multipart upload is given up (`multipart_abort`). */
  signal?: AbortSignal;
  /** Keep the parts of a failed or aborted multipart upload (no `multipart_abort`). */
  leavePartsOnError?: boolean;
}

/** What an upload did. */
export interface UploadResult {
  uploadType: "Attachment" | "Thumbnail";
  /** Where the site stored the bytes. */
  storage: "sg" | "s3";
  multipart: boolean;
  /** PUTs of bytes (1 unless multipart). */
  parts: number;
  /** Bytes uploaded. */
  size: number;
}

export interface DownloadOptions {
  /** The file itself (default) or its thumbnail. */
  alt?: "original" | "thumbnail";
  /** How to return the bytes (default "bytes"). */
  as?: "bytes" | "blob" | "stream";
  /** Bytes `start..end` (end exclusive; absent end = to the end of the file). */
  range?: { start?: number; end?: number };
  signal?: AbortSignal;
}

/** A file/link field's value; an image field's value is its URL string. */
export type FileFieldValue =
  | string
  | null
  | {
      url: string;
      name?: string;
      content_type?: string;
      link_type?: "upload" | "web" | "local";
      type?: string;
      id?: number;
      [key: string]: unknown;
    };

declare module "./index.js" {
  interface ShotGrid<M extends object = EntityMap> {
    /**
     * Uploads a file to a record, a file field or the thumbnail (`field: "image"`):
     * one PUT (with the token for sg storage, without it to S3's pre-signed URL), or
     * parts above `multipartThreshold`, sent `concurrency` at a time and each retried
     * on 5xx and network errors. Rejects with `kind: "aborted"` when `signal` fires.
     */
    upload(entityType: string, id: number, data: UploadData, options?: UploadOptions): Promise<UploadResult>;
    /** `upload` from a custom source. */
    uploadSource(entityType: string, id: number, source: UploadSource, options?: UploadOptions): Promise<UploadResult>;
    /** Downloads a file field's file; redirects to storage are followed without the token. */
    download(entityType: string, id: number, field: string, options?: DownloadOptions & { as?: "bytes" }): Promise<Uint8Array>;
    download(entityType: string, id: number, field: string, options: DownloadOptions & { as: "blob" }): Promise<Blob>;
    download(entityType: string, id: number, field: string, options: DownloadOptions & { as: "stream" }): Promise<ReadableStream<Uint8Array>>;
    /** A file field's value (metadata with a fresh download URL). */
    fileInfo(entityType: string, id: number, field: string): Promise<FileFieldValue>;
  }
}
