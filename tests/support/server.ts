import { checkResponse } from "./contract.ts";
import { createParley, type Parley } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { sanitized } from "./sanitizers.ts";

/** A real Parley instance on an ephemeral loopback port with a fresh data directory. */
export interface TestServer {
  url: string;
  port: number;
  parley: Parley;
  dataDir: string;
  /** Every log line written so far. */
  logs: string[];
  /** Stops the server and the instance and removes its own data directory; safe to call twice. */
  close(): Promise<void>;
  /** {@link TestServer.close}, so `await using s = await startServer()` closes at scope exit. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts Parley in this process with the embedded defaults plus `env`, listening on 127.0.0.1:0.
 * Each call gets its own temporary `DATA_DIR` (removed on close) unless `env.DATA_DIR` is given.
 */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const ownDir = !env.DATA_DIR;
  const dataDir = env.DATA_DIR ?? await Deno.makeTempDir({ prefix: "parley-test-" });
  const config = loadConfig({ LOG_LEVEL: "debug", ...env, DATA_DIR: dataDir, PORT: "0" });
  const logs: string[] = [];
  const parley = await createParley(config, { logWrite: (l) => logs.push(l) });
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => ready.resolve(port),
  }, parley.app.fetch);
  const port = await ready.promise;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      parley.beginShutdown();
      await server.shutdown();
      await parley.close();
      if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    })();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    parley,
    dataDir,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The body of a {@link serverTest}: the running server and the test's context. */
export type ServerTestFn = (s: TestServer, t: Deno.TestContext) => void | Promise<void>;

/** Options for {@link serverTest}: any `Deno.test` option plus the server's environment. */
export interface ServerTestOptions extends Omit<Deno.TestDefinition, "name" | "fn"> {
  /** Variables for {@link startServer} on top of the embedded defaults. */
  env?: Record<string, string>;
}

/**
 * Registers a `Deno.test` that starts a server (with `options.env`), runs `fn` with it and always
 * closes it. The op and resource sanitizers are on unless `options` turns them off.
 */
export function serverTest(name: string, fn: ServerTestFn): void;
export function serverTest(name: string, options: ServerTestOptions, fn: ServerTestFn): void;
export function serverTest(
  name: string,
  optionsOrFn: ServerTestOptions | ServerTestFn,
  maybeFn?: ServerTestFn,
): void {
  const [{ env, ...options }, fn] = typeof optionsOrFn === "function"
    ? [{}, optionsOrFn]
    : [optionsOrFn, maybeFn!];
  Deno.test({
    ...sanitized,
    ...options,
    name,
    async fn(t) {
      await using s = await startServer(env);
      await fn(s, t);
    },
  });
}

/** A temporary directory that `await using` removes (recursively) at scope exit. */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/**
 * Makes a temporary directory named `prefix…` for `await using dir = await tempDir("…")`; like a
 * server's own data directory, a failure to remove it does not fail the test.
 */
export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/**
 * One server for the tests of a file, started on first use and closed by the file's last test
 * ({@link SharedServer.closeTest}). It outlives each test, so its tests run without sanitizers.
 */
export class SharedServer {
  #server?: Promise<TestServer>;

  constructor(readonly env: Record<string, string> = {}) {}

  /** The server, started on the first call. */
  get(): Promise<TestServer> {
    return this.#server ??= startServer(this.env);
  }

  /** Registers a test on the shared server. */
  test(name: string, fn: (s: TestServer) => Promise<void>): void {
    Deno.test({
      name,
      // The shared server's listener, connections and workers span tests.
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => await fn(await this.get()),
    });
  }

  /** Registers the test that closes the server; declare it after every other test of the file. */
  closeTest(name: string): void {
    Deno.test({
      name,
      // Closing what earlier tests opened.
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        if (this.#server) await (await this.#server).close();
      },
    });
  }
}

/** The parsed answer to one HTTP request. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny JSON client for black-box tests. */
export class Client {
  constructor(readonly base: string, public token?: string) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.token && !("authorization" in h)) h.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      h["content-type"] ??= "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    const type = res.headers.get("content-type") ?? "";
    if (text && type.includes("json")) parsed = JSON.parse(text);
    // Every answer must be what the OpenAPI document says it is.
    await checkResponse(this.base, method, path, res.status, type, parsed);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body ?? {}, headers);
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>("PUT", path, body);
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>("PATCH", path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>("DELETE", path);
  }

  /** A client for the same server authenticated as someone else. */
  as(token: string): Client {
    return new Client(this.base, token);
  }
}

/** A registered user with a client that carries their access token. */
export interface TestUser {
  id: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  client: Client;
}

let counter = 0;

/**
 * Sends a message as `user` over REST (with a fresh `clientMsgId` unless `body` has one) and returns
 * the stored message; anything but 201 throws.
 */
export async function sendMessage(
  user: TestUser,
  conversationId: string,
  body: Record<string, unknown>,
): Promise<any> {
  const res = await user.client.post(`/v1/conversations/${conversationId}/messages`, {
    clientMsgId: crypto.randomUUID(),
    ...body,
  });
  if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.message;
}

/** Registers `n` fresh users at once. */
export function registerUsers(base: string, n: number): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: n }, () => registerUser(base)));
}

/**
 * Creates a group owned by `owner` with `members` (and `extra` fields such as `avatarMediaId`);
 * returns the conversation (anything but 201 throws).
 */
export async function createGroup(
  owner: TestUser,
  name: string,
  members: TestUser[],
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await owner.client.post("/v1/conversations", {
    type: "group",
    name,
    memberIds: members.map((m) => m.id),
    ...extra,
  });
  if (res.status !== 201) {
    throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** Registers a fresh user (unique name per call) and returns them logged in. */
export async function registerUser(
  base: string,
  options: { username?: string; password?: string; displayName?: string } = {},
): Promise<TestUser> {
  const username = options.username ?? `user${Date.now().toString(36)}${(counter++).toString(36)}`;
  const password = options.password ?? "correct horse battery";
  const res = await new Client(base).post("/v1/auth/register", {
    username,
    password,
    displayName: options.displayName,
  });
  if (res.status !== 201) {
    throw new Error(`register ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return {
    id: res.body.user.id,
    username: res.body.user.username,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    client: new Client(base, res.body.accessToken),
  };
}

/** Asserts a response has `status` (the body goes into the failure message); returns it. */
export function ok<T extends { status: number; body: unknown }>(res: T, status = 200): T {
  if (res.status !== status) {
    throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res;
}

/** Asserts a response is an RFC 9457 problem with `status` and `code`. */
export function assertProblem(res: Reply, status: number, code: string): void {
  const type = res.headers.get("content-type") ?? "";
  if (
    res.status !== status || !type.startsWith("application/problem+json") || res.body?.code !== code
  ) {
    throw new Error(
      `expected ${status} ${code} problem, got ${res.status} ${type} ${JSON.stringify(res.body)}`,
    );
  }
  for (const field of ["type", "title", "status", "detail", "code"]) {
    if (!(field in res.body)) {
      throw new Error(`problem lacks ${field}: ${JSON.stringify(res.body)}`);
    }
  }
}
