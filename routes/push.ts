import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../src/services/mod.ts";
import { requireAuth } from "./_middleware.ts";
import { bearer, jsonBody, jsonResponse, problems, router } from "./_openapi.ts";
import { Iso } from "./_schemas.ts";

const Base64Url = z.string().min(1).max(512).regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url");

const SubscriptionInput = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("webpush"),
    endpoint: z.string().min(1).max(2048).openapi({ format: "uri" }),
    keys: z.strictObject({ p256dh: Base64Url, auth: Base64Url }),
  }).openapi("WebPushSubscriptionInput"),
  z.strictObject({
    kind: z.enum(["fcm", "apns"]),
    token: z.string().min(1).max(4096).regex(/^[A-Za-z0-9:_.-]+$/, "not a device token"),
  }).openapi("DeviceTokenSubscriptionInput"),
]).openapi("PushSubscriptionInput");

const SubscriptionSchema = z.object({
  id: z.string(),
  kind: z.enum(["webpush", "fcm", "apns"]),
  sessionId: z.string(),
  current: z.boolean(),
  createdAt: Iso,
}).openapi("PushSubscription");

const QuietHours = z.strictObject({
  start: z.string().max(5).openapi({ example: "22:00" }),
  end: z.string().max(5).openapi({ example: "07:00" }),
  timeZone: z.string().min(1).max(64).openapi({ example: "Europe/Paris" }),
}).openapi("QuietHours");

const Preview = z.enum(["full", "sender", "none"]);

const SettingsSchema = z.object({
  preview: Preview,
  quietHours: QuietHours.nullable(),
  keywords: z.array(z.string()),
}).openapi("NotificationSettings");

const SettingsInput = z.strictObject({
  preview: Preview.optional(),
  quietHours: QuietHours.nullable().optional(),
  keywords: z.array(z.string().max(256)).max(100).optional(),
}).openapi("NotificationSettingsInput");

/** Push notifications: the VAPID key, a device's subscriptions, settings, acks and a test push. */
export function pushRoutes(services: Services) {
  const r = router();
  const base = { tags: ["Push"], security: bearer, middleware: [requireAuth(services.auth)] };
  const svc = services.push;

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/push/vapid",
      operationId: "getVapidKey",
      summary: "The VAPID public key (the applicationServerKey of a browser subscription)",
      responses: {
        200: jsonResponse(z.object({ publicKey: z.string() }), "The key, base64url"),
        ...problems(401),
      },
    }),
    (c) => c.json({ publicKey: svc.vapidPublicKey }, 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/push/subscriptions",
      operationId: "subscribePush",
      summary: "Subscribe this session (device) to push notifications",
      description: "A Web Push subscription (RFC 8030/8291: its `endpoint` and `keys`) or an " +
        "FCM/APNs device token. The same device subscribing again replaces its subscription. " +
        "Revoking the session (logout, session deletion) removes it; so does a push service " +
        "answering 404/410.",
      request: { body: jsonBody(SubscriptionInput) },
      responses: {
        201: jsonResponse(z.object({ id: z.string() }), "Subscribed"),
        ...problems(400, 401, 413, 415),
      },
    }),
    async (c) => c.json(await svc.subscribe(c.get("actor"), c.req.valid("json")), 201),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/push/subscriptions",
      operationId: "listPushSubscriptions",
      summary: "Your push subscriptions (all your devices)",
      responses: {
        200: jsonResponse(
          z.object({ subscriptions: z.array(SubscriptionSchema) }),
          "Oldest first",
        ),
        ...problems(401),
      },
    }),
    async (c) => c.json({ subscriptions: await svc.list(c.get("actor")) }, 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "delete",
      path: "/push/subscriptions/{id}",
      operationId: "deletePushSubscription",
      summary: "Remove one of your push subscriptions",
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 204: { description: "Removed" }, ...problems(401, 404) },
    }),
    async (c) => {
      await svc.unsubscribe(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "get",
      path: "/users/me/notifications",
      operationId: "getNotificationSettings",
      summary: "Your notification settings",
      responses: { 200: jsonResponse(SettingsSchema, "The settings"), ...problems(401) },
    }),
    async (c) => c.json(await svc.settings(c.get("actor")), 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "put",
      path: "/users/me/notifications",
      operationId: "setNotificationSettings",
      summary: "Set your notification settings (the fields given are replaced)",
      description: "`preview`: what a push shows (`full`: sender and text; `sender`: only who; " +
        "`none`: only that there is a message). `quietHours` in your IANA time zone silence " +
        "pushes except mentions of you (null turns them off). `keywords` notify like a mention " +
        "(kept encrypted).",
      request: { body: jsonBody(SettingsInput) },
      responses: {
        200: jsonResponse(SettingsSchema, "The settings now"),
        ...problems(400, 401, 413, 415),
      },
    }),
    async (c) => c.json(await svc.putSettings(c.get("actor"), c.req.valid("json")), 200),
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/push/ack",
      operationId: "ackPush",
      summary: "Acknowledge a push your device showed (its payload's ackId)",
      request: { body: jsonBody(z.strictObject({ ackId: z.string().min(1).max(64) })) },
      responses: { 204: { description: "Acknowledged" }, ...problems(400, 401, 404, 415) },
    }),
    async (c) => {
      await svc.ack(c.get("actor"), c.req.valid("json").ackId);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      ...base,
      method: "post",
      path: "/push/test",
      operationId: "testPush",
      summary: "Send a test push to this session's subscriptions",
      responses: {
        202: jsonResponse(
          z.object({ subscriptions: z.number().int() }),
          "Queued, one push per subscription of this session",
        ),
        ...problems(401, 404),
      },
    }),
    async (c) => c.json({ subscriptions: await svc.test(c.get("actor")) }, 202),
  );
  return r;
}
