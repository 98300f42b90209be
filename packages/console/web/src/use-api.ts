import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiError } from './api.js';

/** The state of a request a view makes. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  readonly reload: () => void;
}

/**
 * Runs `load` when `key` changes (and again `refreshMs` after each answer, when given), keeping the
 * latest answer or error.
 */
export function useApi<T>(key: string, load: () => Promise<T>, refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The next refresh is scheduled when this one has answered: requests never pile up.
    const run = () => {
      load()
        .then(
          (value) => {
            if (!current) return;
            setData(value);
            setError(undefined);
          },
          (failure: unknown) => {
            if (current) setError(failure instanceof Error ? failure : new Error(String(failure)));
          },
        )
        .finally(() => {
          if (current && refreshMs !== undefined) timer = setTimeout(run, refreshMs);
        });
    };
    run();
    return () => {
      current = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [key, tick, refreshMs]);
  return { data, error, reload };
}
