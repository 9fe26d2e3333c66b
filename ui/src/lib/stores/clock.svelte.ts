// The current time for live elapsed times. It ticks once a second while something shows a
// running task, once every SLOW_TICK_MS while only queued tasks wait ("queued 5 min ago"), and
// not at all otherwise or while the window is hidden: an idle app does no work.

/** A running task's elapsed time counts seconds. */
export const TICK_MS = 1000;
/** A queued task only says how long ago it was queued, in minutes. */
export const SLOW_TICK_MS = 15_000;

export class Clock {
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | null = null;
  #every = 0;

  /** Ticks every `everyMs` while `on`; stops otherwise. */
  run(on: boolean, everyMs: number = TICK_MS): void {
    if (on && (this.#timer === null || this.#every !== everyMs)) {
      this.#stop();
      this.now = Date.now();
      this.#every = everyMs;
      this.#timer = setInterval(() => (this.now = Date.now()), everyMs);
    } else if (!on) {
      this.#stop();
    }
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
