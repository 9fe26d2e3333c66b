//! The results: one JSON document with every raw number, and a table for people.

use std::fmt::Write;

use serde::Serialize;

use crate::harness::Machine;
use crate::{cancel, ingest, memory, spawn_latency};

#[derive(Debug, Serialize)]
pub struct Results {
    pub date: String,
    pub machine: Machine,
    pub ingest: Option<ingest::Report>,
    pub spawn_latency: Option<spawn_latency::Report>,
    pub cancel: Option<cancel::Report>,
    pub memory: Option<memory::Report>,
    /// Every item that ran is within its budget.
    pub within_budget: bool,
}

impl Results {
    pub fn all_within_budget(&self) -> bool {
        self.ingest.as_ref().is_none_or(|r| r.within_budget)
            && self.spawn_latency.as_ref().is_none_or(|r| r.within_budget)
            && self.cancel.as_ref().is_none_or(|r| r.within_budget)
            && self.memory.as_ref().is_none_or(|r| r.within_budget)
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
    details(&mut out, r);
    out
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
