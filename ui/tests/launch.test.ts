// The launch form: defaults, validation, submit (button and Ctrl+Enter), backend errors.

import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { SpawnRequest } from '../src/lib/bindings';
import { backend, calledWith, defaults, emitEvent, renderApp, SETTINGS, task, type Handler } from './helpers';

async function openForm(over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ recent_projects: () => ['/home/u/code/proj', '/home/u/other'], ...over }));
  const r = await renderApp();
  r.app.router.go({ view: 'new' });
  await waitFor(() => expect(calledWith(calls, 'recent_projects')).toHaveLength(1));
  const dir = (await screen.findByLabelText('Project folder')) as HTMLInputElement;
  await waitFor(() => expect(dir.value).toBe('/home/u/code/proj'));
  return { ...r, calls, dir, prompt: screen.getByLabelText('Prompt') as HTMLTextAreaElement };
}

const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });

describe('launch form', () => {
  it('starts from the settings and the most recent project', async () => {
    await openForm();
    expect((screen.getByLabelText('Permission mode') as HTMLSelectElement).value).toBe(SETTINGS.default_permission_mode);
    expect((screen.getByLabelText(/Keep session/) as HTMLInputElement).checked).toBe(true);
    expect(document.querySelectorAll('#recent-projects option')).toHaveLength(2);
  });

  it('explains each permission mode, warns about bypass, and notes what text cannot do', async () => {
    await openForm();
    const mode = screen.getByLabelText('Permission mode') as HTMLSelectElement;
    expect([...mode.options].map((o) => o.textContent)).toEqual([
      'Ask me (recommended)',
      'Accept edits, ask for the rest',
      "Auto (the agent's safety check decides)",
      "Don't ask: deny what needs permission",
      'Manual (same as Ask me)',
      'Plan only: no changes',
      'Bypass permissions — dangerous: runs anything without asking',
    ]);
    expect(screen.getByTestId('permission-hint').textContent).toMatch(/File edits/);
    expect(screen.queryByTestId('permission-warning')).toBeNull();
    await fireEvent.change(mode, { target: { value: 'bypassPermissions' } });
    expect(screen.getByTestId('permission-warning').textContent).toMatch(/without asking/);
    expect(screen.queryByTestId('permission-text-note')).toBeNull();
    await fireEvent.change(screen.getByLabelText('Output format'), { target: { value: 'text' } });
    expect(screen.getByTestId('permission-text-note').textContent).toMatch(/Approvals and messages need the stream-json format/);
  });

  it('validates before submitting: empty prompt, empty or relative folder', async () => {
    const { calls, dir, prompt } = await openForm();
    await type(dir, '');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect(screen.getByText('Write what the agent should do.')).toBeTruthy();
    expect(screen.getByText('Choose the project folder the agent works in.')).toBeTruthy();
    await type(dir, 'code/proj');
    await type(prompt, 'Fix it');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect(screen.getByText(/use an absolute path/i)).toBeTruthy();
    expect(screen.queryByText('Write what the agent should do.')).toBeNull();
    expect(calledWith(calls, 'spawn_task')).toHaveLength(0);
  });

  it('Ctrl+Enter submits the request and opens the new task', async () => {
    const t = task({ id: 12, status: 'pending' });
    const { calls, app, prompt } = await openForm({ spawn_task: () => 12, get_task: () => t });
    await type(screen.getByLabelText(/^Name/), '  Tidy up ');
    await type(prompt, 'Tidy the README\nand the docs');
    await fireEvent.change(screen.getByLabelText('Output format'), { target: { value: 'text' } });
    await type(screen.getByLabelText(/^Model/), 'opus');
    await fireEvent.keyDown(prompt, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(app.router.route).toEqual({ view: 'task', id: 12 }));
    const [args] = calledWith(calls, 'spawn_task');
    expect(args).toEqual({
      request: {
        name: 'Tidy up',
        prompt: 'Tidy the README\nand the docs',
        project_dir: '/home/u/code/proj',
        options: { format: 'text', permission_mode: 'acceptEdits', model: 'opus', keep_session: true, resume: null, allowed_tools: [], worktree: false },
        follow_up_of: null,
        queue: false,
      } satisfies SpawnRequest,
    });
    // Back from the new task skips the (now empty) form.
    app.router.back();
    expect(app.router.route).toEqual({ view: 'list' });
  });

  it('ProjectBusy shows a link to the busy task, and keeps what was typed', async () => {
    const busy = task({ id: 3, name: 'Busy one', status: 'running' });
    const { app, prompt } = await openForm({
      spawn_task: () => {
        throw { code: 'ProjectBusy', message: 'task 3 is already running in /home/u/code/proj; wait for it or cancel it first', task_id: 3 };
      },
      get_task: () => busy,
    });
    await type(prompt, 'Another thing');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    const link = await screen.findByRole('button', { name: 'Show task 3' });
    expect(screen.getByText(/Task 3 is already running/)).toBeTruthy();
    expect(prompt.value).toBe('Another thing');
    await fireEvent.click(link);
    expect(app.router.route).toEqual({ view: 'task', id: 3 });
    app.router.back();
    await waitFor(() => expect((screen.getByLabelText('Prompt') as HTMLTextAreaElement).value).toBe('Another thing'));
  });

  it('the busy note goes once the task in the way has ended', async () => {
    const { prompt } = await openForm({
      spawn_task: () => {
        throw { code: 'ProjectBusy', message: 'task 3 is already running in /p; wait for it or cancel it first', task_id: 3 };
      },
    });
    await type(prompt, 'x');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    await screen.findByRole('button', { name: 'Show task 3' });
    await emitEvent('task://changed', { id: 9, kind: 'completed', message: null });
    expect(screen.queryByRole('button', { name: 'Show task 3' })).toBeTruthy();
    await emitEvent('task://changed', { id: 3, kind: 'cancelled', message: null });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Show task 3' })).toBeNull());
    expect(prompt.value).toBe('x');
  });

  it('ProjectBusy without task_id still links the task named in the message', async () => {
    const { prompt } = await openForm({
      spawn_task: () => {
        throw { code: 'ProjectBusy', message: 'task 41 is already running in /p; wait for it or cancel it first' };
      },
    });
    await type(prompt, 'x');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect(await screen.findByRole('button', { name: 'Show task 41' })).toBeTruthy();
  });

  it('AgentNotFound shows how to install Claude Code and a way to Settings', async () => {
    const { app, prompt } = await openForm({
      spawn_task: () => {
        throw { code: 'AgentNotFound', message: 'Claude Code was not found (looked in: PATH).' };
      },
    });
    await type(prompt, 'Do it');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect(await screen.findByText('npm install -g @anthropic-ai/claude-code')).toBeTruthy();
    expect(screen.getByText('Claude Code was not found (looked in: PATH).')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Open Settings' }));
    expect(app.router.route).toEqual({ view: 'settings' });
  });

  it('puts backend errors under their field, others in a banner', async () => {
    let error: unknown = { code: 'InvalidProjectDir', message: 'the project folder /nope does not exist' };
    const { dir, prompt } = await openForm({
      spawn_task: () => {
        throw error;
      },
    });
    await type(dir, '/nope');
    await type(prompt, 'x');
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect((await screen.findByText('The project folder /nope does not exist')).closest('.field')?.contains(dir)).toBe(true);
    error = { code: 'InvalidPrompt', message: 'the prompt contains a NUL byte' };
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect((await screen.findByText('The prompt contains a NUL byte')).closest('.field')?.contains(prompt)).toBe(true);
    error = { code: 'Io', message: 'could not write task.json' };
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Could not write task.json');
  });

  it('Choose… fills the folder from the native dialog', async () => {
    const { dir } = await openForm({ pick_folder: () => '/home/u/picked' });
    await fireEvent.click(screen.getByRole('button', { name: 'Choose…' }));
    await waitFor(() => expect(dir.value).toBe('/home/u/picked'));
  });
});
