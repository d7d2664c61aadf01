import { Unzip, UnzipInflate } from "fflate";
import { unsupportedMediaType } from "../domain/errors.ts";
import { concatBytes } from "./bytes.ts";
import type { Sniffed } from "./sniff.ts";

/**
 * Looks at every byte of an upload as it streams past and, at the end, confirms (or refines) its
 * type: a zip must be an Office document, text must stay UTF-8 without NUL. Throws 415 otherwise.
 */
export interface ContentCheck {
  push(chunk: Uint8Array): void;
  /** The final MIME type and what was learnt on the way (a PDF's page count). */
  finish(): { mime: string; pageCount?: number };
}

const OOXML: Array<[RegExp, string]> = [
  [
    /wordprocessingml\.document\.main\+xml/,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ],
  [
    /spreadsheetml\.sheet\.main\+xml/,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ],
  [
    /presentationml\.presentation\.main\+xml/,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  ],
];
const ODF = new Set([
  "application/vnd.oasis.opendocument.text",
  "application/vnd.oasis.opendocument.spreadsheet",
  "application/vnd.oasis.opendocument.presentation",
]);
const MAX_MANIFEST = 256 * 1024;

/** Finds `[Content_Types].xml` (OOXML) or `mimetype` (ODF) while the zip streams by. */
function officeCheck(declared: string | null): ContentCheck {
  let manifest: { name: string; parts: Uint8Array[]; size: number } | null = null;
  let broken = false;
  const unzip = new Unzip((file) => {
    if (manifest || (file.name !== "[Content_Types].xml" && file.name !== "mimetype")) return;
    const current = { name: file.name, parts: [] as Uint8Array[], size: 0 };
    manifest = current;
    file.ondata = (err, data) => {
      if (err) return void (broken = true);
      current.size += data.length;
      if (current.size > MAX_MANIFEST) {
        broken = true;
        file.terminate();
      } else current.parts.push(data);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  return {
    push(chunk) {
      if (broken) return;
      try {
        unzip.push(chunk);
      } catch {
        broken = true;
      }
    },
    finish() {
      const found = manifest as { name: string; parts: Uint8Array[] } | null;
      if (broken || !found) throw unsupportedMediaType("The zip file is not an Office document");
      const text = new TextDecoder().decode(concatBytes(found.parts));
      const mime = found.name === "mimetype"
        ? (ODF.has(text.trim()) ? text.trim() : null)
        : OOXML.find(([pattern]) => pattern.test(text))?.[1] ?? null;
      if (!mime) throw unsupportedMediaType("The zip file is not a supported Office document");
      const type = declared?.split(";")[0].trim().toLowerCase();
      if (type?.startsWith("application/vnd.") && type !== mime) {
        throw unsupportedMediaType(`The file is ${mime}, not ${type}`);
      }
      return { mime };
    },
  };
}

/** Confirms the whole stream is UTF-8 without NUL bytes. */
function textCheck(): ContentCheck {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let ok = true;
  return {
    push(chunk) {
      if (!ok) return;
      try {
        decoder.decode(chunk, { stream: true });
        if (chunk.includes(0)) ok = false;
      } catch {
        ok = false;
      }
    },
    finish() {
      try {
        decoder.decode();
      } catch {
        ok = false;
      }
      if (!ok) throw unsupportedMediaType("The file is not plain UTF-8 text");
      return { mime: "text/plain" };
    },
  };
}

/** Counts `/Type /Page` objects (not `/Pages`) across chunk boundaries: cheap, and good enough. */
function pdfCheck(): ContentCheck {
  const pattern = /\/Type\s*\/Page(?![a-zA-Z])/g;
  const decoder = new TextDecoder("latin1");
  let tail = "";
  let pages = 0;
  return {
    push(chunk) {
      const text = tail + decoder.decode(chunk);
      const safe = text.length - 32;
      for (const m of text.matchAll(pattern)) if (m.index! < safe) pages++;
      tail = text.slice(Math.max(0, safe));
    },
    finish() {
      pages += [...tail.matchAll(pattern)].length;
      return { mime: "application/pdf", ...(pages > 0 ? { pageCount: pages } : {}) };
    },
  };
}

/** The check an upload of this sniffed type needs while it streams. */
export function contentCheck(sniffed: Sniffed, declared: string | null): ContentCheck {
  if (sniffed.needs === "zip") return officeCheck(declared);
  if (sniffed.needs === "text") return textCheck();
  if (sniffed.mime === "application/pdf") return pdfCheck();
  return { push() {}, finish: () => ({ mime: sniffed.mime }) };
}
