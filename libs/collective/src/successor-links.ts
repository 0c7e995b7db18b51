// The successor's data connection as the sending rank holds it: admitted by the data server (the handshake proved
// its generation and rank), kept for its generation, and given to each op that sends to the successor; an op that
// starts before it has arrived takes it on arrival. A connection for a generation this rank has not been told of yet
// (its successor got the JoinReply first) waits for setGroup; one for an older generation or from the wrong ring
// position is closed.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import type { SuccessorConnection } from './data-link';
import type { Logger } from './logger';
import type { CollectiveState, Running } from './successor-pulls';
import { pushOver } from './tcp-transport';

/** Connections for generations not set here yet: a successor is at most a generation or two ahead. */
const MAX_EARLY = 4;

export class SuccessorLinks {
  private readonly byGeneration = new Map<number, SuccessorConnection>();
  /** the op that sends to the successor and waits for its connection */
  private waiting?: Running;

  constructor(
    private readonly log: Logger,
    private readonly now: () => CollectiveState,
  ) {}

  /** An admitted connection from the data server. */
  offer(conn: SuccessorConnection): void {
    const { closed, group: g } = this.now();
    const refuse = (why: string) => {
      this.log.debug({ generation: conn.generation, rank: conn.rank, why }, 'collective: closed a successor connection');
      conn.close();
    };
    if (closed) return refuse('collective closed');
    if (g && conn.generation < g.generation) return refuse(`generation ${conn.generation} is over`);
    if (g && conn.generation === g.generation && conn.rank !== (g.rank + 1) % g.worldSize) {
      return refuse(`rank ${conn.rank} is not the successor of rank ${g.rank}`);
    }
    if (!this.byGeneration.has(conn.generation) && this.byGeneration.size >= MAX_EARLY) return refuse('too many connections waiting for their generation');
    const old = this.byGeneration.get(conn.generation);
    if (old && old !== conn) old.close(); // the successor reconnected: the old connection is dead or about to be
    this.byGeneration.set(conn.generation, conn);
    conn.onClose(() => {
      if (this.byGeneration.get(conn.generation) === conn) this.byGeneration.delete(conn.generation);
    });
    const w = this.waiting;
    if (w && w.op.group.generation === conn.generation) this.claim(w);
  }

  /** The op is starting and sends to the successor: give it the connection, now or when it arrives. */
  claim(r: Running): void {
    this.waiting = undefined;
    if (r.op.settled || r.op.hasSuccessor) return;
    const conn = this.byGeneration.get(r.op.group.generation);
    if (!conn?.alive) {
      this.waiting = r;
      return;
    }
    const g = r.op.group;
    r.op.attachOut(pushOver(conn, { ...r.shape, from_rank: (g.rank + 1) % g.worldSize, to_rank: g.rank }));
  }

  /** A new generation: connections of older ones are closed, an early one is checked against the ring. */
  newGeneration(generation: number, succRank: number): void {
    this.waiting = undefined;
    for (const [gen, conn] of this.byGeneration) {
      if (gen < generation || (gen === generation && conn.rank !== succRank)) {
        this.byGeneration.delete(gen);
        conn.close();
      }
    }
  }

  closeAll(): void {
    this.waiting = undefined;
    for (const c of this.byGeneration.values()) c.close();
    this.byGeneration.clear();
  }
}
