//! The results: one JSON document with every raw number, and a table for people.

use std::fmt::Write;

use serde::Serialize;

use crate::harness::Machine;
use crate::{api_load, app, cancel, history, ingest, memory, spawn_latency, taskctl_run};

#[derive(Debug, Serialize)]
pub struct Results {
    pub date: String,
    pub machine: Machine,
    pub ingest: Option<ingest::Report>,
    pub spawn_latency: Option<spawn_latency::Report>,
    pub cancel: Option<cancel::Report>,
    pub memory: Option<memory::Report>,
    pub api_load: Option<api_load::Report>,
    pub history: Option<history::Report>,
    pub app: Option<app::Report>,
    pub taskctl_run: Option<taskctl_run::Report>,
    /// Every item that ran is within its budget.
    pub within_budget: bool,
}

impl Results {
    pub fn all_within_budget(&self) -> bool {
        self.ingest.as_ref().is_none_or(|r| r.within_budget)
            && self.spawn_latency.as_ref().is_none_or(|r| r.within_budget)
            && self.cancel.as_ref().is_none_or(|r| r.within_budget)
            && self.memory.as_ref().is_none_or(|r| r.within_budget)
            && self.api_load.as_ref().is_none_or(|r| r.within_budget)
            && self.history.as_ref().is_none_or(|r| r.within_budget)
            && self.app.as_ref().is_none_or(|r| r.within_budget)
            && self.taskctl_run.as_ref().is_none_or(|r| r.within_budget)
    }
}

const MIB: f64 = 1024.0 * 1024.0;

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "OVER"
    }
}

/// One table row: item, baseline, supervisor, comparison, budget, verdict.
fn row(out: &mut String, cells: [&str; 5], ok: bool) {
    let _ = writeln!(
        out,
        "{:<26} {:<24} {:<24} {:<30} {:<12} {}",
        cells[0],
        cells[1],
        cells[2],
        cells[3],
        cells[4],
        verdict(ok)
    );
}

pub fn table(r: &Results) -> String {
    let mut out = String::new();
    let cpu = r.machine.cpu.as_deref().unwrap_or("unknown cpu");
    let _ = writeln!(
        out,
        "\nTasktray benchmarks, {} ({} cores, {cpu})\n",
        r.date, r.machine.cores
    );
    let _ = writeln!(
        out,
        "{:<26} {:<24} {:<24} {:<30} {:<12} verdict",
        "item", "baseline", "supervisor", "comparison", "budget"
    );
    let _ = writeln!(out, "{}", "-".repeat(126));
    if let Some(i) = &r.ingest {
        let rate = |t: &ingest::Throughput| {
            format!("{:.2}M l/s {:.0} MB/s", t.lines_per_s / 1e6, t.mb_per_s)
        };
        let to_last = i
            .ratio_to_last_line
            .map_or(String::new(), |x| format!(" ({x:.2} w/o finish)"));
        row(
            &mut out,
            [
                "1 ingest (median of reps)",
                &rate(&i.raw),
                &rate(&i.supervisor.total),
                &format!("ratio {:.2}{to_last}", i.ratio),
                &format!(">= {:.2}", i.budget_ratio),
            ],
            i.within_budget,
        );
    }
    if let Some(s) = &r.spawn_latency {
        row(
            &mut out,
            [
                "2 spawn -> first line",
                &format!("{:.1} / p90 {:.1} ms", s.raw_ms.median, s.raw_ms.p90),
                &format!(
                    "{:.1} / p90 {:.1} ms",
                    s.supervisor_ms.median, s.supervisor_ms.p90
                ),
                &format!("{:+.1} ms (p90 {:+.1})", s.diff_median_ms, s.diff_p90_ms),
                &format!("<= +{:.0} ms", s.budget_ms),
            ],
            s.within_budget,
        );
    }
    if let Some(c) = &r.cancel {
        let a = &c.honours_term;
        let b = &c.ignores_term;
        let minus_grace = format!(
            "-grace {:.1} / max {:.1} ms",
            b.measured_ms.median, b.measured_ms.max
        );
        for (name, case, comparison) in [
            (
                "3a cancel, honours TERM",
                a,
                format!("tree gone: {}", a.all_trees_gone),
            ),
            ("3b cancel, ignores TERM", b, minus_grace),
        ] {
            row(
                &mut out,
                [
                    name,
                    "-",
                    &format!(
                        "{:.1} / max {:.1} ms",
                        case.cancel_ms.median, case.cancel_ms.max
                    ),
                    &comparison,
                    &format!("<= {:.0} ms", case.budget_ms),
                ],
                case.within_budget,
            );
        }
    }
    if let Some(m) = &r.memory {
        row(
            &mut out,
            [
                &format!("4 memory, {} tasks", m.tasks),
                &format!("rss before {:.0} MiB", m.rss_before_kib as f64 / 1024.0),
                &format!("peak +{:.0} MiB", m.peak_delta_bytes as f64 / MIB),
                &format!(
                    "+{:.0} MiB while running",
                    m.peak_running_delta_bytes as f64 / MIB
                ),
                &format!("<= {:.0} MiB", m.bound_bytes as f64 / MIB),
            ],
            m.within_budget,
        );
    }
    if let Some(t) = &r.taskctl_run {
        for (name, case) in [
            ("10 taskctl run, 1M lines", &t.text),
            ("10 taskctl run, 100k msgs", &t.stream_json),
        ] {
            row(
                &mut out,
                [
                    name,
                    &format!("{:.0} ms (> file)", case.raw_ms.median),
                    &format!("{:.0} ms", case.taskctl_ms.median),
                    &format!("ratio {:.2}", case.ratio),
                    &format!("<= {:.1}", t.budget_ratio),
                ],
                case.ratio <= t.budget_ratio,
            );
        }
    }
    if let Some(h) = &r.history {
        row(
            &mut out,
            [
                "7 taskctl list --limit 20",
                &format!("{:.1} ms ({} tasks)", h.list_small_ms.median, h.small_tasks),
                &format!("{:.1} ms ({} tasks)", h.list_large_ms.median, h.large_tasks),
                &format!("ratio {:.2}", h.list_ratio),
                &format!("<= {:.1}", history::LIST_BUDGET_RATIO),
            ],
            h.within_budget,
        );
    }
    if let Some(a) = &r.api_load {
        api_rows(&mut out, a);
    }
    if let Some(a) = &r.app {
        app_rows(&mut out, a);
    }
    details(&mut out, r);
    out
}

