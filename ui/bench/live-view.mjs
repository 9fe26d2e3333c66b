// UI benchmark: the task view under a flood of output, against the same page idle.
//
// Serves ui/dist (build it first: npm run build) on 127.0.0.1, opens it in Debian's Chromium
// with the Tauri backend mocked (bench/lib/tauri-mock.mjs), opens one running task and
// 1. idle: leaves it alone for DURATION_MS;
// 2. live: emits `task://output` every 50 ms with a batch of 500 stream-json-like lines
//    (10,000 lines/s) for DURATION_MS: the budget of docs/design.md;
// 3. steady: 100 lines every 50 ms (2,000 lines/s) for DURATION_MS, a rate the view renders
//    line by line, so the transcript fills up to its cap (RENDER_CAP rows).
// Each phase records, from a Chromium trace, every main-thread task of the renderer (so also
// tasks under 50 ms, and style/layout/paint work the Long Tasks API does not attribute), plus
// the Long Tasks and Long Animation Frames the page itself observes. At the end: the DOM size
// and the transcript's row count. Budget (docs/design.md): no main-thread task over 50 ms, a
// bounded DOM.
//
// Usage: node bench/live-view.mjs [results.json]   (default: bench/results.json)

import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, watchErrors } from './lib/browser.mjs';
import { AGENT, SETTINGS, busyLines, task } from './lib/fixtures.mjs';
import { serve } from './lib/serve.mjs';
import { installTauriMock } from './lib/tauri-mock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outFile = resolve(process.argv[2] ?? join(here, 'results.json'));

const DURATION_MS = 10_000;
const INTERVAL_MS = 50;
const BATCH = 500;
const STEADY_BATCH = 100;
const BUDGET_MS = 50;
const TASK_ID = 1;
const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'];

const scenario = {
  tasks: [task({ id: TASK_ID, name: 'Flood the output', status: 'running', finished_at_ms: null, exit: null, result: null, created_at_ms: Date.now() - 1000, started_at_ms: Date.now() - 1000 })],
  outputs: {},
  settings: SETTINGS,
  agent: AGENT,
  recent: [],
};

/** Installed in the page after the mock. `prepare` serializes every batch of a load up front
 * (the real bridge hands the webview JSON text too, and parsing it is part of the measured
 * work); `start` emits them. Lines are stamped from a cycle of template lines. */
function installFlood({ templates, id, intervalMs }) {
  const loads = {};
  window.__flood = {
    prepare(load, firstSeq, batchCount, batchSize) {
      const batches = [];
      let seq = firstSeq;
      for (let b = 0; b < batchCount; b++) {
        const lines = [];
        for (let i = 0; i < batchSize; i++, seq++) lines.push({ ...templates[seq % templates.length], seq });
        batches.push(JSON.stringify(lines));
      }
      loads[load] = batches;
      return seq;
    },
    start(load) {
      const batches = loads[load];
      return new Promise((done) => {
        let i = 0;
        const timer = setInterval(() => {
          if (i >= batches.length) {
            clearInterval(timer);
            done(i);
            return;
          }
          window.__mock.emit('task://output', { id, lines: JSON.parse(batches[i++]) });
        }, intervalMs);
      });
    },
  };
  // Long tasks and long animation frames, as the page sees them.
  window.__perf = { longtask: [], loaf: [] };
  for (const type of ['longtask', 'long-animation-frame']) {
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          window.__perf[type === 'longtask' ? 'longtask' : 'loaf'].push({
            start: e.startTime,
            duration: e.duration,
            blocking: e.blockingDuration ?? null,
          });
        }
      }).observe({ type, buffered: false });
    } catch {
      /* not supported by this browser */
    }
  }
}

