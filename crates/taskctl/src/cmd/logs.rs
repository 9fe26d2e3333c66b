//! `taskctl logs`: the log streamed line by line, so a huge output needs no more memory than
//! its longest line.

use std::io::{BufRead, BufReader, Write};

use crate::cli::LogsArgs;
use crate::render;

pub fn logs(args: LogsArgs) -> Result<i32, String> {
    let history = super::history()?;
    let id = super::parse_id(&args.id)?;
    let task = history.load(id).map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // False once the reader went away (`| head`): that is not an error.
    let mut show = |line: &str| -> bool {
        let shown = if args.raw {
            vec![line.to_owned()]
        } else {
            render::output_line(task.options.format, line)
        };
        shown.iter().all(|text| writeln!(out, "{text}").is_ok())
    };
    // `out` flushes as it is dropped, at the end.
    if let Some(n) = args.tail {
        let (lines, _) = history.read_log_tail(id, n).map_err(|e| e.to_string())?;
        for line in &lines {
            if !show(line) {
                return Ok(0);
            }
        }
    } else {
        let path = history.log_path(id);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            if !show(&supervisor::text::lossy(&buf)) {
                return Ok(0);
            }
        }
    }
    Ok(0)
}
