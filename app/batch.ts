/**
 * Work on a batch of queued events concurrently without racing one person against themselves:
 * items with the same key (the sender's user or anonymous id) run one after another, in order;
 * different keys run side by side, at most `concurrency` at a time.
 */
export async function forEachByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  const queue = [...groups.values()];
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) for (const item of g) await work(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
}

/**
 * Groups items that share any id (union-find): a batch's events of one person, whichever of their
 * ids each carries (an anonymous page view, the identify linking it to a user id, a server call
 * with only the user id), get one key, so they are processed in order.
 */
export function connectedKeys<T>(items: readonly T[], idsOf: (item: T) => readonly string[]): Map<T, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const add = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
  };
  const own = new Map<T, string>();
  items.forEach((item, i) => {
    const ids = idsOf(item);
    const first = ids[0] ?? `#${i}`;
    add(first);
    for (const id of ids.slice(1)) {
      add(id);
      parent.set(find(id), find(first));
    }
    own.set(item, first);
  });
  return new Map([...own].map(([item, id]) => [item, find(id)]));
}
