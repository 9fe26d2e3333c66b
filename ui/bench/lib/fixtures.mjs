// Made-up backend data for the benchmark and the screenshots: task records and stream-json
// output lines as the backend sends them (raw text plus parsed entries).

const MIN = 60_000;
// Relative to now, so that times read naturally ("3m 00s" elapsed, today's times).
const NOW = Math.floor(Date.now() / 1000) * 1000;

export const SETTINGS = {
  agent_path: null,
  default_format: 'stream-json',
  default_permission_mode: 'default',
  default_model: null,
  keep_session_by_default: true,
  notifications: true,
  ring_lines: 1000,
  grace_secs: 5,
  approval_timeout_mins: 30,
  allowed_tools: 'Read Glob Grep',
  max_running: 4,
};

export const AGENT = { path: '/home/ada/.local/bin/claude', version: '2.1.332 (Claude Code)', error: null };

/** A TaskRecord with sensible defaults. */
export function task(p) {
  return {
    id: 1,
    name: 'task',
    prompt: 'Do the thing.',
    project_dir: '/home/ada/code/tasktray',
    options: { format: 'stream-json', permission_mode: 'default', model: null, keep_session: true, resume: null, allowed_tools: [] },
    status: 'completed',
    created_at_ms: NOW - 10 * MIN,
    started_at_ms: NOW - 10 * MIN + 40,
    finished_at_ms: NOW - 8 * MIN,
    exit: { code: 0 },
    error: null,
    result: null,
    session_id: 'c0ffee-1',
    follow_up_of: null,
    owner: null,
    shim: null,
    line_count: 0,
    ...p,
  };
}

export function result(p) {
  return {
    is_error: false,
    subtype: 'success',
    text: 'Done.',
    cost_usd: 0.0421,
    session_cost_usd: null,
    denied_tools: 0,
    num_turns: 6,
    duration_ms: 94_200,
    session_id: 'c0ffee-1',
    ...p,
  };
}

const fileLines = Array.from({ length: 30 }, (_, i) => `${String(i + 1).padStart(4)}  pub fn ring_line_${i}(seq: u64) -> bool { seq % ${i + 2} == 0 }`).join('\n');
const testLines = [
  'running 12 tests',
  'test ring::tests::keeps_the_last_n_lines ... ok',
  'test ring::tests::bounded_by_bytes ... ok',
  'test ring::tests::snapshot_then_subscribe_is_atomic ... ok',
  'test ring::tests::sequence_numbers_increase ... FAILED',
  '',
  'failures:',
  "thread 'ring::tests::sequence_numbers_increase' panicked at src/ring.rs:212:9",
  'assertion `left == right` failed: left: 41, right: 42',
  'test result: FAILED. 11 passed; 1 failed; 0 ignored',
].join('\n');