/** Main-thread tasks of the renderer from a Chromium trace, and where their time went. */
function analyzeTrace(buffer, wallMs) {
  const events = JSON.parse(buffer.toString('utf8'));
  const list = Array.isArray(events) ? events : events.traceEvents;
  const mains = new Set();
  for (const e of list) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') mains.add(`${e.pid}:${e.tid}`);
  }
  const main = list
    .filter((e) => e.ph === 'X' && typeof e.dur === 'number' && mains.has(`${e.pid}:${e.tid}`))
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Time in events of `names`, counting nested ones (e.g. a FunctionCall in a TimerFire) once;
  // within `within` (an event) when given.
  const outermost = (names, within) => {
    let total = 0;
    let end = -Infinity;
    for (const e of main) {
      if (within && (e.ts < within.ts || e.ts + e.dur > within.ts + within.dur)) continue;
      if (!names.includes(e.name) || e.ts < end) continue;
      total += e.dur;
      end = e.ts + e.dur;
    }
    return total / 1000;
  };
  const tasks = [];
  // Thread (CPU) time of each task, when the trace has it: wall time minus the time the thread
  // was not running, e.g. preempted by other processes on a busy machine.
  const cpu = [];
  let end = -Infinity;
  let longest = null;
  for (const e of main) {
    if (e.name !== 'RunTask' || e.ts < end) continue; // a task inside a task (nested run loop)
    tasks.push(e.dur / 1000);
    if (typeof e.tdur === 'number') cpu.push(e.tdur / 1000);
    end = e.ts + e.dur;
    if (!longest || e.dur > longest.dur) longest = e;
  }
  const SCRIPT = ['TimerFire', 'FunctionCall', 'EvaluateScript', 'FireAnimationFrame', 'RunMicrotasks', 'EventDispatch'];
  const GC = ['MinorGC', 'MajorGC', 'V8.GC_SCAVENGER', 'V8.GC_MARK_COMPACTOR', 'BlinkGC.AtomicPhase'];
  const breakdown = (within) => ({
    script_ms: round(outermost(SCRIPT, within)),
    gc_ms: round(outermost(GC, within)),
    style_ms: round(outermost(['UpdateLayoutTree'], within)),
    layout_ms: round(outermost(['Layout'], within)),
    paint_ms: round(outermost(['Paint', 'PrePaint', 'Layerize'], within)),
  });
  tasks.sort((a, b) => a - b);
  // Percentiles of the tasks that did something (the thread also runs thousands of no-ops).
  const working = tasks.filter((d) => d >= 1);
  const pct = (p) => (working.length ? working[Math.min(working.length - 1, Math.floor((p / 100) * working.length))] : 0);
  const busy = tasks.reduce((a, b) => a + b, 0);
  return {
    tasks: tasks.length,
    longest_ms: round(tasks.at(-1) ?? 0),
    longest_cpu_ms: round(cpu.reduce((m, x) => Math.max(m, x), 0)),
    over_budget_cpu: cpu.filter((d) => d > BUDGET_MS).length,
    tasks_over_1ms: working.length,
    p50_ms: round(pct(50)),
    p95_ms: round(pct(95)),
    top5_ms: tasks.slice(-5).reverse().map(round),
    p50_ms: round(pct(50)),
    over_budget: tasks.filter((d) => d > BUDGET_MS).length,
    main_thread_busy_pct: round((100 * busy) / wallMs),
    ...breakdown(null),
    longest_task: longest ? breakdown(longest) : null,
  };
}

const round = (x) => Math.round(x * 10) / 10;

async function phase(browser, page, name, run) {
  await page.evaluate(() => {
    window.__perf.longtask.length = 0;
    window.__perf.loaf.length = 0;
  });
  const load = loadavg()[0]; // before the phase: mostly what else runs on the machine
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  const started = Date.now();
  const extra = await run();
  const wall = Date.now() - started;
  const trace = analyzeTrace(await browser.stopTracing(), wall);
  const perf = await page.evaluate(() => window.__perf);
  const max = (xs, k) => round(xs.reduce((m, x) => Math.max(m, x[k] ?? 0), 0));
  return {
    phase: name,
    wall_ms: wall,
    // Other work on the machine (a build) slows every task; read the figures with this.
    load_avg_1m: round(load),
    ...trace,
    longtasks: perf.longtask.length,
    longtask_max_ms: max(perf.longtask, 'duration'),
    long_frames: perf.loaf.length,
    long_frame_max_ms: max(perf.loaf, 'duration'),
    long_frame_max_blocking_ms: max(perf.loaf, 'blocking'),
    ...extra,
  };
}

const DOM_QUERY = () => ({
  dom_nodes: document.getElementsByTagName('*').length,
  transcript_rows: document.querySelectorAll('[data-testid=transcript] .row').length,
  last_row: document.querySelector('[data-testid=transcript] .row:last-of-type')?.textContent?.slice(0, 80) ?? null,
  lines_label: document.querySelector('.count')?.textContent?.trim() ?? null,
});

