import type { Db } from "./_db.ts";

/**
 * The schema, as numbered steps. A step is never edited once released; changes go in a new step.
 * Each is applied once, in order, in its own transaction, at start-up.
 */
export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "accounts, conversations, events and messages",
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        display_name_fold TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'user',
        avatar_media_id TEXT,
        status_text TEXT,
        presence TEXT NOT NULL DEFAULT 'online',
        privacy_last_seen TEXT NOT NULL DEFAULT 'everyone',
        last_seen_at TEXT,
        created_at TEXT NOT NULL,
        deleted_at TEXT
      );
      CREATE INDEX users_display_name_fold ON users(display_name_fold);

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_name TEXT,
        ip TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE INDEX sessions_user ON sessions(user_id);

      CREATE TABLE refresh_tokens (
        hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        used_at TEXT
      ) WITHOUT ROWID;
      CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

      CREATE TABLE user_keys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        wrapped BLOB NOT NULL,
        kek_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
      );
      CREATE UNIQUE INDEX user_keys_current ON user_keys(user_id) WHERE retired_at IS NULL;
      CREATE INDEX user_keys_user ON user_keys(user_id);
      CREATE INDEX user_keys_kek ON user_keys(kek_id);

      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        direct_key TEXT UNIQUE,
        name TEXT,
        description TEXT,
        avatar_media_id TEXT,
        settings TEXT NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        member_count INTEGER NOT NULL DEFAULT 0,
        retention_days INTEGER,
        deleted_at TEXT
      );
      CREATE INDEX conversations_retention ON conversations(retention_days) WHERE retention_days IS NOT NULL;

      CREATE TABLE members (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        read_seq INTEGER NOT NULL DEFAULT 0,
        delivered_seq INTEGER NOT NULL DEFAULT 0,
        muted INTEGER NOT NULL DEFAULT 0,
        muted_until TEXT,
        archived INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX members_user ON members(user_id, conversation_id);
      CREATE INDEX members_joined ON members(conversation_id, joined_at, user_id);

      CREATE TABLE events (
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event TEXT NOT NULL,
        actor_id TEXT,
        message_id TEXT,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sender_id TEXT,
        client_msg_id TEXT,
        kind TEXT NOT NULL,
        body BLOB,
        body_key TEXT,
        media_ids TEXT NOT NULL DEFAULT '[]',
        reply_to TEXT,
        mentions TEXT NOT NULL DEFAULT '[]',
        system TEXT,
        edited_at TEXT,
        deleted_at TEXT,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX messages_conversation_seq ON messages(conversation_id, seq);
      CREATE UNIQUE INDEX messages_idempotency ON messages(sender_id, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
      CREATE INDEX messages_body_key ON messages(body_key) WHERE body_key IS NOT NULL;

      CREATE TABLE hidden_messages (
        user_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (user_id, message_id)
      ) WITHOUT ROWID;

      CREATE TABLE reactions (
        message_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        emoji TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (message_id, user_id, emoji)
      ) WITHOUT ROWID;

      CREATE TABLE receipt_marks (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, user_id, kind, seq)
      ) WITHOUT ROWID;

      CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        actor_id TEXT,
        target_id TEXT,
        ip TEXT,
        user_agent TEXT,
        details TEXT NOT NULL
      );
      CREATE INDEX audit_log_action ON audit_log(action, id);
      CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
    `,
  },
  {
    version: 2,
    name: "media records and message media references",
    sql: `
      CREATE TABLE media (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        filename TEXT NOT NULL,
        key_id TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        failure_reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX media_owner ON media(owner_id);
      CREATE INDEX media_status ON media(status, id);

      CREATE TABLE message_media (
        media_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (media_id, message_id)
      ) WITHOUT ROWID;
      CREATE INDEX message_media_message ON message_media(message_id);

      INSERT OR IGNORE INTO message_media (media_id, message_id, conversation_id)
        SELECT j.value, m.id, m.conversation_id FROM messages m, json_each(m.media_ids) j
        WHERE m.deleted_at IS NULL;

      CREATE INDEX users_avatar ON users(avatar_media_id) WHERE avatar_media_id IS NOT NULL;
      CREATE INDEX conversations_avatar ON conversations(avatar_media_id)
        WHERE avatar_media_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: "privacy: data exports, erasure, retention and engagement",
    sql: `
      ALTER TABLE users ADD COLUMN erased_at TEXT;
      CREATE INDEX users_erasure_pending ON users(deleted_at)
        WHERE deleted_at IS NOT NULL AND erased_at IS NULL;

      CREATE INDEX messages_sender ON messages(sender_id, conversation_id, seq)
        WHERE kind != 'system';
      CREATE INDEX events_message ON events(message_id) WHERE message_id IS NOT NULL;
      CREATE INDEX reactions_user ON reactions(user_id, message_id, emoji);
      CREATE INDEX hidden_messages_message ON hidden_messages(message_id);

      CREATE TABLE data_exports (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        status TEXT NOT NULL,
        key_id TEXT,
        size INTEGER,
        failure_reason TEXT,
        lease_owner TEXT,
        lease_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        completed_at TEXT,
        expires_at TEXT NOT NULL
      );
      CREATE INDEX data_exports_user ON data_exports(user_id, created_at);
      CREATE INDEX data_exports_expiry ON data_exports(expires_at);
      CREATE INDEX data_exports_lease ON data_exports(lease_until) WHERE status = 'processing';

      CREATE TABLE activity_days (
        day TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (day, user_id)
      ) WITHOUT ROWID;

      CREATE TABLE daily_counts (
        day TEXT NOT NULL,
        metric TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (day, metric)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: "durable jobs",
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        run_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX jobs_pending_key ON jobs(key) WHERE status = 'pending' AND key IS NOT NULL;
      CREATE INDEX jobs_due ON jobs(run_at) WHERE status = 'pending';
    `,
  },
  {
    version: 5,
    name: "scheduled messages",
    sql: `
      CREATE TABLE scheduled_messages (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        client_msg_id TEXT NOT NULL,
        body_key_id TEXT,
        body BLOB,
        media_ids TEXT NOT NULL,
        send_at TEXT NOT NULL,
        status TEXT NOT NULL,
        failure TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (user_id, client_msg_id)
      );
      CREATE INDEX scheduled_by_user ON scheduled_messages(user_id, send_at, id);
    `,
  },
  {
    version: 6,
    name: "edit history",
    sql: `
      -- Version 0 is the text as first sent, 1… each edit's text; all sealed like message bodies.
      CREATE TABLE message_edits (
        message_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        body BLOB NOT NULL,
        body_key TEXT NOT NULL,
        edited_at TEXT NOT NULL,
        PRIMARY KEY (message_id, version)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: "disappearing messages",
    sql: `
      ALTER TABLE messages ADD COLUMN expires_at TEXT;
    `,
  },
  {
    version: 8,
    name: "pins",
    sql: `
      CREATE TABLE pins (
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        pinned_by TEXT NOT NULL,
        pinned_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, message_id)
      ) WITHOUT ROWID;
      CREATE INDEX pins_message ON pins(message_id);
    `,
  },
  {
    version: 9,
    name: "read receipt privacy",
    sql: `
      ALTER TABLE users ADD COLUMN privacy_read_receipts INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 10,
    name: "drafts",
    sql: `
      CREATE TABLE drafts (
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        thread_id TEXT NOT NULL DEFAULT '',
        body BLOB NOT NULL,
        body_key TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (user_id, conversation_id, thread_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 11,
    name: "forwarded messages",
    sql: `
      ALTER TABLE messages ADD COLUMN forwarded TEXT;
    `,
  },
  {
    version: 12,
    name: "mentions",
    sql: `
      ALTER TABLE messages ADD COLUMN mentions_all INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX messages_mentions_all ON messages(conversation_id, seq) WHERE mentions_all = 1;
      -- Who a live message mentions by name (not its sender): unread counts and the mentions feed.
      CREATE TABLE message_mentions (
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, conversation_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX message_mentions_message ON message_mentions(message_id);
      CREATE INDEX message_mentions_feed ON message_mentions(user_id, created_at, message_id);
    `,
  },
  {
    version: 13,
    name: "polls",
    sql: `
      ALTER TABLE messages ADD COLUMN poll TEXT;
      CREATE TABLE poll_votes (
        message_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        option_id TEXT NOT NULL,
        voted_at TEXT NOT NULL,
        PRIMARY KEY (message_id, user_id, option_id)
      ) WITHOUT ROWID;
      CREATE INDEX poll_votes_user ON poll_votes(user_id);
    `,
  },
  {
    version: 14,
    name: "threads",
    sql: `
      ALTER TABLE messages ADD COLUMN thread_id TEXT;
      -- 0 for a thread reply that is not shown in the main history.
      ALTER TABLE messages ADD COLUMN in_main INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX messages_thread ON messages(thread_id, seq) WHERE thread_id IS NOT NULL;
      -- One row per root with replies, kept in the commit of each reply.
      CREATE TABLE threads (
        root_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        reply_count INTEGER NOT NULL,
        last_reply_at TEXT NOT NULL,
        last_reply_seq INTEGER NOT NULL,
        participant_ids TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX threads_activity ON threads(conversation_id, last_reply_at, root_id);
      -- A user's state in a thread: following it (replied, mentioned, wrote the root) and read marker.
      CREATE TABLE thread_members (
        user_id TEXT NOT NULL,
        root_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        following INTEGER NOT NULL DEFAULT 0,
        read_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, root_id)
      ) WITHOUT ROWID;
      CREATE INDEX thread_members_root ON thread_members(root_id);
    `,
  },
  {
    version: 15,
    name: "safety and moderation",
    sql: `
      ALTER TABLE users ADD COLUMN privacy_direct_messages TEXT NOT NULL DEFAULT 'everyone';
      ALTER TABLE users ADD COLUMN privacy_group_adds TEXT NOT NULL DEFAULT 'everyone';
      ALTER TABLE users ADD COLUMN suspended_at TEXT;
      ALTER TABLE users ADD COLUMN suspended_until TEXT;
      ALTER TABLE users ADD COLUMN suspension_reason BLOB;
      ALTER TABLE users ADD COLUMN suspension_reason_key TEXT;
      -- A moderator's timed mute, and the last send under slow mode.
      ALTER TABLE members ADD COLUMN silenced_until TEXT;
      ALTER TABLE members ADD COLUMN last_sent_at TEXT;
      -- Discovery of public groups by folded name.
      ALTER TABLE conversations ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE conversations ADD COLUMN name_fold TEXT;
      CREATE INDEX conversations_public ON conversations(name_fold, id)
        WHERE public = 1 AND deleted_at IS NULL;
      CREATE TABLE blocks (
        user_id TEXT NOT NULL,
        blocked_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, blocked_id)
      ) WITHOUT ROWID;
      CREATE INDEX blocks_blocked ON blocks(blocked_id, user_id);
      CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        inviter_id TEXT NOT NULL,
        invitee_id TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        answered_at TEXT
      );
      CREATE UNIQUE INDEX invitations_pending ON invitations(conversation_id, invitee_id)
        WHERE status = 'pending';
      CREATE INDEX invitations_invitee ON invitations(invitee_id, created_at);
      CREATE INDEX invitations_inviter ON invitations(inviter_id);
      CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        reporter_id TEXT,
        reason TEXT NOT NULL,
        note BLOB,
        note_key TEXT,
        conversation_id TEXT,
        message_id TEXT,
        user_id TEXT,
        evidence BLOB,
        evidence_key TEXT,
        status TEXT NOT NULL,
        resolution TEXT,
        resolved_by TEXT,
        resolved_at TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX reports_status ON reports(status, created_at, id);
      CREATE INDEX reports_reporter ON reports(reporter_id);
      CREATE TABLE bans (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        banned_by TEXT NOT NULL,
        reason BLOB,
        reason_key TEXT,
        until TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX bans_user ON bans(user_id);
      CREATE TABLE invite_links (
        code TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        max_uses INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        revoked_at TEXT
      );
      CREATE INDEX invite_links_conversation ON invite_links(conversation_id, created_at);
      CREATE TABLE site_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 16,
    name: "session revocations",
    sql: `
      -- Every session revoked or deleted, with when (the database's clock): instances poll this, so
      -- a revocation reaches their caches and sockets even when pub/sub does not.
      CREATE TABLE session_revocations (
        session_id TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX session_revocations_at ON session_revocations(at);
      CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at ON sessions
        WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
        BEGIN
          INSERT INTO session_revocations (session_id, at)
            VALUES (NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
      CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
        WHEN OLD.revoked_at IS NULL
        BEGIN
          INSERT INTO session_revocations (session_id, at)
            VALUES (OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
    `,
  },
  {
    version: 17,
    name: "push notifications",
    sql: `
      CREATE TABLE push_subscriptions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        target BLOB NOT NULL,
        target_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (session_id, fingerprint)
      );
      CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);
      -- A revoked or deleted session (device) is never pushed to again.
      CREATE TRIGGER push_session_revoked AFTER UPDATE OF revoked_at ON sessions
        WHEN NEW.revoked_at IS NOT NULL
        BEGIN
          DELETE FROM push_subscriptions WHERE session_id = NEW.id;
        END;
      CREATE TRIGGER push_session_deleted AFTER DELETE ON sessions
        BEGIN
          DELETE FROM push_subscriptions WHERE session_id = OLD.id;
        END;
      CREATE TABLE push_conversation_prefs (
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        notify TEXT,
        muted_until TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (user_id, conversation_id)
      );
      CREATE INDEX push_conversation_prefs_conversation ON push_conversation_prefs(conversation_id);
      CREATE TABLE notification_settings (
        user_id TEXT PRIMARY KEY,
        preview TEXT NOT NULL,
        quiet_hours TEXT,
        keywords BLOB,
        keywords_key TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE push_deliveries (
        ack_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        acked_at TEXT,
        UNIQUE (kind, conversation_id, seq, session_id)
      );
      CREATE INDEX push_deliveries_user ON push_deliveries(user_id, conversation_id, seq);
      CREATE INDEX push_deliveries_created ON push_deliveries(created_at);
    `,
  },
  {
    version: 18,
    name: "message search index",
    sql: `
      -- Keyed tokens only (HMACs of words and of their first letters): never a word.
      CREATE TABLE search_messages (
        message_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sender_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        has_media INTEGER NOT NULL,
        has_link INTEGER NOT NULL,
        key_version INTEGER NOT NULL,
        tokens BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX search_messages_conversation ON search_messages(conversation_id, message_id);
      CREATE INDEX search_messages_key ON search_messages(key_version);
      CREATE TABLE search_postings (
        token BLOB NOT NULL,
        message_id TEXT NOT NULL,
        PRIMARY KEY (token, message_id)
      ) WITHOUT ROWID;
      CREATE TABLE search_progress (
        conversation_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 19,
    name: "conversation exports and legal holds",
    sql: `
      -- A conversation's export is a data export with the conversation it archives.
      ALTER TABLE data_exports ADD COLUMN conversation_id TEXT;
      CREATE TABLE legal_holds (
        conversation_id TEXT PRIMARY KEY,
        placed_by TEXT NOT NULL,
        placed_at TEXT NOT NULL,
        reason TEXT
      ) WITHOUT ROWID;
      -- The content of messages deleted while their conversation was on hold (sealed as before).
      CREATE TABLE held_messages (
        message_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        sender_id TEXT,
        body BLOB,
        body_key TEXT,
        media_ids TEXT NOT NULL,
        reply_to TEXT,
        created_at TEXT NOT NULL,
        deleted_at TEXT
      ) WITHOUT ROWID;
      CREATE INDEX held_messages_conversation ON held_messages(conversation_id);
      CREATE TABLE held_media (
        media_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (media_id, message_id)
      ) WITHOUT ROWID;
      CREATE INDEX held_media_conversation ON held_media(conversation_id);
    `,
  },
  {
    version: 20,
    name: "the search index moves to its own file",
    sql: `
      -- Now in <database>-search.db with its own writer; rebuilt there from the log.
      DROP TABLE search_postings;
      DROP TABLE search_messages;
      DROP TABLE search_progress;
    `,
  },
];

/** Applies every migration newer than the database, each in its own transaction. */
export function migrate(db: Db): number[] {
  db.raw.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    db.transaction(() => {
      // Checked inside the write lock: another instance sharing the file may have just applied it.
      if (db.get("SELECT 1 AS x FROM schema_migrations WHERE version = ?", m.version)) return;
      db.raw.exec(m.sql);
      db.run(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        m.version,
        m.name,
        new Date().toISOString(),
      );
      applied.push(m.version);
    });
  }
  return applied;
}
