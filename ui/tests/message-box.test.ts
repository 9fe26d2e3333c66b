// The message box of a running two-way task: Send, Stop turn, errors, who gets it.

import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../src/lib/bindings';
import { approval, backend, calledWith, defaults, emitEvent, renderApp, task, type Handler, listing } from './helpers';

const RUNNING = task({ id: 5, name: 'Steer me', status: 'running', finished_at_ms: null, exit: null });

async function openTask(t: () => TaskRecord, over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ list_tasks: listing(() => [t()]), get_task: () => t(), ...over }));
  const r = await renderApp();
  r.app.openTask(t().id);
  await waitFor(() => expect(r.app.transcript?.loading).toBe(false));
  return { ...r, calls };
}

const box = () => screen.getByLabelText('Tell the agent') as HTMLTextAreaElement;

describe('message box', () => {
  it('sends with Ctrl+Enter, clears the box and says Sent', async () => {
    const { calls } = await openTask(() => RUNNING, { send_message: () => null });
    expect(box().placeholder).toBe('Tell the agent…');
    await fireEvent.input(box(), { target: { value: 'Also run the linter' } });
    await fireEvent.keyDown(box(), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(calledWith(calls, 'send_message')).toEqual([{ id: 5, message: 'Also run the linter' }]));
    await waitFor(() => expect(box().value).toBe(''));
    expect(screen.getByTestId('message-sent').textContent).toBe('Sent ✓');
  });

  it('does not send an empty message', async () => {
    const { calls } = await openTask(() => RUNNING, { send_message: () => null });
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(screen.getByTestId('message-error').textContent).toBe('Write a message first.');
    expect(calledWith(calls, 'send_message')).toHaveLength(0);
  });

  it('shows why a message was not taken, and keeps it', async () => {
    await openTask(() => RUNNING, {
      send_message: () => {
        throw { code: 'InputClosed', message: 'task 5 takes no more input' };
      },
    });
    await fireEvent.input(box(), { target: { value: 'One more thing' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect((await screen.findByTestId('message-error')).textContent).toBe('The task is finishing and takes no more messages.');
    expect(box().value).toBe('One more thing');
  });

  it('Stop turn interrupts; the task then waits for the next instruction', async () => {
    let current = RUNNING;
    const { calls } = await openTask(() => current, { interrupt_task: () => null });
    await fireEvent.click(screen.getByRole('button', { name: 'Stop turn' }));
    await waitFor(() => expect(calledWith(calls, 'interrupt_task')).toEqual([{ id: 5 }]));
    expect(screen.queryByTestId('waiting-instruction')).toBeNull();

    current = { ...RUNNING, status: 'waiting' };
    await emitEvent('task://changed', { id: 5, kind: 'statusChanged', message: null });
    expect((await screen.findByTestId('waiting-instruction')).textContent).toContain('Waiting for your next instruction');
    expect(screen.queryByRole('button', { name: 'Stop turn' })).toBeNull();
    expect(screen.getByTestId('status-badge').textContent).toContain('Waiting for you');
  });

  it('a task waiting on a request is not waiting for an instruction', async () => {
    await openTask(() => ({ ...RUNNING, status: 'waiting' }), { pending_approvals: () => [approval()] });
    await screen.findByTestId('approval-card');
    expect(screen.queryByTestId('waiting-instruction')).toBeNull();
    expect(screen.getByRole('button', { name: 'Stop turn' })).toBeTruthy();
  });

  it('is not offered for text-format or finished tasks', async () => {
    const text = task({ ...RUNNING, options: { ...RUNNING.options, format: 'text' } });
    await openTask(() => text);
    expect(screen.queryByTestId('message-box')).toBeNull();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
  });

  it('goes when the task ends', async () => {
    let current = RUNNING;
    await openTask(() => current);
    expect(screen.getByTestId('message-box')).toBeTruthy();
    current = { ...RUNNING, status: 'completed', finished_at_ms: 2_000_000 };
    await emitEvent('task://changed', { id: 5, kind: 'completed', message: null });
    await waitFor(() => expect(screen.queryByTestId('message-box')).toBeNull());
  });
});
