import { mkdirSync } from 'node:fs';

export interface EmbeddedPostgres {
  /** A postgres:// URL the ordinary `pg` driver connects to. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite (PostgreSQL compiled to WASM) in this process and serves it on 127.0.0.1 through
 * pglite-socket, so TypeORM and `pg` talk to it like to any server. Transactions run one at a
 * time there: correct, not concurrent (see STACK-NOTES.md for why not typeorm-pglite or pg-mem).
 * `dataDir` undefined keeps the database in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir?: string, maxConnections = 64): Promise<EmbeddedPostgres> {
  // Both packages are ESM-only; load them lazily so a server deployment never pays for them.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  serializeExtendedProtocol((server as unknown as { queryQueue: QueryQueue }).queryQueue, db);
  await server.start();
  const conn = server.getServerConn(); // "host:port"
  const port = Number(conn.split(':').pop());
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData(data: Uint8Array): void;
  resolve(bytes: number): void;
  reject(error: Error): void;
}

interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

interface ExclusiveDb {
  isInTransaction(): boolean;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  execProtocolRawStream(message: Uint8Array, options: { onRawData(data: Uint8Array): void }): Promise<unknown>;
}

/** Message types that end an extended-protocol exchange (Sync) or stand alone (Query, Terminate). */
const EXCHANGE_END = new Set([0x53, 0x51, 0x58]);

/**
 * PGlite has ONE backend session shared by every socket. pglite-socket (0.2.x) queues messages
 * one by one and only keeps a client's messages together inside a transaction, so two clients'
 * Parse/Bind/Execute/Sync sequences outside transactions interleave ("unnamed prepared statement
 * does not exist", answers delivered to the wrong query). It also stops the queue for good after
 * one failed message. This replaces the queue's scheduler: a client keeps the session from its
 * first extended-protocol message to its Sync (and for the whole of a transaction), a failure
 * rejects only that message, and a client that disconnects mid-exchange releases the session.
 */
function serializeExtendedProtocol(q: QueryQueue, db: ExclusiveDb): void {
  let owner: number | null = null; // client in the middle of an extended-protocol exchange
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (owner === handlerId) owner = null;
    void q.processQueue();
  };
  q.processQueue = async () => {
    if (q.processing) return;
    q.processing = true;
    try {
      while (q.queue.length > 0) {
        const sticky = owner ?? (db.isInTransaction() ? q.lastHandlerId : null);
        const index = sticky === null ? 0 : q.queue.findIndex((m) => m.handlerId === sticky);
        if (index === -1) break; // wait for that client's next message
        const [item] = q.queue.splice(index, 1);
        const type = item.message[0];
        owner = EXCHANGE_END.has(type) || type === 0 ? null : item.handlerId;
        let bytes = 0;
        try {
          await db.runExclusive(() =>
            db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          q.lastHandlerId = item.handlerId;
          item.resolve(bytes);
        } catch (error) {
          item.reject(error as Error);
        }
      }
    } finally {
      q.processing = false;
    }
  };
}
