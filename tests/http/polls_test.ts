import assert from "node:assert/strict";
import { assertProblem, createGroup, ok, registerUsers, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "polls: votes replace each other, each member sees their own, anonymous hides voters",
  async (s) => {
    const [owner, a, b] = await registerUsers(s.url, 3);
    const g = await createGroup(owner, "Polls", [a, b]);
    const aWs = await WsClient.connect(s.url, a.accessToken);
    const post = (body: Record<string, unknown>) =>
      owner.client.post(`/v1/conversations/${g.id}/messages`, {
        clientMsgId: crypto.randomUUID(),
        ...body,
      });
    const poll =
      ok(await post({ poll: { question: "Lunch?", options: ["Pizza", "Sushi", "Salad"] } }), 201)
        .body.message;
    assert.equal(poll.kind, "poll");
    assert.equal(poll.text, undefined);
    assert.deepEqual(poll.poll, {
      question: "Lunch?",
      options: [
        { id: "o1", text: "Pizza", votes: 0, voterIds: [] },
        { id: "o2", text: "Sushi", votes: 0, voterIds: [] },
        { id: "o3", text: "Salad", votes: 0, voterIds: [] },
      ],
      multiple: false,
      anonymous: false,
      closed: false,
      myVotes: [],
    });
    const vote = (u: typeof owner, optionIds: string[], id = poll.id) =>
      u.client.put(`/v1/conversations/${g.id}/messages/${id}/votes`, { optionIds });
    const voted = ok(await vote(a, ["o2"])).body.message.poll;
    assert.deepEqual(voted.myVotes, ["o2"]);
    assert.equal(voted.options[1].votes, 1);
    const event = await aWs.next((f) => f.event === "message.updated" && f.data.id === poll.id);
    assert.deepEqual(event.data.poll.myVotes, ["o2"], "the event is rendered for its recipient");
    ok(await vote(b, ["o2"]));
    const changed = ok(await vote(a, ["o3"])).body.message.poll;
    assert.deepEqual(changed.options.map((o: any) => [o.id, o.votes, o.voterIds]), [
      ["o1", 0, []],
      ["o2", 1, [b.id]],
      ["o3", 1, [a.id]],
    ]);
    const seen = ok(await owner.client.get(`/v1/conversations/${g.id}/messages`)).body.messages
      .find((m: any) => m.id === poll.id).poll;
    assert.deepEqual(seen.myVotes, [], "the owner did not vote");
    assertProblem(await vote(a, ["o1", "o2"]), 400, "validation_failed");
    assertProblem(await vote(a, ["o9"]), 400, "validation_failed");
    ok(await vote(a, []));
    assert.equal(ok(await vote(b, ["o2"])).body.message.poll.options[1].votes, 1, "idempotent");

    const secret = ok(
      await post({
        poll: { question: "Honest?", options: ["Yes", "No"], anonymous: true, multiple: true },
      }),
      201,
    ).body.message;
    const anon = ok(await vote(a, ["o1", "o2"], secret.id)).body.message.poll;
    assert.deepEqual(anon.myVotes, ["o1", "o2"]);
    assert.deepEqual(anon.options.map((o: any) => [o.votes, o.voterIds]), [[1, undefined], [
      1,
      undefined,
    ]]);
    const anonEvent = await aWs.next((f) =>
      f.event === "message.updated" && f.data.id === secret.id
    );
    assert.ok(!JSON.stringify(anonEvent).includes("voterIds"), "no voter leaves the server");
    await aWs.close();
  },
);

serverTest(
  "polls: bad polls and votes are refused; a poll closes at its time with an event",
  async (s) => {
    const [owner, a] = await registerUsers(s.url, 2);
    const aWs = await WsClient.connect(s.url, a.accessToken);
    const d =
      ok(await owner.client.post("/v1/conversations", { type: "direct", userId: a.id }), 201).body
        .id;
    const post = (body: Record<string, unknown>) =>
      owner.client.post(`/v1/conversations/${d}/messages`, {
        clientMsgId: crypto.randomUUID(),
        ...body,
      });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ poll: { question: "One?", options: ["only"] } }, "poll.options"],
      [
        { poll: { question: "Eleven?", options: Array.from({ length: 11 }, (_, i) => `o${i}`) } },
        "poll.options",
      ],
      [{ poll: { question: "", options: ["a", "b"] } }, "poll.question"],
      [{ poll: { question: "Same?", options: ["a", "a"] } }, "poll.options.1"],
      [{
        poll: {
          question: "Past?",
          options: ["a", "b"],
          closesAt: new Date(Date.now() - 1000).toISOString(),
        },
      }, "poll.closesAt"],
      [{ text: "and text", poll: { question: "Mixed?", options: ["a", "b"] } }, "poll"],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      assertProblem(res, 400, "validation_failed");
      assert.ok(
        res.body.errors.some((e: any) => e.path === field),
        `${field}: ${JSON.stringify(res.body)}`,
      );
    }
    const text = ok(await post({ text: "not a poll" }), 201).body.message;
    assertProblem(
      await a.client.put(`/v1/conversations/${d}/messages/${text.id}/votes`, { optionIds: [] }),
      400,
      "validation_failed",
    );
    const closesAt = new Date(Date.now() + 1500).toISOString();
    const soon =
      ok(await post({ poll: { question: "Quick?", options: ["a", "b"], closesAt } }), 201).body
        .message;
    assert.equal(soon.poll.closesAt, closesAt);
    ok(
      await a.client.put(`/v1/conversations/${d}/messages/${soon.id}/votes`, { optionIds: ["o1"] }),
    );
    assertProblem(
      await owner.client.patch(`/v1/conversations/${d}/messages/${soon.id}`, { text: "x" }),
      403,
      "forbidden",
    );
    const closing = await aWs.next(
      (f) => f.event === "message.updated" && f.data.id === soon.id && f.data.poll.closed,
      6000,
    );
    assert.deepEqual(closing.data.poll.myVotes, ["o1"], "the closing event is rendered per member");
    assertProblem(
      await a.client.put(`/v1/conversations/${d}/messages/${soon.id}/votes`, { optionIds: ["o2"] }),
      409,
      "conflict",
    );
    const after = ok(await a.client.get(`/v1/conversations/${d}/messages`)).body.messages.find((
      m: any,
    ) => m.id === soon.id);
    assert.equal(after.poll.closed, true);
    assert.deepEqual(after.poll.myVotes, ["o1"]);
    await aWs.close();
  },
);