async function main() {
  const batchCount = DURATION_MS / INTERVAL_MS;
  const templates = busyLines(0, 10);
  // BENCH_PHASES=steady (for example) runs only some phases, while tuning.
  const only = process.env.BENCH_PHASES?.split(',');
  const skip = (name) => !!only && !only.includes(name);
  const floodLines = batchCount * BATCH;
  const steadyLines = batchCount * STEADY_BATCH;

  const server = await serve(join(here, '..', 'dist'));
  const browser = await launch();
  let results;
  try {
    const context = await browser.newContext({ viewport: { width: 420, height: 640 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.addInitScript(installTauriMock, scenario);
    await page.addInitScript(installFlood, { templates, id: TASK_ID, intervalMs: INTERVAL_MS });
    await page.goto(server.url);
    await page.waitForFunction(() => window.__mock.calls.includes('list_tasks'));
    await page.getByRole('button', { name: /Flood the output/ }).click();
    await page.locator('[data-testid=transcript]').waitFor();
    await page.evaluate(() => window.__mock.listening('task://output'));
    const version = browser.version();
    await page.evaluate(([n, b, s, steadyFirst]) => {
      const next = window.__flood.prepare('flood', 0, n, b);
      window.__flood.prepare('steady', steadyFirst ?? next, n, s);
    }, [batchCount, BATCH, STEADY_BATCH, skip('live') ? 0 : null]);

    const idle = skip('idle') ? null : await phase(browser, page, 'idle', async () => {
      await page.waitForTimeout(DURATION_MS); // the baseline is time passing, nothing else
      return page.evaluate(DOM_QUERY);
    });
    const run = (load, lines, total) => async () => {
      const emitted = await page.evaluate((l) => window.__flood.start(l), load);
      // Settled: every line was counted.
      await page.waitForFunction((n) => document.querySelector('.count')?.textContent?.includes(n), total.toLocaleString('en'));
      return { batches: emitted, lines, ...(await page.evaluate(DOM_QUERY)) };
    };
    const live = skip('live') ? null : await phase(browser, page, 'live', run('flood', floodLines, floodLines));
    const steadyPhase = skip('steady')
      ? null
      : await phase(browser, page, 'steady', run('steady', steadyLines, (live ? floodLines : 0) + steadyLines));

    results = {
      date: new Date().toISOString(),
      browser: `Chromium ${version}`,
      viewport: '420x640',
      cores: availableParallelism(),
      load: `live: ${BATCH} lines every ${INTERVAL_MS} ms for ${DURATION_MS / 1000} s (${(BATCH * 1000) / INTERVAL_MS} lines/s); steady: ${STEADY_BATCH} lines every ${INTERVAL_MS} ms (${(STEADY_BATCH * 1000) / INTERVAL_MS} lines/s)`,
      budget: { max_task_ms: BUDGET_MS },
      phases: [idle, live, steadyPhase].filter(Boolean),
      pass: [live, steadyPhase].filter(Boolean).every((p) => p.over_budget === 0 && p.transcript_rows <= 2000),
      console_errors: errors,
    };
  } finally {
    await browser.close();
    await server.close();
  }

  const cols = [
    ['phase', 'phase'],
    ['longest task ms', 'longest_ms'],
    ['longest cpu ms', 'longest_cpu_ms'],
    ['p50 ms', 'p50_ms'],
    ['p95 ms', 'p95_ms'],
    ['tasks > 50 ms', 'over_budget'],
    ['longtasks (API)', 'longtasks'],
    ['long frames', 'long_frames'],
    ['main busy %', 'main_thread_busy_pct'],
    ['script ms', 'script_ms'],
    ['gc ms', 'gc_ms'],
    ['style ms', 'style_ms'],
    ['layout ms', 'layout_ms'],
    ['paint ms', 'paint_ms'],
    ['DOM nodes', 'dom_nodes'],
    ['load avg', 'load_avg_1m'],
    ['rows', 'transcript_rows'],
  ];
  console.log(`${results.browser}, ${results.viewport}, ${results.load}`);
  console.table(Object.fromEntries(results.phases.map((p) => [p.phase, Object.fromEntries(cols.slice(1).map(([h, k]) => [h, p[k]]))])));
  console.log(`budget: no main-thread task over ${BUDGET_MS} ms, bounded DOM: ${results.pass ? 'PASS' : 'FAIL'}`);
  const cores = availableParallelism();
  if (results.phases.some((p) => p.load_avg_1m > cores / 2)) {
    console.log(`note: the machine was busy (1-minute load average up to ${Math.max(...results.phases.map((p) => p.load_avg_1m))} before a phase, on ${cores} cores); the figures include that contention`);
  }
  if (results.console_errors.length) console.log('console:', results.console_errors);
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${outFile}`);
  if (!results.pass) process.exitCode = 1;
}

await main();
