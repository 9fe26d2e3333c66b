//! Unit tests of the rule matching.

use super::*;
use std::path::PathBuf;

fn rules(texts: &[&str]) -> Vec<Rule> {
    texts.iter().map(|t| Rule::parse(t)).collect()
}

#[test]
fn parse() {
    assert_eq!(
        Rule::parse("Bash(git *)"),
        Rule {
            tool: "Bash".into(),
            specifier: Some("git *".into())
        }
    );
    assert_eq!(Rule::parse("Edit").specifier, None);
    assert_eq!(Rule::parse("Bash(*)").specifier, None);
}

#[test]
fn bash_rules() {
    let allow = rules(&["Bash(git *)", "Bash(npm test:*)", "Bash(echo hi)"]);
    for ok in [
        "git status",
        "git",
        "npm test",
        "npm test --watch",
        "echo hi",
    ] {
        assert!(allow_command(&allow, ok), "{ok}");
    }
    for no in [
        "gitk",
        "echo hi there",
        "npm testing",
        "git status && rm -rf x",
        "ls",
    ] {
        assert!(!allow_command(&allow, no), "{no}");
    }
    assert!(allow_command(&allow, "git add . && git commit -m 'a; b'"));
    assert!(allow_command(&rules(&["Bash"]), "anything > at.all"));
    assert!(deny_command(&rules(&["Bash(rm *)"]), "ls; rm -rf x"));
    assert!(!deny_command(&rules(&["Bash(rm *)", "Edit"]), "ls"));
}

#[test]
fn file_rules() {
    let cwd = PathBuf::from("/p");
    let home = PathBuf::from("/h");
    let hit = |rule: &str, tool: &str, path: &str| {
        match_file(&rules(&[rule]), tool, Path::new(path), &cwd, Some(&home))
    };
    assert!(hit("Write", "Write", "/anywhere/x"));
    assert!(hit("Edit", "Write", "/anywhere/x"));
    assert!(!hit("Write", "Edit", "/p/x"));
    assert!(hit("Write(/src/**)", "Write", "/p/src/a/b.rs"));
    assert!(!hit("Write(/src/**)", "Write", "/src/a.rs"));
    assert!(hit("Write(//tmp/**)", "Write", "/tmp/a/b"));
    assert!(hit("Edit(~/notes/*.md)", "Edit", "/h/notes/a.md"));
    assert!(!hit("Edit(~/notes/*.md)", "Edit", "/h/notes/d/a.md"));
    assert!(hit("Edit(*.txt)", "Edit", "/p/deep/down/a.txt"));
    assert!(hit("Edit(./a?.txt)", "Edit", "/p/ab.txt"));
    assert!(!hit("Edit(./a?.txt)", "Edit", "/p/q/ab.txt"));
}

#[test]
fn splits_compound_commands() {
    assert_eq!(
        simple_commands("a && b || c; d | e\nf 'g; h' \"i && j\""),
        ["a", "b", "c", "d", "e", "f 'g; h' \"i && j\""]
    );
}
