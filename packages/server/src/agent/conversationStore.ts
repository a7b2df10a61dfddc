/**
 * The conversations an agent remembers, so that `continueConversation` can resume one after a
 * dropped socket. Bounded (least recently used first out): a long-running demo server must not
 * grow without limit.
 */

export interface ConversationTurn {
  role: 'user' | 'agent';
  text: string;
  interrupted: boolean;
}

export interface ConversationRecord {
  readonly id: string;
  readonly agentId: string;
  readonly createdAt: number;
  turns: ConversationTurn[];
}

/** Turns kept per conversation: enough to show a history, not a memory leak. */
const MAX_TURNS = 200;

export class ConversationStore {
  readonly #limit: number;
  readonly #records = new Map<string, ConversationRecord>();

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#records.size;
  }

  create(id: string, agentId: string): ConversationRecord {
    const record: ConversationRecord = { id, agentId, createdAt: Date.now(), turns: [] };
    this.#records.set(id, record);
    while (this.#records.size > this.#limit) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) break;
      this.#records.delete(oldest);
    }
    return record;
  }

  /** The conversation, moved to the most recently used end. */
  get(id: string): ConversationRecord | undefined {
    const record = this.#records.get(id);
    if (record) {
      this.#records.delete(id);
      this.#records.set(id, record);
    }
    return record;
  }

  addTurn(record: ConversationRecord, turn: ConversationTurn): ConversationTurn {
    record.turns.push(turn);
    if (record.turns.length > MAX_TURNS) record.turns.splice(0, record.turns.length - MAX_TURNS);
    return turn;
  }
}
