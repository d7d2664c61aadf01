/**
 * The API contract, checked on every response the black-box suite sees: each answer of a documented
 * operation must have a documented status and, for JSON, validate against the documented schema of
 * `/openapi.json` (Ajv, JSON Schema 2020-12, formats checked). A mismatch fails the test that made
 * the request, naming the operation, status and the first schema errors.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

interface Contract {
  operations: Operation[];
  validators: Map<string, ValidateFunction>;
  ajv: Ajv2020;
}

/** One compiled contract per distinct document (every test server serves the same one). */
const byText = new Map<string, Contract>();
const byBase = new Map<string, Promise<Contract>>();

function compile(text: string): Contract {
  const cached = byText.get(text);
  if (cached) return cached;
  const doc = JSON.parse(text);
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: "doc", components: doc.components ?? {} });
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries<Record<string, any>>(doc.paths ?? {})) {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const pattern = new RegExp(
      "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+") +
        "$",
    );
    for (const [method, op] of Object.entries<any>(item)) {
      if (!op?.responses) continue;
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern,
        params,
        responses: op.responses,
      });
    }
  }
  // A literal path wins over a template that would also match it (`/conversations/discover`).
  operations.sort((a, b) => a.params - b.params);
  const contract = { operations, validators: new Map(), ajv };
  byText.set(text, contract);
  return contract;
}

function contractOf(base: string): Promise<Contract> {
  let p = byBase.get(base);
  if (!p) {
    p = fetch(`${base}/openapi.json`).then(async (res) => compile(await res.text()));
    p.catch(() => byBase.delete(base));
    byBase.set(base, p);
  }
  return p;
}

/** Rewrites `#/components/...` references to the registered document. */
function rebase(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
}

/**
 * Checks one response against the contract; throws when it breaks it. Requests to paths the
 * document does not describe (health, metrics, docs, the socket, unknown routes) are not checked.
 */
export async function checkResponse(
  base: string,
  method: string,
  path: string,
  status: number,
  contentType: string,
  body: unknown,
): Promise<void> {
  if (Deno.env.get("PARLEY_CONTRACT_CHECK") === "off") return;
  const pathname = path.split("?")[0];
  if (!pathname.startsWith("/v1/") || pathname === "/v1/ws") return;
  const contract = await contractOf(base);
  const op = contract.operations.find((o) => o.method === method && o.pattern.test(pathname));
  if (!op) return;
  const where = `${method} ${op.template} → ${status}`;
  const response = op.responses[String(status)] ?? op.responses.default;
  if (!response) throw new Error(`contract: ${where} is not a documented status`);
  const type = contentType.split(";")[0].trim();
  if (!type || !(type.endsWith("json"))) return;
  const schema = response.content?.[type]?.schema;
  if (!schema) throw new Error(`contract: ${where} documents no ${type} body`);
  const key = `${where} ${type}`;
  let validate = contract.validators.get(key);
  if (!validate) {
    validate = contract.ajv.compile(rebase(schema) as object);
    contract.validators.set(key, validate);
  }
  if (!validate(body)) {
    const errors = (validate.errors ?? []).slice(0, 5).map((e) =>
      `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`
    );
    throw new Error(
      `contract: ${where} body does not match the documented schema: ${errors.join("; ")}; ` +
        `body: ${JSON.stringify(body).slice(0, 400)}`,
    );
  }
}
