import assert from "node:assert/strict";
import { assertProblem, Client, registerUser, serverTest } from "../support/server.ts";

const root = new URL("../../", import.meta.url).pathname;

/** Runs `tools/admin_create.ts` as operators do, against `dataDir`. */
async function adminCreate(
  dataDir: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}tools/admin_create.ts`, ...args],
    cwd: root,
    // Empty values count as unset, so nothing from the caller's environment leaks in.
    env: { DATA_DIR: dataDir, PARLEY_ADMIN_PASSWORD: "", MONGODB_URI: "", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

serverTest("admin routes answer 403 to a signed-in user without the admin role", async (s) => {
  const user = await registerUser(s.url);
  const other = await registerUser(s.url);
  assertProblem(
    await user.client.patch(`/v1/admin/users/${other.id}`, { role: "admin" }),
    403,
    "forbidden",
  );
  assertProblem(
    await user.client.patch(`/v1/admin/users/${user.id}`, { role: "admin" }),
    403,
    "forbidden",
  );
  assertProblem(await user.client.get("/v1/admin/audit"), 403, "forbidden");
  assert.equal((await user.client.get("/v1/users/me")).body.role, "user", "no self-promotion");
});

serverTest(
  "admin:create promotes an existing user, who may then change roles and read the audit log",
  async (s) => {
    const c = new Client(s.url);
    const boss = await registerUser(s.url, { username: "boss", password: "boss password 1" });
    const pleb = await registerUser(s.url, { username: "pleb", password: "pleb password 1" });
    const wrongPassword = "not the boss password";
    assertProblem(
      await c.post("/v1/auth/login", { username: "boss", password: wrongPassword }),
      401,
      "unauthorized",
    );
    const login = await c.post("/v1/auth/login", { username: "boss", password: boss.password });
    assert.equal(login.status, 200);
    assertProblem(await boss.client.get("/v1/admin/audit"), 403, "forbidden");

    const cli = await adminCreate(s.dataDir, ["--username", "BOSS"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim().split("\n").length, 1, "one line of output");
    assert.match(cli.stdout, /promoted boss/);

    // The role is read from the store on each request: the boss's existing token now suffices.
    const promoted = await boss.client.patch(`/v1/admin/users/${pleb.id}`, { role: "admin" });
    assert.equal(promoted.status, 200);
    assert.equal(promoted.body.id, pleb.id);
    assert.equal(promoted.body.role, "admin");
    assert.equal((await pleb.client.get("/v1/admin/audit")).status, 200, "pleb is admin now");
    const demoted = await boss.client.patch(`/v1/admin/users/${pleb.id}`, { role: "user" });
    assert.equal(demoted.body.role, "user");
    assertProblem(await pleb.client.get("/v1/admin/audit"), 403, "forbidden");
    assertProblem(
      await boss.client.patch("/v1/admin/users/no-such-user", { role: "admin" }),
      404,
      "not_found",
    );
    assertProblem(
      await boss.client.patch(`/v1/admin/users/${pleb.id}`, { role: "root" }),
      400,
      "validation_failed",
    );

    const audit = await boss.client.get("/v1/admin/audit?limit=200");
    assert.equal(audit.status, 200);
    const entries: Array<Record<string, any>> = audit.body.entries;
    const find = (action: string, where: (e: Record<string, any>) => boolean = () => true) => {
      const hit = entries.find((e) => e.action === action && where(e));
      assert.ok(hit, `an audit entry for ${action}: ${JSON.stringify(entries)}`);
      return hit;
    };
    for (const action of ["user.registered", "login.failed", "login.succeeded"]) {
      const entry = find(action, (e) => e.targetId === boss.id || e.actorId === boss.id);
      assert.equal(entry.ip, "127.0.0.1", `${action} records the address`);
    }
    // Entries are ordered by id, which is only millisecond-precise, so compare without order.
    const changes = entries
      .filter((e) => e.action === "user.role_changed" && e.actorId)
      .map((e) => JSON.stringify([e.actorId, e.targetId, e.ip, e.details]))
      .sort();
    assert.deepEqual(changes, [
      JSON.stringify([boss.id, pleb.id, "127.0.0.1", { from: "admin", to: "user" }]),
      JSON.stringify([boss.id, pleb.id, "127.0.0.1", { from: "user", to: "admin" }]),
    ]);
    const byCli = find("user.role_changed", (e) => e.actorId === null);
    assert.equal(byCli.targetId, boss.id);
    assert.equal(byCli.ip, null);
    assert.equal(byCli.details.via, "cli");

    const text = JSON.stringify(audit.body);
    for (const secret of [boss.password, pleb.password, wrongPassword, boss.accessToken]) {
      assert.ok(!text.includes(secret), "the audit log never holds a password or token");
    }
    const failed = await boss.client.get("/v1/admin/audit?action=login.failed");
    assert.ok(failed.body.entries.length >= 1);
    assert.ok(failed.body.entries.every((e: { action: string }) => e.action === "login.failed"));
  },
);

serverTest("admin:create creates a new administrator from a password on stdin", async (s) => {
  // Only the final line break is the terminator; spaces belong to the password.
  const password = "  correct horse admin  ";
  const cli = await adminCreate(s.dataDir, ["--username", "Root", "--password-stdin"], {
    stdin: `${password}\n`,
  });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^created administrator root \(\w+\)\n$/);

  const login = await new Client(s.url).post("/v1/auth/login", { username: "root", password });
  assert.equal(login.status, 200);
  assert.equal(login.body.user.role, "admin");
  assert.equal(login.body.user.displayName, "Root");
  const admin = new Client(s.url, login.body.accessToken);
  const audit = await admin.get("/v1/admin/audit?action=admin.created");
  assert.equal(audit.body.entries.length, 1);
  assert.equal(audit.body.entries[0].targetId, login.body.user.id);
  assert.equal(audit.body.entries[0].actorId, null);
  assert.deepEqual(audit.body.entries[0].details, { via: "cli" });

  const again = await adminCreate(s.dataDir, ["--username", "root"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already an administrator/);
  assert.equal(
    (await admin.get("/v1/admin/audit?action=admin.created")).body.entries.length,
    1,
  );
});

serverTest(
  "admin:create takes a new administrator's password from PARLEY_ADMIN_PASSWORD",
  async (s) => {
    const password = "password from the environment";
    const cli = await adminCreate(s.dataDir, ["--username=envadmin"], {
      env: { PARLEY_ADMIN_PASSWORD: password },
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /created administrator envadmin/);
    const login = await new Client(s.url).post("/v1/auth/login", {
      username: "envadmin",
      password,
    });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.role, "admin");
  },
);

serverTest(
  "admin:create refuses bad input with a one-line message, a non-zero exit and no account",
  async (s) => {
    const cases: Array<[args: string[], options: { stdin?: string }, message: RegExp]> = [
      [[], {}, /--username is required/],
      [["--username"], {}, /--username needs a value/],
      [["--username", "a b"], {}, /username must be 3-32 characters/],
      [["--username", "ünï", "--password-stdin"], { stdin: "long enough pw\n" }, /username/],
      [["--username", "shorty", "--password-stdin"], { stdin: "short\n" }, /at least 8/],
      [["--username", "longy", "--password-stdin"], { stdin: "p".repeat(257) }, /at most 256/],
      [["--username", "nopass"], {}, /needs a password/],
      [["--username", "flaggy", "--verbose"], {}, /unknown argument "--verbose"/],
    ];
    for (const [args, options, message] of cases) {
      const r = await adminCreate(s.dataDir, args, options);
      const what = JSON.stringify(args);
      assert.notEqual(r.code, 0, `${what} fails`);
      assert.equal(r.stdout, "", `${what} prints nothing on stdout`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: one line, got ${r.stderr}`);
      assert.match(lines[0], /^admin:create: /);
      assert.match(lines[0], message);
    }
    for (const username of ["shorty", "longy", "nopass", "flaggy"]) {
      await registerUser(s.url, { username }); // throws unless the name is still free
    }
    const bad = await adminCreate(s.dataDir, ["--username", "x"], {
      env: { ARGON2_ITERATIONS: "1" },
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr.trim(), /^admin:create: invalid configuration: ARGON2_ITERATIONS/);
  },
);
