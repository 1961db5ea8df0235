/**
 * One copy of each repeated string in a cache. JSON.parse gives every object its own copy of
 * each string value longer than a few characters, so 5,000 cached objects carrying the same
 * condition reasons and messages hold 5,000 copies of each. The pool is bounded: two
 * generations of `capacity` strings each; a string still in use when its generation retires is
 * carried into the next on its next lookup, so the fleet's common strings stay shared while
 * strings seen once (names, hashes) pass through.
 */
export class StringPool {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();

  constructor(
    private readonly capacity = 4096,
    /** Longer strings are left alone: they are rarely shared, and hashing them costs. */
    private readonly maxLength = 256,
  ) {}

  intern(s: string): string {
    if (s.length > this.maxLength) return s;
    const have = this.current.get(s);
    if (have !== undefined) return have;
    const kept = this.previous.get(s) ?? s;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(kept, kept);
    return kept;
  }

  /**
   * Replaces, in place, every string value in `value` (a freshly parsed JSON tree, owned by the
   * caller) with its pooled copy; `skip(key)` names properties left as they are.
   */
  internTree<T>(value: T, skip: (key: string) => boolean = () => false): T {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === "string") value[i] = this.intern(v);
        else if (v !== null && typeof v === "object") this.internTree(v, skip);
      }
    } else if (value !== null && typeof value === "object") {
      const rec = value as Record<string, unknown>;
      for (const key in rec) {
        if (skip(key)) continue;
        const v = rec[key];
        if (typeof v === "string") rec[key] = this.intern(v);
        else if (v !== null && typeof v === "object") this.internTree(v, skip);
      }
    }
    return value;
  }

  size(): number {
    return this.current.size + this.previous.size;
  }
}
