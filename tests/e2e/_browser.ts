import { type Browser, chromium } from "playwright-core";

/** Where Debian's chromium package puts the browser (`apt-get install chromium`). */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Whether a Chromium to drive is installed; e2e tests skip (saying so once) when it is not. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Launches headless Chromium (closed with `await using`). */
export async function launch(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** Where tests keep what a person may want to look at afterwards (screenshots); git-ignored. */
export const OUTPUT = new URL("./output/", import.meta.url).pathname;
