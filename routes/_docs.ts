import { getAbsoluteFSPath } from "swagger-ui-dist";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./_env.ts";

/**
 * The interactive API reference: Swagger UI from the pinned `swagger-ui-dist` package's own files,
 * served by Parley itself (nothing is fetched from another origin), under a CSP that allows only
 * this origin's scripts.
 */
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The package files the page loads, by the name it uses. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<p style="margin:12px 20px;font-family:sans-serif">
WebSocket protocol: <a href="/asyncapi.json">AsyncAPI document</a> ·
Postman: <a href="/docs/postman.json">collection</a> ·
<a href="/docs/problems">problem codes</a>
</p>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
});
`;

/** Mounts `/docs` (Swagger UI), its assets and its start-up script. */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  const dir = getAbsoluteFSPath();
  const cache = new Map<string, Promise<Uint8Array>>();
  const file = (name: string) => {
    let bytes = cache.get(name);
    if (!bytes) cache.set(name, bytes = Deno.readFile(`${dir}/${name}`));
    return bytes;
  };

  app.get("/docs", (c) => {
    c.header("content-security-policy", DOCS_CSP);
    return c.html(PAGE);
  });
  app.get("/docs/init.js", (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    return c.body(INIT);
  });
  app.get("/docs/assets/:name", async (c) => {
    const name = c.req.param("name");
    const type = ASSETS[name];
    if (!type) return c.notFound();
    c.header("content-type", type);
    // The package version is pinned: the files change only with a release of Parley.
    c.header("cache-control", "public, max-age=86400");
    return c.body((await file(name)) as Uint8Array<ArrayBuffer>);
  });
}

/**
 * A Postman (v2.1) collection of the API, made from the OpenAPI document by Postman's own converter
 * (loaded only when asked for), one folder per tag, with example bodies and `{{baseUrl}}`.
 */
export async function toPostmanCollection(openapi: string): Promise<unknown> {
  const { default: converter } = await import("openapi-to-postmanv2");
  return await new Promise((resolve, reject) => {
    converter.convertV2(
      { type: "string", data: openapi },
      { folderStrategy: "Tags", requestParametersResolution: "Example" },
      (err, result) => {
        if (err) return reject(err);
        if (!result?.result || !result.output?.[0]) {
          return reject(new Error(`postman conversion failed: ${result?.reason}`));
        }
        resolve(result.output[0].data);
      },
    );
  });
}