/// Load over idle for the two probes and the host's RSS; no time budget, so the verdict is
/// the run's correctness (see `api_load`).
fn api_rows(out: &mut String, a: &api_load::Report) {
    let pair = |l: &api_load::Latency| format!("{:.2} / p99 {:.2} ms", l.p50, l.p99);
    for (name, idle, load, p50, p99) in [
        (
            "6a API list (limit 50)",
            &a.idle.list,
            &a.load.list,
            a.ratios.list_p50,
            a.ratios.list_p99,
        ),
        (
            "6b API get one task",
            &a.idle.get,
            &a.load.get,
            a.ratios.get_p50,
            a.ratios.get_p99,
        ),
    ] {
        row(
            out,
            [
                name,
                &format!("idle {}", pair(idle)),
                &pair(load),
                &format!("ratio {p50:.2}, p99 {p99:.2}"),
                "none",
            ],
            a.within_budget,
        );
    }
    row(
        out,
        [
            &format!("6c API host RSS, {} clients", a.clients),
            &format!("idle {:.1} MiB", a.rss_idle_kib as f64 / 1024.0),
            &format!("peak {:.1} MiB", a.rss_load_kib as f64 / 1024.0),
            &format!("ratio {:.2}", a.rss_ratio),
            "none",
        ],
        a.within_budget,
    );
}

fn details(out: &mut String, r: &Results) {
    let _ = writeln!(out);
    if let Some(i) = &r.ingest {
        ingest_details(out, i);
    }
    if let Some(s) = &r.spawn_latency {
        let _ = writeln!(
            out,
            "spawn: {} runs; inside spawn() {:.1} ms median, {:.1} ms p90",
            s.runs, s.spawn_call_ms.median, s.spawn_call_ms.p90
        );
    }
    if let Some(c) = &r.cancel {
        let (a, b) = (&c.honours_term, &c.ignores_term);
        let _ = writeln!(
            out,
            "cancel: grace {:.0} ms; runs over budget {} (a), {} (b); \
             every tree gone {} (a), {} (b)",
            c.grace_ms, a.runs_over_budget, b.runs_over_budget, a.all_trees_gone, b.all_trees_gone
        );
    }
    if let Some(m) = &r.memory {
        memory_details(out, m);
    }
    if let Some(a) = &r.api_load {
        api_details(out, a);
    }
    if let Some(h) = &r.history {
        history_details(out, h);
    }
    if let Some(t) = &r.taskctl_run {
        for case in [&t.text, &t.stream_json] {
            let _ = writeln!(
                out,
                "taskctl run: `{}`: raw {:.0} ms (p90 {:.0}), taskctl {:.0} ms (p90 {:.0}); {} \
                 lines written raw, {} in the task's log",
                case.prompt,
                case.raw_ms.median,
                case.raw_ms.p90,
                case.taskctl_ms.median,
                case.taskctl_ms.p90,
                case.raw_lines,
                case.logged_lines
            );
        }
    }
    if let Some(a) = &r.app {
        app_details(out, a);
    }
    let verdict = if r.within_budget { "yes" } else { "NO" };
    let _ = writeln!(out, "\nall within budget: {verdict}");
}

