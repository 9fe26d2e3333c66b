//! The output path: both pipes, tolerant framing, the ring, the log, atomic attach, the
//! transcript file.

use std::time::Duration;

use supervisor::{report, Event, OutputFormat, Stream, TaskStatus};
use tasktray_test_support::{bounded, wait_until_async, Sandbox};

use crate::{config, request, run_to_end, start, text_request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_are_both_captured_without_deadlock() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.ring_lines = 100_000;
        config.ring_bytes = 64 * 1024 * 1024;
        let sup = start(config);
        // Far more stderr than a pipe buffer holds, while stdout also writes.
        let done = run_to_end(
            &sup,
            request(
                &sandbox.project("p"),
                "fake: stderr 20000; flood 20000; say end",
            ),
        )
        .await;
        assert_eq!(done.status, TaskStatus::Completed);
        let lines = sup.attach(done.id).expect("attach").snapshot;
        let count = |stream| lines.iter().filter(|l| l.stream == stream).count();
        assert_eq!(
            count(Stream::Stderr),
            20000,
            "every stderr line, tagged as stderr"
        );
        assert!(
            count(Stream::Stdout) > 20000,
            "the flood and the JSON events, tagged as stdout"
        );
        let log = sup.log_text(done.id).expect("log");
        assert_eq!(
            log.lines().filter(|l| l.starts_with("stderr line")).count(),
            20000
        );
        assert!(done.line_count >= 40_000);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_is_replaced_and_the_log_keeps_the_raw_bytes() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let done = run_to_end(
            &sup,
            request(&sandbox.project("p"), "fake: invalid-utf8; say after"),
        )
        .await;
        assert_eq!(done.status, TaskStatus::Completed);
        let text = sup.output_text(done.id).expect("output");
        assert!(text.contains('\u{FFFD}'), "{text}");
        assert!(text.contains("after"));
        let raw = std::fs::read(sup.history().log_path(done.id)).expect("log");
        assert!(
            raw.windows(2).any(|w| w == [0xff, 0xfe]),
            "raw bytes kept on disk"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlong_line_is_split_and_reading_goes_on() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.max_line_bytes = 1000;
        let sup = start(config);
        let done = run_to_end(
            &sup,
            request(&sandbox.project("p"), "fake: huge 5500; say still here"),
        )
        .await;
        assert_eq!(done.status, TaskStatus::Completed);
        let lines = sup.attach(done.id).expect("attach").snapshot;
        let pieces: Vec<_> = lines
            .iter()
            .filter(|l| l.text.starts_with(['x', 'a', 'A', '0']))
            .collect();
        assert!(
            lines.iter().filter(|l| l.continued).count() >= 5,
            "{pieces:?}"
        );
        assert!(lines.iter().all(|l| l.text.len() <= 1000));
        assert!(sup
            .output_text(done.id)
            .expect("output")
            .contains("still here"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ring_keeps_the_tail_and_the_log_keeps_everything() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.ring_lines = 50;
        let sup = start(config);
        let done = run_to_end(
            &sup,
            text_request(&sandbox.project("p"), "fake: flood 3000 40"),
        )
        .await;
        let snapshot = sup.attach(done.id).expect("attach").snapshot;
        assert_eq!(snapshot.len(), 50);
        let last = snapshot.last().expect("lines").seq;
        assert_eq!(snapshot[0].seq, last - 49);
        assert!(last >= 2999);
        let log = sup.log_text(done.id).expect("log");
        assert!(log.lines().count() as u64 > last, "every line is on disk");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_mid_run_sees_every_line_exactly_once() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.ring_lines = 100_000;
        config.ring_bytes = 64 * 1024 * 1024;
        let sup = start(config);
        let id = sup
            .spawn(text_request(
                &sandbox.project("p"),
                "fake: flood 1500 30; sleep 0.05; flood 1500 30; sleep 0.05; flood 1500 30; sleep 0.05; flood 1500 30",
            ))
            .expect("spawn");
        assert!(wait_until_async(Duration::from_secs(10), || sup.output_text(id).is_ok_and(|t| !t.is_empty())).await);
        let attached = sup.attach(id).expect("attach");
        let mut seqs: Vec<u64> = attached.snapshot.iter().map(|l| l.seq).collect();
        let mut events = attached.events;
        if !attached.record.status.is_active() {
            panic!("the task ended before the test attached; make the flood longer");
        }
        loop {
            match events.recv().await.expect("no lag within the event capacity") {
                Event::Output { task, lines } if task == id => seqs.extend(lines.iter().map(|l| l.seq)),
                event if event.is_finish() && event.task() == id => break,
                _ => {}
            }
        }
        let expected: Vec<u64> = (0..seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "every line exactly once, in order");
        assert!(seqs.len() >= 6000);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_format_output_holds_only_the_final_answer() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let done = run_to_end(
            &sup,
            text_request(&sandbox.project("p"), "fake: say the answer is 42"),
        )
        .await;
        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(done.options.format, OutputFormat::Text);
        assert_eq!(
            sup.output_text(done.id).expect("output").trim(),
            "the answer is 42"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_file_is_readable_and_complete() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.ring_lines = 5;
        let sup = start(config);
        let project = sandbox.project("p");
        let mut req = request(
            &project,
            "fake: say first words; tool echo from-the-tool; say last words",
        );
        req.name = "Transcript check".into();
        let done = run_to_end(&sup, req).await;
        let path = report::transcript_path(&done);
        assert_eq!(
            path,
            project
                .canonicalize()
                .expect("canonical")
                .join(format!(".claude-tasks/task-{}-output.md", done.id))
        );
        let md = std::fs::read_to_string(&path).expect("transcript written");
        assert!(
            md.starts_with(&format!("# Task {}: Transcript check", done.id)),
            "{md}"
        );
        for needle in [
            "**Status:** completed",
            "**Project:**",
            "**Created:**",
            "**Duration:**",
            "first words",
            "→ Bash: echo from-the-tool",
            "from-the-tool",
            "last words",
            "✓ done",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        assert!(
            !md.contains("\"type\":\"assistant\""),
            "raw JSON in the transcript:\n{md}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_pages_reach_back_past_the_ring_and_configure_applies_to_new_tasks() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.ring_lines = 10;
        let sup = start(config);
        let project = sandbox.project("p");
        let done = run_to_end(&sup, text_request(&project, "fake: flood 100 20")).await;
        assert_eq!(sup.attach(done.id).expect("attach").snapshot.len(), 10);
        let page = sup.log_page(done.id, 90, 20).expect("page");
        assert_eq!(
            page.iter().map(|l| l.seq).collect::<Vec<_>>(),
            (70..90).collect::<Vec<_>>()
        );
        for line in &page {
            let counter: u64 = line
                .text
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("counter");
            assert_eq!(
                counter, line.seq,
                "line {} of the log is output line {}",
                counter, line.seq
            );
        }
        assert!(sup.log_page(done.id, 5, 20).expect("page").len() == 5);

        sup.configure(|c| c.ring_lines = 3);
        assert_eq!(sup.config().ring_lines, 3);
        let next = run_to_end(&sup, text_request(&project, "fake: flood 50 20")).await;
        assert_eq!(sup.attach(next.id).expect("attach").snapshot.len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_give_their_output_tail_back_but_keep_their_output() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let count = supervisor::KEPT_RINGS + 8;
        let mut ids = Vec::new();
        for i in 0..count {
            let id = sup
                .spawn(request(
                    &sandbox.project(&format!("p{i}")),
                    &format!("fake: say line {i}"),
                ))
                .expect("spawn");
            ids.push(id);
        }
        for id in &ids {
            sup.wait(*id).await.expect("wait");
        }
        // The last ones give their tail back just after the final status `wait` returns on.
        assert!(
            wait_until_async(Duration::from_secs(10), || sup.rings_held()
                == supervisor::KEPT_RINGS)
            .await,
            "bounded however many ended: {} tails held",
            sup.rings_held()
        );
        // The first one's tail was given back; its output is still there, read from the log.
        assert!(sup.output_text(ids[0]).expect("output").contains("line 0"));
        assert!(sup.attach(ids[0]).expect("attach").snapshot.len() > 1);
        assert_eq!(sup.rings_held(), supervisor::KEPT_RINGS);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_is_written_out_readable_or_raw() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let done = run_to_end(
            &sup,
            request(
                &sandbox.project("p"),
                "fake: say hello there; tool echo from-a-tool",
            ),
        )
        .await;
        let mut raw = Vec::new();
        report::write_output(sup.history(), &done, true, &mut raw).expect("raw");
        assert_eq!(
            String::from_utf8(raw).expect("UTF-8"),
            sup.log_text(done.id).expect("log")
        );
        let mut readable = Vec::new();
        report::write_output(sup.history(), &done, false, &mut readable).expect("readable");
        let readable = String::from_utf8(readable).expect("UTF-8");
        assert!(readable.contains("hello there"), "{readable}");
        assert!(readable.contains("echo from-a-tool"), "{readable}");
        assert!(!readable.contains("\"type\""), "no JSON: {readable}");
    })
    .await;
}
