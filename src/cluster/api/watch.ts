import { ClusterTimeoutError } from '../errors.js';
import type { ClusterApi } from './client.js';

export interface ApiObject {
  metadata?: { name?: string; namespace?: string };
}

export interface WatchUntil<T extends ApiObject> {
  /** the collection's API path, e.g. /api/v1/nodes */
  path: string;
  /** field or label selectors for the list and the watch */
  query?: Record<string, string>;
  /** one list of the collection: its items and the resourceVersion to watch from */
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** true once the objects are as wanted */
  done: (objects: Map<string, T>) => boolean;
  /** what is awaited and what to do on a timeout (ClusterTimeoutError) */
  what: string;
  fix: string;
  ms: number;
}

const key = (o: ApiObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Lists a collection, then watches it from that list's resourceVersion until `done` holds, and
 * returns the objects. While the API server is starting or restarting, a failed list or a watch
 * that ends is simply tried again 200 ms later: no polling in between, no child process.
 */
export function watchUntil<T extends ApiObject>(api: ClusterApi, w: WatchUntil<T>): Promise<Map<string, T>> {
  return new Promise((resolve, reject) => {
    const objects = new Map<string, T>();
    let finished = false;
    let abort: AbortController | undefined;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      abort?.abort();
      if (err) reject(err);
      else resolve(objects);
    };
    const timer = setTimeout(() => finish(new ClusterTimeoutError(w.what, w.ms, w.fix)), w.ms);
    const check = () => {
      try {
        if (w.done(objects)) finish();
      } catch (err) {
        finish(err as Error);
      }
    };
    const retry = () => {
      if (!finished) setTimeout(() => void cycle(), 200);
    };
    const cycle = async () => {
      try {
        const list = await w.list();
        objects.clear();
        for (const o of list.items) objects.set(key(o), o);
        check();
        if (finished) return;
        const query = { ...w.query, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true };
        const events = (type: string, obj: T) => {
          if (type === 'DELETED') objects.delete(key(obj));
          else if (type === 'ADDED' || type === 'MODIFIED') objects.set(key(obj), obj);
          else return; // BOOKMARK; an ERROR (410 Gone) ends the watch, and the retry lists again
          check();
        };
        abort = await api.watch.watch(w.path, query, events, retry);
        if (finished) abort.abort();
      } catch {
        retry();
      }
    };
    void cycle();
  });
}