fn ingest_details(out: &mut String, i: &ingest::Report) {
    let s = &i.supervisor;
    let _ = writeln!(
        out,
        "ingest: `{}`, {} reps (medians); raw {:.3} s; pipe reader {:.3} s (ratio {:.2})",
        i.prompt, i.reps, i.raw.seconds, i.pipe.seconds, i.pipe_ratio
    );
    let _ = writeln!(
        out,
        "ingest: supervised {:.3} s = {:.3} s to the last line + {:.3} s finish \
         (a transcript write alone: {:.3} s, +{:.0} MiB peak RSS); {} lines logged; \
         all lines: {}",
        s.total.seconds,
        s.to_last_line_s.unwrap_or(f64::NAN),
        s.finish_s.unwrap_or(f64::NAN),
        s.transcript_s.unwrap_or(f64::NAN),
        s.transcript_peak_bytes.map_or(f64::NAN, |b| b as f64 / MIB),
        s.total.lines,
        i.all_lines_logged
    );
    if let (Some(sub), Some(ratio)) = (&i.subscribed, i.subscribed_ratio) {
        let _ = writeln!(
            out,
            "ingest with a subscriber draining events: {:.3} s, ratio {ratio:.2}; \
             events received {}, lagged {}",
            sub.total.seconds,
            sub.events.unwrap_or(0),
            sub.lagged.unwrap_or(0)
        );
    }
}

fn memory_details(out: &mut String, m: &memory::Report) {
    let hwm = m.hwm_kib.map_or("n/a".to_owned(), |k| format!("{k} KiB"));
    let _ = writeln!(
        out,
        "memory: `{}`; bound {} x {} B = {:.0} MiB (the rings hold {:.1} MiB here)",
        m.prompt,
        m.tasks,
        m.ring_bytes,
        m.bound_bytes as f64 / MIB,
        m.rings_full_bytes as f64 / MIB
    );
    let _ = writeln!(
        out,
        "memory: rss before {} KiB, peak sampled {} KiB ({} KiB before any finish), after {} \
         KiB, VmHWM {hwm}; {} samples, {} running at once, wall {:.1} s",
        m.rss_before_kib,
        m.rss_peak_sampled_kib,
        m.rss_peak_running_kib,
        m.rss_after_kib,
        m.samples,
        m.max_concurrent,
        m.wall_s
    );
    let _ = writeln!(
        out,
        "memory: {} lines ({:.0}/s in all), {} output events received, {} lagged; per task \
         {:.0} events/s median over its life, {:.0}/s without the sleep \
         (UI budget once batched: <= {:.0}/s)",
        m.total_lines,
        m.events_per_s_total,
        m.output_events,
        m.lagged_events,
        m.lifetime_events_per_s_per_task.median,
        m.busy_events_per_s_per_task.median,
        m.ui_budget_events_per_s_per_task
    );
    let _ = writeln!(
        out,
        "memory: all completed {}, leftover processes {}",
        m.all_completed, m.leftover_processes
    );
}

