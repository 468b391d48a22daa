/**
 * A log line for what anybody on the network can cause as fast as they can send (a refused call on
 * the probe port): the first one at once, then at most one per window, carrying how many came in
 * between unlogged, so a flood is seen without flooding the log.
 */
export function onePerWindow<T>(windowMs: number, write: (event: T, suppressedBefore: number) => void): (event: T) => void {
  let windowEndsAt = 0;
  let suppressed = 0;
  return (event) => {
    const now = Date.now();
    if (now < windowEndsAt) {
      suppressed += 1;
      return;
    }
    windowEndsAt = now + windowMs;
    const before = suppressed;
    suppressed = 0;
    write(event, before);
  };
}
