// Git worktrees per task: the form's "Own worktree" option (what it starts from, why it is off),
// the list's branch chip, and the task view's Changes section (files, diffs, big files,
// merge, discard asking first on unmerged work).

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { Draft, RepoHead, Review, TaskRecord, Worktree } from '../src/lib/bindings';
import { backend, calledWith, defaults, emitEvent, listing, page, renderApp, SETTINGS, task, type Handler } from './helpers';

const HEAD: RepoHead = { repo: '/home/u/code/proj', branch: 'main', commit: 'abc1234def5678', short: 'abc1234', dirty: false };
const NOT_A_REPO = {
  code: 'NotARepository',
  message:
    '/home/u/other is not in a git repository: a task\'s own worktree needs one (run `git init` there, or turn "Own worktree" off)',
};

const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });

/** repo_head as the backend answers it: a repository under /home/u/code, none elsewhere. */
function repoHead(head: RepoHead = HEAD): Handler {
  return (a) => {
    if (String(a.folder).startsWith('/home/u/code/')) return head;
    throw NOT_A_REPO;
  };
}

async function openForm(over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ recent_projects: () => ['/home/u/code/proj'], repo_head: repoHead(), ...over }));
  const r = await renderApp();
  r.app.router.go({ view: 'new' });
  const dir = (await screen.findByLabelText('Project folder')) as HTMLInputElement;
  await waitFor(() => expect(dir.value).toBe('/home/u/code/proj'));
  const box = screen.getByTestId('launch-worktree') as HTMLInputElement;
  return { ...r, calls, dir, box, prompt: screen.getByLabelText('Prompt') as HTMLTextAreaElement };
}

describe('the form\'s Own worktree option', () => {
  it('starts from the settings, says what it starts from, and is sent with the request', async () => {
    const { calls, box, prompt, app } = await openForm({
      get_settings: () => ({ ...SETTINGS, worktree_by_default: true }),
      spawn_task: () => 7,
      get_task: () => task({ id: 7, status: 'pending' }),
    });
    expect(box.checked).toBe(true);
    await waitFor(() => expect(screen.getByTestId('launch-worktree-hint').textContent).toBe('Starts from main at abc1234'));
    expect(box.disabled).toBe(false);
    await type(prompt, 'fake: tool echo hello > hello.txt');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    await waitFor(() => expect(app.router.route).toEqual({ view: 'task', id: 7 }));
    const [args] = calledWith(calls, 'spawn_task');
    expect((args!.request as { options: { worktree: boolean } }).options.worktree).toBe(true);
  });

  it('says uncommitted changes are left out, and names a detached HEAD', async () => {
    let head: RepoHead = { ...HEAD, dirty: true };
    const { dir } = await openForm({ repo_head: () => head });
    await waitFor(() =>
      expect(screen.getByTestId('launch-worktree-hint').textContent).toBe('Starts from main at abc1234; uncommitted changes are not included'),
    );
    head = { ...HEAD, branch: null };
    await type(dir, '/home/u/code/proj2');
    await waitFor(() => expect(screen.getByTestId('launch-worktree-hint').textContent).toBe('Starts from detached HEAD at abc1234'));
  });

  it('is off outside a repository, with the reason, and not sent', async () => {
    const { calls, dir, box, prompt } = await openForm({ spawn_task: () => 8, get_task: () => task({ id: 8, status: 'pending' }) });
    await fireEvent.click(box);
    expect(box.checked).toBe(true);
    await type(dir, '/home/u/other');
    await waitFor(() => expect(box.disabled).toBe(true));
    const hint = screen.getByTestId('launch-worktree-hint');
    expect(hint.textContent).toBe('Not in a git repository');
    expect(hint.title).toMatch(/^\/home\/u\/other is not in a git repository: .*git init/);
    // Back in a repository, it is on again; out of it, off.
    await type(dir, '/home/u/code/proj');
    await waitFor(() => expect(box.disabled).toBe(false));
    await type(dir, '/home/u/other');
    await waitFor(() => expect(box.disabled).toBe(true));
    await type(prompt, 'Do it');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    await waitFor(() => expect(calledWith(calls, 'spawn_task')).toHaveLength(1));
    const [args] = calledWith(calls, 'spawn_task');
    expect((args!.request as { options: { worktree: boolean } }).options.worktree).toBe(false);
  });

  it('looks up the folder once typing pauses, and drops a stale answer', async () => {
    const answers: Array<(h: RepoHead) => void> = [];
    const { calls, dir } = await openForm({
      repo_head: () => new Promise<RepoHead>((resolve) => answers.push(resolve)),
    });
    await waitFor(() => expect(calledWith(calls, 'repo_head')).toHaveLength(1));
    await type(dir, '/home/u/code/a');
    await type(dir, '/home/u/code/ab');
    await type(dir, '/home/u/code/abc');
    await waitFor(() => expect(calledWith(calls, 'repo_head')).toHaveLength(2));
    expect(calledWith(calls, 'repo_head')[1]).toEqual({ folder: '/home/u/code/abc' });
    answers[1]!({ ...HEAD, branch: 'new', short: 'fff0000' });
    await waitFor(() => expect(screen.getByTestId('launch-worktree-hint').textContent).toBe('Starts from new at fff0000'));
    answers[0]!({ ...HEAD, branch: 'old' }); // the first folder's, late
    // One more lookup, asked for once typing pauses (a timer): the late answer was handled
    // before it, and the hint keeps the answer shown until this one's comes.
    await type(dir, '/home/u/code/abcd');
    await waitFor(() => expect(calledWith(calls, 'repo_head')).toHaveLength(3));
    expect(screen.getByTestId('launch-worktree-hint').textContent).toBe('Starts from new at fff0000');
  });

  it('is part of the draft the app keeps', async () => {
    let kept: Draft | null = null;
    const { box } = await openForm({
      keep_draft: (a) => {
        kept = a.draft as Draft | null;
        return null;
      },
    });
    await fireEvent.click(box);
    await waitFor(() => expect(kept).toMatchObject({ worktree: true }));
  });

  it('comes back from the kept draft', async () => {
    const draft: Draft = {
      project_dir: '/home/u/code/proj',
      name: '',
      prompt: 'Go on',
      format: 'stream-json',
      permission_mode: 'default',
      model: '',
      keep_session: false,
      queue: false,
      worktree: true,
    };
    const { box } = await openForm({ get_draft: () => draft });
    await waitFor(() => expect(box.checked).toBe(true));
  });
});

