import type { MediaKind } from "../domain/media.ts";

/** How many leading bytes {@link sniff} wants to see (fewer only when the file is shorter). */
export const SNIFF_BYTES = 4096;

/** A file type recognised from its leading bytes. */
export interface Sniffed {
  kind: MediaKind;
  mime: string;
  /**
   * `zip`: an Office document whose exact type comes from its inner content types; `text`: plain
   * UTF-8 that the rest of the stream must confirm; `av`: a container that may hold audio or video.
   */
  needs?: "zip" | "text" | "av";
}

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

function startsWith(bytes: Uint8Array, sig: number[], at = 0): boolean {
  return sig.every((b, i) => bytes[at + i] === b);
}

function contains(bytes: Uint8Array, text: string): boolean {
  return ascii(bytes, 0, Math.min(bytes.length, 512)).includes(text);
}

/** ISO base media (MP4, MOV, M4A, HEIC) by its `ftyp` brands. */
function isoBmff(head: Uint8Array): Sniffed | null {
  if (head.length < 12 || ascii(head, 4, 8) !== "ftyp") return null;
  const boxSize = new DataView(head.buffer, head.byteOffset).getUint32(0);
  const brands = [ascii(head, 8, 12)];
  for (let at = 16; at + 4 <= Math.min(boxSize, head.length); at += 4) {
    brands.push(ascii(head, at, at + 4));
  }
  const major = brands[0];
  if (["heic", "heix", "heim", "heis"].includes(major)) {
    return { kind: "image", mime: "image/heic" };
  }
  if (major === "M4A " || major === "M4B ") return { kind: "audio", mime: "audio/mp4" };
  if (major === "qt  ") return { kind: "video", mime: "video/quicktime", needs: "av" };
  if (brands.some((b) => ["avif", "avis", "mif1", "msf1", "heic", "crx "].includes(b))) return null;
  return { kind: "video", mime: "video/mp4", needs: "av" };
}

/** True when `bytes` is UTF-8 without NUL (a sequence cut off at the end is allowed). */
function looksLikeText(bytes: Uint8Array, complete: boolean): boolean {
  if (bytes.length === 0 || bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/**
 * Recognises the file types Parley accepts from their magic numbers: JPEG, PNG, GIF, WebP, HEIC,
 * MP4/MOV, WebM, Ogg (Opus/Vorbis), MP3, M4A, WAV, PDF, zip-based Office documents, and plain UTF-8
 * text. Null for anything else. `complete` says `head` is the whole file.
 */
export function sniff(head: Uint8Array, complete: boolean): Sniffed | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: "image", mime: "image/jpeg" };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: "image", mime: "image/png" };
  }
  if (ascii(head, 0, 6) === "GIF87a" || ascii(head, 0, 6) === "GIF89a") {
    return { kind: "image", mime: "image/gif" };
  }
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") {
    return { kind: "image", mime: "image/webp" };
  }
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WAVE") {
    return { kind: "audio", mime: "audio/wav" };
  }
  const iso = isoBmff(head);
  if (iso) return iso;
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return contains(head, "webm") ? { kind: "video", mime: "video/webm", needs: "av" } : null;
  }
  if (ascii(head, 0, 4) === "OggS") {
    return contains(head, "OpusHead") || contains(head, "\x01vorbis")
      ? { kind: "audio", mime: "audio/ogg" }
      : null;
  }
  if (ascii(head, 0, 3) === "ID3") return { kind: "audio", mime: "audio/mpeg" };
  // An MPEG audio frame header: 11 sync bits, then layer III.
  if (head[0] === 0xff && (head[1] & 0xe0) === 0xe0 && ((head[1] >> 1) & 3) === 1) {
    return { kind: "audio", mime: "audio/mpeg" };
  }
  if (ascii(head, 0, 5) === "%PDF-") return { kind: "document", mime: "application/pdf" };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    return { kind: "document", mime: "application/zip", needs: "zip" };
  }
  if (looksLikeText(head, complete)) return { kind: "document", mime: "text/plain", needs: "text" };
  return null;
}

const AUDIO_EXTENSIONS = /\.(m4a|aac|weba|opus|oga|ogg|mp3|wav)$/i;
const GENERIC = new Set(["", "application/octet-stream", "binary/octet-stream"]);
const AUDIO_MIME: Record<string, string> = {
  "video/mp4": "audio/mp4",
  "video/quicktime": "audio/mp4",
  "video/webm": "audio/webm",
};

/**
 * Settles what an upload is from its sniffed type, the type the client declared and its file name.
 * Null when the declaration contradicts the bytes (a declared image that is a PDF). A container that
 * may hold either becomes audio when the client says audio (type or extension), else video.
 */
export function reconcile(
  sniffed: Sniffed,
  declared: string | null,
  filename: string,
): Sniffed | null {
  const type = (declared ?? "").split(";")[0].trim().toLowerCase();
  const generic = GENERIC.has(type);
  if (sniffed.needs === "av") {
    const audio = type.startsWith("audio/") || (generic && AUDIO_EXTENSIONS.test(filename));
    if (audio) return { kind: "audio", mime: AUDIO_MIME[sniffed.mime], needs: "av" };
    return generic || type.startsWith("video/") ? sniffed : null;
  }
  if (generic) return sniffed;
  switch (sniffed.kind) {
    case "image":
      return type.startsWith("image/") ? sniffed : null;
    case "audio":
      return type.startsWith("audio/") ? sniffed : null;
    case "video":
      return type.startsWith("video/") ? sniffed : null;
    case "document":
      if (sniffed.needs === "text") return type.startsWith("text/") ? sniffed : null;
      if (sniffed.needs === "zip") {
        return type === "application/zip" || type.startsWith("application/vnd.") ? sniffed : null;
      }
      return type === sniffed.mime ? sniffed : null;
  }
}
