//! `taskctl completions SHELL` and `taskctl man`: the shell completion scripts and the manual
//! page, generated from the command line's own definition (the package installs both).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, String> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "taskctl", &mut out);
    write_out(&out)
}

/// Prints the manual page `taskctl(1)` (roff) on stdout: the help of `taskctl` and, one
/// section each, of its commands.
pub fn man() -> Result<i32, String> {
    let command = Cli::command();
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(command.clone());
    // Every section but clap_mangen's list of commands, which names a page per command
    // (`taskctl-run(1)`) that does not exist: each command has its section in this page.
    let rendered = (|| {
        page.render_title(&mut out)?;
        page.render_name_section(&mut out)?;
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)
    })();
    rendered.map_err(|e| format!("cannot render the manual page: {e}"))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        writeln!(out, ".SH \"TASKCTL {}\"", name.to_uppercase()).map_err(|e| e.to_string())?;
        let about = sub
            .get_long_about()
            .or_else(|| sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        let usage = sub
            .clone()
            .bin_name(format!("taskctl {name}"))
            .render_usage()
            .to_string();
        writeln!(
            out,
            ".B {}\n.br",
            roff_escape(usage.trim_start_matches("Usage: "))
        )
        .map_err(|e| e.to_string())?;
        writeln!(out, "{}", roff_escape(&about)).map_err(|e| e.to_string())?;
        let mut args = Vec::new();
        clap_mangen::Man::new(sub.clone())
            .render_options_section(&mut args)
            .map_err(|e| format!("cannot render the manual page: {e}"))?;
        // Its own ".SH OPTIONS" heading would end this command's section.
        let args = String::from_utf8_lossy(&args).replacen(".SH OPTIONS", ".SS Options", 1);
        out.extend_from_slice(args.as_bytes());
    }
    page.render_version_section(&mut out)
        .map_err(|e| format!("cannot render the manual page: {e}"))?;
    write_out(&out)
}

/// Text for a roff line: a leading `.` or `'` would be read as a request, `\` as an escape.
fn roff_escape(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace('\\', "\\e");
            if line.starts_with('.') || line.starts_with('\'') {
                format!("\\&{line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_out(bytes: &[u8]) -> Result<i32, String> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(crate::exit::COMPLETED),
        // `taskctl man | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::COMPLETED),
        Err(e) => Err(format!("cannot write to stdout: {e}")),
    }
}
