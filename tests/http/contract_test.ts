import assert from "node:assert/strict";
import { checkResponse } from "../support/contract.ts";
import { registerUser, serverTest } from "../support/server.ts";

serverTest(
  "the contract check refuses undocumented statuses and bodies off their schema",
  async (s) => {
    const u = await registerUser(s.url);
    const me = (await u.client.get("/v1/users/me")).body;
    const json = "application/json";
    await checkResponse(s.url, "GET", "/v1/users/me", 200, json, me);
    await assert.rejects(
      checkResponse(s.url, "GET", "/v1/users/me", 200, json, { ...me, username: 42 }),
      /does not match the documented schema/,
    );
    await assert.rejects(
      checkResponse(s.url, "GET", "/v1/users/me", 418, json, me),
      /not a documented status/,
    );
    const problem = {
      type: "/docs/problems#not_found",
      title: "Not found",
      status: 404,
      detail: "x",
      code: "not_found",
      instance: "/v1/conversations/x",
    };
    await checkResponse(
      s.url,
      "GET",
      "/v1/conversations/x",
      404,
      "application/problem+json",
      problem,
    );
    await assert.rejects(
      checkResponse(s.url, "GET", "/v1/conversations/discover?q=a", 200, json, { groups: [] }),
      /does not match/,
      "a literal path is matched before a template",
    );
  },
);
