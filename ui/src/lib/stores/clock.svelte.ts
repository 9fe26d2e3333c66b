// The current time for live elapsed times. It ticks once a second, and only while something
// shows a running task and the window is visible: an idle app does no work.

export class Clock {
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | null = null;

  /** Ticks while `on`; stops otherwise. */
  run(on: boolean): void {
    if (on && this.#timer === null) {
      this.now = Date.now();
      this.#timer = setInterval(() => (this.now = Date.now()), 1000);
    } else if (!on && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