fn api_details(out: &mut String, a: &api_load::Report) {
    let b = &a.burst;
    let t = &a.host_tasks;
    let e = &a.sse;
    let _ = writeln!(
        out,
        "api: burst of {} `{}` spawns (queue: true, {} in flight, {} projects, running limit \
         {}): {} accepted in {:.2} s, {} of them queued, {} errors; POST {:.1} / p99 {:.1} ms \
         (first tenth {:.1}, last tenth {:.1}); drained in {:.1} s ({:.0} tasks/s), longest \
         queue {}",
        a.tasks,
        a.prompt,
        a.senders,
        a.projects,
        t.limit,
        b.accepted,
        b.accept_s,
        b.queued_at_spawn,
        b.errors,
        b.post_ms.p50,
        b.post_ms.p99,
        b.post_first_ms.p50,
        b.post_last_ms.p50,
        b.drain_s,
        b.tasks_per_s,
        b.queue_peak
    );
    let _ = writeln!(
        out,
        "api: tasks completed {}/{} (failed {}, cancelled {}, active {}), at most {} running \
         at once, order kept {}; queue wait {:.1} s median, {:.1} s max; run {:.0} ms median",
        t.completed,
        t.total,
        t.failed,
        t.cancelled,
        t.active,
        t.max_running_at_once,
        t.fifo_violations == 0,
        t.queue_wait_ms.median / 1000.0,
        t.queue_wait_ms.max / 1000.0,
        t.run_ms.median
    );
    let _ = writeln!(
        out,
        "api: {}/{} event clients up in {:.0} ms; saw every finish {}, missed some with a \
         resync {}, without one {}; {} resyncs ({} events skipped); {:.0} events per client; \
         caught up {:.0} ms after the load; stuck {}, errors {}",
        e.connected,
        e.clients,
        e.connect_ms,
        e.saw_every_finish,
        e.missed_with_resync,
        e.missed_without_resync,
        e.resyncs,
        e.skipped,
        e.events_per_client.median,
        e.catch_up_ms,
        e.stuck,
        e.errors
    );
    let both = |p: &api_load::Probes| {
        format!(
            "list {:.2} / p99 {:.2}, get {:.2} / p99 {:.2} ms",
            p.list.p50, p.list.p99, p.get.p50, p.get.p99
        )
    };
    let _ = writeln!(
        out,
        "api: latency (p50 / p99) idle: {}; clients connected, no burst: {}; while the burst \
         was sent: {}; while the queue drained: {}; idle again, the burst in the history: {}; \
         probe errors {}",
        both(&a.idle),
        both(&a.clients_idle),
        both(&a.load_during_burst),
        both(&a.load_during_drain),
        both(&a.after),
        a.idle.errors + a.clients_idle.errors + a.load.errors + a.after.errors
    );
    let phases: Vec<String> = a
        .rss_phases
        .iter()
        .map(|(name, p)| format!("{name} {:.1}", p.peak_kib as f64 / 1024.0))
        .collect();
    let _ = writeln!(
        out,
        "api: host RSS peak per phase (MiB): {}; after {:.1} MiB (ratio {:.2}, {:.1} KiB kept \
         per task); leftover processes {} + {} after exit; server stop {:.0} ms, supervisor \
         shutdown {:.0} ms; wall {:.1} s",
        phases.join(", "),
        a.rss_after_kib as f64 / 1024.0,
        a.rss_after_ratio,
        a.rss_kept_per_task_kib,
        a.leftovers_before_shutdown,
        a.leftovers_after_exit,
        a.server_stop_ms,
        a.shutdown_ms,
        a.wall_s
    );
    for (what, error) in [
        ("spawn", &b.first_error),
        ("events", &e.first_error),
        ("probe", &a.load.first_error),
    ] {
        if let Some(error) = error {
            let _ = writeln!(out, "api: first {what} error: {error}");
        }
    }
}

fn history_details(out: &mut String, h: &history::Report) {
    let _ = writeln!(
        out,
        "history: {} tasks indexed in {:.0} ms the first time (reading every task.json: {:.0} \
         ms); `list --limit 20 --search` {:.1} -> {:.1} ms (ratio {:.2}, {} matches)",
        h.large_tasks,
        h.first_index_ms,
        h.load_all_ms,
        h.search_small_ms.median,
        h.search_large_ms.median,
        h.search_ratio,
        h.search_matches
    );
    let _ = writeln!(
        out,
        "history: a host starts in {:.1} ms with no task, {:.1} ms with {} (ratio {:.2}); RSS \
         +{:.1} / +{:.1} MiB; {} tasks held in memory",
        h.start_empty_ms.median,
        h.start_large_ms.median,
        h.large_tasks,
        h.start_ratio,
        h.start_empty_rss_kib as f64 / 1024.0,
        h.start_large_rss_kib as f64 / 1024.0,
        h.held_large
    );
}

