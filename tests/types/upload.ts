// Type-level tests of uploads and downloads.
import { ShotGrid, type UploadResult, type FileFieldValue } from "shotgrid-wasm";

export async function uploads(sg: ShotGrid, stream: ReadableStream<Uint8Array>): Promise<void> {
  const r: UploadResult = await sg.upload("Version", 1, new Uint8Array(3), {
    filename: "a.mov",
    field: "sg_uploaded_movie",
    tags: [1, { type: "Tag", id: 2 }],
    onProgress: ({ sent, total }) => void [sent + total],
    signal: new AbortController().signal,
  });
  await sg.upload("Version", 1, { stream, size: 3, name: "a.mov" });
  await sg.upload("Version", 1, new Blob(["x"]), { field: "image" });
  const bytes: Uint8Array = await sg.download("Version", 1, "sg_uploaded_movie");
  const blob: Blob = await sg.download("Version", 1, "sg_uploaded_movie", { as: "blob", range: { start: 0, end: 10 } });
  const s: ReadableStream<Uint8Array> = await sg.download("Version", 1, "image", { as: "stream", alt: "thumbnail" });
  const info: FileFieldValue = await sg.fileInfo("Version", 1, "sg_uploaded_movie");
  void [r.parts, r.storage, bytes, blob, s, info];
  // @ts-expect-error: a stream needs its size
  await sg.upload("Version", 1, { stream });
  // @ts-expect-error: unknown alt
  await sg.download("Version", 1, "image", { alt: "poster" });
}
