// A stand-in for the Tauri backend, injected into the page before the app loads
// (`page.addInitScript(installTauriMock, scenario)`). It defines what @tauri-apps/api calls:
// `window.__TAURI_INTERNALS__` (invoke, transformCallback, callbacks, metadata) and
// `window.__TAURI_EVENT_PLUGIN_INTERNALS__.unregisterListener`, the way
// `@tauri-apps/api/mocks` does (mockIPC with shouldMockEvents, mockWindows), and answers the
// IPC contract's commands from `scenario`. The driver reaches it as `window.__mock`.
//
// The function is serialized into the page: it must not use anything from this module's scope.

/** @param {any} scenario */
export function installTauriMock(scenario) {
  const callbacks = new Map();
  const listeners = new Map();
  let nextCallback = 1;
  const s = scenario;
  const tasks = s.tasks.map((t) => ({ ...t }));
  let approvals = (s.approvals ?? []).map((a) => ({ ...a }));
  let nextTaskId = Math.max(0, ...tasks.map((t) => t.id)) + 1;

  function transformCallback(callback, once = false) {
    const id = nextCallback++;
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      return callback && callback(data);
    });
    return id;
  }

  function emit(event, payload) {
    for (const handler of [...(listeners.get(event) ?? [])]) {
      const cb = callbacks.get(handler);
      if (cb) cb({ event, id: handler, payload });
    }
  }

  function fail(code, message, extra) {
    return Object.assign({ code, message }, extra ?? {});
  }

  function page(id) {
    const o = s.outputs?.[id];
    return o ? { lines: o.lines, first_seq: o.first_seq, next_seq: o.next_seq } : { lines: [], first_seq: 0, next_seq: 0 };
  }

  /** `list_tasks`: the query's statuses (all when none), every word of `search` in the name,
   * prompt, folder or result text, ids below `before`; newest first, `limit` (50, at most 1000) a page. */
  function listTasks(q) {
    const words = (q.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const matching = tasks
      .filter((t) => !q.status?.length || q.status.includes(t.status))
      .filter((t) => words.every((w) => [t.name, t.prompt, t.project_dir, t.result?.text ?? ''].some((f) => f.toLowerCase().includes(w))))
      .sort((a, b) => b.id - a.id);
    const older = q.before == null ? matching : matching.filter((t) => t.id < q.before);
    const limit = Math.min(q.limit ?? 50, 1000);
    const page = older.slice(0, limit);
    return { tasks: page, next_cursor: older.length > limit ? page[page.length - 1].id : null, total: matching.length };
  }

  const commands = {
    list_tasks: ({ query }) => listTasks(query ?? {}),
    get_task: ({ id }) => {
      const t = tasks.find((x) => x.id === id);
      if (!t) throw fail('TaskNotFound', `there is no task ${id}`);
      return t;
    },
    task_output: ({ id }) => page(id),
    task_log_page: ({ id, beforeSeq, count }) => {
      // Older lines made up on the fly: plain text, numbered.
      const first = Math.max(0, beforeSeq - count);
      const lines = [];
      for (let seq = first; seq < beforeSeq; seq++) {
        const text = `earlier line ${seq}`;
        lines.push({ seq, stream: 'stdout', text, continued: false, entries: [{ kind: 'plain', text }] });
      }
      return { lines, first_seq: first, next_seq: page(id).next_seq };
    },
    spawn_task: ({ request }) => {
      if (s.spawnError) throw s.spawnError;
      const id = nextTaskId++;
      tasks.unshift({ ...s.tasks[0], id, name: request.name || request.prompt.slice(0, 40), prompt: request.prompt, status: 'pending' });
      return id;
    },
    cancel_task: () => null,
    pending_approvals: () => approvals,
    answer_approval: ({ id, requestId }) => {
      const before = approvals.length;
      approvals = approvals.filter((a) => !(a.task === id && a.request_id === requestId));
      if (approvals.length === before) throw fail('ApprovalNotFound', `no open request ${requestId} of task ${id}`);
      setTimeout(() => emit('task://changed', { id, kind: 'approvalResolved', message: requestId }), 0);
      return null;
    },
    send_message: ({ message }) => {
      if (!message.trim()) throw fail('EmptyMessage', 'the message is empty');
      return null;
    },
    interrupt_task: () => null,
    follow_up: () => nextTaskId++,
    remove_task: () => null,
    open_transcript: () => null,
    copy_output: () => null,
    get_settings: () => s.settings,
    save_settings: ({ settings }) => settings,
    detect_agent: () => s.agent,
    recent_projects: () => s.recent ?? [],
    pick_folder: () => null,
  };

  async function invoke(cmd, args = {}) {
    window.__mock.calls.push(cmd);
    switch (cmd) {
      case 'plugin:event|listen': {
        if (!listeners.has(args.event)) listeners.set(args.event, []);
        listeners.get(args.event).push(args.handler);
        return args.handler;
      }
      case 'plugin:event|unlisten': {
        const list = listeners.get(args.event) ?? [];
        const i = list.indexOf(args.eventId);
        if (i >= 0) list.splice(i, 1);
        return null;
      }
      case 'plugin:event|emit':
        emit(args.event, args.payload);
        return null;
    }
    const handler = commands[cmd];
    if (!handler) throw fail('Unknown', `the mock has no command ${cmd}`);
    // Like the real bridge, answers are serialized: the app never shares objects with the mock.
    return JSON.parse(JSON.stringify(handler(args) ?? null));
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    runCallback: (id, data) => callbacks.get(id)?.(data),
    callbacks,
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: (_event, id) => callbacks.delete(id) };
  window.__mock = {
    calls: [],
    emit,
    /** Resolves once the app listens to `event`. */
    listening: (event) =>
      new Promise((resolve) => {
        const check = () => ((listeners.get(event) ?? []).length ? resolve(true) : setTimeout(check, 10));
        check();
      }),
  };
}
