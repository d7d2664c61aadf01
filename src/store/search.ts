/** Every keyed token has this many bytes (a truncated HMAC-SHA-256). */
export const SEARCH_TOKEN_BYTES = 16;

/** What the index knows of one message besides its tokens (for filters and order). */
export interface IndexedMessage {
  conversationId: string;
  messageId: string;
  seq: number;
  senderId: string;
  createdAt: string;
  hasMedia: boolean;
  hasLink: boolean;
}

/** What {@link SearchStore.applyIndex} writes at once. */
export interface IndexBatch {
  index: Array<{ message: IndexedMessage; tokens: Uint8Array[] }>;
  remove: string[];
  keyVersion: number;
  /** How far each conversation is indexed once the batch is applied. */
  progress: Array<{ conversationId: string; seq: number }>;
}

/** A search over the index: messages holding every token, in some conversations, newest first. */
export interface CandidateQuery {
  /** Keyed tokens, every one of which a result must hold (at least one). */
  tokens: Uint8Array[];
  conversationIds: string[];
  senderId?: string;
  hasMedia?: boolean;
  hasLink?: boolean;
  /** Created strictly before / after (ISO). */
  before?: string;
  after?: string;
  /** Continue below this message id (ids sort by time). */
  belowMessageId?: string;
  limit: number;
}

/**
 * The message search index: for each indexed message, keyed tokens (HMACs of its normalised words
 * and of their first letters), never the words. Part of {@link import("./store.ts").Store}. The
 * index is rebuilt, not trusted: candidates are decrypted and checked by the search service.
 */
export interface SearchStore {
  /** Replaces what the index holds for the message (a new or edited one). */
  indexMessage(m: IndexedMessage, tokens: Uint8Array[], keyVersion: number): Promise<void>;
  /**
   * One indexing step in one write: (re)indexes `index`, removes `remove`, and moves the
   * conversation's progress — so an indexer pays one transaction per page of events, not per message.
   */
  applyIndex(batch: IndexBatch): Promise<void>;
  /** Removes messages from the index (deleted for everyone, expired, retained away, erased). */
  removeMessages(messageIds: string[]): Promise<number>;
  /** Messages matching the query, newest first (by message id). */
  candidates(q: CandidateQuery): Promise<IndexedMessage[]>;
  /** How far a conversation's events have been indexed (0 when never). */
  progress(conversationIds: string[]): Promise<Map<string, number>>;
  /** Records that a conversation is indexed up to `seq` (never moves back). */
  setProgress(conversationId: string, seq: number): Promise<void>;
  /** Conversations whose head (`lastSeq`) is past what is indexed (at most `limit`). */
  behind(
    limit: number,
  ): Promise<Array<{ conversationId: string; indexedSeq: number; lastSeq: number }>>;
  /** Messages indexed under another key version than `keyVersion` (for reindexing). */
  staleMessages(keyVersion: number, limit: number): Promise<IndexedMessage[]>;
}
