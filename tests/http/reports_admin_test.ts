import assert from "node:assert/strict";
import {
  assertProblem,
  Client,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
} from "../support/server.ts";
import { makeAdmin } from "../support/privacy.ts";
import { WsClient } from "../support/ws.ts";
import { dataDirHits, textNeedle } from "../support/privacy.ts";

serverTest(
  "reports: the evidence survives deletion, admins see it, nobody else does",
  async (s) => {
    const [reporter, offender, bystander, admin] = await registerUsers(s.url, 4);
    await makeAdmin(s, admin);
    const g = await createGroup(reporter, "Reported", [offender, bystander]);
    const m = await sendMessage(offender, g.id, { text: "evidence-canary buy my stuff" });
    const filed = ok(
      await reporter.client.post("/v1/reports", {
        reason: "spam",
        note: "note-canary keeps posting this",
        conversationId: g.id,
        messageId: m.id,
      }),
      201,
    ).body;
    assert.deepEqual([filed.reason, filed.status], ["spam", "open"]);
    ok(
      await offender.client.delete(`/v1/conversations/${g.id}/messages/${m.id}?for=everyone`),
      204,
    );

    const queue = ok(await admin.client.get("/v1/admin/reports?status=open")).body.reports;
    const report = queue.find((r: any) => r.id === filed.id);
    assert.equal(report.evidence.text, "evidence-canary buy my stuff");
    assert.equal(report.evidence.senderId, offender.id);
    assert.equal(report.userId, offender.id, "the sender is the reported user");
    assert.equal(report.note, "note-canary keeps posting this");
    assert.equal(report.reporterId, reporter.id);
    for (const u of [reporter, offender, bystander]) {
      assertProblem(await u.client.get("/v1/admin/reports"), 403, "forbidden");
    }
    // Nothing of it is in the clear at rest.
    const hits = await dataDirHits(s.dataDir, [
      textNeedle("evidence-canary"),
      textNeedle("note-canary"),
    ]);
    assert.deepEqual(hits, []);

    const resolved = ok(
      await admin.client.patch(`/v1/admin/reports/${filed.id}`, {
        status: "resolved",
        resolution: "warned the user",
      }),
    ).body;
    assert.deepEqual([resolved.status, resolved.resolution, resolved.resolvedBy], [
      "resolved",
      "warned the user",
      admin.id,
    ]);
    assert.ok(
      !ok(await admin.client.get("/v1/admin/reports")).body.reports.some((r: any) =>
        r.id === filed.id
      ),
    );
    const done = ok(await admin.client.get("/v1/admin/reports?status=resolved")).body.reports;
    assert.ok(done.some((r: any) => r.id === filed.id));
    const audit = ok(await admin.client.get("/v1/admin/audit")).body;
    assert.ok(JSON.stringify(audit).includes(filed.id));
    // Kept a year after it was resolved, then removed by the sweep.
    const sweeper = s.parley.services.sweeper;
    await sweeper.sweep(new Date(Date.now() + 300 * 86_400_000));
    assert.ok(
      ok(await admin.client.get("/v1/admin/reports?status=resolved")).body.reports.some((
        r: any,
      ) => r.id === filed.id),
    );
    const swept = await sweeper.sweep(new Date(Date.now() + 366 * 86_400_000));
    assert.ok(swept.moderationRemoved >= 1);
    assert.deepEqual(
      ok(await admin.client.get("/v1/admin/reports?status=resolved")).body.reports,
      [],
    );

    // Reporting a user alone; bad reports.
    ok(await bystander.client.post("/v1/reports", { reason: "abuse", userId: offender.id }), 201);
    const [outsider] = await registerUsers(s.url, 1);
    assertProblem(
      await outsider.client.post("/v1/reports", {
        reason: "spam",
        conversationId: g.id,
        messageId: m.id,
      }),
      404,
      "not_found",
    );
    assertProblem(
      await reporter.client.post("/v1/reports", { reason: "spam", messageId: m.id }),
      400,
      "validation_failed",
    );
    assertProblem(
      await reporter.client.post("/v1/reports", { reason: "spam" }),
      400,
      "validation_failed",
    );
    assertProblem(
      await reporter.client.post("/v1/reports", { reason: "boring", userId: offender.id }),
      400,
      "validation_failed",
    );
    assertProblem(
      await reporter.client.post("/v1/reports", { reason: "spam", userId: "nobody" }),
      404,
      "not_found",
    );
    assertProblem(
      await admin.client.patch("/v1/admin/reports/nope", { status: "resolved" }),
      404,
      "not_found",
    );
  },
);

