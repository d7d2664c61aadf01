const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/heic": "heic",
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "video/webm": "webm",
  "audio/ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/webm": "weba",
  "audio/wav": "wav",
  "application/pdf": "pdf",
  "text/plain": "txt",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
  "application/vnd.oasis.opendocument.text": "odt",
  "application/vnd.oasis.opendocument.spreadsheet": "ods",
  "application/vnd.oasis.opendocument.presentation": "odp",
};

const MAX_LENGTH = 120;
// Controls, bidirectional overrides and isolates (which can disguise an extension), and characters
// that are special in headers or paths.
// deno-lint-ignore no-control-regex -- control characters are exactly what is removed
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069"\\/:*?<>|]/g;

/**
 * A display name safe to show and to put in `Content-Disposition`: the last path segment, NFC,
 * without control or direction-override characters or path/header specials, no leading dots, at most
 * 120 characters (the extension kept). Never used as a path. Falls back to `file.<ext>`.
 */
export function sanitizeFilename(raw: string | null | undefined, mime: string): string {
  const last = (raw ?? "").split(/[\\/]/).pop() ?? "";
  let name = last.normalize("NFC").replace(UNSAFE, "_").replace(/\s+/g, " ").trim()
    .replace(/^[.\s]+/, "");
  if (name.length > MAX_LENGTH) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
    name = [...name.slice(0, dot > 0 && ext ? dot : name.length)].slice(0, MAX_LENGTH - ext.length)
      .join("") + ext;
  }
  return name || `file.${EXTENSIONS[mime] ?? "bin"}`;
}

/** `name` with the extension that fits `mime` (a HEIC photo served as JPEG is `photo.jpg`). */
export function withExtension(name: string, mime: string): string {
  const ext = EXTENSIONS[mime];
  if (!ext) return name;
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return `${stem}.${ext}`;
}

/**
 * A `Content-Disposition` value per RFC 6266: an ASCII `filename` fallback and the exact name as
 * UTF-8 in `filename*`.
 */
export function contentDisposition(type: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
