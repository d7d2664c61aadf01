# Parley server image: Deno pinned to the version the project is built and tested with, ffmpeg for
# media processing, every dependency cached at build time, a non-root user, DATA_DIR on a volume.
FROM denoland/deno:debian-2.9.6

RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /app /data

USER deno
# Dependencies first: this layer is rebuilt only when the import map or the lock file change.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno . .
# main.ts does not import the workers statically (they are started by URL), so cache them by name.
RUN deno cache --frozen main.ts src/crypto/password_worker.ts src/store/sqlite/writer_worker.ts \
  src/media/image_worker.ts tools/admin_create.ts tools/keys_rotate.ts tools/keys_generate.ts \
  tools/migrate_sqlite_to_mongo.ts

ENV PARLEY_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  DATA_DIR=/data \
  DENO_NO_UPDATE_CHECK=1
VOLUME ["/data"]
EXPOSE 8080

# SIGTERM drains: sockets close with 1012 (clients resume elsewhere), in-flight requests finish.
STOPSIGNAL SIGTERM
CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run", "--allow-ffi", "main.ts"]
