/**
 * Topic filters compiled into a tree of levels, so routing a message costs one walk of its topic's levels
 * instead of a split and a comparison per subscription. Matching follows `topicMatches`: `+` is exactly one
 * level, `#` the rest of the topic including its parent level (`a/#` matches `a`).
 */
export class TopicRouter<T> {
  private readonly root = new RouteNode<T>();
  private size = 0;

  /** Routes topics matching `filter` to `target` (a filter may be added several times, with several targets). */
  add(filter: string, target: T): void {
    let node = this.root;
    for (const level of filter.split('/')) {
      if (level === '#') {
        node.rest.push(target);
        this.size += 1;
        return;
      }
      node = node.child(level);
    }
    node.here.push(target);
    this.size += 1;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** The targets whose filter matches `topic`, in no particular order; each (filter, target) pair once. */
  match(topic: string): T[] {
    const found: T[] = [];
    if (this.size > 0) collect(this.root, topic, 0, found);
    return found;
  }
}

class RouteNode<T> {
  /** Children by literal level; created on demand (most nodes have one or none). */
  exact: Map<string, RouteNode<T>> | undefined;
  /** The `+` child. */
  anyLevel: RouteNode<T> | undefined;
  /** Targets of filters ending here. */
  readonly here: T[] = [];
  /** Targets of filters ending in `#` after this node's level. */
  readonly rest: T[] = [];

  child(level: string): RouteNode<T> {
    if (level === '+') return (this.anyLevel ??= new RouteNode<T>());
    this.exact ??= new Map();
    let node = this.exact.get(level);
    if (node === undefined) this.exact.set(level, (node = new RouteNode<T>()));
    return node;
  }
}

/**
 * Walks `topic` from character `start` (the start of a level; `topic.length + 1` once every level was
 * consumed) through `node`, pushing what matches. No split: levels are read between separators in place.
 */
function collect<T>(node: RouteNode<T>, topic: string, start: number, found: T[]): void {
  // `#` matches the remaining levels, and also the parent level itself, so even when none remain.
  for (const target of node.rest) found.push(target);
  if (start > topic.length) {
    for (const target of node.here) found.push(target);
    return;
  }
  let end = topic.indexOf('/', start);
  if (end < 0) end = topic.length;
  if (node.exact !== undefined) {
    const next = node.exact.get(topic.slice(start, end));
    if (next !== undefined) collect(next, topic, end + 1, found);
  }
  if (node.anyLevel !== undefined) collect(node.anyLevel, topic, end + 1, found);
}

/** MQTT topic filter matching (`+` one level, `#` the rest). The reference for `TopicRouter`. */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