const WT: Worktree = {
  path: '/data/worktrees/12',
  dir: '/data/worktrees/12',
  repo: '/home/u/code/proj',
  branch: 'tasktray/12-fix-the-bug',
  base_branch: 'main',
  base_commit: 'abc1234def5678',
  state: 'open',
};

function wtTask(p: Partial<TaskRecord> = {}, w: Partial<Worktree> = {}): TaskRecord {
  return task({ id: 12, name: 'Fix the bug', worktree: { ...WT, ...w }, ...p });
}

const PATCH = [
  'diff --git a/hello.txt b/hello.txt',
  'new file mode 100644',
  'index 0000000..ce01362',
  '--- /dev/null',
  '+++ b/hello.txt',
  '@@ -0,0 +1 @@',
  '+hello',
  '',
].join('\n');

function review(p: Partial<Review> = {}): Review {
  return {
    task: 12,
    worktree: WT,
    target: 'main',
    commits: [{ sha: 'fedcba9876543210', short: 'fedcba9', subject: 'Fix the bug', author: 'Tasktray', time_ms: Date.now() - 5 * 60_000 }],
    files: [
      { path: 'hello.txt', added: 1, removed: 0, patch: PATCH, patch_bytes: PATCH.length },
      { path: 'logo.png', added: null, removed: null, patch: 'Binary files differ\n', patch_bytes: 20 },
      { path: 'big.json', added: 9000, removed: 12, patch: null, patch_bytes: 420 * 1024 },
    ],
    uncommitted: false,
    merged: false,
    ...p,
  };
}

