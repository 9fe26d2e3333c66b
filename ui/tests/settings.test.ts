// The Settings view: detection, validation, save.

import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { backend, calledWith, defaults, renderApp, SETTINGS, type Handler } from './helpers';

async function openSettings(over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ save_settings: (a) => a.settings, ...over }));
  const r = await renderApp();
  r.app.router.go({ view: 'settings' });
  await screen.findByLabelText('Claude Code program');
  await waitFor(() => expect(calledWith(calls, 'detect_agent')).toHaveLength(1));
  return { ...r, calls };
}

const type = (label: string | RegExp, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

describe('settings', () => {
  it('shows the detected agent and its version, or the error', async () => {
    const { calls } = await openSettings({
      detect_agent: (a) =>
        a.path ? { path: null, version: null, error: `${a.path as string} is not an executable file` } : { path: '/usr/bin/claude', version: '2.1.332 (Claude Code)', error: null },
    });
    expect(await screen.findByText('/usr/bin/claude')).toBeTruthy();
    expect(screen.getByText(/2\.1\.332/)).toBeTruthy();
    await type('Claude Code program', '/opt/nothing');
    await fireEvent.click(screen.getByRole('button', { name: 'Detect' }));
    expect(await screen.findByText(/\/opt\/nothing is not an executable file/)).toBeTruthy();
    expect(calledWith(calls, 'detect_agent').at(-1)).toEqual({ path: '/opt/nothing' });
  });

  it('looks for the agent again once a new path is saved (no stale "not found")', async () => {
    let installed = false;
    const { calls } = await openSettings({
      detect_agent: () =>
        installed
          ? { path: '/opt/claude/bin/claude', version: '2.1.332 (Claude Code)', error: null }
          : { path: null, version: null, error: 'Claude Code was not found' },
      save_settings: (a) => {
        installed = true;
        return a.settings;
      },
    });
    expect(await screen.findByText(/Claude Code was not found/)).toBeTruthy();
    await type('Claude Code program', '/opt/claude/bin/claude');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('/opt/claude/bin/claude')).toBeTruthy();
    expect(screen.queryByText(/Claude Code was not found/)).toBeNull();
    expect(calledWith(calls, 'detect_agent').at(-1)).toEqual({ path: '/opt/claude/bin/claude' });
  });

  it('saves the settings and says so', async () => {
    const { calls, app } = await openSettings();
    await type(/Output kept in memory/, '5000');
    await type(/Cancel grace period/, '2.5');
    await fireEvent.click(screen.getByLabelText('Notify me when a task finishes'));
    await fireEvent.change(screen.getByLabelText('Permission mode'), { target: { value: 'plan' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Saved ✓')).toBeTruthy();
    expect(calledWith(calls, 'save_settings')).toEqual([
      { settings: { ...SETTINGS, ring_lines: 5000, grace_secs: 2.5, notifications: false, default_permission_mode: 'plan' } },
    ]);
    expect(app.settings.current?.ring_lines).toBe(5000);
    await type(/Output kept in memory/, '6000');
    expect(screen.queryByText('Saved ✓')).toBeNull();
  });

  it('saves the time to answer and the tools always allowed; checks the time as it is typed', async () => {
    const { calls } = await openSettings();
    expect((screen.getByLabelText('Permission mode') as HTMLSelectElement).value).toBe('acceptEdits');
    const tools = screen.getByLabelText('Tools always allowed') as HTMLInputElement;
    expect(tools.placeholder).toBe('Read Glob Grep');
    expect(screen.getByText('space- or comma-separated rules like Bash(git log *)')).toBeTruthy();
    await type(/Time to answer a request/, '1441');
    expect(screen.getByTestId('settings-timeout-error').textContent).toBe('Whole minutes, from 0 (no limit) to 1,440.');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(calledWith(calls, 'save_settings')).toHaveLength(0);
    await type(/Time to answer a request/, '0');
    expect(screen.queryByTestId('settings-timeout-error')).toBeNull();
    expect(screen.getByText('No limit: a request waits as long as its task runs.')).toBeTruthy();
    await type('Tools always allowed', ' Read, Bash(git log *) ');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved ✓');
    expect(calledWith(calls, 'save_settings')).toEqual([
      { settings: { ...SETTINGS, approval_timeout_mins: 0, allowed_tools: 'Read, Bash(git log *)' } },
    ]);
  });

  it('refuses values out of range, and a relative agent path', async () => {
    const { calls } = await openSettings();
    await type(/Output kept in memory/, '50');
    await type(/Cancel grace period/, '121');
    await type('Claude Code program', 'bin/claude');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByText('A whole number from 100 to 100,000.')).toBeTruthy();
    expect(screen.getByText('Seconds, from 0.5 to 120.')).toBeTruthy();
    expect(screen.getByText(/Use an absolute path/)).toBeTruthy();
    expect(calledWith(calls, 'save_settings')).toHaveLength(0);
  });

  it('shows a failed save in a banner', async () => {
    await openSettings({
      save_settings: () => {
        throw { code: 'Io', message: 'could not write settings.json: read-only file system' };
      },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('read-only file system');
  });

  it('turns Start at login on and off at once, without Save, and shows the version', async () => {
    let entry = false;
    const { calls } = await openSettings({
      app_version: () => '0.1.0',
      start_at_login: () => entry,
      set_start_at_login: (a) => (entry = a.enabled as boolean),
    });
    expect(await screen.findByText('Tasktray 0.1.0')).toBeTruthy();
    const box = screen.getByLabelText('Start at login') as HTMLInputElement;
    await waitFor(() => expect(box.disabled).toBe(false));
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await waitFor(() => expect(calledWith(calls, 'set_start_at_login')).toEqual([{ enabled: true }]));
    await waitFor(() => expect(box.checked).toBe(true));
    expect(entry).toBe(true);
    await fireEvent.click(box);
    await waitFor(() => expect(calledWith(calls, 'set_start_at_login').at(-1)).toEqual({ enabled: false }));
    await waitFor(() => expect(box.checked).toBe(false));
    expect(calledWith(calls, 'save_settings')).toHaveLength(0);
  });

  it('says why Start at login could not change, and shows it as it is', async () => {
    await openSettings({
      start_at_login: () => false,
      set_start_at_login: () => {
        throw { code: 'Autostart', message: 'cannot change the autostart entry (~/.config/autostart): permission denied' };
      },
    });
    const box = screen.getByLabelText('Start at login') as HTMLInputElement;
    await waitFor(() => expect(box.disabled).toBe(false));
    await fireEvent.click(box);
    expect((await screen.findByTestId('settings-start-at-login-error')).textContent).toContain('permission denied');
    expect(box.checked).toBe(false);
  });
});
