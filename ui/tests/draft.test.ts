// The New task form's draft outlives its window: every edit is handed to the app at once
// (`keep_draft`), the form of a new window (a new page, a new store) takes it back
// (`get_draft`), and a started task forgets it.

import { cleanup, fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { Draft } from '../src/lib/bindings';
import { backend, calledWith, defaults, renderApp, task } from './helpers';

/** The app's side: one draft in memory, shared by every window. */
function keeper() {
  let kept: Draft | null = null;
  return {
    get: () => kept,
    handlers: {
      get_draft: () => kept,
      keep_draft: (args: Record<string, unknown>) => {
        kept = args.draft as Draft | null;
        return null;
      },
    },
  };
}

/** A window's page: the whole app, on the New task form once it has filled itself. */
async function openWindow(calls: ReturnType<typeof backend>) {
  const r = await renderApp();
  r.app.router.go({ view: 'new' });
  await waitFor(() => expect(calledWith(calls, 'get_draft').length).toBeGreaterThan(0));
  const prompt = (await screen.findByLabelText('Prompt')) as HTMLTextAreaElement;
  // The form focuses a field once it has filled itself (the draft, the defaults).
  await waitFor(() => expect(document.activeElement?.tagName).toMatch(/INPUT|TEXTAREA/));
  return { ...r, prompt, dir: screen.getByLabelText('Project folder') as HTMLInputElement };
}

const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });

describe('the draft of the New task form', () => {
  it('is handed to the app at each edit, with no pause to lose on a close', async () => {
    const app = keeper();
    const calls = backend(defaults({ ...app.handlers, recent_projects: () => ['/home/u/code/proj'] }));
    const { prompt } = await openWindow(calls);
    await type(prompt, 'F');
    await type(prompt, 'Fi');
    await type(prompt, 'Fix the bug');
    // No timer to run out: the last keystroke is kept within a few microtasks.
    await waitFor(() => expect(app.get()?.prompt).toBe('Fix the bug'));
    expect(app.get()).toMatchObject({ project_dir: '/home/u/code/proj', permission_mode: 'acceptEdits' });
    // One call in flight, the newest edit right after it: not one per keystroke piling up.
    expect(calledWith(calls, 'keep_draft').length).toBeLessThanOrEqual(3);
  });

  it('comes back in the form of the next window, and is forgotten once the task starts', async () => {
    const app = keeper();
    const t = task({ id: 12, status: 'pending' });
    const calls = backend(
      defaults({ ...app.handlers, recent_projects: () => ['/home/u/code/proj'], spawn_task: () => 12, get_task: () => t }),
    );
    let w = await openWindow(calls);
    await type(w.dir, '/home/u/code/other');
    await type(screen.getByLabelText(/^Name/), 'Tidy');
    await type(w.prompt, 'Tidy the README');
    await fireEvent.change(screen.getByLabelText('Permission mode'), { target: { value: 'plan' } });
    await fireEvent.click(screen.getByTestId('launch-queue'));
    await waitFor(() => expect(app.get()?.queue).toBe(true));

    // The window is closed (its page and stores are gone) and built again.
    cleanup();
    w = await openWindow(calls);
    expect(w.prompt.value).toBe('Tidy the README');
    expect(w.dir.value).toBe('/home/u/code/other');
    expect((screen.getByLabelText(/^Name/) as HTMLInputElement).value).toBe('Tidy');
    expect((screen.getByLabelText('Permission mode') as HTMLSelectElement).value).toBe('plan');
    expect((screen.getByTestId('launch-queue') as HTMLInputElement).checked).toBe(true);

    // Started: the app forgets it, and the next window's form is a fresh one.
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    await waitFor(() => expect(w.app.router.route).toEqual({ view: 'task', id: 12 }));
    await waitFor(() => expect(app.get()).toBeNull());
    cleanup();
    w = await openWindow(calls);
    expect(w.prompt.value).toBe('');
    expect((screen.getByLabelText(/^Name/) as HTMLInputElement).value).toBe('');
    expect(w.dir.value).toBe('/home/u/code/proj');
    expect((screen.getByLabelText('Permission mode') as HTMLSelectElement).value).toBe('acceptEdits');
  });

  it('does not overwrite what the user typed before it came', async () => {
    const app = keeper();
    app.handlers.keep_draft({ draft: { ...emptyDraft(), prompt: 'old words' } });
    let answer: (d: Draft | null) => void = () => {};
    const calls = backend(
      defaults({ ...app.handlers, get_draft: () => new Promise<Draft | null>((r) => (answer = r)) }),
    );
    const r = await renderApp();
    r.app.router.go({ view: 'new' });
    const prompt = (await screen.findByLabelText('Prompt')) as HTMLTextAreaElement;
    await waitFor(() => expect(calledWith(calls, 'get_draft')).toHaveLength(1));
    await type(prompt, 'new words');
    answer(app.get());
    await waitFor(() => expect(app.get()?.prompt).toBe('new words'));
    expect(prompt.value).toBe('new words');
  });
});

function emptyDraft(): Draft {
  return {
    project_dir: '/p',
    name: '',
    prompt: '',
    format: 'stream-json',
    permission_mode: 'default',
    model: '',
    keep_session: false,
    queue: false,
    worktree: false,
  };
}
