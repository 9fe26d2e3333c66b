// Screenshots of each view against the mocked backend, light and dark, into bench/screenshots/.
// Expects `ui/dist` (npm run build). Usage: node bench/screenshots.mjs [out-dir]

import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, watchErrors } from './lib/browser.mjs';
import {
  AGENT,
  FAILED_REASON,
  SETTINGS,
  askingLines,
  refusedLines,
  result,
  screenshotApprovals,
  screenshotTasks,
  steeredLines,
  storyLines,
} from './lib/fixtures.mjs';
import { serve } from './lib/serve.mjs';
import { installTauriMock } from './lib/tauri-mock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, 'screenshots'));
const VIEWPORT = { width: 420, height: 640 };

function scenario(extra = {}) {
  const story = storyLines();
  const done = [
    ...storyLines().slice(0, 6),
    { seq: 6, stream: 'stdout', text: '{"type":"result"}', continued: false, entries: [{ kind: 'result', ...result({ text: 'Added a "Following up" section to README.md with an example of `taskctl follow-up`.' }) }] },
  ];
  const [bash, write] = screenshotApprovals();
  const asking9 = askingLines(bash, "The CHANGELOG is in. I'll tag the release and publish the supervisor crate.");
  const asking8 = askingLines(write, "I'll add the 0.4 section at the top of CHANGELOG.md.");
  const all = (lines) => ({ lines, first_seq: 0, next_seq: lines.length });
  return {
    tasks: screenshotTasks(),
    approvals: [bash, write],
    outputs: {
      9: all(asking9),
      8: all(asking8),
      7: all(story),
      6: all(done),
    },
    settings: SETTINGS,
    agent: AGENT,
    recent: ['/home/ada/code/tasktray', '/home/ada/code/a-project-with-a-rather-long-folder-name'],
    ...extra,
  };
}

/** A long history: `count` finished tasks with ids above the screenshot tasks' (whose outputs
 * are keyed by id), one an hour back in time; every fifth writes release notes. */
function olderTasks(count) {
  const [base] = screenshotTasks().filter((t) => t.status === 'completed');
  return Array.from({ length: count }, (_, i) => {
    const notes = i % 5 === 0;
    return {
      ...base,
      id: 10 + count - 1 - i,
      name: notes ? `Write the release notes for 0.${count - i}` : `Tidy module ${count - i}`,
      prompt: notes ? 'Write the release notes' : 'Tidy up',
      created_at_ms: base.created_at_ms - (i + 1) * 3_600_000,
      started_at_ms: base.started_at_ms - (i + 1) * 3_600_000,
      finished_at_ms: base.finished_at_ms - (i + 1) * 3_600_000,
    };
  });
}

/** Opens the task whose row is named `name` and waits for its transcript. */
async function open(page, name) {
  await page.getByRole('button', { name }).click();
  await page.locator('[data-testid=transcript] .row').first().waitFor();
}

