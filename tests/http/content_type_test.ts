import assert from "node:assert/strict";
import { assertProblem, registerUser, serverTest } from "../support/server.ts";

serverTest(
  "JSON routes take only JSON bodies: text/plain, forms and unnamed types are 415",
  async (s) => {
    const body = JSON.stringify({ username: `ct${Date.now()}`, password: "correct horse battery" });
    const post = (headers: Record<string, string>, payload: BodyInit = body) =>
      fetch(`${s.url}/v1/auth/register`, { method: "POST", headers, body: payload });
    const read = async (res: Response) => ({
      status: res.status,
      headers: res.headers,
      body: await res.json(),
    });
    // What a cross-origin page can send without a CORS preflight.
    assertProblem(
      await read(await post({ "content-type": "text/plain;charset=UTF-8" })),
      415,
      "unsupported_media_type",
    );
    assertProblem(
      await read(await post({ "content-type": "application/x-www-form-urlencoded" }, "a=b")),
      415,
      "unsupported_media_type",
    );
    assertProblem(await read(await post({}, new Blob([body]))), 415, "unsupported_media_type");
    const created = await post({ "content-type": "application/json; charset=utf-8" });
    assert.equal(created.status, 201);
    await created.body?.cancel();

    // A bodiless POST needs no content type.
    const u = await registerUser(s.url);
    const res = await fetch(`${s.url}/v1/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    assert.notEqual(res.status, 415);
    await res.body?.cancel();
  },
);