serverTest(
  "suspension: sessions revoked, sockets closed, login refused until lifted; all audited",
  async (s) => {
    const [admin, user] = await registerUsers(s.url, 2);
    await makeAdmin(s, admin);
    const sock = await WsClient.connect(s.url, user.accessToken);
    assertProblem(
      await user.client.post(`/v1/admin/users/${admin.id}/suspend`, { reason: "x" }),
      403,
      "forbidden",
    );
    const until = new Date(Date.now() + 3600_000).toISOString();
    const res = ok(
      await admin.client.post(`/v1/admin/users/${user.id}/suspend`, { reason: "spam", until }),
    ).body;
    assert.deepEqual([res.userId, res.until, res.reason], [user.id, until, "spam"]);
    const closed = await sock.closed;
    assert.equal(closed.code, 4001);
    assertProblem(await user.client.get("/v1/users/me"), 401, "unauthorized");
    const login = await new Client(s.url).post("/v1/auth/login", {
      username: user.username,
      password: user.password,
    });
    assertProblem(login, 403, "suspended");
    assert.ok(login.body.detail.includes(until));
    const wrong = await new Client(s.url).post("/v1/auth/login", {
      username: user.username,
      password: "not the password",
    });
    assertProblem(wrong, 401, "unauthorized");
    assertProblem(
      await new Client(s.url).post("/v1/auth/refresh", { refreshToken: user.refreshToken }),
      401,
      "unauthorized",
    );

    ok(await admin.client.post(`/v1/admin/users/${user.id}/unsuspend`), 204);
    ok(
      await new Client(s.url).post("/v1/auth/login", {
        username: user.username,
        password: user.password,
      }),
    );
    const audit = JSON.stringify(ok(await admin.client.get("/v1/admin/audit")).body);
    for (const action of ["user.suspended", "user.unsuspended", "login.refused_suspended"]) {
      assert.ok(audit.includes(action), action);
    }
    assertProblem(
      await admin.client.post(`/v1/admin/users/${admin.id}/suspend`, { reason: "me" }),
      403,
      "forbidden",
    );
    assertProblem(
      await admin.client.post(`/v1/admin/users/nope/suspend`, { reason: "x" }),
      404,
      "not_found",
    );
    assertProblem(
      await admin.client.post(`/v1/admin/users/${user.id}/suspend`, {}),
      400,
      "validation_failed",
    );
  },
);

serverTest("admins remove any message for everyone; audited", async (s) => {
  const [admin, a, b] = await registerUsers(s.url, 3);
  await makeAdmin(s, admin);
  const g = await createGroup(a, "Watched", [b]);
  const m = await sendMessage(b, g.id, { text: "remove me" });
  const sock = await WsClient.connect(s.url, a.accessToken);
  assertProblem(
    await a.client.delete(`/v1/admin/conversations/${g.id}/messages/${m.id}`),
    403,
    "forbidden",
  );
  ok(await admin.client.delete(`/v1/admin/conversations/${g.id}/messages/${m.id}`), 204);
  const deleted = await sock.next((f) => f.event === "message.deleted" && f.data.id === m.id);
  assert.ok(deleted.data.deletedAt);
  assert.equal(deleted.data.text, undefined);
  const audit = JSON.stringify(ok(await admin.client.get("/v1/admin/audit")).body);
  assert.ok(audit.includes("message.removed_by_admin"));
  assertProblem(
    await admin.client.delete(`/v1/admin/conversations/${g.id}/messages/nope`),
    404,
    "not_found",
  );
  await sock.close();
});
