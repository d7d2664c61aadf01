// A bare Deno WebSocket server for calibration (see ../shared/BENCHMARKS.md): no auth, no storage.
// Mode "echo": answers each frame with an ack and an event, like Parley's send path without its work.
// Mode "room": rebroadcasts each frame as is to the other sockets of its room (first frame joins).
const mode = Deno.args[0] ?? "echo";
const rooms = new Map<string, Set<WebSocket>>();
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[1] ?? 0),
  onListen: ({ port }) =>
    console.log(JSON.stringify({ message: "listening", "server.port": port })),
}, (req) => {
  if (req.headers.get("upgrade") !== "websocket") return new Response("bare", { status: 200 });
  const { socket, response } = Deno.upgradeWebSocket(req);
  let room: Set<WebSocket> | undefined;
  socket.onmessage = (e) => {
    if (mode === "echo") {
      const f = JSON.parse(e.data as string);
      if (f.type === "auth") return socket.send(JSON.stringify({ type: "ready" }));
      const message = {
        id: crypto.randomUUID(),
        seq: 1,
        text: f.text,
        createdAt: new Date().toISOString(),
      };
      socket.send(JSON.stringify({ type: "ack", id: f.id, ok: true, message }));
      socket.send(
        JSON.stringify({ type: "event", event: "message.created", seq: 1, data: message }),
      );
      return;
    }
    if (!room) {
      const id = (JSON.parse(e.data as string) as { room: string }).room;
      if (!rooms.has(id)) rooms.set(id, new Set());
      room = rooms.get(id)!;
      room.add(socket);
      socket.send(JSON.stringify({ type: "ready" }));
      return;
    }
    for (const peer of room) if (peer !== socket) peer.send(e.data as string);
  };
  socket.onclose = () => room?.delete(socket);
  return response;
});