const shots = [
  { name: 'list', run: async () => {} },
  {
    name: 'task-waiting-bash',
    run: async (page) => {
      await open(page, /Publish the 0\.4 release/);
      await page.getByTestId('approval-card').waitFor();
    },
  },
  {
    name: 'task-waiting-write',
    run: async (page) => {
      await open(page, /Add the CHANGELOG entry/);
      await page.getByTestId('approval-card').waitFor();
    },
  },
  {
    name: 'task-deny-message',
    run: async (page) => {
      await open(page, /Publish the 0\.4 release/);
      await page.getByLabel('Message to the agent (optional)').fill('Not yet: the CI is still red.');
      await page.getByRole('button', { name: 'Allow', exact: true }).focus();
    },
  },
  {
    name: 'task-stopped',
    scenario: (() => {
      const lines = steeredLines(screenshotApprovals()[0]);
      return { approvals: [], outputs: { 9: { lines, first_seq: 0, next_seq: lines.length } } };
    })(),
    run: async (page) => {
      await open(page, /Publish the 0\.4 release/);
      await page.getByTestId('waiting-instruction').waitFor();
      await page.getByLabel('Tell the agent').fill('The CI is green now: go ahead and publish.');
    },
  },
  {
    name: 'task-refused',
    scenario: (() => {
      const lines = refusedLines();
      return { outputs: { 6: { lines, first_seq: 0, next_seq: lines.length } } };
    })(),
    run: async (page) => {
      await open(page, /Write the README/);
      await page.getByTestId('refusals').waitFor();
    },
  },
  {
    name: 'task-failed',
    scenario: (() => {
      const tasks = screenshotTasks().map((t) =>
        t.id === 5 ? { ...t, error: FAILED_REASON.replace('[tasktray] ', ''), result: null } : t,
      );
      const note = { seq: 0, stream: 'tasktray', text: FAILED_REASON, continued: false, entries: [{ kind: 'plain', text: FAILED_REASON }] };
      return { tasks, outputs: { 5: { lines: [note], first_seq: 0, next_seq: 1 } } };
    })(),
    run: async (page) => {
      await open(page, /Upgrade tokio/);
    },
  },
  {
    name: 'list-failed',
    scenario: {
      tasks: screenshotTasks().map((t) => (t.id === 5 ? { ...t, error: FAILED_REASON, result: null } : t)),
    },
    run: async (page) => {
      await page.getByRole('button', { name: 'Finished' }).click();
    },
  },
  { name: 'list-empty', scenario: { tasks: [] }, run: async () => {} },
  {
    name: 'list-history',
    scenario: { tasks: [...screenshotTasks(), ...olderTasks(2_000)] },
    run: async (page) => {
      await page.getByRole('button', { name: 'Finished' }).click();
      await page.getByTestId('show-older').scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'list-search',
    scenario: { tasks: [...screenshotTasks(), ...olderTasks(2_000)] },
    run: async (page) => {
      await page.getByTestId('task-search').fill('release notes');
      await page.getByTestId('search-count').getByText(/match/).waitFor();
    },
  },
  {
    name: 'task-running',
    run: async (page) => {
      await page.getByRole('button', { name: /Fix the flaky ring test/ }).click();
      await page.locator('[data-testid=transcript] .row').first().waitFor();
      await page.getByRole('button', { name: /9 more lines/ }).first().click();
    },
  },
  {
    name: 'task-done',
    run: async (page) => {
      await page.getByRole('button', { name: /Write the README/ }).click();
      await page.locator('[data-testid=transcript] .row').first().waitFor();
      await page.getByRole('button', { name: 'Follow up' }).click();
    },
  },
  {
    name: 'launch-busy',
    scenario: {
      spawnError: { code: 'ProjectBusy', message: 'task 7 is already running in /home/ada/code/tasktray; wait for it or cancel it first', task_id: 7 },
    },
    run: async (page) => {
      await page.getByRole('button', { name: /New task/ }).first().click();
      await page.getByLabel('Prompt').fill('Add a --json flag to `taskctl list`.');
      await page.getByRole('button', { name: 'Start task' }).click();
      await page.getByText('Show task 7').waitFor();
    },
  },
  {
    name: 'launch-invalid',
    scenario: { recent: [] },
    run: async (page) => {
      await page.getByRole('button', { name: /New task/ }).first().click();
      await page.getByLabel('Project folder').fill('code/tasktray');
      await page.getByRole('button', { name: 'Start task' }).click();
    },
  },
  {
    name: 'launch-agent-missing',
    scenario: {
      spawnError: { code: 'AgentNotFound', message: 'Claude Code was not found (looked in: PATH, /home/ada/.local/bin/claude).' },
    },
    run: async (page) => {
      await page.getByRole('button', { name: /New task/ }).first().click();
      await page.getByLabel('Prompt').fill('Summarize the open issues.');
      await page.getByRole('button', { name: 'Start task' }).click();
      await page.getByText('npm install -g @anthropic-ai/claude-code').waitFor();
    },
  },
  {
    name: 'confirm-quit',
    run: async (page) => {
      await page.evaluate(() => window.__mock.emit('app://navigate', { view: 'confirmQuit', tasks: [9, 8, 7] }));
      await page.getByText('3 tasks are still running').waitFor();
    },
  },
  {
    name: 'launch-bypass',
    run: async (page) => {
      await page.getByRole('button', { name: /New task/ }).first().click();
      await page.getByLabel('Permission mode').selectOption('bypassPermissions');
      await page.getByTestId('permission-warning').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    },
  },
  {
    name: 'settings',
    run: async (page) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByText('2.1.332').waitFor();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved').waitFor();
    },
  },
  {
    name: 'settings-requests',
    run: async (page) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByText('2.1.332').waitFor();
      await page.getByLabel(/Time to answer a request/).fill('2000');
      await page.getByText('Requests from tasks').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    },
  },
];

await mkdir(outDir, { recursive: true });
const server = await serve(join(here, '..', 'dist'));
const browser = await launch();
const problems = [];
try {
  for (const scheme of ['light', 'dark']) {
    for (const shot of shots) {
      const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: scheme, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.addInitScript(installTauriMock, scenario(shot.scenario));
      await page.goto(server.url);
      await page.locator('.bar').waitFor();
      await page.waitForFunction(() => window.__mock.calls.includes('list_tasks'));
      await page.waitForTimeout(100); // let the list render: a screenshot, not a test
      await shot.run(page);
      await page.mouse.move(0, 0);
      const file = join(outDir, `${shot.name}-${scheme}.png`);
      await page.screenshot({ path: file });
      console.log(file);
      for (const e of errors) problems.push(`${shot.name}-${scheme}: ${e}`);
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exitCode = 1;
}
