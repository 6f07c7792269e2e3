import { ClusterTimeoutError } from '../errors.js';
import type { ClusterApi } from './client.js';

export interface ApiObject {
  metadata?: { name?: string; namespace?: string };
}

export interface Collection<T extends ApiObject> {
  /** the collection's API path, e.g. /api/v1/nodes */
  path: string;
  /** field or label selectors for the list and the watch */
  query?: Record<string, string>;
  /** one list of the collection: its items and the resourceVersion to watch from */
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
}

const key = (o: ApiObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Keeps a collection current: lists it, then watches from that list's resourceVersion, calling
 * `onChange` with every object after the list and after each event. While the API server is
 * starting or restarting, a failed list or a watch that ends is tried again 200 ms later: no
 * polling in between, no child process. Returns the function that stops it.
 */
export function watchCollection<T extends ApiObject>(api: ClusterApi, c: Collection<T>, onChange: (objects: Map<string, T>) => void): () => void {
  const objects = new Map<string, T>();
  let stopped = false;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const retry = () => {
    if (!stopped) timer = setTimeout(() => void cycle(), 200);
  };
  const cycle = async () => {
    try {
      const list = await c.list();
      if (stopped) return;
      objects.clear();
      for (const o of list.items) objects.set(key(o), o);
      onChange(objects);
      if (stopped) return;
      const query = { ...c.query, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true };
      const events = (type: string, obj: T) => {
        if (type === 'DELETED') objects.delete(key(obj));
        else if (type === 'ADDED' || type === 'MODIFIED') objects.set(key(obj), obj);
        else return; // BOOKMARK; an ERROR (410 Gone) ends the watch, and the retry lists again
        onChange(objects);
      };
      abort = await api.watch.watch(c.path, query, events, retry);
      if (stopped) abort.abort();
    } catch {
      retry();
    }
  };
  void cycle();
  return () => {
    stopped = true;
    clearTimeout(timer);
    abort?.abort();
  };
}

/** Watches a collection until `done` holds, and returns the objects; past `ms` a ClusterTimeoutError(what, fix). */
export function watchUntil<T extends ApiObject>(api: ClusterApi, c: Collection<T> & { done: (objects: Map<string, T>) => boolean; what: string; fix: string; ms: number }): Promise<Map<string, T>> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (err?: Error, objects?: Map<string, T>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      queueMicrotask(stop); // stop is assigned once watchCollection returns
      if (err) reject(err);
      else resolve(objects!);
    };
    const timer = setTimeout(() => finish(new ClusterTimeoutError(c.what, c.ms, c.fix)), c.ms);
    const stop = watchCollection(api, c, (objects) => {
      try {
        if (c.done(objects)) finish(undefined, objects);
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}
