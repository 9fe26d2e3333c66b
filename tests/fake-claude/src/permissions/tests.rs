//! Unit tests of the permission policy.

use super::*;

fn policy(mode: &str, allow: &[&str], deny: &[&str]) -> Policy {
    let args = Args {
        permission_mode: mode.to_owned(),
        allowed_tools: allow.iter().map(|s| (*s).to_owned()).collect(),
        disallowed_tools: deny.iter().map(|s| (*s).to_owned()).collect(),
        ..Args::default()
    };
    let mut policy = Policy::new(&args, Path::new("/p"));
    policy.home = Some(PathBuf::from("/h"));
    policy
}

fn file<'a>(tool: &'a str, path: &'a Path) -> Call<'a> {
    Call::File { tool, path }
}

#[test]
fn modes_and_rules() {
    let default = policy("default", &[], &[]);
    assert_eq!(
        default.decide(Call::Bash("ls -la")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );
    assert_eq!(
        default.decide(Call::Bash("git status")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );
    assert_eq!(default.decide(Call::Bash("touch x")), Verdict::Ask);
    assert_eq!(default.decide(Call::Bash("echo a > x")), Verdict::Ask);
    assert_eq!(
        default.decide(Call::Bash("echo a 2>&1")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );
    assert_eq!(default.decide(Call::Bash("echo $(rm x)")), Verdict::Ask);
    let inside = Path::new("/p/a.txt");
    let outside = Path::new("/q/a.txt");
    assert_eq!(default.decide(file("Write", inside)), Verdict::Ask);

    let edits = policy("acceptEdits", &[], &[]);
    assert_eq!(
        edits.decide(file("Write", inside)),
        Verdict::Allow(Decided::MODE)
    );
    assert_eq!(edits.decide(file("Edit", outside)), Verdict::Ask);
    assert_eq!(
        edits.decide(Call::Bash("touch x && mkdir d")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );
    assert_eq!(edits.decide(Call::Bash("touch /q/x")), Verdict::Ask);
    assert_eq!(
        edits.decide(Call::Bash("echo a > x")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );
    assert_eq!(edits.decide(Call::Bash("rm x")), Verdict::Ask);

    let bypass = policy("bypassPermissions", &[], &["Bash(rm *)"]);
    assert_eq!(
        bypass.decide(Call::Bash("curl x")),
        Verdict::Allow(Decided::MODE)
    );
    assert!(
        matches!(bypass.decide(Call::Bash("rm -rf /")), Verdict::Deny(m, _) if m.contains("rm -rf /"))
    );

    let ruled = policy(
        "default",
        &["Bash(touch *)", "Edit(/src/**)"],
        &["Write(//etc/**)"],
    );
    assert_eq!(
        ruled.decide(Call::Bash("touch x")),
        Verdict::Allow(Decided::RULE)
    );
    assert_eq!(
        ruled.decide(file("Write", Path::new("/p/src/m.rs"))),
        Verdict::Allow(Decided::RULE)
    );
    assert!(matches!(
        ruled.decide(file("Write", Path::new("/etc/passwd"))),
        Verdict::Deny(m, Decided::DENY_RULE) if m == "Permission to use Write has been denied."
    ));

    let strict = policy("dontAsk", &[], &[]);
    assert!(
        matches!(strict.decide(Call::Bash("touch x")), Verdict::Deny(m, _) if m.contains("don't ask mode"))
    );
    assert_eq!(
        strict.decide(Call::Bash("cat x")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );

    let auto = policy("auto", &[], &[]);
    assert_eq!(
        auto.decide(Call::Bash("echo a > x")),
        Verdict::Allow(Decided::MODE)
    );
    assert!(matches!(
        auto.decide(Call::Bash("rm -rf /tmp/x")),
        Verdict::Deny(_, Decided::CLASSIFIER)
    ));
    let plan = policy("plan", &[], &[]);
    assert!(
        matches!(plan.decide(Call::Bash("echo a > x")), Verdict::Deny(m, _) if m.starts_with("Auto mode is unavailable"))
    );
    assert_eq!(
        plan.decide(Call::Bash("ls")),
        Verdict::Allow(Decided::SUBCOMMANDS)
    );

    // A redirect's target is checked on its own: a prefix rule does not cover it, `Bash` does.
    let prefix = policy("default", &["Bash(echo made *)"], &[]);
    assert_eq!(
        prefix.decide(Call::Bash("echo made > made.txt")),
        Verdict::Ask
    );
    assert_eq!(
        prefix.decide(Call::Bash("echo made twice")),
        Verdict::Allow(Decided::RULE)
    );
    let bash = policy("default", &["Bash"], &[]);
    assert_eq!(
        bash.decide(Call::Bash("echo made > made.txt")),
        Verdict::Allow(Decided::RULE)
    );
}

#[test]
fn questions() {
    let p = policy("default", &[], &[]);
    let q = p.question(Call::Bash("echo made > made.txt"), "write");
    assert_eq!(q.blocked_path.as_deref(), Some("/p/made.txt"));
    let built: Vec<String> = q.suggestions.into_iter().map(Obj::build).collect();
    assert_eq!(
        built,
        [
            r#"{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"echo made *"}],"behavior":"allow","destination":"localSettings"}"#,
            r#"{"type":"addDirectories","directories":["/p"],"destination":"session"}"#,
        ]
    );
    let q = p.question(Call::Bash("ls -la /x"), "d");
    assert_eq!((q.blocked_path, q.suggestions.len()), (None, 1));

    let inside = p.question(file("Write", Path::new("/p/d/new.txt")), "");
    assert_eq!(
        (inside.description.as_str(), inside.reason),
        ("d/new.txt", None)
    );
    let outside = p.question(file("Edit", Path::new("/q/out.txt")), "");
    assert_eq!(outside.description, "/q/out.txt");
    assert_eq!(outside.suggestions.len(), 2);
    assert_eq!(outside.reason.map(|r| r.1).as_deref(), Some("workingDir"));
}

#[test]
fn refusals_without_anyone_to_ask() {
    let p = policy("default", &[], &[]);
    assert!(p
        .nobody_to_ask(Call::Bash("echo x > denied.txt"))
        .starts_with("Output redirection to '/p/denied.txt' needs approval."));
    assert!(p
        .nobody_to_ask(Call::Bash("touch x"))
        .contains("needs approval"));
}

#[test]
fn prefixes_and_paths() {
    assert_eq!(prefix_rule("echo made > made.txt"), "echo made *");
    assert_eq!(prefix_rule("ls -la"), "ls *");
    assert_eq!(prefix_rule("git commit -m x && git push"), "git commit *");
    assert_eq!(normalize(Path::new("/p/./a/../b")), PathBuf::from("/p/b"));
    assert_eq!(
        policy("default", &[], &[]).resolve("../q/x"),
        PathBuf::from("/q/x")
    );
}
