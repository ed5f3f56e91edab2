// Compiled plans kept for reuse, least recently used first out. Every input shape (and every set of
// layers and methods) gets a plan with buffers for all its activations and gradients; a service that
// sees many shapes would otherwise keep them all. Eviction happens between calls (`trim`), never while
// a call may still hold a plan it took from here. Calls hold the device one at a time
// (GpuContext.exclusive), so no two ever ask for the same plan at once.

/** What a cached plan is: its size on the GPU, and how to free it. */
export interface Cached {
  readonly bytes: number;
  destroy(): void;
}

/** The default budget: plans beyond 1 GiB of buffers (weights not counted) are freed, oldest use first. */
export const DEFAULT_MAX_PLAN_BYTES = 2 ** 30;

export class PlanCache {
  private readonly entries = new Map<string, Cached>();

  constructor(readonly maxBytes: number = DEFAULT_MAX_PLAN_BYTES) {
    if (!(maxBytes >= 0)) throw new RangeError(`maxPlanBytes must be a number >= 0, got ${maxBytes}`);
  }

  /** The plan under `key`, made by `make` if there is none; it becomes the most recently used. */
  async get<T extends Cached>(key: string, make: () => Promise<T>): Promise<T> {
    const plan = (this.entries.get(key) as T | undefined) ?? (await make());
    this.entries.delete(key);
    this.entries.set(key, plan);
    return plan;
  }

  /** The plans kept whose key starts with `prefix` (one explainer's), most recently used last. */
  values(prefix = ''): Cached[] {
    return [...this.entries].filter(([key]) => key.startsWith(prefix)).map(([, entry]) => entry);
  }

  get bytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  /** Frees the least recently used plans until the rest fit the budget; the last one used always stays. */
  trim(): void {
    let total = this.bytes;
    for (const [key, entry] of this.entries) {
      if (total <= this.maxBytes || this.entries.size === 1) break;
      this.entries.delete(key);
      total -= entry.bytes;
      entry.destroy();
    }
  }

  /** Frees the plans whose key starts with `prefix` (one explainer's), or all. */
  clear(prefix = ''): void {
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      entry.destroy();
    }
  }
}
