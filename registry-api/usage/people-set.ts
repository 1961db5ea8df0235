/**
 * A set of people as stored in a roll-up row: each person has a small dense number
 * (`usage_person_ids`), and a set is either a sorted list of those numbers or a bitmap of
 * them, whichever is smaller. Unions of any number of sets are exact, so distinct people over
 * any range and grouping are counted without reading one row per person and day.
 */

const LIST = 0;
const BITMAP = 1;

/** Encodes the numbers (any order, no duplicates needed) as the smaller of the two forms. */
export function encodePeople(ids: Iterable<number>): Uint8Array {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const max = sorted.length ? sorted[sorted.length - 1]! : -1;
  const bitmapBytes = (max >> 3) + 1;
  if (sorted.length * 4 <= bitmapBytes) {
    const out = new Uint8Array(1 + sorted.length * 4);
    const view = new DataView(out.buffer);
    out[0] = LIST;
    sorted.forEach((id, i) => view.setUint32(1 + i * 4, id, true));
    return out;
  }
  const out = new Uint8Array(1 + bitmapBytes);
  out[0] = BITMAP;
  for (const id of sorted) out[1 + (id >> 3)]! |= 1 << (id & 7);
  return out;
}

/**
 * A stored set with more numbers added. A bitmap gains bits in place (a set only grows, so it
 * stays a bitmap); a list, small by construction, is re-encoded.
 */
export function addPeople(stored: Uint8Array | undefined, ids: readonly number[]): Uint8Array {
  if (!stored || stored.length === 0) return encodePeople(ids);
  if (stored[0] !== BITMAP) return encodePeople([...decodePeople(stored), ...ids]);
  let max = 0;
  for (const id of ids) if (id > max) max = id;
  const out = new Uint8Array(Math.max(stored.length, 1 + (max >> 3) + 1));
  out.set(stored);
  for (const id of ids) out[1 + (id >> 3)]! |= 1 << (id & 7);
  return out;
}

/** Calls `fn` with each number of an encoded set. */
export function forEachPerson(encoded: Uint8Array, fn: (id: number) => void): void {
  if (encoded.length === 0) return;
  if (encoded[0] === LIST) {
    const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    for (let at = 1; at + 4 <= encoded.length; at += 4) fn(view.getUint32(at, true));
    return;
  }
  if (encoded[0] !== BITMAP) throw new Error(`unknown people-set encoding ${encoded[0]}`);
  for (let i = 1; i < encoded.length; i++) {
    const byte = encoded[i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) fn(((i - 1) << 3) | bit);
  }
}

export function decodePeople(encoded: Uint8Array): number[] {
  const out: number[] = [];
  forEachPerson(encoded, (id) => out.push(id));
  return out;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** A union of encoded sets, kept as one growing bitmap. */
export class PeopleUnion {
  private bits = new Uint8Array(64);

  add(encoded: Uint8Array): void {
    if (encoded.length === 0) return;
    if (encoded[0] === BITMAP) {
      this.grow(encoded.length - 1);
      for (let i = 1; i < encoded.length; i++) this.bits[i - 1]! |= encoded[i]!;
      return;
    }
    forEachPerson(encoded, (id) => this.addOne(id));
  }

  addOne(id: number): void {
    this.grow((id >> 3) + 1);
    this.bits[id >> 3]! |= 1 << (id & 7);
  }

  get size(): number {
    let n = 0;
    for (const b of this.bits) n += POPCOUNT[b]!;
    return n;
  }

  private grow(bytes: number): void {
    if (bytes <= this.bits.length) return;
    const next = new Uint8Array(Math.max(bytes, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
}