/** Templates of output lines: [stream, raw event object or text, entries]. */
const TEMPLATES = [
  ['stdout', { type: 'assistant', message: { content: [{ type: 'text', text: "I'll run the ring tests first to see what fails." }] } },
    [{ kind: 'text', text: "I'll run the ring tests first to see what fails." }]],
  ['stdout', { type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cargo test -p supervisor ring' } }] } },
    [{ kind: 'toolCall', id: 'toolu_1', name: 'Bash', summary: 'cargo test -p supervisor ring', input: { command: 'cargo test -p supervisor ring' } }]],
  ['stdout', { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: testLines, is_error: true }] } },
    [{ kind: 'toolResult', toolUseId: 'toolu_1', text: testLines, isError: true }]],
  ['stdout', { type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_2', name: 'Read', input: { file_path: '/home/ada/code/tasktray/crates/supervisor/src/ring.rs' } }] } },
    [{ kind: 'toolCall', id: 'toolu_2', name: 'Read', summary: '/home/ada/code/tasktray/crates/supervisor/src/ring.rs', input: { file_path: '/home/ada/code/tasktray/crates/supervisor/src/ring.rs' } }]],
  ['stdout', { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: fileLines }] } },
    [{ kind: 'toolResult', toolUseId: 'toolu_2', text: fileLines, isError: false }]],
  ['stdout', { type: 'stream_event', event: { type: 'content_block_delta' } }, []],
  ['stdout', { type: 'assistant', message: { content: [{ type: 'text', text: 'The sequence number is taken before the push, so a batch that wraps the ring skips one.\n\nI will take it under the same lock as the push.' }] } },
    [{ kind: 'text', text: 'The sequence number is taken before the push, so a batch that wraps the ring skips one.\n\nI will take it under the same lock as the push.' }]],
  ['stdout', { type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_3', name: 'Edit', input: { file_path: 'crates/supervisor/src/ring.rs', old_string: 'let seq = self.next;', new_string: 'let seq = inner.next;' } }] } },
    [{ kind: 'toolCall', id: 'toolu_3', name: 'Edit', summary: 'crates/supervisor/src/ring.rs', input: { file_path: 'crates/supervisor/src/ring.rs', old_string: 'let seq = self.next;', new_string: 'let seq = inner.next;' } }]],
  ['stdout', { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_3', content: 'The file crates/supervisor/src/ring.rs has been updated.' }] } },
    [{ kind: 'toolResult', toolUseId: 'toolu_3', text: 'The file crates/supervisor/src/ring.rs has been updated.', isError: false }]],
  ['stderr', 'warning: unused variable: `len` --> crates/supervisor/src/ring.rs:88:13', null],
];

function lineFrom(seq, [stream, raw, entries]) {
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return { seq, stream, text, continued: false, entries: entries ?? [{ kind: 'plain', text }] };
}

/** `n` lines of a busy agent starting at `start`, cycling through the templates. */
export function busyLines(start, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(lineFrom(start + i, TEMPLATES[(start + i) % TEMPLATES.length]));
  return out;
}

/** A short, realistic run for the task view screenshot. */
export function storyLines() {
  const init = { type: 'system', subtype: 'init', session_id: 'c0ffee-7', model: 'claude-sonnet-4-5', cwd: '/home/ada/code/tasktray' };
  const story = [
    ['stdout', init, [{ kind: 'system', subtype: 'init', text: 'session c0ffee-7 · model claude-sonnet-4-5 · cwd /home/ada/code/tasktray' }]],
    ...TEMPLATES.slice(0, 5),
    ...TEMPLATES.slice(6),
    ['stdout', { type: 'assistant', message: { content: [{ type: 'text', text: 'Running the tests again. <img src=x onerror=alert(1)> stays text.' }] } },
      [{ kind: 'text', text: 'Running the tests again. <img src=x onerror=alert(1)> stays text.' }]],
    ['stdout', { type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_4', name: 'Bash', input: { command: 'cargo test -p supervisor' } }] } },
      [{ kind: 'toolCall', id: 'toolu_4', name: 'Bash', summary: 'cargo test -p supervisor', input: { command: 'cargo test -p supervisor' } }]],
  ];
  return story.map((t, i) => lineFrom(i, t));
}

export function screenshotTasks() {
  return [
    task({ id: 9, name: 'Publish the 0.4 release', status: 'waiting', created_at_ms: NOW - 6 * MIN, started_at_ms: NOW - 6 * MIN + 50, finished_at_ms: null, exit: null, line_count: 4, session_id: 'c0ffee-9' }),
    task({ id: 8, name: 'Add the CHANGELOG entry for 0.4', status: 'waiting', created_at_ms: NOW - 2 * MIN, started_at_ms: NOW - 2 * MIN + 50, finished_at_ms: null, exit: null, line_count: 4, session_id: 'c0ffee-8' }),
    task({ id: 7, name: 'Fix the flaky ring test', status: 'running', created_at_ms: NOW - 3 * MIN, started_at_ms: NOW - 3 * MIN + 50, finished_at_ms: null, exit: null, line_count: 14, session_id: 'c0ffee-7' }),
    task({ id: 6, name: 'Write the README section on follow-ups', status: 'completed', result: result({ text: 'Added a "Following up" section to README.md with an example.', cost_usd: 0.0421 }), line_count: 48 }),
    task({ id: 5, name: 'Upgrade tokio and fix the deprecations', project_dir: '/home/ada/code/a-project-with-a-rather-long-folder-name', status: 'failed', finished_at_ms: NOW - 30 * MIN, created_at_ms: NOW - 41 * MIN, started_at_ms: NOW - 41 * MIN, exit: { code: 1 }, result: result({ is_error: true, subtype: 'error_during_execution', text: 'API Error: 529 overloaded', cost_usd: 0.0107, num_turns: 2 }), line_count: 9 }),
    task({ id: 4, name: 'Profile the output forwarder', status: 'cancelled', exit: { signal: 15 }, finished_at_ms: NOW - 80 * MIN, created_at_ms: NOW - 86 * MIN, started_at_ms: NOW - 86 * MIN, result: null, line_count: 120 }),
    task({ id: 3, name: 'Summarize open issues', status: 'interrupted', finished_at_ms: NOW - 26 * 60 * MIN, created_at_ms: NOW - 27 * 60 * MIN, started_at_ms: NOW - 27 * 60 * MIN, exit: null, line_count: 0, options: { format: 'text', permission_mode: 'plan', model: null, keep_session: false, resume: null, allowed_tools: [] } }),
  ];
}

export const SCREENSHOT_NOW = NOW;

const PUBLISH = 'git tag -a v0.4.0 -m "Tasktray 0.4" && git push origin main --follow-tags && cargo publish -p tasktray-supervisor --allow-dirty=false';
const CHANGELOG = [
  '# Changelog',
  '',
  '## 0.4.0',
  '',
  '### Added',
  '- Two-way tasks: the agent asks before a tool, you answer from the tray.',
  '- Steer a running task: send it a message, or stop its turn.',
  '- Settings: the time to answer a request, and tools always allowed.',
  '',
  '### Fixed',
  '- Failure reasons are shown whole.',
  '- The ring keeps sequence numbers across a wrap.',
  '',
  '## 0.3.0',
  '',
  '- Follow-ups of finished tasks.',
  '- `taskctl follow-up`.',
  '',
].join('\n');

/** The open requests of the screenshot tasks, as `pending_approvals` returns them. */
export function screenshotApprovals() {
  return [
    {
      task: 9, request_id: 'toolu_p1', tool: 'Bash', input: { command: PUBLISH, description: 'Tag the release and publish the crate' }, description: null,
      suggestions: [{ type: 'addRules', rules: [{ toolName: 'Bash', ruleContent: 'git push:*' }], behavior: 'allow', destination: 'session' }],
      blocked_path: null, requested_at_ms: NOW - 40_000, expires_at_ms: NOW - 40_000 + 30 * MIN,
    },
    {
      task: 8, request_id: 'toolu_c1', tool: 'Write', input: { file_path: '/home/ada/code/tasktray/CHANGELOG.md', content: CHANGELOG }, description: null,
      suggestions: [{ type: 'setMode', mode: 'acceptEdits', destination: 'session' }],
      blocked_path: null, requested_at_ms: NOW - 5_000, expires_at_ms: NOW - 5_000 + 30 * MIN,
    },
  ];
}

/** The output of a task that stopped to ask (`approvals[i]` of screenshotApprovals). */
export function askingLines(approval, said) {
  const init = { type: 'system', subtype: 'init' };
  const summary = approval.input.command ?? approval.input.file_path;
  return [
    ['stdout', init, [{ kind: 'system', subtype: 'init', text: `session c0ffee-${approval.task} · model claude-sonnet-4-5 · cwd /home/ada/code/tasktray` }]],
    ['stdout', { type: 'assistant' }, [{ kind: 'text', text: said }]],
    ['stdout', { type: 'assistant' }, [{ kind: 'toolCall', id: approval.request_id, name: approval.tool, summary, input: approval.input }]],
    ['stdout', { type: 'control_request' }, [{ kind: 'approval', requestId: approval.request_id, tool: approval.tool, summary, input: approval.input, blockedPath: null }]],
  ].map((t, i) => lineFrom(i, t));
}

/** A two-way conversation that went on: answers, a message, a stopped turn. */
export function steeredLines(approval) {
  const lines = askingLines(approval, 'Tagging the release and pushing it.');
  const more = [
    ['stdout', { type: 'tasktray' }, [{ kind: 'answer', requestId: approval.request_id, tool: 'Bash', summary: approval.input.command, outcome: 'denied', message: 'Not yet: the CI is still red.' }]],
    ['stdout', { type: 'user' }, [{ kind: 'toolResult', toolUseId: approval.request_id, text: 'Not yet: the CI is still red.', isError: true }]],
    ['stdout', { type: 'tasktray' }, [{ kind: 'message', text: 'Look at the failing CI job first, then ask again.' }]],
    ['stdout', { type: 'assistant' }, [{ kind: 'toolCall', id: 'toolu_p2', name: 'Bash', summary: 'gh run view --log-failed', input: { command: 'gh run view --log-failed' } }]],
    ['stdout', { type: 'tasktray' }, [{ kind: 'answer', requestId: 'toolu_p2', tool: 'Bash', summary: 'gh run view --log-failed', outcome: 'allowedAlways', message: null }]],
    ['stdout', { type: 'tasktray' }, [{ kind: 'system', subtype: 'interrupt', text: 'You stopped the turn' }]],
  ];
  return [...lines, ...more.map((t, i) => lineFrom(lines.length + i, t))];
}

/** A finished run with one refused tool, and a failed one with Tasktray's reason. */
export function refusedLines() {
  const why = "Permission to use Bash with command rm -rf target/doc has been denied because Claude Code is running in don't ask mode.";
  return [
    ['stdout', { type: 'assistant' }, [{ kind: 'text', text: 'I will clean the old docs, then rebuild them.' }]],
    ['stdout', { type: 'assistant' }, [{ kind: 'toolCall', id: 'toolu_r1', name: 'Bash', summary: 'rm -rf target/doc', input: { command: 'rm -rf target/doc' } }]],
    ['stdout', { type: 'user' }, [{ kind: 'toolResult', toolUseId: 'toolu_r1', text: why, isError: true }]],
    ['stdout', { type: 'assistant' }, [{ kind: 'text', text: 'I could not remove the old docs; cargo doc overwrote them anyway.' }]],
    ['stdout', { type: 'result' }, [{ kind: 'result', ...result({ text: 'Rebuilt the docs. The old target/doc could not be removed (refused).', denied_tools: 1, session_cost_usd: 0.0311, cost_usd: 0.0311 }) }]],
  ].map((t, i) => lineFrom(i, t));
}

export const FAILED_REASON =
  "[tasktray] the agent exited with code 1: Error: Claude Code cannot read its settings: /home/ada/.claude/settings.json: expected ',' or '}' after property value in JSON at position 212 (line 9 column 5)";
