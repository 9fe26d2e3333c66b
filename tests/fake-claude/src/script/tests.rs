//! Unit tests of the script parser.

use super::*;

fn ok(script: &str) -> Vec<Directive> {
    parse(script).expect("script should parse")
}

#[test]
fn echo_unless_prefixed() {
    assert_eq!(behaviour("hello"), Ok(Behaviour::Echo));
    assert_eq!(behaviour(" fake: say x"), Ok(Behaviour::Echo));
    assert_eq!(
        behaviour("fake: say x"),
        Ok(Behaviour::Script(vec![Directive::Say("x".into())]))
    );
}

#[test]
fn separators_comments_and_escapes() {
    let script = " say a b ;say c\n\n# a comment\ntool echo 1\\; echo 2;\r\n;  ";
    assert_eq!(
        ok(script),
        vec![
            Directive::Say("a b".into()),
            Directive::Say("c".into()),
            Directive::Tool("echo 1; echo 2".into()),
        ]
    );
    assert_eq!(
        ok("tool printf 'a\\tb'"),
        vec![Directive::Tool("printf 'a\\tb'".into())]
    );
    assert_eq!(ok(""), vec![]);
}

#[test]
fn every_directive() {
    let script = "flood 1_000_000; flood 10 3; huge 1M; huge 2k; huge 7; invalid-utf8; \
                  stderr 5; sleep 0.25; trap-term; tool-child; daemon; exit 3; \
                  result success all good; result error boom; result error-subtype x y; \
                  result success; crash SEGV; crash sigkill; crash 6; wait-stdin; say";
    let result = |kind, text: &str| Directive::Result {
        kind,
        text: text.into(),
    };
    assert_eq!(
        ok(script),
        vec![
            Directive::Flood {
                lines: 1_000_000,
                bytes: 120
            },
            Directive::Flood {
                lines: 10,
                bytes: 3
            },
            Directive::Huge(1 << 20),
            Directive::Huge(2048),
            Directive::Huge(7),
            Directive::InvalidUtf8,
            Directive::Stderr(5),
            Directive::Sleep(Duration::from_millis(250)),
            Directive::TrapTerm,
            Directive::ToolChild,
            Directive::Daemon,
            Directive::Exit(3),
            result(ResultKind::Success, "all good"),
            result(ResultKind::Error, "boom"),
            result(ResultKind::ErrorSubtype, "x y"),
            result(ResultKind::Success, ""),
            Directive::Crash(Signal::SIGSEGV),
            Directive::Crash(Signal::SIGKILL),
            Directive::Crash(Signal::SIGABRT),
            Directive::WaitStdin,
            Directive::Say(String::new()),
        ]
    );
}

#[test]
fn errors_name_the_directive() {
    let err = parse("say ok; frobnicate 3").expect_err("unknown directive");
    assert_eq!(err.index, 2);
    assert_eq!(err.directive, "frobnicate 3");
    assert!(err.to_string().contains("unknown directive `frobnicate`"));
    for bad in [
        "tool",
        "flood",
        "flood x",
        "flood 1 2 3",
        "huge",
        "huge 1G",
        "stderr -1",
        "sleep soon",
        "sleep -1",
        "exit 256",
        "exit",
        "result maybe x",
        "crash NOPE",
        "crash 999",
        "trap-term now",
        "ask",
        "ask Bash",
        "ask Read x",
        "ask Write",
        "ask Edit f old",
        "ask Edit f a b c",
        "bad-control x",
        "wait-message now",
    ] {
        assert!(parse(bad).is_err(), "`{bad}` should not parse");
    }
}

#[test]
fn two_way_directives() {
    assert_eq!(
        ok(
            "ask Bash echo a > b.txt; ask Write d/f.txt two  words; ask Write empty.txt; \
            ask Edit f.txt old new; bad-control; wait-message"
        ),
        vec![
            Directive::Ask(AskTool::Bash("echo a > b.txt".into())),
            Directive::Ask(AskTool::Write {
                path: "d/f.txt".into(),
                content: "two  words".into()
            }),
            Directive::Ask(AskTool::Write {
                path: "empty.txt".into(),
                content: String::new()
            }),
            Directive::Ask(AskTool::Edit {
                path: "f.txt".into(),
                old: "old".into(),
                new: "new".into()
            }),
            Directive::BadControl,
            Directive::WaitMessage,
        ]
    );
}