async function openReview(t: TaskRecord, over: Record<string, Handler> = {}) {
  let current = t;
  const calls = backend(
    defaults({
      list_tasks: listing(() => [current]),
      get_task: () => current,
      task_output: () => page([]),
      review_task: () => review(),
      ...over,
    }),
  );
  const r = await renderApp();
  r.app.openTask(t.id);
  const section = await screen.findByTestId('worktree-review');
  return { ...r, calls, section, set: (next: TaskRecord) => (current = next) };
}

describe('the Changes section of a finished worktree task', () => {
  it('shows the branch, where it started, the files with their counts and the commits', async () => {
    const { section } = await openReview(wtTask());
    const s = within(section);
    expect(s.getByText('⎇ tasktray/12-fix-the-bug')).toBeTruthy();
    expect(s.getByTestId('worktree-state').textContent).toBe('Not merged yet');
    await waitFor(() => expect(s.getAllByTestId('worktree-file')).toHaveLength(3));
    expect(s.getByTestId('worktree-from').textContent).toMatch(/^from main at abc1234 · 3 files\s+\+9001\s+−12$/);
    const [hello, logo, big] = s.getAllByTestId('worktree-file');
    expect(hello!.textContent).toMatch(/hello\.txt\s*\+1 −0/);
    expect(logo!.textContent).toMatch(/logo\.png\s*binary/);
    expect(big!.textContent).toMatch(/Large diff \(420 KB\) — Show/);
    const commits = s.getByTestId('worktree-commits');
    expect(commits.textContent).toMatch(/fedcba9\s*Fix the bug\s*Tasktray, 5 min ago/);
  });

  it('toggles a file\'s diff, with added and removed lines marked', async () => {
    const one = review({ files: [review().files[0]!] });
    const { section } = await openReview(wtTask(), { review_task: () => one });
    const s = within(section);
    // One file: its diff starts open.
    const diff = await s.findByTestId('diff');
    expect(diff.querySelector('.add')!.textContent).toBe('+hello');
    expect(diff.querySelector('.hunk')!.textContent).toBe('@@ -0,0 +1 @@');
    expect(diff.querySelector('.meta')).toBeTruthy();
    await fireEvent.click(s.getByRole('button', { name: /hello\.txt/ }));
    expect(s.queryByTestId('diff')).toBeNull();
    await fireEvent.click(s.getByRole('button', { name: /hello\.txt/ }));
    expect(s.getByTestId('diff')).toBeTruthy();
  });

  it('starts with the diffs closed when many files changed', async () => {
    const file = review().files[0]!;
    const many = review({ files: ['a', 'b', 'c', 'd'].map((p) => ({ ...file, path: `${p}.txt` })) });
    const { section } = await openReview(wtTask(), { review_task: () => many });
    const s = within(section);
    await waitFor(() => expect(s.getAllByTestId('worktree-file')).toHaveLength(4));
    expect(s.queryByTestId('diff')).toBeNull();
  });

  it('fetches a large file\'s diff on Show', async () => {
    const { section, calls } = await openReview(wtTask(), { file_diff: () => '@@ -1 +1 @@\n-{}\n+{"a": 1}\n' });
    const s = within(section);
    await fireEvent.click(await s.findByTestId('worktree-show-large'));
    await waitFor(() => expect(calledWith(calls, 'file_diff')).toEqual([{ id: 12, path: 'big.json' }]));
    const big = s.getAllByTestId('worktree-file')[2]!;
    const diff = await within(big).findByTestId('diff');
    expect(diff.querySelector('.del')!.textContent).toBe('-{}');
    expect(diff.querySelector('.add')!.textContent).toBe('+{"a": 1}');
    expect(s.queryByTestId('worktree-large')).toBeNull();
  });

  it('merges: progress, then "Merged into main (fast-forward)"; the state says Merged and Discard becomes Remove worktree', async () => {
    let finish: (v: unknown) => void = () => {};
    let merged = false;
    const r = await openReview(wtTask(), {
      merge_task: () => new Promise((resolve) => (finish = resolve)),
      // Merged, the branch has nothing main lacks.
      review_task: () => (merged ? review({ merged: true, files: [], commits: [] }) : review()),
    });
    const s = within(r.section);
    await fireEvent.click(await s.findByTestId('worktree-merge'));
    await waitFor(() => expect(s.getByTestId('worktree-merge').textContent!.trim()).toBe('Merging…'));
    for (const b of ['worktree-squash', 'worktree-keep', 'worktree-discard', 'worktree-open'])
      expect((s.getByTestId(b) as HTMLButtonElement).disabled).toBe(true);
    expect(calledWith(r.calls, 'merge_task')).toEqual([{ id: 12, squash: false }]);
    r.set(wtTask({}, { state: 'merged' }));
    merged = true;
    finish({ kind: 'fast-forward', into: 'main', commit: 'fedcba9876543210' });
    await waitFor(() => expect(s.getByTestId('worktree-done').textContent).toBe('✓ Merged into main (fast-forward)'));
    await waitFor(() => expect(s.getByTestId('worktree-state').textContent).toBe('Merged'));
    expect(s.queryByTestId('worktree-merge')).toBeNull();
    expect(s.getByTestId('worktree-discard').textContent!.trim()).toBe('Remove worktree');
    // What was merged stays in view.
    await waitFor(() => expect(calledWith(r.calls, 'review_task')).toHaveLength(2));
    expect(s.getAllByTestId('worktree-file')).toHaveLength(3);
    expect(s.getByTestId('worktree-commits').textContent).toContain('fedcba9');
  });

  it('shows a refused merge with the backend\'s message, and changes nothing', async () => {
    const message =
      'merging task 12 into main would conflict in hello.txt, README.md: nothing was changed; resolve it in the worktree (/data/worktrees/12) or merge tasktray/12-fix-the-bug yourself';
    const { section } = await openReview(wtTask(), {
      merge_task: () => {
        throw { code: 'MergeConflict', message };
      },
    });
    const s = within(section);
    await fireEvent.click(await s.findByTestId('worktree-squash'));
    await waitFor(() => expect(s.getByTestId('worktree-error').textContent).toBe(`M${message.slice(1)}`));
    expect(s.getByTestId('worktree-state').textContent).toBe('Not merged yet');
    expect((s.getByTestId('worktree-merge') as HTMLButtonElement).disabled).toBe(false);
  });

  it('asks before discarding unmerged work, then discards anyway', async () => {
    const message = "task 12's branch tasktray/12-fix-the-bug holds 1 commit: merge it, keep the branch, or discard it anyway";
    const r = await openReview(wtTask(), {
      discard_worktree: (a) => {
        if (!a.force) throw { code: 'UnmergedWork', message };
        r.set(wtTask({}, { state: 'discarded' }));
        return null;
      },
    });
    const s = within(r.section);
    await fireEvent.click(await s.findByTestId('worktree-discard'));
    const confirm = await s.findByTestId('worktree-confirm');
    expect(confirm.textContent).toContain("Task 12's branch tasktray/12-fix-the-bug holds 1 commit");
    expect(calledWith(r.calls, 'discard_worktree')).toEqual([{ id: 12, force: false }]);
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Discard anyway' }));
    await waitFor(() => expect(calledWith(r.calls, 'discard_worktree')).toEqual([{ id: 12, force: false }, { id: 12, force: true }]));
    await waitFor(() => expect(s.getByTestId('worktree-state').textContent).toBe('Discarded'));
    expect(s.queryByTestId('worktree-confirm')).toBeNull();
    expect(s.queryByTestId('worktree-discard')).toBeNull();
  });

  it('discards at once what is merged (no question)', async () => {
    const r = await openReview(wtTask({}, { state: 'merged', merged_into: 'main' }), {
      review_task: () => review({ merged: true }),
      discard_worktree: () => {
        r.set(wtTask({}, { state: 'discarded', merged_into: 'main' }));
        return null;
      },
    });
    const s = within(r.section);
    await fireEvent.click(await s.findByRole('button', { name: 'Remove worktree' }));
    // Still known as merged work, not thrown away.
    await waitFor(() => expect(s.getByTestId('worktree-state').textContent).toBe('Merged · removed'));
    expect(r.section.textContent).toContain('Merged into main; the worktree and its branch were removed.');
    expect(s.queryByTestId('worktree-confirm')).toBeNull();
  });

  it('re-reads the task and its review when its worktree changed elsewhere', async () => {
    const r = await openReview(wtTask());
    await waitFor(() => expect(calledWith(r.calls, 'review_task')).toHaveLength(1));
    r.set(wtTask({}, { state: 'kept' }));
    await emitEvent('task://changed', { id: 12, kind: 'worktreeChanged', message: null });
    await waitFor(() => expect(within(r.section).getByTestId('worktree-state').textContent).toBe('Branch kept'));
    await waitFor(() => expect(calledWith(r.calls, 'review_task')).toHaveLength(2));
  });

  it('shows the note as a warning', async () => {
    const { section } = await openReview(wtTask({}, { note: 'the end-of-task commit failed: hook refused' }));
    expect(within(section).getByTestId('worktree-note').textContent).toBe('⚠ the end-of-task commit failed: hook refused');
  });
});

