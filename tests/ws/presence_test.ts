import assert from "node:assert/strict";
import { registerUsers, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "presence: online with the first socket, offline with lastSeenAt after the last, only to contacts",
  async (s) => {
    const [a, b, stranger] = await registerUsers(s.url, 3);
    await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
    const wb = await WsClient.connect(s.url, b.accessToken);
    const ws = await WsClient.connect(s.url, stranger.accessToken);
    const a1 = await WsClient.connect(s.url, a.accessToken);
    assert.deepEqual((await wb.event("presence")).data, { userId: a.id, presence: "online" });
    assert.equal((await b.client.get(`/v1/users/${a.id}`)).body.presence, "online");
    const a2 = await WsClient.connect(s.url, a.accessToken);
    await a1.close();
    assert.equal(
      (await b.client.get(`/v1/users/${a.id}`)).body.presence,
      "online",
      "one socket left",
    );
    const before = Date.now();
    await a2.close();
    const offline = await wb.event("presence");
    assert.equal(offline.data.presence, "offline");
    assert.ok(Date.parse(offline.data.lastSeenAt) >= before - 5);
    const profile = (await b.client.get(`/v1/users/${a.id}`)).body;
    assert.equal(profile.presence, "offline");
    assert.equal(profile.lastSeenAt, offline.data.lastSeenAt);
    await ws.request({ type: "ping" });
    assert.deepEqual(
      ws.events().filter((e) => e.event === "presence"),
      [],
      "strangers hear nothing",
    );
    await Promise.all([wb.close(), ws.close()]);
  },
);

serverTest(
  "presence as the user sets it: away and dnd show, invisible shows offline; privacy hides lastSeenAt",
  async (s) => {
    const [a, b, stranger] = await registerUsers(s.url, 3);
    await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
    const wb = await WsClient.connect(s.url, b.accessToken);
    const wa = await WsClient.connect(s.url, a.accessToken);
    await wb.event("presence");
    await wa.request({ type: "presence", presence: "away" });
    assert.equal((await wb.event("presence")).data.presence, "away");
    await wa.request({ type: "presence", presence: "dnd" });
    assert.equal((await wb.event("presence")).data.presence, "dnd");
    await wa.request({ type: "presence", presence: "invisible" });
    assert.equal((await wb.event("presence")).data.presence, "offline");
    assert.equal((await stranger.client.get(`/v1/users/${a.id}`)).body.presence, "offline");
    assert.equal(
      (await a.client.get("/v1/users/me")).body.presence,
      "invisible",
      "the owner sees their setting",
    );
    await wa.request({ type: "presence", presence: "online" });
    await wb.event("presence");
    await a.client.patch("/v1/users/me", { privacy: { lastSeen: "contacts" } });
    await wb.event("presence");
    await wa.close();
    const off = await wb.event("presence");
    assert.ok(off.data.lastSeenAt, "contacts see it");
    assert.ok((await b.client.get(`/v1/users/${a.id}`)).body.lastSeenAt);
    assert.equal((await stranger.client.get(`/v1/users/${a.id}`)).body.lastSeenAt, undefined);
    await a.client.patch("/v1/users/me", { privacy: { lastSeen: "nobody" } });
    assert.equal((await b.client.get(`/v1/users/${a.id}`)).body.lastSeenAt, undefined);
    assert.ok((await a.client.get("/v1/users/me")).body.lastSeenAt, "but the owner does");
    await wb.close();
  },
);
