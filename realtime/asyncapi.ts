import { z } from "zod";
import { AuthFrame, ClientFrame, CloseCode, ServerFrames } from "./protocol.ts";

/** A frame schema as JSON Schema (what the frame may hold, as the server validates it). */
function schemaOf(frame: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(frame, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return schema;
}

/** The `type` a client frame schema fixes (a literal, or each of an enum's values). */
function typesOf(frame: z.ZodType): string[] {
  const schema = schemaOf(frame) as { properties?: { type?: { const?: string; enum?: string[] } } };
  const t = schema.properties?.type;
  return t?.const ? [t.const] : t?.enum ?? [];
}

/**
 * The WebSocket protocol as an AsyncAPI 3 document, generated from the frame schemas the server
 * validates with (`realtime/protocol.ts`), so it cannot drift from what the server accepts.
 */
export function asyncApiDocument(options: { host: string; secure: boolean }) {
  const messages: Record<string, unknown> = {};
  const send: Array<{ $ref: string }> = [];
  const receive: Array<{ $ref: string }> = [];
  const add = (name: string, payload: Record<string, unknown>, summary: string, to: unknown[]) => {
    messages[name] = { name, title: name, summary, contentType: "application/json", payload };
    to.push({ $ref: `#/channels/socket/messages/${name}` });
  };
  add("auth", schemaOf(AuthFrame), "The first frame: your access token, and what to resume", send);
  for (const option of (ClientFrame as unknown as { options: z.ZodType[] }).options) {
    const payload = schemaOf(option);
    for (const type of typesOf(option)) add(type, payload, `Client frame \`${type}\``, send);
  }
  for (const [type, frame] of Object.entries(ServerFrames)) {
    add(`server.${type}`, schemaOf(frame), frame.description ?? type, receive);
  }
  const channelMessages = Object.fromEntries(
    Object.keys(messages).map((name) => [name, { $ref: `#/components/messages/${name}` }]),
  );
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Parley WebSocket protocol",
      version: "1.0.0",
      description: "One socket per device at /v1/ws. Send `auth` first; every frame with an `id` " +
        "gets exactly one `ack`. Close codes: " +
        Object.entries(CloseCode).map(([name, code]) => `${code} (${name})`).join(", ") +
        ". Event names and bodies: docs/PROTOCOL.md; REST shapes: /openapi.json.",
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
    },
    defaultContentType: "application/json",
    servers: {
      parley: {
        host: options.host,
        protocol: options.secure ? "wss" : "ws",
        pathname: "/v1/ws",
        description: "This server",
      },
    },
    channels: {
      socket: {
        address: "/v1/ws",
        title: "The realtime socket",
        messages: channelMessages,
      },
    },
    operations: {
      sendFrame: {
        action: "send",
        title: "Frames a client sends",
        channel: { $ref: "#/channels/socket" },
        messages: send,
      },
      receiveFrame: {
        action: "receive",
        title: "Frames the server sends",
        channel: { $ref: "#/channels/socket" },
        messages: receive,
      },
    },
    components: { messages },
  };
}