describe('a worktree task in the view and the list', () => {
  it('shows only the branch and the folder while it runs', async () => {
    const running = wtTask({ status: 'running', finished_at_ms: null, exit: null });
    const calls = backend(defaults({ list_tasks: listing([running]), get_task: () => running }));
    const { app } = await renderApp();
    app.openTask(12);
    const strip = await screen.findByTestId('worktree-strip');
    expect(strip.textContent).toContain('⎇ tasktray/12-fix-the-bug');
    expect(strip.textContent).toContain('/data/worktrees/12');
    expect(screen.queryByTestId('worktree-merge')).toBeNull();
    expect(calledWith(calls, 'review_task')).toHaveLength(0);
  });

  it('links to the follow-up that went on in the worktree, instead of actions', async () => {
    const parent = wtTask({}, { continued_by: 13 });
    const calls = backend(defaults({ list_tasks: listing([parent]), get_task: (a) => (a.id === 12 ? parent : wtTask({ id: 13 })) }));
    const { app } = await renderApp();
    app.openTask(12);
    const moved = await screen.findByTestId('worktree-moved');
    expect(screen.queryByTestId('worktree-merge')).toBeNull();
    await fireEvent.click(within(moved).getByRole('button', { name: 'task #13' }));
    expect(app.router.route).toEqual({ view: 'task', id: 13 });
    expect(calledWith(calls, 'review_task').filter((a) => a.id === 12)).toHaveLength(0);
  });

  it('puts the branch on the row, as a chip', async () => {
    backend(defaults({ list_tasks: listing([wtTask(), task({ id: 3 })]) }));
    await renderApp();
    const chips = screen.getAllByTestId('task-branch');
    expect(chips).toHaveLength(1);
    expect(chips[0]!.textContent).toBe('⎇ tasktray/12-fix-the-bug');
    expect(within(screen.getByTestId('task-row-12')).getByTestId('task-branch')).toBe(chips[0]);
  });

  it('marks a merged-then-removed branch as merged, not as thrown away', async () => {
    backend(defaults({ list_tasks: listing([wtTask({}, { state: 'discarded', merged_into: 'main' }), wtTask({ id: 13 }, { state: 'discarded' })]) }));
    await renderApp();
    const merged = within(screen.getByTestId('task-row-12')).getByTestId('task-branch');
    const discarded = within(screen.getByTestId('task-row-13')).getByTestId('task-branch');
    expect(merged.classList.contains('merged')).toBe(true);
    expect(discarded.classList.contains('merged')).toBe(false);
    expect(merged.title).toContain('merged into main');
  });
});

describe('Settings', () => {
  it('saves "Run new tasks in their own worktree"', async () => {
    const calls = backend(defaults({ save_settings: (a) => a.settings }));
    const r = await renderApp();
    r.app.router.go({ view: 'settings' });
    const box = (await screen.findByLabelText(/Run new tasks in their own worktree/)) as HTMLInputElement;
    // The view fills itself from the saved settings, then looks for the agent.
    await waitFor(() => expect(calledWith(calls, 'detect_agent')).toHaveLength(1));
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() => expect(calledWith(calls, 'save_settings')).toHaveLength(1));
    expect((calledWith(calls, 'save_settings')[0]!.settings as { worktree_by_default: boolean }).worktree_by_default).toBe(true);
  });
});
