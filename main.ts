import { createParley } from "./src/app.ts";
import { ConfigError, loadConfig } from "./src/config.ts";

/**
 * Entry point: read the configuration, build the instance, serve HTTP and WebSockets, and shut down
 * gracefully on SIGTERM/SIGINT (stop accepting, close sockets with 1012, let in-flight requests
 * finish within SHUTDOWN_TIMEOUT_MS, close the store, exit 0).
 */
async function main(): Promise<void> {
  let parley;
  try {
    const config = loadConfig(Deno.env.toObject());
    parley = await createParley(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      Deno.exit(78);
    }
    throw err;
  }
  const { config, logger } = parley;
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      logger.info("listening", {
        "server.address": hostname,
        "server.port": port,
        "url.full": `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
      });
    },
  }, parley.app.fetch);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { "process.signal": signal });
    parley.beginShutdown();
    // Deno's server.shutdown() cuts off request bodies still arriving, so drain first.
    const drained = await Promise.race([
      parley.drained().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownTimeoutMs)),
    ]);
    if (!drained) logger.warn("shutdown timeout: abandoning in-flight requests");
    await server.shutdown();
    await parley.close();
    logger.info("shutdown complete", { "process.exit_code": 0 });
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
}

if (import.meta.main) await main();