/// The app's memory (hidden is the baseline), Show to ready, and start-up with a long history.
fn app_rows(out: &mut String, a: &app::Report) {
    let mib = |kib: f64| kib / 1024.0;
    row(
        out,
        [
            "8a app PSS, started hidden",
            &format!("webview kept {:.0} MiB", mib(a.hidden_webview_kib.median)),
            &format!("none built {:.0} MiB", mib(a.hidden_empty_kib.median)),
            &format!(
                "ratio {:.2} (anon {:.2})",
                a.hidden_ratio, a.hidden_anon_ratio
            ),
            "no webview",
        ],
        a.hidden_builds_nothing,
    );
    row(
        out,
        [
            "8b app PSS, window closed",
            &format!("hidden {:.0} MiB", mib(a.hidden_empty_kib.median)),
            &format!(
                "shown {:.0}, closed {:.0} MiB",
                mib(a.shown_kib.median),
                mib(a.released_kib.median)
            ),
            &format!(
                "anon {:.0} % given back (PSS {:.0} %)",
                a.given_back_anon.median * 100.0,
                a.given_back.median * 100.0
            ),
            &format!(">= {:.0} % anon", app::GIVEN_BACK_BUDGET * 100.0),
        ],
        a.given_back_anon.median >= app::GIVEN_BACK_BUDGET,
    );
    let again = if a.ready_again_ms.n > 0 {
        &a.ready_again_ms
    } else {
        &a.ready_first_ms
    };
    row(
        out,
        [
            "8c app Show -> ready",
            &format!("first {:.0} ms", a.ready_first_ms.median),
            &format!("again {:.0} / max {:.0} ms", again.median, again.max),
            &format!("click to ready {:.0} ms", a.click_to_ready_ms.median),
            &format!("<= {:.0} ms", app::READY_BUDGET_MS),
        ],
        again.median <= app::READY_BUDGET_MS,
    );
    row(
        out,
        [
            "8d app start (API + tray)",
            &format!("{:.0} ms (no task)", a.start_empty_ms.median),
            &format!("{:.0} ms ({} tasks)", a.start_full_ms.median, a.tasks),
            &format!("ratio {:.2}", a.start_ratio),
            "none",
        ],
        a.leftovers == 0,
    );
}

fn app_details(out: &mut String, a: &app::Report) {
    let mib = |kib: f64| kib / 1024.0;
    let _ = writeln!(
        out,
        "app: {}; {} tasks written through History in {:.1} s (tmpfs), copied in {:.1} s",
        a.app.display(),
        a.tasks,
        a.history_write_s,
        a.history_copy_s
    );
    let _ = writeln!(
        out,
        "app: PSS hidden {:.1} MiB with no task (with the webview built and hidden, as before: \
         {:.1}, anon {:.1}), {:.1} MiB with {}; shown {:.1} MiB (x{:.2}); closed again {:.1} MiB \
         (max {:.1}), {:.1} MiB over hidden; anonymous memory hidden {:.1}, shown {:.1}, closed \
         {:.1} MiB; idle CPU {:.2} % (max {:.2}); web process gone {:.0} ms after the close \
         (max {:.0})",
        mib(a.hidden_empty_kib.median),
        mib(a.hidden_webview_kib.median),
        mib(a.hidden_webview_anon_kib.median),
        mib(a.hidden_full_kib.median),
        a.tasks,
        mib(a.shown_kib.median),
        a.shown_ratio,
        mib(a.released_kib.median),
        mib(a.released_kib.max),
        mib(a.kept_kib.median),
        mib(a.hidden_anon_kib.median),
        mib(a.shown_anon_kib.median),
        mib(a.released_anon_kib.median),
        a.idle_cpu_percent.median,
        a.idle_cpu_percent.max,
        a.web_gone_ms.median,
        a.web_gone_ms.max
    );
    if let Some(first) = a.launches.first() {
        let list = |t: &app::Tree| {
            t.processes
                .iter()
                .map(|(name, kib)| format!("{name} {:.1}", *kib as f64 / 1024.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let split = |t: &app::Tree| {
            format!(
                "anon {:.1}, file {:.1}",
                t.pss_anon_kib as f64 / 1024.0,
                t.pss_file_kib as f64 / 1024.0
            )
        };
        let _ = writeln!(
            out,
            "app: hidden (MiB): {} ({})",
            list(&first.hidden),
            split(&first.hidden)
        );
        if let Some(cycle) = first.cycles.last() {
            let _ = writeln!(
                out,
                "app: shown (MiB): {} ({})",
                list(&cycle.shown),
                split(&cycle.shown)
            );
            let _ = writeln!(
                out,
                "app: closed (MiB): {} ({})",
                list(&cycle.released),
                split(&cycle.released)
            );
        }
    }
    let _ = writeln!(
        out,
        "app: start {:.0} ms / p90 {:.0} (no task), {:.0} ms / p90 {:.0} ({} tasks); \
         every hidden start built no window {}; leftover processes {}",
        a.start_empty_ms.median,
        a.start_empty_ms.p90,
        a.start_full_ms.median,
        a.start_full_ms.p90,
        a.tasks,
        a.hidden_builds_nothing,
        a.leftovers
    );
}
